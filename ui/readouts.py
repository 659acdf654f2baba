"""Live readouts of the seat's key numbers, at the top of the game page: the price it pays for
its main import (USD/kg), its stockpile cover (months of its use), the budget it has spent
(USD million) and its score against the start.

They are read from what the world already records month by month (its recorder's arrays and
its objective recorder's records), never from ``world.objectives()``, which builds the whole
objectives table (~50 ms) and would cost more than the step on every redraw.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

import numpy as np
import solara

from play.session import OBSERVER, GameSession
from ui.charts import objective_series
from world import World


@dataclass(frozen=True)
class Readout:
    """One number of the seat's, as the page shows it.

    Attributes:
        key: which readout: ``price``, ``cover``, ``spent`` or ``score``.
        label: what it is, in words.
        value: the number, in ``unit`` (NaN before it is known).
        unit: its unit (USD/kg, months, USD million, score).
        detail: a line of context (against the start, which commodity).
    """

    key: str
    label: str
    value: float
    unit: str
    detail: str

    @property
    def text(self) -> str:
        """The value as the page writes it, with its unit."""
        if self.value != self.value:
            return "n/a"
        if self.key == "score":
            return f"{self.value:+.3f}"
        if self.key == "spent":
            return f"{self.value:,.1f} {self.unit}"
        digits = 2 if abs(self.value) < 100 else 0
        return f"{self.value:,.{digits}f} {self.unit}"


def main_import(world: World, region: str) -> str:
    """The commodity ``region`` spends most on importing: the largest import bill (tonnes from
    other regions x its buyer price) over the months played; before the first month, the
    commodity of its end users' largest demand at start prices."""
    r = world.region_index[region]
    exports = world.recorder.array("exports")
    if exports.size:
        flows = exports[:, :, :, r].sum(axis=2)  # (month, commodity) t/month
        bill = (flows * world.recorder.array("price")[:, :, r]).sum(axis=0)
        if bill.max() > 0:
            return world.commodity_ids[int(np.argmax(bill))]
    demand = np.zeros(len(world.commodity_ids))
    for user in world.spec.end_users:
        if user.region == region:
            ci = world.commodity_index[user.commodity]
            demand[ci] += user.demand_tpy * world.reference_prices[ci, r]
    return world.commodity_ids[int(np.argmax(demand))] if demand.max() > 0 else "magnet"


def stockpile_cover(world: World, region: str) -> tuple[str, float]:
    """The state's strategic stockpile as months of its region's use (the world's moving
    average of use): of the commodity it covers longest, or of its main import if it holds
    none. Returns (commodity, months)."""
    state = world.states_by_region[region]
    r = world.region_index[region]
    cover = {}
    for c, stock in state.stockpile.items():
        use = world.use_ema[world.commodity_index[c], r]
        held = float(np.sum(stock))
        if held > 0 and use > 1e-9:
            cover[c] = held / use
    if not cover:
        return main_import(world, region), 0.0
    commodity = max(cover, key=cover.get)
    return commodity, cover[commodity]


def readouts(world: World, seat: str) -> list[Readout]:
    """The seat's four readouts now (none for the observer or a seat with no state)."""
    if seat == OBSERVER or seat not in world.states_by_region:
        return []
    r = world.region_index[seat]
    c = main_import(world, seat)
    ci = world.commodity_index[c]
    price = float(world.prices[ci, r])  # what the last month cleared at (the start at 0)
    start = float(world.reference_prices[ci, r])
    change = f"{100 * (price / start - 1):+.0f}% on the start ({start:,.2f})" if start else ""
    held, months = stockpile_cover(world, seat)
    spent = world.recorder.array("fiscal_cost")
    usd = float(spent[:, r].sum()) / 1e6 if spent.size else 0.0
    _, score = objective_series(world, seat, "score")
    if score.size:
        gap = score[-1] - score[0]
        trend = "above" if gap > 0 else "below" if gap < 0 else "level with"
        against = f"{abs(gap):.3f} {trend} the start ({score[0]:+.3f})"
    else:
        against = "known once the first month has run"
    return [
        Readout("price", f"{c} price {seat} pays (its main import)", price, "USD/kg", change),
        Readout("cover", "strategic stockpile cover", months, "months", f"of {held} use"),
        Readout("spent", "budget spent since the start", usd, "USD million", "on its policies"),
        Readout("score", "score (-1 to 1)", score[-1] if score.size else np.nan, "", against),
    ]


@solara.component
def Readouts(session: GameSession, version: int):
    """The seat's readouts in a row of boxes (``version``: as in ui/components.py's panels, so
    that they follow every step). One HTML element: a widget per figure would cost more."""
    items = readouts(session.world, session.seat)
    if not items:
        return
    boxes = "".join(
        f'<div class="readout readout-{r.key}"><div class="readout-label">{escape(r.label)}'
        f'</div><div class="readout-value">{escape(r.text)}</div>'
        f'<div class="readout-detail">{escape(r.detail)}</div></div>'
        for r in items
    )
    solara.HTML(tag="div", unsafe_innerHTML=boxes, classes=["readouts"])

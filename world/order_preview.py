"""What an order would do, from a dry run: the world is copied twice and both copies run on,
one with the order and one without, so the difference is the order's effect.

Both copies keep the original's random streams (:meth:`World.fork` with no seed), so they draw
the same outages and demand shocks, and the AI seats answer the order in the copy that has it
as they would in the game. The order is submitted as the seat would submit it: it applies at the
next turn boundary, and the window measured is the :data:`PREVIEW_MONTHS` months from there.
Orders the seat already has pending apply in both copies.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from world.calendar import next_boundary
from world.deals import scratch_copy
from world.instruments import STOCK_KINDS

if TYPE_CHECKING:
    from world.model import World

__all__ = ["PREVIEW_MONTHS", "OrderPreview", "PriceEffect", "preview_order"]

#: Months the preview looks ahead from the turn boundary where the order would apply.
PREVIEW_MONTHS = 6


@dataclass
class PriceEffect:
    """The order's effect on one price the seat's buyers pay, over the window.

    Attributes:
        commodity: the commodity.
        without_usd_per_kg: mean price over the window without the order, USD/kg.
        with_usd_per_kg: mean price over the window with it, USD/kg.
    """

    commodity: str
    without_usd_per_kg: float
    with_usd_per_kg: float

    @property
    def change(self) -> float:
        """Relative change of the mean price (0.05 = 5% dearer)."""
        base = self.without_usd_per_kg
        return (self.with_usd_per_kg - base) / base if base > 1e-12 else 0.0


@dataclass
class OrderPreview:
    """What a dry run says an order would do, against the same world without it.

    Attributes:
        order: what the world's log would say the order does (its own words).
        rejected: why the world would refuse it ("" if it would apply); nothing else is
            filled in then.
        start: the month (``YYYY-MM``) the order would apply, the first of the window.
        months: the window's length, months.
        fiscal_usd_per_month: the issuer's extra policy spending, USD per month, month by
            month over the window (with the order less without).
        asked_t: tonnes the order asks to move into (or out of) the stockpile within the
            window; None for orders that move no tonnes of their own.
        delivered_t: tonnes it did move in the dry run (the stockpile's change against no
            order); None as for ``asked_t``.
        shortfall: why less was delivered than asked, or why the order would do less than
            ordered (world/shortfalls.py), from the dry run's news ("" if not).
        prices: the effect on every price the issuer's buyers pay.
        seconds: how long the dry run took (wall clock, s).
    """

    order: str = ""
    rejected: str = ""
    start: str = ""
    months: int = PREVIEW_MONTHS
    fiscal_usd_per_month: list[float] = field(default_factory=list)
    asked_t: float | None = None
    delivered_t: float | None = None
    shortfall: str = ""
    prices: list[PriceEffect] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def mean_fiscal_usd_per_month(self) -> float:
        """Mean extra spending over the window, USD per month."""
        values = self.fiscal_usd_per_month
        return float(np.mean(values)) if values else 0.0

    def in_words(self) -> str:
        """The preview as a few sentences a player reads before submitting."""
        if self.rejected:
            return f"The world would refuse this order: {self.rejected}"
        lines = [f"From {self.start}: {self.order}." if self.order else f"From {self.start}."]
        cost = self.mean_fiscal_usd_per_month
        if abs(cost) < 5e3:
            lines.append(f"Fiscal cost: none over the first {self.months} months.")
        else:
            verb = "costs" if cost > 0 else "earns"
            lines.append(
                f"Fiscal cost: it {verb} about {abs(cost) / 1e6:,.1f} M USD a month over the "
                f"first {self.months} months ({abs(sum(self.fiscal_usd_per_month)) / 1e6:,.1f} "
                "M USD in all)."
            )
        if self.asked_t is not None and self.delivered_t is not None:
            lines.append(
                f"Tonnes: {self.delivered_t:,.1f} t of the {self.asked_t:,.1f} t due in those "
                "months would be delivered" + (f" ({self.shortfall})." if self.shortfall else ".")
            )
        elif self.shortfall:
            lines.append(f"It would do less than ordered: {self.shortfall}.")
        moved = [p for p in self.prices if abs(p.change) >= 0.005]
        if moved:
            lines.append(
                "Your prices against no order: "
                + "; ".join(
                    f"{p.commodity} {p.change:+.1%} ({p.without_usd_per_kg:,.3g} -> "
                    f"{p.with_usd_per_kg:,.3g} USD/kg)"
                    for p in sorted(moved, key=lambda p: -abs(p.change))
                )
                + "."
            )
        else:
            lines.append("Your prices: no change of 0.5% or more against no order.")
        return " ".join(lines)


def preview_order(
    world: World, order: Any, seat: str | None = None, months: int = PREVIEW_MONTHS
) -> OrderPreview:
    """Dry-run ``order`` as ``seat`` would submit it: two copies of ``world`` run to the next
    turn boundary and ``months`` months on, one with the order and one without.

    Args:
        world: the world as it is now (it is not changed).
        order: an order model, or its dict or JSON form.
        seat: the state submitting it (its issuer); None for the facilitator.
        months: the window after the turn boundary, months.

    Returns:
        The preview; ``rejected`` says why if the world would refuse the order now, or if the
        world cannot be copied.
    """
    started = time.perf_counter()
    boundary = next_boundary(world.month, world.spec.turn_months)
    if boundary >= world.spec.months:
        return OrderPreview(rejected="the game ends before the order would apply", months=months)
    base, alt = scratch_copy(world), scratch_copy(world)
    if base is None or alt is None:
        return OrderPreview(rejected="the world cannot be copied for a dry run", months=months)
    result = alt.submit(order, seat=seat, source="preview")
    if result.status == "rejected":
        return OrderPreview(rejected=result.message, months=months)
    parsed = alt.desk.pending[-1][0]
    issuer = parsed.issuer
    horizon = min(boundary + months, world.spec.months)
    runs = [_run(copy, boundary, horizon, issuer) for copy in (base, alt)]
    (fiscal0, stock0, prices0), (fiscal1, stock1, prices1) = runs
    row = alt.desk.table()
    row = row[row["order_id"] == result.order_id]
    if row.empty or row.iloc[-1]["status"] not in ("applied", "committed"):
        rejected = str(row.iloc[-1]["message"]) if not row.empty else "it did not apply"
        return OrderPreview(rejected=rejected, months=months, seconds=_since(started))
    preview = OrderPreview(
        order=str(row.iloc[-1]["message"]),
        start=world.date_of(boundary),
        months=horizon - boundary,
        fiscal_usd_per_month=list(np.diff(fiscal1) - np.diff(fiscal0)),
        prices=[
            PriceEffect(c, float(np.mean(prices0[:, ci])), float(np.mean(prices1[:, ci])))
            for ci, c in enumerate(world.commodity_ids)
        ],
    )
    measure = f"{issuer}-{parsed.kind}-{result.order_id}"
    if parsed.kind in STOCK_KINDS:
        commodity = parsed.commodity
        sign = -1.0 if parsed.kind == "stockpile_release" else 1.0
        preview.delivered_t = sign * (stock1[commodity] - stock0[commodity])
        preview.asked_t = _asked(parsed, alt, preview.months)
        if preview.asked_t is not None and preview.delivered_t < preview.asked_t * 0.99:
            preview.shortfall = _shortfall(alt, measure, world.month)
    else:
        preview.shortfall = _shortfall(alt, measure, world.month)
    preview.seconds = _since(started)
    return preview


def _since(started: float) -> float:
    return time.perf_counter() - started


def _run(world: World, boundary: int, horizon: int, issuer: str):
    """Run a copy to the boundary, then over the window: the issuer's cumulative spending at
    the start and after each month (USD), its stockpile's change over the window (t, by
    commodity) and the prices its buyers paid each month (months, commodities; USD/kg)."""
    while world.month < boundary:
        world.step()
    state = world.states_by_region.get(issuer)
    r = world.region_index.get(issuer, 0)

    def held() -> dict[str, float]:
        if state is None:
            return dict.fromkeys(world.commodity_ids, 0.0)
        return {c: float(np.sum(s)) for c, s in state.stockpile.items()}

    fiscal = [state.fiscal_cost_usd if state is not None else 0.0]
    before = held()
    prices = []
    while world.month < horizon:
        world.step()
        fiscal.append(state.fiscal_cost_usd if state is not None else 0.0)
        prices.append(world.prices[:, r].copy())
    after = held()
    stock = {c: after[c] - before[c] for c in world.commodity_ids}
    shape = (0, len(world.commodity_ids))
    return np.array(fiscal), stock, np.array(prices) if prices else np.zeros(shape)


def _asked(order: Any, world: World, months: int) -> float | None:
    """Tonnes the order asks for within the window, t (None if it sets no tonnage)."""
    tonnes = getattr(order, "tonnes", None)
    if tonnes is None:
        return None
    return tonnes * min(months, order.months) / order.months


def _shortfall(world: World, measure: str, since: int) -> str:
    """The last reason the dry run's news gave for a measure the order made (``measure``: its
    id, or the stem of the ids of the several it made) falling short (world/shortfalls.py)."""
    for entry in reversed(world.log):
        made = str(entry.get("programme", ""))
        if (
            entry.get("kind") == "shortfall"
            and entry.get("month", -1) >= since
            and (made == measure or made.startswith(f"{measure}."))
        ):
            return str(entry.get("reason") or entry["text"])
    return ""

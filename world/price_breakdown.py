"""Why a price is what it is: each month's price broken into the parts that formed it.

The world forms a price in two stages (see :mod:`world.market`): a *home* price (producers' full
unit cost times a markup, or last month's price moved by excess demand), then arbitrage (an
importer's price pulled toward the landed cost of its marginal supplier, an idle exporter quoting
what its sellers net abroad), then the floor. :class:`PriceBreakdown` follows the same steps on
four parts, all in USD/kg, whose sum is the price:

- ``inputs``: the producers' full unit cost (processing plus inputs at this month's prices);
- ``scarcity``: the markup over that cost, moved by excess demand (negative in a glut);
- ``policy``: the policy wedge (duty and tariff on the arc used; the rent of a quota or licence
  where capped imports lift a price above landed cost; negative for an exporter whose buyers
  pay a duty or tariff);
- ``transport``: freight on the arc used (negative for an exporter's netback).

An imported price is a blend of the importer's own home price and its supplier's landed cost,
so the supplier's parts (its input costs and markup) pass on in proportion. The parts are only
*recorded*: the world's arithmetic is unchanged, and the parts add up to the price to rounding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from world.recorder import copy_sharing_history

if TYPE_CHECKING:
    from world.model import World

#: The parts of a price, in the order stored (last axis of :attr:`PriceBreakdown.parts`).
PARTS = ("inputs", "scarcity", "policy", "transport")
INPUTS, SCARCITY, POLICY, TRANSPORT = range(len(PARTS))

#: How a region's price was formed this month (:attr:`PriceBreakdown.how`), in words.
HOW = {
    "cost_plus": "home producers' full unit cost times their markup",
    "moved": "last month's price, moved by excess demand",
    "rent": "last month's price, moved by excess demand behind capped imports (quota or licence)",
    "import": "pulled toward the landed cost of imports from {other}",
    "export": "what its sellers net abroad (export parity), mainly from {other}",
    "stranded": "its unsold sellers' asking price, capped at what they would net in {other}",
    "idle": "import parity from {other}, the cheapest source open to it",
    "floor": "held at the world's price floor",
}


class PriceBreakdown:
    """The parts of every price, month by month.

    Attributes:
        parts: this month's parts, USD/kg, shape (C, R, len(PARTS)).
        history: one ``parts`` array per recorded month (index = month).
        how: per recorded month, ``{(ci, r): (kind, other region index or -1)}`` (see HOW).
    """

    def __init__(self, prices: np.ndarray, basis: np.ndarray):
        """Start from the scenario's prices (C, R) and cost bases (C, R, NaN where no plant)."""
        self.parts = np.zeros((*prices.shape, len(PARTS)))
        known = ~np.isnan(basis)
        self.parts[..., INPUTS] = np.where(known, basis, prices)
        self.parts[..., SCARCITY] = np.where(known, prices - np.nan_to_num(basis), 0.0)
        self.history: list[np.ndarray] = []
        self.how: list[dict[tuple[int, int], tuple[str, int]]] = []
        self._how: dict[tuple[int, int], tuple[str, int]] = {}

    def __deepcopy__(self, memo: dict) -> PriceBreakdown:
        return copy_sharing_history(self, memo, ("history", "how"))

    def home(
        self,
        ci: int,
        setters: np.ndarray,
        basis: np.ndarray,
        old: np.ndarray,
        new: np.ndarray,
        rent: np.ndarray,
    ) -> None:
        """Record the home stage of ``ci``: cost plus markup where ``setters``, else last
        month's parts with the move (``new - old``) as scarcity, or as policy rent where
        ``rent`` (imports into the region were capped by a quota or licence)."""
        parts = self.parts[ci]
        moved = new - old
        for r in range(len(new)):
            if setters[r]:
                parts[r] = 0.0
                parts[r, INPUTS] = basis[r]
                parts[r, SCARCITY] = new[r] - basis[r]
                self._how[ci, r] = ("cost_plus", -1)
            else:
                parts[r, POLICY if rent[r] else SCARCITY] += moved[r]
                self._how[ci, r] = ("rent" if rent[r] else "moved", -1)

    def arbitrage(
        self,
        ci: int,
        trace: dict,
        home: np.ndarray,
        wedge: np.ndarray,
        transport: np.ndarray,
        pull: float,
    ) -> None:
        """Follow :func:`world.market.import_parity`'s choices (``trace``) on the parts.

        ``home`` is the price after the home stage (what import parity starts from), ``wedge``
        and ``transport`` the arcs' (R, R) duty-and-tariff factor and freight, USD/kg.
        """
        start = self.parts[ci].copy()
        pulled = start.copy()
        prices = home.copy()
        for d, o in trace.get("import", {}).items():
            landed = _landed(start[o], home[o], wedge[o, d], transport[o, d])
            pulled[d] = start[d] + pull * (landed - start[d])
            prices[d] = pulled[d].sum()
            self._how[ci, d] = ("import", o)
        exported = pulled.copy()
        for o, weights in trace.get("export", {}).items():
            total = sum(weights.values())
            exported[o] = (
                sum(
                    w * _netback(pulled[d], prices[d], wedge[o, d], transport[o, d])
                    for d, w in weights.items()
                )
                / total
            )
            self._how[ci, o] = ("export", max(weights, key=weights.get))
        final = exported.copy()
        for o, d in trace.get("stranded", {}).items():
            final[o] = _netback(pulled[d], prices[d], wedge[o, d], transport[o, d])
            self._how[ci, o] = ("stranded", d)
        for d, o in trace.get("idle", {}).items():
            final[d] = _landed(exported[o], exported[o].sum(), wedge[o, d], transport[o, d])
            self._how[ci, d] = ("idle", o)
        self.parts[ci] = final

    def floor(self, ci: int, before: np.ndarray, after: np.ndarray) -> None:
        """The price floor lifted ``before`` (R,) to ``after``: the lift is scarcity."""
        for r in np.nonzero(after > before)[0]:
            self.parts[ci, r, SCARCITY] += after[r] - before[r]
            self._how[ci, int(r)] = ("floor", -1)

    def close_month(self) -> None:
        """Keep this month's parts (called once prices are final)."""
        self.history.append(self.parts.copy())
        self.how.append(self._how)
        self._how = {}


def _landed(parts: np.ndarray, price: float, wedge: float, transport: float) -> np.ndarray:
    """Parts of ``price * wedge + transport``: the origin's parts plus the wedge and freight."""
    out = parts.copy()
    out[POLICY] += price * (wedge - 1.0)
    out[TRANSPORT] += transport
    return out


def _netback(parts: np.ndarray, price: float, wedge: float, transport: float) -> np.ndarray:
    """Parts of ``(price - transport) / wedge``: the destination's parts less the wedge and
    freight, which the seller bears."""
    out = parts.copy()
    out[POLICY] -= price - price / wedge
    out[TRANSPORT] -= transport / wedge
    return out


@dataclass
class Explanation:
    """One price in one month, broken down (see :func:`explain`).

    Attributes:
        commodity, region, month, date: which price.
        price: the price, USD/kg.
        parts: part name (PARTS) -> USD/kg; they add up to ``price``.
        change: part name -> USD/kg change since the month before (the whole part at month 0).
        how: how the price was formed, in words.
        other: the region whose price it followed ("" if none).
        policies: the policies in force that month on this commodity that touch the region or
            the region it followed, in words.
    """

    commodity: str
    region: str
    month: int
    date: str
    price: float
    parts: dict[str, float]
    change: dict[str, float]
    how: str
    other: str = ""
    policies: list[str] = field(default_factory=list)


def explain(world: World, commodity: str, region: str, month: int) -> Explanation:
    """Break down the price of ``commodity`` in ``region`` in a month the world has run.

    Raises:
        ValueError: naming the field and its allowed values, for an unknown commodity, region
            or a month not yet run.
    """
    if commodity not in world.commodity_index:
        raise ValueError(f"commodity must be one of {', '.join(world.commodity_ids)}")
    if region not in world.region_ids:
        raise ValueError(f"region must be one of {', '.join(world.region_ids)}")
    book = world.price_breakdown
    if not 0 <= month < len(book.history):
        raise ValueError(f"month must be between 0 and {len(book.history) - 1} (months run)")
    ci, r = world.commodity_index[commodity], world.region_ids.index(region)
    parts = book.history[month][ci, r]
    before = book.history[month - 1][ci, r] if month > 0 else np.zeros_like(parts)
    kind, o = book.how[month].get((ci, r), ("moved", -1))
    other = world.region_ids[o] if o >= 0 else ""
    return Explanation(
        commodity=commodity,
        region=region,
        month=month,
        date=world.date_of(month),
        price=float(parts.sum()),
        parts={name: float(parts[i]) for i, name in enumerate(PARTS)},
        change={name: float(parts[i] - before[i]) for i, name in enumerate(PARTS)},
        how=HOW[kind].format(other=other),
        other=other,
        policies=_policies(world, commodity, {region, other} - {""}, world.date_of(month)),
    )


def _policies(world: World, commodity: str, regions: set[str], date: str) -> list[str]:
    """Scripted or ordered policies on ``commodity`` in force at ``date`` whose issuer or
    partners include one of ``regions`` (an empty partner list means every partner)."""
    lines = []
    for p in world.policies.specs:
        if commodity not in p.commodities or not p.in_force(date):
            continue
        if p.issuer not in regions and p.partners and not regions & set(p.partners):
            continue
        lines.append(f"{p.in_words(commodities=False)} [{p.id}]")
    return lines

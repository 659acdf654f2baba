"""Why an applied order does less than it asked: news for the issuing seat alone, and the
order's status while it falls short.

An order can apply and still do little: a stockpile purchase bids in the market like any other
buyer, at the lowest priority, so it gets what the others leave; a subsidy finds no plant to
pay; a tariff taxes an import that does not occur. After each month's trade the world runs one
check per order kind (:data:`CHECKS`) on every state's measure and programme in force; a check
returns a :class:`Shortfall` (what it did against what it was meant to, and why) or None.
:attr:`World.shortfalls <world.model.World>` holds this month's, by measure id (the status the
player sees beside the order, play/session.py ``in_force``, and in the Why panel), and a line goes
into the issuer's private news when a measure starts to fall short or its line changes, e.g.
``stockpile purchase US-stockpile_buy-o4: 0.0 of 41.7 t of oxide_heavy bought in 2025-06: no
seller at your bid ...`` (dated, so news each month) or ``import tariff US-import_tariff-o3 has
no effect on concentrate: none is made or offered in JP`` (once, while it holds).

A stockpile purchase's reason is read off the month's clearing (world/market.py), in this
order: nobody offered the product; everything offered was sold to buyers who come first; what
was left sat behind a ban; behind a cap (quota, licence, buyers' qualification); else sellers
earned more elsewhere than the issuer's price pays. The other checks are structural: nothing
the measure could act on exists this month (no plant, no output, no supply, no buyer).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from world.instruments import TRADE_KINDS
from world.market import TIERS

if TYPE_CHECKING:
    from world.model import World

__all__ = ["CHECKS", "SHORTFALL", "Shortfall", "record_shortfalls", "shortfall_summary"]

#: The kind of a shortfall's entry in the world's log (the news).
SHORTFALL = "shortfall"
#: Shortfalls smaller than this (t, and share of what was asked) are rounding, not news.
MIN_SHORT_T = 0.05
MIN_SHORT_SHARE = 0.01
#: Tonnes a month below which a region counts as making, offering or buying none.
NONE_T = 1e-6
_STOCKPILE = TIERS.index("stockpile")


@dataclass(frozen=True)
class Shortfall:
    """One measure in force that did less this month than it was meant to.

    Attributes:
        measure: the id of the policy or programme.
        issuer: the state that ordered it.
        text: the line in the issuer's news (and beside the order).
        reason: why, in words.
        commodities: the commodities it concerns.
        month: the month it fell short in (0 = the scenario's start).
    """

    measure: str
    issuer: str
    text: str
    reason: str
    commodities: tuple[str, ...] = field(default_factory=tuple)
    month: int = 0


def record_shortfalls(world: World) -> None:
    """Check every state's measure in force (call right after the month's trade): keep this
    month's shortfalls in ``world.shortfalls`` and log the new or changed ones."""
    before = world.shortfalls
    now: dict[str, Shortfall] = {}
    made = _made(world)
    for kind, item in _in_force(world):
        found = CHECKS[kind](world, item, made)
        if found is not None:
            now[found.measure] = replace(found, month=world.month)
    world.shortfalls = now
    for measure, found in now.items():
        months, _ = world.shortfall_record.get(measure, (0, found))
        world.shortfall_record[measure] = (months + 1, found)
    date = world.date_of(world.month)
    for found in now.values():
        if found.measure in before and before[found.measure].text == found.text:
            continue
        # A firm's own order (an offtake contract) is news to its region's seat.
        firm = world.firms_by_id.get(found.issuer)
        region = firm.region if firm is not None else found.issuer
        world.log.append(
            {
                "month": world.month,
                "date": date,
                "actor": found.issuer,
                "region": region,
                "kind": SHORTFALL,
                "text": found.text,
                "reason": found.reason,
                "programme": found.measure,
                "private_to": [region],
            }
        )


def shortfall_summary(world: World, measure: str) -> str:
    """How often a measure fell short over the game, and why the last time, in words ("" if it
    never did): "fell short in 3 months, last in 2025-04: no seller at your bid ..."."""
    record = world.shortfall_record.get(measure)
    if record is None:
        return ""
    months, last = record
    plural = "month" if months == 1 else "months"
    return f"fell short in {months} {plural}, last in {world.date_of(last.month)}: {last.reason}"


def _in_force(world: World):
    """(kind, policy or programme) of the measures in force this month that a check covers,
    of states and of firms (their own contracts)."""
    states, firms = world.states_by_region, world.firms_by_id
    # The book's own queries, not MeasureBook.measures(): this runs every month (look-aheads
    # too), and the checks read the records, not the Measure view built from them.
    book = world.measures
    for record in (*book.in_force(), *book.programmes()):
        if record.kind in CHECKS and (record.issuer in states or record.issuer in firms):
            yield record.kind, record


def _made(world: World) -> np.ndarray:
    """Tonnes made this month, (commodity, region)."""
    made = np.zeros((len(world.commodity_ids), len(world.region_ids)))
    for firm in world.firms:
        if firm.throughput > 0:
            for c, y in firm.nominal_yields().items():
                made[world.commodity_index[c], firm.r] += firm.throughput * y
    return made


def _label(kind: str) -> str:
    return kind.replace("_", " ")


def _stockpile_buy(world: World, prog: Any, made: np.ndarray) -> Shortfall | None:
    """A stockpile purchase that bought less than its monthly tonnes."""
    asked = float(prog.params["t_per_month"])
    commodity = prog.params["commodity"]
    ci, d = world.commodity_index[commodity], world.region_index[prog.issuer]
    clearing = dict(world.clearings).get(ci)
    bid = float(world.bids[ci, _STOCKPILE, d])
    if clearing is None or bid <= 1e-12:
        return None
    got = float(clearing.flows[_STOCKPILE, :, d].sum()) * asked / bid
    if asked - got < max(MIN_SHORT_T, MIN_SHORT_SHARE * asked):
        return None
    reason = _reason(world, ci, d, clearing)
    return Shortfall(
        prog.id,
        prog.issuer,
        f"stockpile purchase {prog.id}: {got:,.1f} of {asked:,.1f} t of {commodity} bought in "
        f"{world.date_of(world.month)}: {reason}",
        reason,
        (commodity,),
    )


def _trade(world: World, spec: Any, made: np.ndarray) -> Shortfall | None:
    """A trade measure on a flow that cannot occur: the sellers it covers have none of the
    commodity (made or offered this month), or its buyers bid for none."""
    names = world.region_ids
    me = world.region_index[spec.issuer]
    partners = [world.region_index[p] for p in spec.partners] or [
        r for r in range(len(names)) if r != me
    ]
    export = spec.kind.startswith("export")
    sellers, buyers = ([me], partners) if export else (partners, [me])
    where = ", ".join(names[r] for r in partners) if len(partners) < len(names) - 1 else ""
    idle = []
    for c in spec.commodities:
        ci = world.commodity_index[c]
        supply = world.offers[ci, sellers].sum() + made[ci, sellers].sum()
        if supply <= NONE_T:
            origin = spec.issuer if export else where or "any other region"
            idle.append((c, f"none is made or offered in {origin}"))
        elif world.bids[ci][:, buyers].sum() <= NONE_T:
            dest = where or "any other region" if export else spec.issuer
            idle.append((c, f"nobody in {dest} buys any"))
    if not idle:
        return None
    reason = "; ".join(f"{c}: {why}" for c, why in idle)
    return Shortfall(
        spec.id,
        spec.issuer,
        f"{_label(spec.kind)} {spec.id} has no effect on {reason}",
        reason,
        tuple(c for c, _ in idle),
    )


def _stages(world: World, prog: Any, made: np.ndarray) -> Shortfall | None:
    """A subsidy of the stages at home that finds no plant to pay: no firm of the stages at
    home, or (a production subsidy) none of them produced this month."""
    stages = prog.params["stages"]
    firms = [f for f in world.firms if f.region == prog.issuer and f.stage in stages]
    what = " or ".join(stages)
    if not firms:
        reason = f"no {what} firm in {prog.issuer} to pay"
    elif prog.kind == "production_subsidy" and sum(f.throughput for f in firms) <= NONE_T:
        reason = f"the {len(firms)} {what} firm(s) in {prog.issuer} produced nothing this month"
    else:
        return None
    outputs = {c for f in firms for c in f.output_commodities()}
    return Shortfall(
        prog.id,
        prog.issuer,
        f"{_label(prog.kind)} {prog.id} has no effect: {reason}",
        reason,
        tuple(sorted(outputs)),
    )


def _firm_output(world: World, prog: Any, made: np.ndarray) -> Shortfall | None:
    """A price floor or an offtake guarantee for a firm that made none of its product this
    month: no output to support or to buy."""
    firm = world.firms_by_id[prog.params["firm"]]
    c = prog.params["commodity"]
    if firm.throughput * firm.nominal_yields().get(c, 0.0) > NONE_T:
        return None
    reason = f"{firm.name} made no {c} this month (status: {firm.status})"
    return Shortfall(
        prog.id, prog.issuer, f"{_label(prog.kind)} {prog.id} has no effect: {reason}", reason, (c,)
    )


def _stockpile_release(world: World, prog: Any, made: np.ndarray) -> Shortfall | None:
    """A stockpile release that sold less than its monthly tonnes: the stockpile ran out (or
    held none), or buyers took less than was offered at the price."""
    asked = float(prog.params["t_per_month"])
    commodity = prog.params["commodity"]
    state = world.states_by_region[prog.issuer]
    got = state.released_this_month(commodity)
    if asked - got < max(MIN_SHORT_T, MIN_SHORT_SHARE * asked):
        return None
    left = float(np.sum(state.stockpile[commodity]))
    if left <= NONE_T:
        reason = (
            f"the stockpile holds no {commodity}"
            if got <= NONE_T
            else f"the stockpile ran out: {got:,.1f} t was all it held"
        )
    else:
        price = float(world.prices[world.commodity_index[commodity], state.r])
        reason = (
            f"buyers took no more at {price:,.3g} USD/kg ({left:,.1f} t still held): "
            "nobody was short of it"
        )
    return Shortfall(
        prog.id,
        prog.issuer,
        f"stockpile release {prog.id}: {got:,.1f} of {asked:,.1f} t of {commodity} sold in "
        f"{world.date_of(world.month)}: {reason}",
        reason,
        (commodity,),
    )


def _offtake_contract(world: World, prog: Any, made: np.ndarray) -> Shortfall | None:
    """A firm's offtake contract that cannot deliver this month: the supplier made none of
    what the buyer uses, or a ban, quota or licence stands on the arc between them."""
    buyer = world.firms_by_id[prog.params["buyer"]]
    supplier = world.firms_by_id[prog.params["supplier"]]
    goods = [c for c in supplier.output_commodities() if c in buyer.inputs]
    yields = supplier.nominal_yields()
    if all(supplier.throughput * yields.get(c, 0.0) <= NONE_T for c in goods):
        what = " or ".join(goods)
        reason = f"{supplier.name} made no {what} this month (status: {supplier.status})"
    else:
        restricted = world.policies.restricted
        blocked = [c for c in goods if restricted[world.commodity_index[c], supplier.r, buyer.r]]
        if not blocked:
            return None
        reason = (
            f"a ban, quota or licence stands on {', '.join(blocked)} from "
            f"{supplier.region} to {buyer.region}"
        )
    return Shortfall(
        prog.id,
        prog.issuer,
        f"offtake contract {prog.id} ({buyer.name} from {supplier.name}) delivers nothing: "
        f"{reason}",
        reason,
        tuple(goods),
    )


def _purchase_commitment(world: World, prog: Any, made: np.ndarray) -> Shortfall | None:
    """A state's purchase commitment that cannot deliver this month: a ban, quota or licence
    stands on the arc from the partner (its tonnes go as an offtake contract's do), or the
    partner's producers made none of the commodity."""
    c, partner = prog.params["commodity"], prog.params["partner"]
    ci = world.commodity_index[c]
    o, d = world.region_index[partner], world.region_index[prog.issuer]
    if world.policies.restricted[ci, o, d]:
        reason = f"a ban, quota or licence stands on {c} from {partner} to {prog.issuer}"
    elif made[ci, o] <= NONE_T:
        reason = f"producers in {partner} made no {c} this month"
    else:
        return None
    return Shortfall(
        prog.id,
        prog.issuer,
        f"purchase commitment {prog.id} ({c} from {partner}) delivers nothing: {reason}",
        reason,
        (c,),
    )


#: One check per order kind whose effect can fall short of what was ordered.
CHECKS: dict[str, Callable[[World, Any, np.ndarray], Shortfall | None]] = {
    "stockpile_buy": _stockpile_buy,
    "stockpile_release": _stockpile_release,
    "offtake_contract": _offtake_contract,
    "purchase_commitment": _purchase_commitment,
    **dict.fromkeys(TRADE_KINDS, _trade),
    "capex_subsidy": _stages,
    "production_subsidy": _stages,
    "price_floor": _firm_output,
    "offtake_guarantee": _firm_output,
}


def _reason(world: World, ci: int, d: int, clearing) -> str:
    """Why the stockpile tier in region ``d`` went short in commodity ``ci``'s clearing."""
    offers = world.offers[ci]
    names = world.region_ids
    if offers.sum() <= 1e-9:
        return "no seller at your bid: nobody offered any this month"
    sold = clearing.flows.sum(axis=(0, 2))  # by origin
    left = np.maximum(offers - sold, 0.0)
    if left.sum() <= 1e-6 * max(offers.sum(), 1.0):
        before = float(clearing.flows[:_STOCKPILE].sum())
        return (
            f"the market sold out: all {before:,.0f} t offered worldwide went to buyers served "
            "before a stockpile (firms and end users buy first)"
        )
    banned = world.policies.banned[ci][:, d]
    capped = clearing.capped[:, d]
    holders = [o for o in np.argsort(-left, kind="stable") if left[o] > 1e-6 and o != d]
    if left[d] <= 1e-6 and holders and all(banned[o] for o in holders):
        return f"the sellers with some left ({', '.join(names[o] for o in holders)}) are banned"
    if left[d] <= 1e-6 and holders and all(banned[o] or capped[o] for o in holders):
        return (
            "the supply left was held back by export licences, quotas or buyers' qualification "
            f"({', '.join(names[o] for o in holders)})"
        )
    price = float(world.prices[ci, d])
    return (
        f"no seller at your bid: sellers with {float(left.sum()):,.0f} t left earn more "
        f"elsewhere than your price of {price:,.3g} USD/kg pays after freight and duties"
    )

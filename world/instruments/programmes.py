"""Programmes a state funds at home: capex and production subsidies, production quotas, price
floors, offtake guarantees, research and equity stakes.

Each goes into force as a programme of the order desk (world/order_desk.py) with its terms,
from now until its duration runs out or it is lifted; the world reads the programmes in force
each month (see each instrument's ``binds``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np

from world.instruments.alliances import fund_share, pay_fund
from world.instruments.base import Instrument
from world.instruments.budget import check_budget, check_first_year, firm_output
from world.instruments.trade import tech_ban

if TYPE_CHECKING:
    from pydantic import BaseModel

    from agents.firms import Firm
    from world.instruments.valuation import Valuation
    from world.model import World
    from world.order_desk import OrderDesk, Programme


def apply_capex_subsidy(desk: OrderDesk, order: BaseModel) -> str:
    """The state pays a share of the capex of new plants at the stages at home."""
    desk.start_programme(order, stages=list(order.stages), share=order.share)
    return capex_subsidy_words(desk.world, order)


def capex_subsidy_words(world: World, order: BaseModel) -> str:
    """A capex subsidy in words."""
    return (
        f"{world.spec.regions[order.issuer].name} pays {order.share:.0%} of the capex of "
        f"new {', '.join(order.stages)} plants at home"
    )


def apply_production_subsidy(desk: OrderDesk, order: BaseModel) -> str:
    """The state pays producers at the stages per kg produced (checked against the budget for
    a year of the stages' capacity)."""
    w = desk.world
    yearly = sum(
        f.capacity_tpy * 1000.0 * order.usd_per_kg
        for f in w.firms
        if f.region == order.issuer and f.stage in order.stages
    )
    check_first_year(w, order, yearly, "the production subsidy")
    desk.start_programme(order, stages=list(order.stages), usd_per_kg=order.usd_per_kg)
    return production_subsidy_words(w, order)


def production_subsidy_words(world: World, order: BaseModel) -> str:
    """A production subsidy in words."""
    return (
        f"{world.spec.regions[order.issuer].name} pays {', '.join(order.stages)} producers "
        f"{order.usd_per_kg:g} USD/kg produced"
    )


def apply_production_quota(desk: OrderDesk, order: BaseModel) -> str:
    """The state caps its own output at the stages; a new quota replaces the issuer's quota on
    the same stages and deposits (quotas are set yearly; China's ion-clay quota is set apart
    from the light-ore quota)."""
    w = desk.world
    deposits = sorted(order.deposits) if order.deposits else None
    for prog in desk.active("production_quota"):
        if (
            prog.issuer == order.issuer
            and set(prog.params["stages"]) & set(order.stages)
            and prog.params.get("deposits") == deposits
        ):
            prog.end = w.month
    desk.start_programme(
        order,
        stages=list(order.stages),
        deposits=deposits,
        tonnes_per_year=order.tonnes_per_year,
        growth_per_year=order.growth_per_year,
        headroom=order.headroom,
        restraint=order.restraint,
    )
    return production_quota_words(w, order)


def production_quota_words(world: World, order: BaseModel) -> str:
    """A production quota in words."""
    deposits = sorted(order.deposits) if order.deposits else None
    return (
        f"{world.spec.regions[order.issuer].name} sets its {', '.join(order.stages)} quota"
        + (f" on {', '.join(deposits)}" if deposits else "")
        + " at "
        f"{order.tonnes_per_year:,.0f} t/yr"
        + (f", changing {order.growth_per_year:+.1%} a year" if order.growth_per_year else "")
    )


def apply_price_floor(desk: OrderDesk, order: BaseModel) -> str:
    """The state guarantees a firm a floor price for a product (checked against the budget for
    a year of the gap to today's price on the firm's capacity)."""
    w = desk.world
    firm, yearly_t = firm_output(w, order)
    ci = w.commodity_index[order.commodity]
    gap = max(order.floor_usd_per_kg - float(w.prices[ci, firm.r]), 0.0)
    check_first_year(w, order, gap * yearly_t * 1000.0, f"the price floor for {firm.name}")
    desk.start_programme(
        order,
        firm=order.firm,
        commodity=order.commodity,
        floor_usd_per_kg=order.floor_usd_per_kg,
        stockpile_tonnes_per_year=order.stockpile_tonnes_per_year,
    )
    return price_floor_words(w, order)


def price_floor_words(world: World, order: BaseModel) -> str:
    """A price floor in words."""
    cap = order.stockpile_tonnes_per_year
    backstop = (
        "taking what does not sell into its stockpile"
        if cap is None
        else f"taking up to {cap:,.0f} t/yr of what does not sell into its stockpile"
        if cap > 0
        else "on what it sells"
    )
    return (
        f"{world.spec.regions[order.issuer].name} guarantees "
        f"{world.firms_by_id[order.firm].name} "
        f"{order.floor_usd_per_kg:g} USD/kg for its {order.commodity}, paying the gap to the "
        f"market price on every kg sold and {backstop}"
    )


def floor_programme(world: World, firm: Firm, commodity: str) -> Programme | None:
    """The highest price floor in force for a firm's product, if any."""
    floors = [
        prog
        for prog in world.desk.active("price_floor")
        if prog.params["firm"] == firm.firm_id and prog.params["commodity"] == commodity
    ]
    return max(floors, key=lambda prog: prog.params["floor_usd_per_kg"]) if floors else None


def pay_floor_gap(
    world: World, firm: Firm, commodity: str, tonnes: float, revenue_usd: float
) -> float:
    """The contract for difference on one sale: the issuer pays the firm the gap between the
    floor and the price the sale realised (``revenue_usd`` for ``tonnes`` t), nothing when the
    market pays the floor or more. Returns the USD paid."""
    prog = floor_programme(world, firm, commodity)
    if prog is None or tonnes <= 0:
        return 0.0
    gap = prog.params["floor_usd_per_kg"] * tonnes * 1000.0 - revenue_usd
    if gap <= 0:
        return 0.0
    firm.cash_usd += gap
    world.states_by_region[prog.issuer].spend(gap)
    return gap


def floor_stockpile_intake(world: World) -> None:
    """The backstop of each floor: what the producer could not sell at all (its finished stock
    beyond ``floor_backstop_months`` of its sales, well above the normal cover it plans for)
    goes into the issuer's stockpile at the floor, up to the order's
    ``stockpile_tonnes_per_year`` (a twelfth a month), while the floor is above the best price
    the firm can get.

    The producer does not count it as a sale: it plans its output on its customers' orders, so
    a floor keeps a plant running without making it produce for the stockpile, and the stock it
    keeps for its customers stays on offer (taking it would hand its sales to other sellers)."""
    cover = world.params.floor_backstop_months
    for prog in world.desk.active("price_floor"):
        firm = world.firms_by_id[prog.params["firm"]]
        c = prog.params["commodity"]
        ci = world.commodity_index[c]
        floor = prog.params["floor_usd_per_kg"]
        if floor <= world.sell_prices(world.prices)[ci, firm.r]:
            continue
        surplus = float(np.sum(firm.inventory[c])) - cover * firm.sales_ema.get(c, 0.0)
        cap = prog.params.get("stockpile_tonnes_per_year")
        if cap is not None:
            surplus = min(surplus, cap / 12.0)
        if surplus <= 1e-9:
            continue
        value = surplus * floor * 1000.0
        shipped, tracked, content = firm.deliver(c, surplus, value, sale=False)
        world.states_by_region[prog.issuer].receive(c, shipped, value, tracked, content)


def capex_subsidy_share(world: World, firm: Firm) -> float:
    """The share of a firm's new plants' capex its home state's subsidies pay (1 at most)."""
    share = 0.0
    for prog in world.desk.capex_subsidies(firm):
        share += prog.params["share"]
    return min(share, 1.0)


def capex_multiplier(world: World, firm: Firm) -> float:
    """What a firm pays per t/yr of new capacity, relative to its capex: dearer under a
    foreign technology export ban, cheaper with a capex subsidy at home and an alliance
    fund's share (which tops national subsidies up to the whole capex at most)."""
    national = capex_subsidy_share(world, firm)
    fund = min(fund_share(world, firm), 1.0 - national)
    return tech_ban(world, firm)[0] * (1.0 - national - fund)


def pay_capex_subsidy(world: World, firm: Firm, added_tpy: float) -> None:
    """The home state pays its share of a new plant's capex (``added_tpy`` t/yr), and
    alliance funds theirs."""
    share = capex_subsidy_share(world, firm)
    full = added_tpy * firm.capex_per_tpy * tech_ban(world, firm)[0]
    if share > 0:
        world.desk.charge_capex_subsidy(firm, full)
    pay_fund(world, firm, full, room=1.0 - share)


def subsidy_usd_per_kg(world: World, firm: Firm) -> float:
    """USD per kg of throughput a firm receives from its state's production subsidies."""
    return sum(
        prog.params["usd_per_kg"]
        for prog in world.desk.active("production_subsidy")
        if prog.issuer == firm.region and firm.stage in prog.params["stages"]
    )


def pay_production_subsidy(world: World, firm: Firm, throughput_t: float) -> None:
    """The state pays this month's production subsidy on ``throughput_t`` t to a firm."""
    rate = subsidy_usd_per_kg(world, firm)
    if rate > 0 and throughput_t > 0:
        usd = rate * throughput_t * 1000.0
        firm.cash_usd += usd
        world.states_by_region[firm.region].spend(usd)


def quota_on(world: World, firm: Firm) -> Programme | None:
    """The production quota in force on a firm's stage in its region, if any: one set on
    the firm's own deposit comes before one on the whole stage."""
    general = None
    for prog in world.desk.active("production_quota"):
        if prog.issuer != firm.region or firm.stage not in prog.params["stages"]:
            continue
        deposits = prog.params.get("deposits")
        if not deposits:
            general = general or prog
        elif firm.deposit_index is not None and world.deposit_ids[firm.deposit_index] in (deposits):
            return prog
    return general


def _quota_deposits(world: World, firm: Firm) -> tuple[str, ...] | None:
    """The deposits named by the quota covering a firm (empty: the whole stage; None: no
    quota)."""
    prog = quota_on(world, firm)
    return None if prog is None else tuple(prog.params.get("deposits") or ())


def _quota_share(world: World, firm: Firm, prog: Programme) -> float:
    """A firm's share of the quota that covers it: its share of the installed capacity
    under that quota (as it stood at the start of the month)."""
    # agents.firms imports this package: its names are read once both are loaded.
    from agents.firms import EXITED

    if world._stage_capacity[0] != world.month:
        totals: dict[tuple, float] = defaultdict(float)
        for f in world.firms:
            if f.status != EXITED:
                # Keyed by the deposits a quota covers, not by the quota: a quota the
                # state replaces mid-month covers the same plants.
                totals[f.region, f.stage, _quota_deposits(world, f)] += f.capacity_tpy + f.idle_tpy
        world._stage_capacity = (world.month, totals)
    key = tuple(prog.params.get("deposits") or ())
    total = world._stage_capacity[1][firm.region, firm.stage, key]
    mine = firm.capacity_tpy + firm.idle_tpy
    return mine / total if total > 0 else 0.0


def quota_month(world: World, firm: Firm) -> float:
    """Most a firm may put through this month under its state's production quota, t
    (infinite without one): its share of the yearly quota, held lower by the state groups'
    restraint while the price of the firm's main product is below its reference."""
    prog = quota_on(world, firm)
    if prog is None:
        return math.inf
    allowed = quota_tpy(world, prog) / 12.0 * _quota_share(world, firm, prog)
    restraint = prog.params["restraint"]
    if restraint > 0:
        # The state flexes the quota with the price: below the reference the groups hold
        # output back; above it the ministry lets them run into the quota's headroom.
        c = world.primary_joint if firm.joint_outputs else next(iter(firm.outputs))
        ci = world.commodity_index[c]
        ratio = world.expected_prices[ci, firm.r] / world.reference_prices[ci, firm.r]
        allowed *= min(ratio**restraint, 1.0 + prog.params["headroom"])
    return allowed


def capacity_ceiling(world: World, firm: Firm) -> float:
    """Most capacity a firm may hold under its state's production quota, t/yr (infinite
    without one): its share of the quota plus the quota's headroom."""
    prog = quota_on(world, firm)
    if prog is None:
        return math.inf
    share = _quota_share(world, firm, prog)
    return quota_tpy(world, prog) * share * (1.0 + prog.params["headroom"])


def quota_tpy(world: World, prog: Programme) -> float:
    """A production quota's level this month, t/yr, on its announced yearly path."""
    years = (world.month - prog.start) / 12.0
    return prog.params["tonnes_per_year"] * (1.0 + prog.params["growth_per_year"]) ** years


def guaranteed_price(world: World, firm: Firm, commodity: str) -> float | None:
    """The floor price (USD/kg) a state guarantees a firm for a product, if any."""
    prog = floor_programme(world, firm, commodity)
    return None if prog is None else prog.params["floor_usd_per_kg"]


def guaranteed_offtake(world: World) -> None:
    """The state takes its guaranteed share of a producer's output as it is made, before the
    rest goes to market, at the guaranteed price, into its stockpile."""
    from agents.firms import stock_total  # see _quota_share

    for prog in world.desk.active("offtake_guarantee"):
        firm = world.firms_by_id[prog.params["firm"]]
        c = prog.params["commodity"]
        made = firm.throughput * firm.nominal_yields().get(c, 0.0)
        amount = min(prog.params["share"] * made, stock_total(firm.inventory[c]))
        if amount <= 1e-9:
            continue
        value = amount * prog.params["price_usd_per_kg"] * 1000.0
        shipped, tracked, content = firm.deliver(c, amount, value)
        world.states_by_region[prog.issuer].receive(c, shipped, value, tracked, content)


def research_speedup(world: World, ci: int, r: int) -> float:
    """How much faster a region thrifts a commodity thanks to state research programmes:
    1 + (USD a year) / 500 M USD [EST]."""
    region, commodity = world.region_ids[r], world.commodity_ids[ci]
    return 1.0 + sum(
        prog.params["usd_per_year"] / 5e8
        for prog in world.desk.active("rnd_programme")
        if prog.issuer == region and commodity in prog.params["commodities"]
    )


def apply_equity_stake(desk: OrderDesk, order: BaseModel) -> str:
    """The state puts cash into a firm at once."""
    w = desk.world
    firm = w.firms_by_id[order.firm]
    check_budget(w, order.issuer, order.usd, f"the stake in {firm.name}")
    firm.cash_usd += order.usd
    w.states_by_region[order.issuer].spend(order.usd)
    desk.start_programme(order, firm=order.firm, usd=order.usd)
    return equity_stake_words(w, order)


def equity_stake_words(world: World, order: BaseModel) -> str:
    """An equity stake in words."""
    return (
        f"{world.spec.regions[order.issuer].name} takes a {order.usd / 1e6:,.0f} M USD stake in "
        f"{world.firms_by_id[order.firm].name}"
    )


def apply_rnd_programme(desk: OrderDesk, order: BaseModel) -> str:
    """The state funds research that speeds up thrifting of the commodities at home."""
    w = desk.world
    check_first_year(w, order, order.usd_per_year, "the programme")
    desk.start_programme(
        order, commodities=list(order.commodities), usd_per_year=order.usd_per_year
    )
    return rnd_programme_words(w, order)


def rnd_programme_words(world: World, order: BaseModel) -> str:
    """A research programme in words."""
    return (
        f"{world.spec.regions[order.issuer].name} funds {order.usd_per_year / 1e6:,.0f} M USD a "
        f"year of research to thrift {', '.join(order.commodities)}"
    )


def apply_offtake_guarantee(desk: OrderDesk, order: BaseModel) -> str:
    """The state buys a share of a firm's output at a guaranteed price (checked against the
    budget for a year of the firm's capacity)."""
    w = desk.world
    firm, yearly_t = firm_output(w, order)
    yearly_usd = yearly_t * order.share * order.price_usd_per_kg * 1000.0
    check_first_year(w, order, yearly_usd, f"buying {firm.name}'s output")
    desk.start_programme(
        order,
        firm=order.firm,
        commodity=order.commodity,
        share=order.share,
        price_usd_per_kg=order.price_usd_per_kg,
    )
    return offtake_guarantee_words(w, order)


def offtake_guarantee_words(world: World, order: BaseModel) -> str:
    """An offtake guarantee in words."""
    return (
        f"{world.spec.regions[order.issuer].name} guarantees to buy {order.share:.0%} of "
        f"{world.firms_by_id[order.firm].name}'s {order.commodity} at "
        f"{order.price_usd_per_kg:g} USD/kg"
    )


def value_production_subsidy(v: Valuation, spec: dict, sign: float) -> None:
    """Its issuer pays its rate on the stages' current output."""
    if spec["issuer"] != v.region:
        return
    w = v.world
    output = sum(
        f.throughput for f in w.firms if f.region == spec["issuer"] and f.stage in spec["stages"]
    )
    v.fiscal(spec["usd_per_kg"] * output * 1000.0, sign)


def value_price_floor(v: Valuation, spec: dict, sign: float) -> None:
    """Its issuer pays the gap between the floor and today's price on the firm's output."""
    if spec["issuer"] != v.region:
        return
    w = v.world
    firm = w.firms_by_id[spec["firm"]]
    ci = w.commodity_index[spec["commodity"]]
    gap = max(spec.get("floor_usd_per_kg", 0.0) - w.prices[ci, v.r], 0)
    v.fiscal(gap * firm.throughput * firm.nominal_yields().get(spec["commodity"], 0) * 1000, sign)


INSTRUMENTS = (
    Instrument(
        kind="capex_subsidy",
        family="programme",
        apply=apply_capex_subsidy,
        binds="programmes.capex_multiplier, programmes.pay_capex_subsidy",
        words=capex_subsidy_words,
        spends=True,
        liftable=True,
    ),
    Instrument(
        kind="production_subsidy",
        family="programme",
        apply=apply_production_subsidy,
        binds="programmes.pay_production_subsidy",
        value=value_production_subsidy,
        words=production_subsidy_words,
        spends=True,
        liftable=True,
    ),
    Instrument(
        kind="production_quota",
        family="programme",
        apply=apply_production_quota,
        binds="programmes.quota_month, programmes.capacity_ceiling",
        words=production_quota_words,
        liftable=True,
    ),
    Instrument(
        kind="price_floor",
        family="programme",
        apply=apply_price_floor,
        binds="programmes.pay_floor_gap, programmes.floor_stockpile_intake",
        value=value_price_floor,
        words=price_floor_words,
        spends=True,
        liftable=True,
    ),
    Instrument(
        kind="equity_stake",
        family="programme",
        apply=apply_equity_stake,
        words=equity_stake_words,
        spends=True,
    ),
    Instrument(
        kind="rnd_programme",
        family="programme",
        apply=apply_rnd_programme,
        binds="programmes.research_speedup, World._new_month",
        words=rnd_programme_words,
        spends=True,
    ),
    Instrument(
        kind="offtake_guarantee",
        family="programme",
        apply=apply_offtake_guarantee,
        binds="programmes.guaranteed_offtake",
        words=offtake_guarantee_words,
        spends=True,
        stock_tonnes=True,
    ),
)

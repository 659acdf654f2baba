"""A state's strategic stockpile: purchases and releases spread over months, and a target of
months of cover that the state's stockpile agency keeps (agents/states.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from world.instruments.base import Instrument, OrderRejected
from world.instruments.budget import check_budget
from world.scenario import PolicySpec

if TYPE_CHECKING:
    from pydantic import BaseModel

    from world.instruments.valuation import Valuation
    from world.model import World
    from world.order_desk import OrderDesk


def apply_stockpile_buy(desk: OrderDesk, order: BaseModel) -> str:
    """Buy tonnes for the stockpile over months (checked against the budget at today's
    price)."""
    w = desk.world
    ci = w.commodity_index[order.commodity]
    state = w.states_by_region[order.issuer]
    cost = order.tonnes * float(w.prices[ci, state.r]) * 1000.0
    check_budget(w, order.issuer, cost, f"buying {order.tonnes:,.0f} t")
    _spread_over_months(desk, order)
    return stockpile_buy_words(w, order)


def _spread_over_months(desk: OrderDesk, order: BaseModel) -> None:
    """Start a purchase or release that moves its tonnes evenly over its months."""
    prog = desk.start_programme(
        order, commodity=order.commodity, t_per_month=order.tonnes / order.months
    )
    prog.end = desk.world.month + order.months


def stockpile_buy_words(world: World, order: BaseModel) -> str:
    """A stockpile purchase in words."""
    return (
        f"{world.spec.regions[order.issuer].name} buys {order.tonnes:,.0f} t of "
        f"{order.commodity} for its stockpile over {order.months} months"
    )


def apply_stockpile_release(desk: OrderDesk, order: BaseModel) -> str:
    """Release tonnes from the stockpile over months: no more than it holds beyond what
    releases in force will still take."""
    w = desk.world
    state = w.states_by_region[order.issuer]
    held = float(np.sum(state.stockpile[order.commodity]))
    committed = sum(
        p.params["t_per_month"] * ((p.end or w.month) - w.month)
        for p in desk.programmes
        if p.kind == "stockpile_release"
        and p.issuer == order.issuer
        and p.params["commodity"] == order.commodity
        and p.active(w.month)
    )
    if order.tonnes > held - committed + 1e-9:
        raise OrderRejected(
            f"tonnes: cannot release {order.tonnes:,.0f} t of {order.commodity}; the "
            f"stockpile holds {max(held - committed, 0):,.0f} t not yet committed"
        )
    _spread_over_months(desk, order)
    return stockpile_release_words(w, order)


def stockpile_release_words(world: World, order: BaseModel) -> str:
    """A stockpile release in words."""
    return (
        f"{world.spec.regions[order.issuer].name} releases {order.tonnes:,.0f} t of "
        f"{order.commodity} from its stockpile over {order.months} months"
    )


def apply_stockpile_target(desk: OrderDesk, order: BaseModel) -> str:
    """The stockpile agency keeps the commodities' stock at months of cover."""
    w = desk.world
    end = desk.end_month(order)
    w.policies.add(
        PolicySpec(
            id=desk.new_id(order.issuer, order.kind),
            kind="stockpile_target",
            issuer=order.issuer,
            commodities=list(order.commodities),
            start=desk.date(w.month),
            end=None if end is None else desk.date(end),
            months_of_cover=order.months_of_cover,
        )
    )
    return stockpile_target_words(w, order)


def stockpile_target_words(world: World, order: BaseModel) -> str:
    """A stockpile target in words."""
    return (
        f"{world.spec.regions[order.issuer].name} targets a strategic stock of "
        f"{order.months_of_cover:g} months of {', '.join(order.commodities)}"
    )


def value_stockpile(v: Valuation, spec: dict, sign: float) -> None:
    """A purchase costs its issuer its monthly value at today's price; a release earns it."""
    if spec["issuer"] != v.region:
        return
    w = v.world
    ci = w.commodity_index[spec["commodity"]]
    per_month = spec.get("t_per_month") or spec["tonnes"] / spec["months"]
    value = per_month * float(w.prices[ci, v.r]) * 1000.0
    v.fiscal(value if spec["kind"] == "stockpile_buy" else -value, sign)


INSTRUMENTS = (
    Instrument(
        kind="stockpile_buy",
        family="stockpile",
        apply=apply_stockpile_buy,
        binds="State.stockpile_bids",
        value=value_stockpile,
        words=stockpile_buy_words,
        liftable=True,
        private=True,
        spends=True,
        stock_tonnes=True,
        observed="{name}'s stockpile agency is buying {what}",
    ),
    Instrument(
        kind="stockpile_release",
        family="stockpile",
        apply=apply_stockpile_release,
        binds="State.stockpile_offers",
        value=value_stockpile,
        words=stockpile_release_words,
        liftable=True,
        private=True,
        stock_tonnes=True,
        observed="{name}'s stockpile agency is selling {what}",
    ),
    Instrument(
        kind="stockpile_target",
        family="stockpile",
        apply=apply_stockpile_target,
        binds="State.stockpile_bids",
        words=stockpile_target_words,
        liftable=True,
        private=True,
        spends=True,
        in_book=True,
        observed="{name}'s stockpile agency is building up {what}",
    ),
)

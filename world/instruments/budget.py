"""What an order costs a state: the checks against its yearly budget that programmes and
stockpile purchases make before they apply (USD)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from world.instruments.base import OrderRejected

if TYPE_CHECKING:
    from pydantic import BaseModel

    from agents.firms import Firm
    from world.model import World


def budget_left(world: World, issuer: str) -> float:
    """USD left in the issuer's budget this year (infinite without a budget)."""
    state = world.states_by_region[issuer]
    if state.spec.budget_usd_per_year is None:
        return float("inf")
    return state.spec.budget_usd_per_year - state.spent_this_year_usd


def check_budget(world: World, issuer: str, cost_usd: float, what: str) -> None:
    """Refuse an order that would cost more than the budget left this year.

    Raises:
        OrderRejected: naming the cost and what is left, M USD.
    """
    left = budget_left(world, issuer)
    if cost_usd > left + 1e-6:
        raise OrderRejected(
            f"budget: {what} would cost about {cost_usd / 1e6:,.0f} M USD, more than the "
            f"{max(left, 0) / 1e6:,.0f} M USD left in this year's budget"
        )


def check_first_year(world: World, order: BaseModel, usd_per_year: float, what: str) -> None:
    """Check a recurring cost against the budget for its first year (or its duration)."""
    months = min(getattr(order, "duration_months", None) or 12, 12)
    check_budget(world, order.issuer, usd_per_year * months / 12.0, what)


def firm_output(world: World, order: BaseModel) -> tuple[Firm, float]:
    """The firm an order supports and its yearly capacity for the product, t/yr.

    Raises:
        OrderRejected: if the firm does not make the order's commodity.
    """
    firm = world.firms_by_id[order.firm]
    if order.commodity not in firm.output_commodities():
        raise OrderRejected(f"commodity: {firm.name} does not make {order.commodity}")
    return firm, firm.capacity_tpy * firm.nominal_yields().get(order.commodity, 0.0)

"""Firms' own orders: investing in new capacity, idling and restarting it, offtake contracts
with suppliers, and a premium for non-Chinese supply. The firm is the order's issuer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from world.instruments.base import Instrument, OrderRejected

if TYPE_CHECKING:
    from pydantic import BaseModel

    from world.order_desk import OrderDesk


def apply_invest(desk: OrderDesk, order: BaseModel) -> str:
    """The firm orders new capacity at its capex (after technology bans and subsidies)."""
    firm = desk.world.firms_by_id[order.issuer]
    if firm.status == "exited":
        raise OrderRejected(f"issuer: {firm.name} has exited")
    firm.order_capacity(order.capacity_tpy)
    return f"{firm.name} orders {order.capacity_tpy:,.0f} t/yr of new capacity"


def apply_idle(desk: OrderDesk, order: BaseModel) -> str:
    """The firm idles a share of its operating capacity."""
    firm = desk.world.firms_by_id[order.issuer]
    if firm.capacity_tpy <= 0:
        raise OrderRejected(f"issuer: {firm.name} has no operating capacity to idle")
    step = firm.capacity_tpy * order.share
    firm.mothball(step)
    return f"{firm.name} idles {step:,.0f} t/yr"


def apply_restart(desk: OrderDesk, order: BaseModel) -> str:
    """The firm brings all its idle capacity back."""
    firm = desk.world.firms_by_id[order.issuer]
    if firm.idle_tpy <= 0:
        raise OrderRejected(f"issuer: {firm.name} has no idle capacity to restart")
    amount = firm.idle_tpy
    firm.restart_idle()
    return f"{firm.name} restarts {amount:,.0f} t/yr"


def apply_offtake_contract(desk: OrderDesk, order: BaseModel) -> str:
    """The firm takes a supplier's output first, outside the spot market."""
    w = desk.world
    buyer = w.firms_by_id[order.issuer]
    if order.supplier not in w.firms_by_id:
        raise OrderRejected(f"supplier: unknown firm '{order.supplier}'")
    supplier = w.firms_by_id[order.supplier]
    if not set(supplier.output_commodities()) & set(buyer.inputs):
        raise OrderRejected(
            f"supplier: {supplier.name} makes nothing {buyer.name} uses "
            f"({', '.join(buyer.inputs) or 'no inputs'})"
        )
    desk.start_programme(
        order,
        buyer=order.issuer,
        supplier=order.supplier,
        tonnes_per_year=order.tonnes_per_year,
    )
    volume = f" for up to {order.tonnes_per_year:,.0f} t/yr" if order.tonnes_per_year else ""
    return f"{buyer.name} signs an offtake contract with {supplier.name}{volume}"


def apply_set_premium(desk: OrderDesk, order: BaseModel) -> str:
    """The firm pays up to a premium for non-Chinese supply (replacing its premium in force)."""
    firm = desk.world.firms_by_id[order.issuer]
    for prog in desk.active("set_premium"):
        if prog.issuer == order.issuer:
            prog.end = desk.world.month
    desk.start_programme(order, premium=order.premium, region=firm.region)
    return f"{firm.name} pays up to {order.premium:.0%} more for non-Chinese supply"


INSTRUMENTS = (
    Instrument(kind="invest", family="firm", apply=apply_invest, committable=False),
    Instrument(kind="idle", family="firm", apply=apply_idle, committable=False),
    Instrument(kind="restart", family="firm", apply=apply_restart, committable=False),
    Instrument(
        kind="offtake_contract",
        family="firm",
        apply=apply_offtake_contract,
        binds="World._deliver_contracts",
    ),
    Instrument(
        kind="set_premium",
        family="firm",
        apply=apply_set_premium,
        binds="World.supplier_preference",
    ),
)

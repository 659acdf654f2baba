"""Negotiating deals: a proposal of commitments to other states and their answers. The deals
themselves, trust and breach are kept by the world's diplomacy (world/deals.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from world.instruments.base import Instrument

if TYPE_CHECKING:
    from pydantic import BaseModel

    from world.order_desk import OrderDesk


def apply_propose_deal(desk: OrderDesk, order: BaseModel) -> str:
    """Put a deal to its recipients."""
    return desk.diplomacy.propose(order)


def apply_respond_deal(desk: OrderDesk, order: BaseModel) -> str:
    """Accept, reject or counter a deal proposed to the issuer."""
    return desk.diplomacy.respond(order)


INSTRUMENTS = (
    Instrument(
        kind="propose_deal",
        family="negotiation",
        apply=apply_propose_deal,
        binds="Diplomacy.ai_step",
        committable=False,
    ),
    Instrument(
        kind="respond_deal",
        family="negotiation",
        apply=apply_respond_deal,
        binds="Diplomacy.start_of_month",
        committable=False,
    ),
)

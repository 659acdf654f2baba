"""Alliances: forming one, inviting, joining and leaving. The terms (a common external tariff,
pooled offtake, a fund paying part of members' capex, shared stockpile releases) are kept and
enforced by the world's diplomacy (world/deals.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from world.instruments.base import Instrument

if TYPE_CHECKING:
    from pydantic import BaseModel

    from world.order_desk import OrderDesk


def apply_alliance(desk: OrderDesk, order: BaseModel) -> str:
    """Form, invite to, join or leave an alliance."""
    return desk.diplomacy.alliance(order)


INSTRUMENTS = (
    Instrument(
        kind="alliance",
        family="alliance",
        apply=apply_alliance,
        binds="Diplomacy.start_of_month, World.supplier_preference",
    ),
)

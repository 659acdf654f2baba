"""Allies' ``hedger``: keep buying from the rival, invest modestly at home."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from agents.doctrines.base import (
    Doctrine,
    capex_orders,
    in_force,
    lift,
    liftable,
    stockpile_orders,
)
from world.instruments import IMPORT_KINDS

if TYPE_CHECKING:
    from world.model import World


class Hedger(Doctrine):
    """Keep trading with the rival (China) and invest modestly in home capacity.

    Behaviour, each turn:

    - if ``open_to_target``, **lifts** its own tariffs and import bans that name ``target``
      (it does not join tariff coalitions); most-favoured-nation duties stay;
    - a modest **capex subsidy** of ``capex_share`` (10% [EST]) at ``capex_stages``, issued
      once and kept;
    - a stockpile target of ``stockpile_months`` per product, none by default.
    """

    name = "hedger"
    defaults: ClassVar[dict[str, Any]] = {
        "target": "CN",
        "open_to_target": True,
        "capex_share": 0.1,
        "capex_stages": ["separator", "metal", "magnet"],
        "stockpile_months": {},
    }

    def decide(self, world: World) -> list[dict]:
        p = self.params
        orders: list[dict] = []
        if p["open_to_target"]:
            for spec in in_force(world, self.region, IMPORT_KINDS):
                if p["target"] in spec.partners and liftable(world, spec):
                    orders.append(lift(spec, note=self.name))
        if p["capex_share"] > 0:
            orders += capex_orders(self, world, p["capex_share"], p["capex_stages"])
        orders += stockpile_orders(self, world, p["stockpile_months"])
        return orders

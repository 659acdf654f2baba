"""Japan's post-2010 lean, ``japan-diversifier``: stockpile, subsidise, underwrite producers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from agents.doctrines.base import (
    Doctrine,
    capex_orders,
    floor_orders,
    own_firms,
    stockpile_orders,
)

if TYPE_CHECKING:
    from world.model import World


class JapanDiversifier(Doctrine):
    """Japan after the 2010 embargo: diversify without confronting China.

    Behaviour, each turn (nothing already in force is issued again):

    - a **stockpile target** of ``stockpile_months`` per product: JOGMEC's 60 days of domestic
      consumption (facts §7);
    - a **capex subsidy** of ``capex_share`` at ``capex_stages`` (METI's ~¥100 bn package for
      diversification, recycling and substitution, facts §4h; share [EST]);
    - **offtake-like price floors** for its own producers of ``floor_commodities``: a floor at
      ``floor_ratio`` times the product's start price at home, for ``floor_months``, so a price
      war does not close them (the guarantee JARE gave Lynas, facts §4h);
    - no tariffs and no import bans.

    EXTENSION POINT (alliances): :meth:`allied_offtake` is where offtake with allied producers
    abroad goes (Lynas in Malaysia and Australia under JARE); the order desk lets a state
    underwrite its own producers only, so it returns nothing yet.
    """

    name = "japan-diversifier"
    defaults: ClassVar[dict[str, Any]] = {
        "stockpile_months": {"magnet": 2.0, "oxide_light": 2.0, "oxide_heavy": 2.0},
        "capex_share": 0.3,
        "capex_stages": ["separator", "metal", "magnet"],
        "floor_ratio": 0.9,
        "floor_commodities": ["oxide_light", "oxide_heavy", "metal", "magnet"],
        "floor_months": 120,
    }

    def allied_offtake(self, world: World) -> list[dict]:
        """EXTENSION POINT: offtake with allied producers abroad. None yet."""
        return []

    def decide(self, world: World) -> list[dict]:
        p = self.params
        orders = stockpile_orders(self, world, p["stockpile_months"])
        if p["capex_share"] > 0:
            orders += capex_orders(self, world, p["capex_share"], p["capex_stages"])
        if p["floor_ratio"] > 0:
            r = world.region_index[self.region]
            firms = own_firms(world, self.region)
            for c in p["floor_commodities"]:
                if c not in world.commodity_index:
                    continue
                floor = p["floor_ratio"] * float(
                    world.reference_prices[world.commodity_index[c], r]
                )
                orders += floor_orders(self, world, firms, c, floor, p["floor_months"])
        orders += self.allied_offtake(world)
        return orders

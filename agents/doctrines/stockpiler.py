"""The United States' ``stockpiler``: strategic stocks in months of cover."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from agents.doctrines.base import Doctrine, in_force, stockpile_orders

if TYPE_CHECKING:
    from world.model import World


class Stockpiler(Doctrine):
    """Hold strategic stocks of magnets and oxides, and put defence first.

    Behaviour, each turn:

    - for each product in ``months_of_cover``, a **stockpile target** of that many months of the
      region's use (the stockpile buys toward it at the lowest priority and releases into the
      home market when buyers go short; world/states.py). Defaults [EST]: 6 months of magnets
      and Dy/Tb oxide, 3 of NdPr oxide, between the ~60 days of Japan's JOGMEC target and the
      180 days it allows for high-risk metals (facts §7). A target in force at another level
      is lifted and set again; one at the same level is left alone.
    - if ``defense_priority``, orders defence demand served first, unless that is in force.
    """

    name = "stockpiler"
    defaults: ClassVar[dict[str, Any]] = {
        "months_of_cover": {"magnet": 6.0, "oxide_heavy": 6.0, "oxide_light": 3.0},
        "defense_priority": True,
    }

    def decide(self, world: World) -> list[dict]:
        return stockpile_orders(self, world, self.params["months_of_cover"]) + (
            [self.order("defense_priority")]
            if self.params["defense_priority"]
            and not in_force(world, self.region, "defense_priority")
            else []
        )

"""The United States' ``tariff-hawk``: piecemeal bilateral tariffs on Chinese products."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from agents.doctrines.bargaining import deal_holds
from agents.doctrines.base import Doctrine, tariff_rate

if TYPE_CHECKING:
    from world.model import World


class TariffHawk(Doctrine):
    """Raise tariffs on the rival's magnets and metal one tranche at a time, bilaterally.

    Behaviour: from ``start_month``, every ``every_months`` (default each quarterly turn) it adds
    one tranche of ``step`` (25%, the Section 301 rate on permanent magnets from 2026, facts
    §4e) to the bilateral tariff on one of ``commodities`` from ``target``: the one with the
    lowest bilateral rate, in list order on ties, until each reaches ``max_rate``. Tranches
    stack as separate measures (tariffs on an arc add up), like successive tariff lists.
    Only tariffs that name the target count (not most-favoured-nation duties), and nothing is
    issued once every product is at ``max_rate``, nor while a deal with ``target`` holds (the
    deal settles the pair's tariffs for its term; the tranches resume when it ends).
    """

    name = "tariff-hawk"
    defaults: ClassVar[dict[str, Any]] = {
        "target": "CN",
        "commodities": ["magnet", "metal"],
        "step": 0.25,
        "max_rate": 0.5,
        "start_month": 0,
        "every_months": 3,
    }

    def __init__(self, region, params):
        super().__init__(region, params)
        self.last_tranche: int | None = None

    def decide(self, world: World) -> list[dict]:
        p = self.params
        target = p["target"]
        if world.month < p["start_month"] or target not in world.region_index:
            return []
        if deal_holds(world, self.region, target):
            return []
        if self.last_tranche is not None and world.month - self.last_tranche < p["every_months"]:
            return []
        rates = [
            (tariff_rate(world, self.region, target, c, discriminatory=True), i, c)
            for i, c in enumerate(p["commodities"])
            if c in world.commodity_index
        ]
        open_ = [item for item in rates if item[0] < p["max_rate"] - 1e-9]
        if not open_:
            return []
        rate, _, commodity = min(open_)
        self.last_tranche = world.month
        return [
            self.order(
                "import_tariff",
                commodities=[commodity],
                partners=[target],
                rate=round(min(p["step"], p["max_rate"] - rate), 6),
            )
        ]

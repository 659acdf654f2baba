"""China's ``market-share-defender``: flood the market when Western entrants invest."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from agents.doctrines.base import (
    Doctrine,
    in_force,
    lift,
    liftable,
    production_subsidy,
)
from world.instruments import EXPORT_KINDS

if TYPE_CHECKING:
    from world.model import World


class MarketShareDefender(Doctrine):
    """Expand output to push prices under Western entrants' costs when they invest.

    It watches capacity outside China, installed plus under construction (``capacity`` and
    ``capacity_pipeline`` in the world's published results), for the ``watched`` products.
    When that grows by more than ``trigger_growth`` over the last ``lookback_months`` for any
    of them (entrants are investing), it:

    - pays its own producers a **production subsidy** per kg of throughput at each stage in
      ``subsidies`` (USD/kg; defaults [EST]: 1 USD/kg REO at separation, about 4 USD/kg of NdPr
      oxide or 7% of its price; 3 USD/kg at the magnet stage, about 6%), for
      ``subsidy_months``, so they produce more and sell cheaper;
    - if ``lift_restrictions``, **lifts** its own export bans, quotas, licences and duties on the
      watched products, so its material reaches the entrants' customers at home-market prices.

    A subsidy already running at that stage is not issued again; it is renewed when it lapses
    and entrants are still investing.
    """

    name = "market-share-defender"
    defaults: ClassVar[dict[str, Any]] = {
        "watched": ["oxide_light", "metal", "magnet"],
        "trigger_growth": 0.05,
        "lookback_months": 12,
        "subsidies": {"separator": 1.0, "magnet": 3.0},
        "subsidy_months": 24,
        "lift_restrictions": True,
    }

    def entrant_growth(self, world: World) -> float:
        """The largest growth of capacity outside this region (installed + pipeline) over the
        lookback window among the watched products; 0 before there is any history."""
        capacity = world.recorder.array("capacity")
        if capacity.size == 0:
            return 0.0
        total = capacity + world.recorder.array("capacity_pipeline")
        months = total.shape[0]
        then = max(0, months - 1 - int(self.params["lookback_months"]))
        outside = np.ones(len(world.region_ids), dtype=bool)
        outside[world.region_index[self.region]] = False
        growth = 0.0
        for c in self.params["watched"]:
            if c not in world.commodity_index:
                continue
            ci = world.commodity_index[c]
            before = float(total[then, ci, outside].sum())
            now = float(total[-1, ci, outside].sum())
            if before > 0:
                growth = max(growth, now / before - 1.0)
            elif now > 0:
                growth = max(growth, 1.0)
        return growth

    def decide(self, world: World) -> list[dict]:
        p = self.params
        if self.entrant_growth(world) <= p["trigger_growth"]:
            return []
        orders: list[dict] = []
        for stage, rate in p["subsidies"].items():
            if stage not in world.spec.stages or rate <= 0:
                continue
            if production_subsidy(world, self.region, stage) < rate - 1e-9:
                orders.append(
                    self.order(
                        "production_subsidy",
                        stages=[stage],
                        usd_per_kg=float(rate),
                        duration_months=p["subsidy_months"],
                    )
                )
        if p["lift_restrictions"]:
            watched = set(p["watched"])
            for spec in in_force(world, self.region, EXPORT_KINDS):
                if watched & set(spec.commodities) and liftable(world, spec):
                    orders.append(lift(spec, note=self.name))
        return orders

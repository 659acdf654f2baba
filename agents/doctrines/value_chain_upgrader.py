"""China's ``value-chain-upgrader``: keep the raw material home, sell the finished magnet."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from agents.doctrines.base import Doctrine, export_duty, in_force, production_subsidy

if TYPE_CHECKING:
    from world.model import World


class ValueChainUpgrader(Doctrine):
    """Restrict raw and oxide exports, favour magnet exports (the seed's trend).

    Behaviour, each turn:

    1. **Export duties on the upstream products**: where its duty on a product to any partner is
       below ``duties`` for that product, it adds a duty layer to all partners that brings it there
       (China's 2008-2015 duties: 15% on Nd oxide, 25% on Dy/Tb oxide; concentrate [EST] at the
       25% La/Ce rate of 2011, facts §3c).
    2. **Ratchet**: every ``ratchet_months`` while China's share of world magnet production is
       below ``target_magnet_share``, it adds ``duty_step`` to each upstream duty, up to
       ``max_duty``: the more magnets are made abroad, the dearer the oxide they are made from.
    3. **Downstream support**: a production subsidy of ``downstream_subsidy_usd_per_kg`` for its
       makers at ``downstream_stages`` (metal and magnets; a stand-in for export VAT rebates on
       finished goods [EST]) for ``subsidy_months``, renewed when it lapses; never a duty or
       restriction on magnets.
    4. Optionally (``heavy_quota_t``, t per 12 months), an export quota on Dy/Tb oxide.

    Measures already in force are never issued again.
    """

    name = "value-chain-upgrader"
    defaults: ClassVar[dict[str, Any]] = {
        "duties": {"concentrate": 0.25, "oxide_light": 0.15, "oxide_heavy": 0.25},
        "duty_step": 0.05,
        "max_duty": 0.40,
        "ratchet_months": 12,
        "target_magnet_share": 0.95,
        "downstream_stages": ["metal", "magnet"],
        "downstream_subsidy_usd_per_kg": 1.0,
        "subsidy_months": 12,
        "heavy_quota_t": None,
    }

    def __init__(self, region, params):
        super().__init__(region, params)
        self.last_ratchet: int | None = None

    def _duty(self, world: World, commodity: str) -> float:
        """The lowest duty it charges any partner on ``commodity``."""
        partners = [r for r in world.region_ids if r != self.region]
        return min(export_duty(world, self.region, p, commodity) for p in partners)

    def _magnet_share(self, world: World) -> float | None:
        production = world.recorder.array("production")
        if production.size == 0 or "magnet" not in world.commodity_index:
            return None
        made = production[-1, world.commodity_index["magnet"]]
        total = float(made.sum())
        return float(made[world.region_index[self.region]]) / total if total > 0 else None

    def decide(self, world: World) -> list[dict]:
        p = self.params
        orders = []
        share = self._magnet_share(world)
        ratchet = (
            self.last_ratchet is not None
            and world.month - self.last_ratchet >= p["ratchet_months"]
            and share is not None
            and share < p["target_magnet_share"]
        )
        for c, target in p["duties"].items():
            if c not in world.commodity_index:
                continue
            now = self._duty(world, c)
            want = max(now, target) + p["duty_step"] if ratchet else target
            want = min(want, p["max_duty"])
            if want - now > 1e-6:
                orders.append(self.order("export_duty", commodities=[c], rate=round(want - now, 6)))
        if self.last_ratchet is None or ratchet:
            self.last_ratchet = world.month
        rate = p["downstream_subsidy_usd_per_kg"]
        stages = [
            s
            for s in p["downstream_stages"]
            if s in world.spec.stages and production_subsidy(world, self.region, s) < rate - 1e-9
        ]
        if rate > 0 and stages:
            orders.append(
                self.order(
                    "production_subsidy",
                    stages=stages,
                    usd_per_kg=rate,
                    duration_months=p["subsidy_months"],
                )
            )
        quota = p["heavy_quota_t"]
        if (
            quota is not None
            and "oxide_heavy" in world.commodity_index
            and not in_force(world, self.region, "export_quota", "oxide_heavy")
        ):
            orders.append(
                self.order("export_quota", commodities=["oxide_heavy"], quota_t=float(quota))
            )
        return orders

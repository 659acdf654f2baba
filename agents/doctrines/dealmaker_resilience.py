"""The United States' ``dealmaker-resilience``: lower tariffs while funding resilience."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from agents.doctrines.base import (
    Doctrine,
    capex_orders,
    in_force,
    lift,
    liftable,
    reissue,
    stockpile_orders,
    tariff_rate,
)

if TYPE_CHECKING:
    from world.model import World


class DealmakerResilience(Doctrine):
    """Seek a supply deal with the rival by lowering tariffs, and fund resilience meanwhile.

    Behaviour, each turn:

    - **lowers tariffs**: its bilateral tariff measure on ``target`` with the highest rate is
      lifted and put back ``tariff_cut`` lower (if anything is left), so bilateral rates come
      down one step a turn toward ``tariff_floor``; measures that also name other origins stay
      on for those;
    - **funds resilience** in parallel: a capex subsidy of ``capex_share`` at ``capex_stages``
      [EST] and a stockpile target of ``stockpile_months`` per product (~60 days, facts §7),
      issued once and kept.

    It also **proposes deals** (agents/doctrines/bargaining.py): its tariffs on the rival cut
    to ``tariff_floor`` if the rival suspends its export restrictions on it for a term.
    """

    name = "dealmaker-resilience"
    proposes = True
    defaults: ClassVar[dict[str, Any]] = {
        "target": "CN",
        "tariff_cut": 0.1,
        "tariff_floor": 0.0,
        "capex_share": 0.3,
        "capex_stages": ["separator", "metal", "magnet"],
        "stockpile_months": {"magnet": 2.0, "oxide_heavy": 2.0},
    }

    def asked_tariff(self, world: World, partner: str) -> float:
        return float(self.params["tariff_floor"])

    def tariff_cuts(self, world: World) -> list[dict]:
        """Orders cutting the highest bilateral tariff on the target by one step."""
        p = self.params
        target = p["target"]
        candidates = []
        for spec in in_force(world, self.region, "import_tariff"):
            if target not in spec.partners or not liftable(world, spec):
                continue
            total = max(
                tariff_rate(world, self.region, target, c, discriminatory=True)
                for c in spec.commodities
            )
            cut = min(p["tariff_cut"], total - p["tariff_floor"], spec.rate or 0.0)
            if cut > 1e-9:
                candidates.append((-(spec.rate or 0.0), len(candidates), spec, cut))
        if not candidates:
            return []
        _, _, spec, cut = min(candidates, key=lambda item: item[:2])
        orders = [lift(spec, note=self.name)]
        rest = [r for r in spec.partners if r != target]
        if rest:
            orders.append(reissue(world, spec, rest))
        left = round((spec.rate or 0.0) - cut, 6)
        if left > 1e-9:
            cut_spec = spec.model_copy(update={"rate": left})
            orders.append(reissue(world, cut_spec, [target], note=self.name))
        return orders

    def decide(self, world: World) -> list[dict]:
        p = self.params
        orders = self.tariff_cuts(world)
        if p["capex_share"] > 0:
            orders += capex_orders(self, world, p["capex_share"], p["capex_stages"])
        orders += stockpile_orders(self, world, p["stockpile_months"])
        return orders

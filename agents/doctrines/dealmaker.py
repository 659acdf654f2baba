"""China's ``dealmaker``: reward states that do not tariff it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from agents.doctrines.base import (
    RESTRICTIVE,
    Doctrine,
    covers,
    import_banned,
    in_force,
    lift,
    liftable,
    reissue,
    tariff_rate,
)

if TYPE_CHECKING:
    from world.model import World


class Dealmaker(Doctrine):
    """Lift export restrictions on states that have no tariffs on it (a simple version; the
    negotiation engine extends it with proposals).

    A state is **friendly** when every tariff it charges on this state's goods is at most
    ``tolerated_tariff`` (most-favoured-nation duties of a few percent do not count; default
    5%, the US duty on RE metals, facts §4e) and it bans none of them. Regions without a state
    cannot tariff and count as friendly.

    Behaviour, each turn: every export measure of its own of the ``measures`` kinds (bans,
    quotas, licences) in force that covers a friendly region is lifted; if it also covered
    unfriendly states it is put back on for those only (same terms, remaining duration).
    Export duties stay (they are not aimed at anyone).

    It also **proposes deals** (agents/doctrines/bargaining.py): its restrictions on an
    unfriendly state suspended for a term if that state cuts its tariffs on this state's goods
    to ``tolerated_tariff``.
    """

    name = "dealmaker"
    proposes = True
    defaults: ClassVar[dict[str, Any]] = {
        "tolerated_tariff": 0.05,
        "measures": list(RESTRICTIVE),
    }

    def friendly(self, world: World, region: str) -> bool:
        """Whether ``region`` charges no tariff above the tolerated one on this state's goods."""
        if region not in world.states_by_region:
            return True
        for c in world.commodity_ids:
            if tariff_rate(world, region, self.region, c) > self.params["tolerated_tariff"] + 1e-9:
                return False
            if import_banned(world, region, self.region, c):
                return False
        return True

    def asked_tariff(self, world: World, partner: str) -> float:
        return float(self.params["tolerated_tariff"])

    def decide(self, world: World) -> list[dict]:
        orders: list[dict] = []
        others = [r for r in world.region_ids if r != self.region]
        friendly = {r: self.friendly(world, r) for r in others}
        for spec in in_force(world, self.region, tuple(self.params["measures"])):
            covered = [r for r in others if covers(spec, r)]
            freed = [r for r in covered if friendly[r]]
            if not freed or not liftable(world, spec):
                continue
            orders.append(lift(spec, note=self.name))
            kept = [r for r in covered if not friendly[r]]
            if kept:
                orders.append(reissue(world, spec, kept, note=spec.note))
        return orders

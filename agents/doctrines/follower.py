"""Allies' ``follower``: align trade measures on the rival with the leader's."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from agents.doctrines.base import Doctrine, import_banned, in_force, lift, liftable, tariff_rate

if TYPE_CHECKING:
    from world.model import World


class Follower(Doctrine):
    """Copy the ``leader``'s (the US's) tariffs and import bans on the rival (China).

    Behaviour, each turn, for every product: its own bilateral tariff on ``target`` is brought
    to ``scale`` times the leader's bilateral tariff on ``target`` (only tariffs that name the
    target count on both sides, not most-favoured-nation duties). It adjusts only the measures
    it issued itself (one per product), lifting and re-issuing them when the gap exceeds
    ``tolerance``; its other tariffs count toward the level. If ``copy_bans``, it bans imports
    of a product from the target while the leader does, and lifts its own ban when the leader
    lifts. Seats play in the scenario's order: a follower seated after its leader answers in
    the same turn, before it, the next turn.
    """

    name = "follower"
    defaults: ClassVar[dict[str, Any]] = {
        "leader": "US",
        "target": "CN",
        "scale": 1.0,
        "copy_bans": True,
        "tolerance": 0.01,
    }

    def _copies(self, world: World, kind: str, commodity: str) -> list:
        target = self.params["target"]
        return [
            spec
            for spec in in_force(world, self.region, kind, commodity)
            if spec.note == self.name and target in spec.partners
        ]

    def decide(self, world: World) -> list[dict]:
        p = self.params
        leader, target = p["leader"], p["target"]
        if self.region in (leader, target) or leader not in world.region_index:
            return []
        orders: list[dict] = []
        for c in world.commodity_ids:
            led = tariff_rate(world, leader, target, c, discriminatory=True)
            mine = tariff_rate(world, self.region, target, c, discriminatory=True)
            copies = self._copies(world, "import_tariff", c)
            copied = sum(spec.rate or 0.0 for spec in copies)
            want = max(p["scale"] * led - (mine - copied), 0.0)
            if abs(want - copied) > p["tolerance"] and all(liftable(world, s) for s in copies):
                orders.extend(lift(spec, note=self.name) for spec in copies)
                if want > p["tolerance"]:
                    orders.append(
                        self.order(
                            "import_tariff",
                            commodities=[c],
                            partners=[target],
                            rate=round(want, 6),
                        )
                    )
            if not p["copy_bans"]:
                continue
            leader_bans = import_banned(world, leader, target, c)
            bans = self._copies(world, "import_ban", c)
            if leader_bans and not import_banned(world, self.region, target, c):
                orders.append(self.order("import_ban", commodities=[c], partners=[target]))
            elif not leader_bans and bans and all(liftable(world, s) for s in bans):
                orders.extend(lift(spec, note=self.name) for spec in bans)
        return orders

"""China's ``coercive-retaliator``: answer tariffs and tech controls with export licensing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from agents.doctrines.bargaining import deal_holds
from agents.doctrines.base import (
    Doctrine,
    import_banned,
    in_force,
    lift,
    liftable,
    programmes,
    tariff_rate,
)

if TYPE_CHECKING:
    from world.model import World


class CoerciveRetaliator(Doctrine):
    """Answer a tariff increase on its products or a technology control with export licensing
    of the heavy elements and magnets to that state; ease when the pressure is cut.

    **Pressure** from another state is the highest tariff it charges on this state's
    ``watched`` products (magnets and metal), plus 1 for an import ban on any of them, plus 1
    for a technology export ban (``tech_export_ban``) of its own in force, if
    ``answer_tech_controls``. The states it watches are ``targets`` (default: every other
    state). The pressure under the scenario's own policies at the start, before any seat has
    acted, is the status quo it tolerates (or ``tolerated_tariff`` if given): a rival's tariff
    in the first turn is answered like any other. Handed a seat during play, it tolerates the
    pressure it finds at its first turn.

    Behaviour, each turn, for each other state in the scenario's order:

    - pressure above the tolerated level by more than ``threshold`` and no retaliation in force:
      **export licensing** on ``licensed`` (Dy/Tb oxide and magnets) to that state, review
      ``review_months`` (45 working days ~ 2 months), ``approval_share`` approved (reported ~25%
      at first, ~60% by mid-2025, facts §4c; default 0.5 [EST]). It answers in the same turn it
      sees the pressure: within one turn of the tariff.
    - retaliation in force and pressure cut by at least ``ease_cut`` from its peak, or back to
      the tolerated level: **lifts** the licensing; the lower level becomes the tolerated one
      (a cut buys relief; a new increase is answered again).

    While a deal with a state holds, it leaves that state alone; the pressure left when the
    deal ends is the new peak (a licence the deal suspended comes back and stays while the
    tariff stays). Its retaliation measures carry the note ``coercive-retaliator``; it lifts
    only those. Seats may make it propose deals (``params.diplomacy.propose = true``,
    agents/doctrines/bargaining.py).
    """

    name = "coercive-retaliator"
    defaults: ClassVar[dict[str, Any]] = {
        "watched": ["magnet", "metal"],
        "licensed": ["oxide_heavy", "magnet"],
        "review_months": 2,
        "approval_share": 0.5,
        "threshold": 0.0,
        "ease_cut": 0.05,
        "tolerated_tariff": None,
        "answer_tech_controls": True,
        "targets": None,
    }

    def __init__(self, region, params):
        super().__init__(region, params)
        self.tolerated: dict[str, float] = {}
        self.peak: dict[str, float] = {}

    def pressure(self, world: World, target: str) -> float:
        """How hard ``target`` leans on this state now (tariff share, +1 per ban or control)."""
        watched = [c for c in self.params["watched"] if c in world.commodity_index]
        level = max((tariff_rate(world, target, self.region, c) for c in watched), default=0.0)
        if any(import_banned(world, target, self.region, c) for c in watched):
            level += 1.0
        if self.params["answer_tech_controls"] and programmes(world, target, "tech_export_ban"):
            level += 1.0
        return level

    def retaliation(self, world: World, target: str) -> list:
        """Its own licensing measures on ``target`` in force."""
        return [
            spec
            for spec in in_force(world, self.region, "export_licence")
            if spec.note == self.name and target in spec.partners
        ]

    def begin(self, world: World) -> None:
        for target in self._targets(world):
            self._tolerate_at_first(world, target)

    def _targets(self, world: World) -> list[str]:
        targets = self.params["targets"] or self.others(world)
        return [t for t in targets if t != self.region and t in world.region_index]

    def _tolerate_at_first(self, world: World, target: str) -> None:
        if target not in self.tolerated:
            given = self.params["tolerated_tariff"]
            self.tolerated[target] = self.pressure(world, target) if given is None else float(given)

    def decide(self, world: World) -> list[dict]:
        p = self.params
        licensed = [c for c in p["licensed"] if c in world.commodity_index]
        orders: list[dict] = []
        for target in self._targets(world):
            level = self.pressure(world, target)
            self._tolerate_at_first(world, target)
            if deal_holds(world, self.region, target):
                # the deal settles the pair for its term; what is left of the pressure when
                # it ends is answered afresh (the restored licensing is not eased at once)
                self.peak[target] = level
                continue
            in_place = self.retaliation(world, target)
            if in_place and not all(liftable(world, spec) for spec in in_place):
                continue  # imposed earlier this month: judge it next turn
            if in_place:
                self.peak[target] = max(self.peak.get(target, level), level)
                eased = level <= self.peak[target] - p["ease_cut"] + 1e-9
                if eased or level <= self.tolerated[target] + p["threshold"] + 1e-9:
                    orders.extend(lift(spec, note=self.name) for spec in in_place)
                    self.tolerated[target] = level
                    self.peak.pop(target, None)
            elif level > self.tolerated[target] + p["threshold"] + 1e-9 and licensed:
                orders.append(
                    self.order(
                        "export_licence",
                        commodities=licensed,
                        partners=[target],
                        review_months=p["review_months"],
                        approval_share=p["approval_share"],
                    )
                )
                self.peak[target] = level
            else:
                self.peak.pop(target, None)
                self.tolerated[target] = min(self.tolerated[target], level)
        return orders

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

    Behaviour, each turn, for each other state in the scenario's order, as China used its
    licences in 2023-25 (facts §4c): case by case, by end use, eased and tightened with the
    pressure rather than switched on and off:

    - pressure above the tolerated level by more than ``threshold`` and no retaliation in force:
      **export licensing** on ``licensed`` (Dy/Tb oxide and magnets) to that state: defence end
      users approved at ``defense_approval`` (0: refused, as China refused US defence users),
      civilian users at ``approval_share`` (reported ~25% at first, ~60% by mid-2025; default
      0.5 [EST]), each month's applications reviewed for a delay drawn between
      ``review_low_months`` and ``review_high_months``, most likely ``review_months`` (45
      working days ~ 2 months). If the state also has a technology export ban of its own in
      force (and ``answer_tech_controls``), an **extraterritorial control** on
      ``extraterritorial`` goods (magnets): products made elsewhere with Chinese material may
      not ship to it (the October 2025 rule); an empty list leaves it out.
    - retaliation in force and pressure up by ``escalate_step`` or more since it last answered:
      **tightens** (``licence_terms``): civilian approval times ``tighten_factor``, and the
      extraterritorial control if a technology ban has come since.
    - retaliation in force and pressure cut by at least ``ease_cut`` from its peak: **eases**
      first (``licence_terms``: civilian approval ``ease_approval``, general licences for the
      ``general_licensees``, buyers named by region or firm id), and **lifts** at the next cut;
      pressure back to the tolerated level lifts at once. The lower level becomes the tolerated
      one once lifted (a cut buys relief; a new increase is answered again).

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
        "review_low_months": 1,
        "review_high_months": 3,
        "approval_share": 0.5,
        "defense_approval": 0.0,
        "escalate_step": 0.25,
        "tighten_factor": 0.5,
        "ease_approval": 0.9,
        "general_licensees": [],
        "extraterritorial": ["magnet"],
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
        #: The pressure it last answered (licensed or tightened at), by state.
        self.answered: dict[str, float] = {}
        #: Civilian approval share of its licences on each state now.
        self.civilian: dict[str, float] = {}
        #: States whose licences it has eased and not yet lifted.
        self.eased: set[str] = set()

    def pressure(self, world: World, target: str) -> float:
        """How hard ``target`` leans on this state now (tariff share, +1 per ban or control)."""
        watched = [c for c in self.params["watched"] if c in world.commodity_index]
        level = max((tariff_rate(world, target, self.region, c) for c in watched), default=0.0)
        if any(import_banned(world, target, self.region, c) for c in watched):
            level += 1.0
        if self.params["answer_tech_controls"] and programmes(world, target, "tech_export_ban"):
            level += 1.0
        return level

    def retaliation(self, world: World, target: str, kind: str = "export_licence") -> list:
        """Its own measures of ``kind`` on ``target`` in force: its licensing by default, or
        its ``extraterritorial_control``."""
        return [
            spec
            for spec in in_force(world, self.region, kind)
            if spec.note == self.name and target in spec.partners
        ]

    def _extraterritorial(self, world: World, target: str) -> list[dict]:
        """The extraterritorial control on ``target``, if it holds a technology ban and none
        of its controls is in force yet."""
        goods = [c for c in self.params["extraterritorial"] if c in world.commodity_index]
        tech = self.params["answer_tech_controls"] and programmes(world, target, "tech_export_ban")
        if not goods or not tech or self.retaliation(world, target, "extraterritorial_control"):
            return []
        return [self.order("extraterritorial_control", commodities=goods, partners=[target])]

    def _end_use(self, civilian: float) -> dict[str, float]:
        return {"defense": self.params["defense_approval"], "civilian": civilian}

    def _terms(self, spec, civilian: float, grant: list[str] | None = None) -> dict:
        return self.order(
            "licence_terms",
            policy_id=spec.id,
            approval_share=civilian,
            end_use=self._end_use(civilian),
            grant=list(grant or []),
        )

    def _lift_all(self, world: World, target: str, level: float) -> list[dict]:
        in_place = self.retaliation(world, target) + self.retaliation(
            world, target, "extraterritorial_control"
        )
        self.tolerated[target] = level
        for book in (self.peak, self.answered, self.civilian):
            book.pop(target, None)
        self.eased.discard(target)
        return [lift(spec, note=self.name) for spec in in_place if liftable(world, spec)]

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
            tolerated = level <= self.tolerated[target] + p["threshold"] + 1e-9
            if in_place:
                self.peak[target] = max(self.peak.get(target, level), level)
                civilian = self.civilian.get(target, p["approval_share"])
                cut = level <= self.peak[target] - p["ease_cut"] + 1e-9
                if tolerated or (cut and target in self.eased):
                    orders.extend(self._lift_all(world, target, level))
                elif cut:
                    eased = max(civilian, p["ease_approval"])
                    grant = [g for g in p["general_licensees"] if g]
                    orders.extend(self._terms(spec, eased, grant) for spec in in_place)
                    self.civilian[target] = eased
                    self.eased.add(target)
                    self.peak[target] = level  # the next cut is measured from here
                elif level >= self.answered.get(target, level) + p["escalate_step"] - 1e-9:
                    tighter = civilian * p["tighten_factor"]
                    orders.extend(self._terms(spec, tighter) for spec in in_place)
                    orders.extend(self._extraterritorial(world, target))
                    self.civilian[target] = tighter
                    self.answered[target] = level
                    self.eased.discard(target)
            elif not tolerated and licensed:
                orders.append(
                    self.order(
                        "export_licence",
                        commodities=licensed,
                        partners=[target],
                        review_months=p["review_months"],
                        review_low_months=min(p["review_low_months"], p["review_months"]),
                        review_high_months=max(p["review_high_months"], p["review_months"]),
                        approval_share=p["approval_share"],
                        end_use=self._end_use(p["approval_share"]),
                    )
                )
                orders.extend(self._extraterritorial(world, target))
                self.peak[target] = self.answered[target] = level
                self.civilian[target] = p["approval_share"]
            else:
                self.peak.pop(target, None)
                self.tolerated[target] = min(self.tolerated[target], level)
        return orders

"""Negotiation and alliances: deals between states, trust, and alliances with their terms.

Everything here is driven by orders (world/orders.py) that the order desk (world/order_desk.py)
validates, applies and logs; the state lives in one :class:`Diplomacy` object per world
(``world.desk.diplomacy``, or :func:`deals_of`).

**Deals.** A state proposes a deal (``propose_deal``) to one or more others: a bundle of
commitments, each an order with its own issuer among the parties, and a duration. Each recipient
answers (``respond_deal``: accept, reject, or counter with other commitments, which closes the
proposal and opens a new one from the counter-proposer to the other parties). A proposal stays
open for one turn (``turn_months``) and then lapses. When every recipient has accepted, the
commitments are checked together on a copy of the world (if one would be rejected, the deal
fails and nothing changes), then applied at once, logged with status ``committed`` and source
``deal:<id>``; the deal then holds for ``duration_months``.

While a deal holds, the world enforces it: an order by a party that contradicts one of its own
commitments is rejected with a message naming the deal, unless the order carries
``breach = true``. A commitment to lift a measure is contradicted by a new measure of the same
family (export ban, quota, licence or duty; import tariff or ban; technology ban; ...) on an
overlapping commodity and partner; a commitment to a trade measure (e.g. a 10% tariff) by a new
measure of the same family on an overlap (raising it); a commitment to a programme (a subsidy, a
purchase, a floor) by a lift that would end it. Lifting a restriction is never a breach. When a
deal ends, its tariff cuts and other measures stay as they are and the parties are free again,
except what it **suspended**: a ``lift`` commitment with ``suspend = true`` ends the trade
measures it names (or a technology export ban) for the deal's term, and they come back into
force (same terms, same note, for what was left of their own term) when the deal runs out, or
when another party breaks it (the breacher's own suspended measures stay off: it re-imposes what
it likes itself).

**Words.** Each deal reads as a sentence (world/deal_words.py: "China offers to suspend its
export licences on magnets for buyers in the United States for 12 months if the United States
cuts its tariff on magnets from China to 5%"), and an AI's answer says in words what it expects
to gain and lose and how far it trusts the proposer.

**Trust.** Each state holds a trust in each other state, 0-1, starting at :data:`TRUST_START`
(or the seat's ``params.diplomacy.trust``). A breach multiplies every other state's trust in
the breacher by :data:`BREACH_FACTOR`; a deal kept to its term raises the parties' trust in
each other by :data:`KEPT_GAIN` of the way to 1.

**AI acceptance.** A recipient that no human plays (not in ``world.human_seats``) answers at the
start of the next month (so a script or a human may answer first). Unless its doctrine decides
(an optional ``consider_deal(world, deal) -> bool | None`` method), it estimates the deal's
effect on its own objectives (world/objectives.py: the weighted ``score``) and accepts when
``gain x trust in the proposer > threshold`` (:data:`DEAL_THRESHOLD`, or the seat's
``params.diplomacy.deal_threshold``). The gain is estimated by

- ``lookahead`` (the default): two copies of the world (:meth:`World.fork`), one with the deal's
  commitments applied, run :data:`LOOKAHEAD_MONTHS` months; the gain is the difference of the
  recipient's mean monthly score. Inside a look-ahead, nested proposals use the heuristic.
- ``heuristic`` (``params.diplomacy.evaluation = "heuristic"``, and the fallback if the world
  cannot be copied): :func:`heuristic_gain`, a static estimate from current flows, prices and
  the commitments' terms (documented there), in the same units; tests check that it agrees in
  direction with the look-ahead.

AI responses are logged as ``respond_deal`` orders (source ``ai:deals``), so a replay re-applies
them from the log instead of deciding again.

**Alliances.** The ``alliance`` order forms, joins, leaves or invites (see
:class:`world.orders.Alliance` for the terms); membership is kept here. What the terms do to
the world each month (tariff union, pooled offtake and its premium, the fund, shared release)
lives in world/instruments/alliances.py.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd
from pydantic import BaseModel

from world.alliances import ALLIANCE_TRUST as ALLIANCE_TRUST
from world.alliances import AllianceMembership, AllianceState
from world.copying import copy_state
from world.deal_words import MEASURES, deal_words, decision_words, goods_words, region_name
from world.instruments import NEGOTIATION_KINDS as NEGOTIATION_KINDS
from world.instruments import REGISTRY, RESTRICTIONS
from world.instruments.alliances import start_of_month as alliance_month
from world.instruments.lift import lift_targets
from world.instruments.valuation import Valuation
from world.orders import OrderRejected, parse_order
from world.scenario import PolicySpec

if TYPE_CHECKING:
    from world.instruments.alliances import PremiumBook
    from world.model import World

#: Trust a state places in another before anything has happened.
TRUST_START = 0.7
#: A breach multiplies every other state's trust in the breacher by this.
BREACH_FACTOR = 0.5
#: A deal kept to its term moves the parties' trust in each other this share of the way to 1.
KEPT_GAIN = 0.1
#: An AI accepts a deal when gain x trust in the proposer exceeds this (gain: change of the mean
#: monthly objective score, -1 to 1, over the look-ahead).
DEAL_THRESHOLD = 0.001
#: Months an AI looks ahead when it weighs a deal.
LOOKAHEAD_MONTHS = 6


def _family(kind: str) -> str:
    """A new measure contradicts a commitment in the same family: trade measures in the same
    direction (export or import), any other kind only itself."""
    found = REGISTRY.get(kind)
    return (found.direction if found is not None else None) or kind


@dataclass
class Deal:
    """A proposed or agreed deal.

    Attributes:
        status: ``proposed``, ``active``, ``rejected``, ``countered``, ``lapsed``, ``failed``,
            ``expired`` (held to its term) or ``breached``.
        responses: recipient -> ``accept`` / ``reject`` / ``counter``.
        decisions: recipient -> how an AI decided (gain, trust, method, ...).
        created: ids of the policies and programmes its commitments put in force.
    """

    id: str
    proposer: str
    recipients: list[str]
    commitments: list[dict]
    duration_months: int
    proposed: int
    respond_by: int
    note: str = ""
    status: str = "proposed"
    responses: dict[str, str] = field(default_factory=dict)
    decisions: dict[str, dict] = field(default_factory=dict)
    start: int | None = None
    end: int | None = None
    breached_by: str | None = None
    counter_of: str | None = None
    created: list[str] = field(default_factory=list)
    text: str = ""
    suspended: list[dict] = field(default_factory=list)

    def __deepcopy__(self, memo: dict) -> Deal:
        # Forks copy every deal (twice for each deal an AI weighs): see world/copying.py. The
        # commitments are the proposal's terms, fixed once proposed: copies share them.
        return copy_state(self, memo, write_once=("commitments",))

    @property
    def parties(self) -> list[str]:
        return [self.proposer, *self.recipients]

    @property
    def public(self) -> bool:
        """Whether the deal is known to every state: once agreed (active, then expired or
        breached). Until then the talks are the parties' own business."""
        return self.start is not None

    def visible_to(self, seat: str | None) -> bool:
        """Whether ``seat`` may see the deal (None: an observer who sees everything)."""
        return seat is None or self.public or seat in self.parties

    def holds(self, month: int) -> bool:
        return self.status == "active" and self.start is not None and month < (self.end or 0)

    def summary(self) -> str:
        """The deal in words (:attr:`text`), or its commitments in a few words ('CN lift
        export_licence magnet; US import_tariff') for a deal made without a world."""
        if self.text:
            return self.text
        parts = []
        for c in self.commitments:
            what = c.get("measure") or ""
            goods = ",".join(c.get("commodities") or ([c["commodity"]] if "commodity" in c else []))
            text = f"{c['issuer']} {c['kind']}" + (f" {what}" if what else "")
            parts.append(text + (f" {goods}" if goods else ""))
        return "; ".join(parts)


@dataclass
class Decision:
    """How an AI weighed a proposal.

    Attributes:
        gain: expected change of its score a month (-1 to 1); it accepts when gain x trust
            exceeds ``threshold``.
        parts: the gain by objective (welfare, security, leverage, fiscal), weighted as in
            the score, so they sum to ``gain``.
        reason: the answer in words (world/deal_words.py).
    """

    accept: bool
    gain: float
    trust: float
    threshold: float
    method: str
    parts: dict[str, float] = field(default_factory=dict)
    reason: str = ""

    def note(self) -> str:
        return self.reason


class Diplomacy(AllianceMembership):
    """Deals, trust and alliances of one world.

    Args:
        world: the world (its order desk holds this object).

    Attributes:
        deals: every deal by id, in the order proposed.
        alliances: every alliance by name, in the order formed.
        trust: (truster, trusted) -> trust, for pairs that moved from their start value.
        lookahead: True inside a look-ahead copy (nested proposals use the heuristic).
        evaluation: default way AIs weigh deals, ``lookahead`` or ``heuristic``.
        premiums: the premium money of pooled offtake
            (:class:`world.instruments.alliances.PremiumBook`), None until one is paid.
    """

    def __init__(self, world: World):
        self.world = world
        self.deals: dict[str, Deal] = {}
        self.alliances: dict[str, AllianceState] = {}
        self.trust: dict[tuple[str, str], float] = {}
        self.lookahead = False
        self.evaluation = "lookahead"
        self._deal_counter = 0
        self.premiums: PremiumBook | None = None

    # ------------------------------------------------------------------ parameters and trust

    def _seat_params(self, region: str) -> dict[str, Any]:
        seat = self.world.spec.seats.get(region)
        params = seat.params.get("diplomacy", {}) if seat is not None else {}
        return params if isinstance(params, dict) else {}

    def trust_in(self, truster: str, trusted: str) -> float:
        """How much ``truster`` trusts ``trusted`` (0-1)."""
        if truster == trusted:
            return 1.0
        key = (truster, trusted)
        if key in self.trust:
            return self.trust[key]
        start = self._seat_params(truster).get("trust", {})
        if isinstance(start, dict) and trusted in start:
            return float(start[trusted])
        return TRUST_START

    def set_trust(self, truster: str, trusted: str, value: float) -> None:
        """Set ``truster``'s trust in ``trusted`` (clipped to 0-1)."""
        self.trust[(truster, trusted)] = min(max(float(value), 0.0), 1.0)

    def threshold(self, region: str) -> float:
        return float(self._seat_params(region).get("deal_threshold", DEAL_THRESHOLD))

    def is_ai(self, region: str) -> bool:
        """Whether the state's answers are decided by the machine (no human plays it)."""
        return region in self.world.states_by_region and region not in self.world.human_seats

    def _log(
        self,
        kind: str,
        actor: str,
        text: str,
        private_to: Deal | None = None,
        of_order: bool = True,
    ) -> None:
        """Log an entry for the news; ``private_to``: a deal still under negotiation, whose
        parties alone see the entry (``"private_to"``: their regions). ``"order_id"``: the
        order being applied, if any and ``of_order`` (the news shows an entry and its order
        once); an agreement is news of its own (its parties and terms), beside the
        acceptance that completed it."""
        w = self.world
        entry = {
            "month": w.month,
            "date": w.date_of(w.month),
            "actor": actor,
            "region": actor,
            "kind": kind,
            "text": text,
            "order_id": w.desk.applying if of_order else "",
        }
        if private_to is not None:
            entry["private_to"] = list(private_to.parties)
        w.log.append(entry)

    def order_parties(self, kind: str, parameters: dict) -> list[str] | None:
        """The states that may see a negotiation order (``propose_deal``, ``respond_deal``) while
        its deal is not agreed; None for every other order or a deal agreed since (public)."""
        if kind == "propose_deal":
            return [parameters.get("issuer", ""), *parameters.get("recipients", [])]
        if kind == "respond_deal":
            deal = self.deals.get(parameters.get("deal_id", ""))
            if deal is None:
                return [parameters.get("issuer", "")]
            return None if deal.public else deal.parties
        return None

    def _name(self, region: str) -> str:
        return self.world.spec.regions[region].name if region in self.world.spec.regions else region

    # ------------------------------------------------------------------ deals: orders

    def _check_state(self, region: str, field_name: str) -> None:
        if region not in self.world.states_by_region:
            raise OrderRejected(
                f"{field_name}: '{region}' is not a state; allowed: "
                f"{', '.join(sorted(self.world.states_by_region))}"
            )

    def _check_commitments(self, commitments: list[dict], parties: list[str]) -> None:
        desk = self.world.desk
        for i, c in enumerate(commitments):
            if c["issuer"] not in parties:
                raise OrderRejected(
                    f"commitments[{i}].issuer: '{c['issuer']}' is not a party to the deal; "
                    f"allowed: {', '.join(parties)}"
                )
            try:
                desk.check_static(parse_order(c), None)
            except OrderRejected as exc:
                raise OrderRejected(f"commitments[{i}].{exc}") from None

    def propose(self, order: BaseModel) -> str:
        """Apply a ``propose_deal`` order; returns what happened."""
        w = self.world
        recipients = list(order.recipients)
        for r in recipients:
            self._check_state(r, "recipients")
            if r == order.issuer:
                raise OrderRejected(f"recipients: '{r}' is the proposer itself")
        if len(set(recipients)) != len(recipients):
            raise OrderRejected("recipients: a state is named twice")
        parties = [order.issuer, *recipients]
        self._check_commitments(order.commitments, parties)
        deal = self._new_deal(
            order.issuer, recipients, order.commitments, order.duration_months, order.note
        )
        self._log(
            "deal",
            order.issuer,
            f"{self._name(order.issuer)} proposes {deal.id} to {', '.join(recipients)}: "
            f"{deal.text}",
            private_to=deal,
        )
        return (
            f"{order.issuer} proposes {deal.id} to {', '.join(recipients)}: {deal.text}; "
            f"open until {w.date_of(deal.respond_by)}"
        )

    def _new_deal(
        self,
        proposer: str,
        recipients: list[str],
        commitments: list[dict],
        duration: int,
        note: str = "",
        counter_of: str | None = None,
    ) -> Deal:
        w = self.world
        self._deal_counter += 1
        deal = Deal(
            id=f"deal-{self._deal_counter}",
            proposer=proposer,
            recipients=recipients,
            commitments=[dict(c) for c in commitments],
            duration_months=int(duration),
            proposed=w.month,
            respond_by=w.month + w.spec.turn_months,
            note=note,
            counter_of=counter_of,
            text=deal_words(w, proposer, commitments, int(duration)),
        )
        self.deals[deal.id] = deal
        return deal

    def respond(self, order: BaseModel) -> str:
        """Apply a ``respond_deal`` order; returns what happened."""
        w = self.world
        deal = self.deals.get(order.deal_id)
        if deal is None:
            known = ", ".join(d.id for d in self.deals.values() if d.status == "proposed")
            raise OrderRejected(
                f"deal_id: no deal '{order.deal_id}'; open proposals: {known or 'none'}"
            )
        if deal.status != "proposed":
            raise OrderRejected(f"deal_id: {deal.id} is {deal.status}, not open for answers")
        if w.month > deal.respond_by:
            raise OrderRejected(
                f"deal_id: {deal.id} was open until {w.date_of(deal.respond_by)} (lapsed)"
            )
        if order.issuer not in deal.recipients:
            raise OrderRejected(
                f"issuer: {order.issuer} is not a recipient of {deal.id}; recipients: "
                f"{', '.join(deal.recipients)}"
            )
        if order.issuer in deal.responses:
            raise OrderRejected(
                f"deal_id: {order.issuer} has already answered {deal.id} "
                f"({deal.responses[order.issuer]})"
            )
        if order.action == "counter":
            if not order.commitments:
                raise OrderRejected("commitments: a counter-proposal needs commitments")
            others = [p for p in deal.parties if p != order.issuer]
            self._check_commitments(order.commitments, [order.issuer, *others])
        deal.responses[order.issuer] = order.action
        why = f" ({order.note})" if order.note else ""
        if order.action == "reject":
            deal.status = "rejected"
            self._log(
                "deal", order.issuer, f"{self._name(order.issuer)} rejects {deal.id}{why}", deal
            )
            return f"{order.issuer} rejects {deal.id}{why}"
        if order.action == "counter":
            deal.status = "countered"
            counter = self._new_deal(
                order.issuer,
                [p for p in deal.parties if p != order.issuer],
                order.commitments,
                order.duration_months or deal.duration_months,
                order.note,
                counter_of=deal.id,
            )
            self._log(
                "deal",
                order.issuer,
                f"{self._name(order.issuer)} answers {deal.id} with {counter.id}: "
                f"{counter.summary()}",
                private_to=deal,
            )
            return (
                f"{order.issuer} counters {deal.id} with {counter.id} to "
                f"{', '.join(counter.recipients)} ({counter.summary()})"
            )
        waiting = [r for r in deal.recipients if deal.responses.get(r) != "accept"]
        if waiting:
            return f"{order.issuer} accepts {deal.id}{why}; waiting for {', '.join(waiting)}"
        return f"{order.issuer} accepts {deal.id}{why}; " + self.activate(deal)

    def activate(self, deal: Deal, check: bool = True) -> str:
        """Every recipient accepted: check the commitments together, then apply them."""
        w = self.world
        if check:
            problem = self._dry_run(deal)
            if problem is not None:
                deal.status = "failed"
                self._log("deal", deal.proposer, f"{deal.id} fails: {problem}", deal)
                return f"{deal.id} fails: {problem}"
        deal.status = "active"
        deal.start = w.month
        deal.end = w.month + deal.duration_months
        deal.suspended = [
            item for c in deal.commitments if c.get("suspend") for item in _suspension(w, c)
        ]
        for c in deal.commitments:
            w.desk.follow_up(c, source=f"deal:{deal.id}", status="committed")
        self._log(
            "deal",
            deal.proposer,
            f"{deal.id} agreed by {', '.join(deal.parties)} until {w.date_of(deal.end)}: "
            f"{deal.summary()}",
            of_order=False,
        )
        return f"{deal.id} is agreed and holds until {w.date_of(deal.end)}"

    def _dry_run(self, deal: Deal) -> str | None:
        """Why the commitments cannot all be applied now (None if they can)."""
        clone = scratch_copy(self.world)
        if clone is None:
            return None
        desk = clone.desk
        desk.diplomacy.deals[deal.id].status = "active"
        desk.diplomacy.deals[deal.id].start = clone.month
        desk.diplomacy.deals[deal.id].end = clone.month + deal.duration_months
        for i, c in enumerate(deal.commitments):
            try:
                desk.apply_unlogged(c, f"dry{i}", f"deal:{deal.id}")
            except OrderRejected as exc:
                return f"commitment {i + 1} ({c['issuer']} {c['kind']}) would be rejected: {exc}"
        return None

    def record_created(self, source: str, ids: list[str]) -> None:
        """Remember the measures a deal's commitment put in force (for enforcement)."""
        deal_id = _deal_of_source(source)
        if deal_id in self.deals:
            self.deals[deal_id].created.extend(ids)

    # ------------------------------------------------------------------ deals: enforcement

    def contradictions(self, order: BaseModel, source: str) -> list[tuple[Deal, int]]:
        """Deals in force (and the index of the commitment) that ``order`` would break.

        Raises:
            OrderRejected: naming the deal, unless the order carries ``breach = true``.
        """
        w = self.world
        own = _deal_of_source(source)
        found: list[tuple[Deal, int]] = []
        for deal in self.deals.values():
            if deal.id == own or not deal.holds(w.month) or order.issuer not in deal.parties:
                continue
            for i, c in enumerate(deal.commitments):
                if c["issuer"] == order.issuer and self._contradicts(order, c, deal):
                    found.append((deal, i))
                    break
        if found and not getattr(order, "breach", False):
            deal, i = found[0]
            others = ", ".join(p for p in deal.parties if p != order.issuer)
            raise OrderRejected(
                f"deal: this {order.kind} breaks {deal.id} with {others} (in force until "
                f"{w.date_of(deal.end)}), commitment {i + 1}: {_describe(deal.commitments[i])}; "
                f"set breach = true to break the deal (it ends, and the others' trust in "
                f"{order.issuer} falls)"
            )
        return found

    def _contradicts(self, order: BaseModel, commitment: dict, deal: Deal) -> bool:
        kind = order.kind
        if kind == "lift":
            if commitment["kind"] in RESTRICTIONS or commitment["kind"] == "lift":
                return False
            policies, programmes = lift_targets(self.world, order)
            ended = {p.id for p in policies} | {p.id for p in programmes}
            return bool(ended & set(deal.created))
        promised = commitment.get("measure") if commitment["kind"] == "lift" else commitment["kind"]
        if promised is None or _family(kind) != _family(promised):
            return False
        if _family(kind) == kind:
            # tech bans, defence priority, stockpile targets: any new one of the kind
            if commitment["kind"] != "lift":
                return False
            return _overlap(getattr(order, "commodities", []), commitment.get("commodities", []))
        return _overlap(order.commodities, commitment.get("commodities", [])) and _overlap(
            order.partners, commitment.get("partners", [])
        )

    def breach(self, broken: list[tuple[Deal, int]], breacher: str) -> str:
        """End the broken deals; every other state's trust in the breacher falls."""
        w = self.world
        for deal, _ in broken:
            deal.status = "breached"
            deal.end = w.month
            deal.breached_by = breacher
            self._log("deal", breacher, f"{self._name(breacher)} breaks {deal.id}")
            self.restore(deal, but=breacher)
        for state in w.states:
            if state.region != breacher:
                self.set_trust(
                    state.region, breacher, self.trust_in(state.region, breacher) * BREACH_FACTOR
                )
        ids = ", ".join(d.id for d, _ in broken)
        return f"; breaks {ids}: the deal ends and trust in {breacher} falls"

    # ------------------------------------------------------------------ the month

    def restore(self, deal: Deal, but: str | None = None) -> None:
        """Put the measures ``deal`` suspended back into force (except those of ``but``, a
        breacher), for what was left of their term; each once."""
        w = self.world
        for k, item in enumerate(deal.suspended):
            spec = item["spec"]
            if item.get("restored") or spec["issuer"] == but:
                continue
            item["restored"] = True
            end = item["end"]
            if end is not None and end <= w.month:
                continue  # it would have run out during the deal anyway
            if item.get("programme"):
                self._restore_programme(deal, k, spec, end)
                continue
            new = PolicySpec.model_validate(
                {
                    **spec,
                    "id": f"{spec['issuer']}-{spec['kind']}-{deal.id}-back{k + 1}",
                    "start": w.date_of(w.month),
                    "end": None if end is None else w.date_of(end),
                }
            )
            w.policies.add(new)
            self._log(
                "deal",
                spec["issuer"],
                f"{deal.id} is over: {self._name(spec['issuer'])}'s "
                f"{MEASURES.get(new.kind, new.kind)} on {goods_words(new.commodities)}"
                + (f" for {', '.join(new.partners)}" if new.partners else "")
                + f" is back in force ({new.id})",
                of_order=False,
            )

    def _restore_programme(self, deal: Deal, k: int, spec: dict, end: int | None) -> None:
        """Put a suspended programme (a technology export ban) back into force, with its own
        terms, until its own end."""
        w = self.world
        prog = w.desk.add_programme(
            f"{spec['issuer']}-{spec['kind']}-{deal.id}-back{k + 1}",
            spec["kind"],
            spec["issuer"],
            dict(spec["params"]),
            end,
        )
        what = MEASURES.get(spec["kind"]) or spec["kind"].replace("_", " ")
        self._log(
            "deal",
            spec["issuer"],
            f"{deal.id} is over: {self._name(spec['issuer'])}'s {what} is back in force "
            f"({prog.id})",
            of_order=False,
        )

    def start_of_month(self, month: int) -> None:
        """Deals expire (their suspended measures come back) and proposals lapse; alliances
        share stocks (instruments/alliances.py)."""
        for deal in self.deals.values():
            if deal.status == "active" and deal.end is not None and deal.end <= month:
                deal.status = "expired"
                for a in deal.parties:
                    for b in deal.parties:
                        if a != b:
                            t = self.trust_in(a, b)
                            self.set_trust(a, b, t + KEPT_GAIN * (1.0 - t))
                self._log("deal", deal.proposer, f"{deal.id} has run its term and ends")
                self.restore(deal)
            elif deal.status == "proposed" and month > deal.respond_by:
                deal.status = "lapsed"
                self._log("deal", deal.proposer, f"{deal.id} lapses unanswered", deal)
        if self.alliances:
            alliance_month(self.world, month)

    def ai_step(self) -> None:
        """AI recipients answer open proposals; AI invitees answer invitations
        (:meth:`~world.alliances.AllianceMembership.answer_invitations`)."""
        w = self.world
        for deal in list(self.deals.values()):
            for region in deal.recipients:
                if deal.status != "proposed" or w.month > deal.respond_by:
                    break
                if region in deal.responses or not self.is_ai(region):
                    continue
                decision = self.evaluate(deal, region)
                deal.decisions[region] = decision.__dict__.copy()
                w.desk.respond_for(
                    {
                        "kind": "respond_deal",
                        "issuer": region,
                        "deal_id": deal.id,
                        "action": "accept" if decision.accept else "reject",
                        "note": decision.note(),
                    },
                    source="ai:deals",
                )
        self.answer_invitations()

    # ------------------------------------------------------------------ AI evaluation

    def evaluate(self, deal: Deal, region: str) -> Decision:
        """How the AI of ``region`` weighs ``deal`` (see the module docstring)."""
        w = self.world
        trust = self.trust_in(region, deal.proposer)
        threshold = self.threshold(region)
        doctrine = w.doctrines.get(region) if hasattr(w, "doctrines") else None
        verdict = None
        if doctrine is not None and hasattr(doctrine, "consider_deal"):
            verdict = doctrine.consider_deal(w, deal)
        if verdict is not None:
            word = "accepts" if verdict else "refuses"
            reason = f"{region_name(w, region)} {word}: its doctrine decides deals like this one"
            return Decision(bool(verdict), float("nan"), trust, threshold, "doctrine", {}, reason)
        method = str(self._seat_params(region).get("evaluation", self.evaluation))
        parts = None
        months = None
        if method == "lookahead" and not self.lookahead:
            months = int(self._seat_params(region).get("lookahead_months", LOOKAHEAD_MONTHS))
            parts = lookahead_parts(w, deal, region, months)
        if parts is None:
            method, months = "heuristic", None
            parts = heuristic_parts(w, deal.commitments, region)
        gain = sum(parts.values())
        accept = gain * trust > threshold
        reason = decision_words(w, region, deal.proposer, accept, parts, trust, gain, months)
        return Decision(accept, gain, trust, threshold, method, parts, reason)

    # ------------------------------------------------------------------ tables

    def deals_frame(self) -> pd.DataFrame:
        """One row per deal: id, proposer, recipients, status, dates, commitments, breach."""
        w = self.world
        rows = []
        for d in self.deals.values():
            rows.append(
                {
                    "id": d.id,
                    "proposer": d.proposer,
                    "recipients": ",".join(d.recipients),
                    "status": d.status,
                    "proposed": w.date_of(d.proposed),
                    "start": "" if d.start is None else w.date_of(d.start),
                    "end": "" if d.end is None else w.date_of(d.end),
                    "duration_months": d.duration_months,
                    "commitments": json.dumps(d.commitments, sort_keys=True),
                    "responses": json.dumps(d.responses, sort_keys=True),
                    "breached_by": d.breached_by or "",
                    "counter_of": d.counter_of or "",
                }
            )
        columns = [
            "id",
            "proposer",
            "recipients",
            "status",
            "proposed",
            "start",
            "end",
            "duration_months",
            "commitments",
            "responses",
            "breached_by",
            "counter_of",
        ]
        return pd.DataFrame(rows, columns=columns)

    def trust_frame(self) -> pd.DataFrame:
        """Trust of every state in every other: truster, trusted, trust."""
        regions = [s.region for s in self.world.states]
        rows = [
            {"truster": a, "trusted": b, "trust": self.trust_in(a, b)}
            for a in regions
            for b in regions
            if a != b
        ]
        return pd.DataFrame(rows, columns=["truster", "trusted", "trust"])


# --------------------------------------------------------------------------- helpers


def deals_of(world: World) -> Diplomacy:
    """The world's diplomacy (deals, trust, alliances), created on its order desk if absent."""
    desk = world.desk
    diplomacy = getattr(desk, "diplomacy", None)
    if diplomacy is None:
        diplomacy = Diplomacy(world)
        desk.diplomacy = diplomacy
    return diplomacy


def deals_table(world: World) -> pd.DataFrame:
    """Every deal proposed so far (see :meth:`Diplomacy.deals_frame`)."""
    return deals_of(world).deals_frame()


def trust_table(world: World) -> pd.DataFrame:
    """Every state's trust in every other (see :meth:`Diplomacy.trust_frame`)."""
    return deals_of(world).trust_frame()


def _deal_of_source(source: str) -> str:
    """The deal id in a commitment's source (``deal:<id>``, possibly ``replay:``-prefixed)."""
    source = source.removeprefix("replay:")
    return source.removeprefix("deal:") if source.startswith("deal:") else ""


def _overlap(a: list[str] | None, b: list[str] | None) -> bool:
    """Whether two lists of ids overlap; an empty list means 'all'."""
    return not a or not b or bool(set(a) & set(b))


def _suspension(world: World, commitment: dict) -> list[dict]:
    """What a ``suspend`` lift will end, to put back when the deal ends: one entry per trade
    measure, ``{"spec": the measure's terms for the lifted goods and partners, "end": the month
    its own term ends or None}``, and one per restriction that runs as a programme (a
    technology export ban), ``{"spec": {"kind", "issuer", "params"}, "programme": True, "end":
    ...}``."""
    from world.instruments import TRADE_KINDS

    order = parse_order(commitment)
    policies, progs = lift_targets(world, order)
    out = [
        {
            "spec": {
                "kind": p.kind,
                "issuer": p.issuer,
                "params": json.loads(json.dumps(p.params)),
            },
            "programme": True,
            "end": p.end,
        }
        for p in progs
        if p.kind in RESTRICTIONS
    ]
    for spec in policies:
        if spec.kind not in TRADE_KINDS:
            continue
        data = spec.model_dump(mode="json")
        if spec.kind != "export_quota":  # a quota is lifted whole (see instruments/lift.py)
            if order.commodities:
                data["commodities"] = [c for c in spec.commodities if c in order.commodities]
            if order.partners:
                covered = spec.partners or [r for r in world.region_ids if r != spec.issuer]
                data["partners"] = [r for r in covered if r in order.partners]
        out.append({"spec": data, "end": world.month_of(spec.end) if spec.end else None})
    return out


def _describe(commitment: dict) -> str:
    keys = ("measure", "commodities", "commodity", "partners", "rate", "policy_id")
    shown = {k: commitment[k] for k in keys if commitment.get(k) not in (None, [], "")}
    return f"{commitment['issuer']} {commitment['kind']} {json.dumps(shown, sort_keys=True)}"


def _adversaries(world: World, region: str) -> tuple[str, ...]:
    try:
        from world.objectives import adversaries
    except ImportError:  # pragma: no cover - objectives are optional
        return ()
    return adversaries(world, region)


# --------------------------------------------------------------------------- evaluation


def scratch_copy(world: World) -> World | None:
    """A copy of the world to try something on: a deal's look-ahead, an order's dry run (None
    if it cannot be made). Proposals inside it are weighed by the heuristic; see
    :meth:`World.fork` for a copy taken in the middle of a step."""
    try:
        clone = world.fork()
    except Exception:
        return None
    clone.desk.diplomacy.lookahead = True
    return clone


def lookahead_gain(world: World, deal: Deal, region: str, months: int = LOOKAHEAD_MONTHS):
    """Change in ``region``'s mean monthly objective score over ``months`` months if ``deal``
    is agreed now, against a copy of the world where it is not. None if the world cannot be
    copied.

    Both copies run the same months (doctrines play in both); in the copy with the deal, its
    commitments are applied at once, as on acceptance.
    """
    parts = lookahead_parts(world, deal, region, months)
    return None if parts is None else sum(parts.values())


def _score_parts(world: World, region: str, values: dict | None = None) -> dict[str, float]:
    """The state's score now by objective: each normalised part times its weight over the sum
    of the weights (they sum to the score, as world/objectives.py weighs them).

    ``values``: the state's objectives now (:func:`~world.objectives.state_scores`), if known.
    """
    from world.objectives import economy_scale, normalised, state_scores, weights

    weight = weights(world, region)
    if values is None:
        values = state_scores(world, region)
    norm = normalised(values, economy_scale(world, region))
    total = sum(abs(weight.get(k, 0.0)) for k in norm) or 1.0
    return {k: weight.get(k, 0.0) * v / total for k, v in norm.items()}


def lookahead_parts(
    world: World, deal: Deal, region: str, months: int = LOOKAHEAD_MONTHS
) -> dict[str, float] | None:
    """:func:`lookahead_gain` by objective (see :func:`_score_parts`); None if the world cannot
    be copied."""
    base, alt = scratch_copy(world), scratch_copy(world)
    if base is None or alt is None:
        return None
    base.desk.diplomacy.deals[deal.id].status = "withheld"
    alt_deal = alt.desk.diplomacy.deals[deal.id]
    alt_deal.responses = dict.fromkeys(alt_deal.recipients, "accept")
    alt.desk.diplomacy.activate(alt_deal, check=False)
    alt.desk.drain()
    totals = []
    for clone in (base, alt):
        total: dict[str, float] = {}
        for _ in range(months):
            clone.step()
            # The month's objectives as the step recorded them last thing, from the state the
            # score reads (nothing after the recording changes it): scored again, the same.
            book = clone.objective_recorder
            values = book.values[-1].get(region) if book.months[-1] == clone.month - 1 else None
            for k, v in _score_parts(clone, region, values).items():
                total[k] = total.get(k, 0.0) + v / months
        totals.append(total)
    return {k: totals[1][k] - totals[0].get(k, 0.0) for k in totals[1]}


def heuristic_gain(world: World, deal: Deal, region: str) -> float:
    """A static estimate of the deal's effect on ``region``'s objective score, per month.

    Each commitment is valued from current flows (``world.import_ema``, t/month), prices and the
    objectives' weights and scale (world/objectives.py) by its instrument's valuation
    (``world/instruments/``: trade measures in ``value_trade``, programmes and stockpiles beside
    their orders); a ``lift`` counts as minus the measures it would end.

    Welfare and fiscal cost are divided by the region's scale; the weighted parts are summed
    and divided by the sum of the weights, as the score is.
    """
    return sum(heuristic_parts(world, deal.commitments, region).values())


def heuristic_parts(world: World, commitments: list[dict], region: str) -> dict[str, float]:
    """:func:`heuristic_gain` of a list of commitments, by objective (weighted as the score
    weighs them; they sum to the gain). A part that is not finite counts 0."""
    from world.objectives import CHAIN, economy_scale, weights

    w = world
    weight = weights(w, region)
    total_weight = sum(abs(v) for v in weight.values()) or 1.0
    chain = [w.commodity_index[c] for c in CHAIN if c in w.commodity_index]
    valuation = Valuation(w, region, economy_scale(w, region), set(_adversaries(w, region)), chain)
    for commitment in commitments:
        valuation.value_order(commitment, 1.0)
    parts = {k: weight.get(k, 0.0) * v / total_weight for k, v in valuation.parts.items()}
    return {k: v if math.isfinite(v) else 0.0 for k, v in parts.items()}


__all__ = [
    "ALLIANCE_TRUST",
    "BREACH_FACTOR",
    "DEAL_THRESHOLD",
    "KEPT_GAIN",
    "LOOKAHEAD_MONTHS",
    "TRUST_START",
    "AllianceState",
    "Deal",
    "Decision",
    "Diplomacy",
    "deals_of",
    "deals_table",
    "heuristic_gain",
    "heuristic_parts",
    "lookahead_gain",
    "lookahead_parts",
    "trust_table",
]

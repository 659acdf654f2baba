"""The order desk: where the world checks orders against its state, applies them and logs them.

Seats (human teams, doctrines, experiment scripts) submit orders at any time; they take effect
at the next turn boundary, in the order submitted. A submitted order is checked at once against
the world as it is (on a copy, so nothing changes), and again when it applies. Scripted orders
from the scenario take effect at the start of their month. Every order is logged, applied or
rejected, with the reason; a rejected order changes nothing.

The start of each month, in order: deals expire and alliances settle (world/deals.py); scripted
orders due; orders replayed from a log; at a turn boundary, the queued orders; then AI states
answer open deal proposals and alliance invitations. Doctrines play after this (World.step).

Measures and programmes get ids ``<issuer>-<kind>-<key>``: the scripted order's id for a
scripted order, else ``a<n>`` for the n-th order applied in the run (so a replay, which applies
the same orders in the same sequence, gives them the same ids). Orders a deal applies as its
commitments are logged with status ``committed`` (a replay re-derives them from the deal).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ValidationError

from world.calendar import add_months, months_between
from world.deals import Diplomacy, scratch_copy
from world.orders import (
    FIRM_ORDER_KINDS,
    TRADE_KINDS,
    OrderRejected,
    order_field_problems,
    parse_order,
)
from world.scenario import PolicySpec

if TYPE_CHECKING:
    from agents.firms import Firm
    from world.model import World

__all__ = ["OrderDesk", "OrderRejected", "OrderResult", "Programme"]


@dataclass
class Programme:
    """A time-limited commitment created by an order (a subsidy, a floor, a purchase plan)."""

    id: str
    kind: str
    issuer: str
    start: int
    end: int | None
    params: dict[str, Any] = field(default_factory=dict)

    def active(self, month: int) -> bool:
        return self.start <= month and (self.end is None or month < self.end)


@dataclass
class OrderResult:
    """What became of a submitted order."""

    status: str  # "pending", "applied", "committed" or "rejected"
    message: str = ""
    order_id: str = ""


class OrderDesk:
    """Validates, queues, applies and logs orders for one world.

    Args:
        world: the world the orders act on.
    """

    def __init__(self, world: World):
        self.world = world
        self.pending: list[tuple[BaseModel, str, str, str]] = []  # order, seat, source, id
        self.log: list[dict] = []
        self.programmes: list[Programme] = []
        self._counter = 0
        self._applied = 0
        self._key = ""
        self._ids_made = 0
        self._created: list[str] = []
        self._followups: list[tuple[Any, str, str]] = []
        self._draining = False
        self.capex_hook_used = False
        self._month_started = -1
        self.scripted: dict[int, list[tuple[str, dict]]] = {}
        self.replayed: dict[int, list[tuple[dict, str]]] = {}
        for item in world.spec.orders:
            month = max(months_between(world.spec.start, item["date"]), 0)
            self.scripted.setdefault(month, []).append((str(item["id"]), item))
        self.diplomacy = Diplomacy(world)

    # ------------------------------------------------------------------ submission

    def submit(
        self, order: BaseModel | dict | str, seat: str | None = None, source: str = "seat"
    ) -> OrderResult:
        """Queue an order for the next turn boundary.

        Args:
            order: an order model, or its dict / JSON form.
            seat: the state (region id) or firm (firm id) the submitter plays; None for the
                facilitator or a script, which may act for anyone.
            source: who sent it, for the log (``seat``, ``doctrine``, ``script``, ...).

        Returns:
            ``pending`` if it would apply now (checked on a copy of the world: nothing
            changes), else ``rejected`` with the reason (and the rejection is logged). A pending
            order is checked again when it applies, and may still be rejected then.
        """
        order_id = self._next_id()
        try:
            parsed = self._parse(order)
            self._check_static(parsed, seat)
            self._dry_run(parsed, source)
        except OrderRejected as exc:
            self._record(order, order_id, "rejected", str(exc), source)
            return OrderResult("rejected", str(exc), order_id)
        self.pending.append((parsed, seat or "", source, order_id))
        return OrderResult("pending", "", order_id)

    def check(self, order: BaseModel | dict | str, seat: str | None = None) -> str:
        """Check an order as :meth:`submit` would, changing nothing (no id, no log entry).

        Returns:
            ``""`` if the order would apply now, else the reason it would be rejected.
        """
        try:
            parsed = self._parse(order)
            self._check_static(parsed, seat)
            self._dry_run(parsed, "check")
        except OrderRejected as exc:
            return str(exc)
        return ""

    def describe(self, order: BaseModel | dict | str, source: str = "seat") -> str:
        """The sentence the log would give the order if it applied now (see :meth:`_dry_run`;
        nothing changes here). ``""`` if it would be rejected now or the world cannot be
        copied."""
        try:
            return self._dry_run(self._parse(order), source)
        except OrderRejected:
            return ""

    def _dry_run(self, order: BaseModel, source: str) -> str:
        """Apply the order to a copy of the world; raises OrderRejected if it would fail now.

        Returns:
            What the log would say, without the ids of what it would create (they are given
            when it applies); ``""`` if the world cannot be copied.
        """
        clone = scratch_copy(self.world)
        if clone is None:
            return ""
        message = clone.desk._apply(order, "dry-run", source)
        created = clone.desk._created
        return message.replace(f" [{', '.join(created)}]", "") if created else message

    def apply_now(
        self, order: BaseModel | dict | str, source: str = "facilitator", seat: str | None = None
    ) -> OrderResult:
        """Validate and apply an order at once (doctrines at a turn boundary, a facilitator's
        inject). ``source`` is logged; a replay re-applies every applied order whose source is
        not ``script`` (the scenario's own scripted orders, which it applies again itself)."""
        return self._execute(order, self._next_id(), source, seat)

    def respond_for(self, order: dict, source: str) -> OrderResult:
        """Apply an order an AI state gives in answer to a proposal or an invitation."""
        return self._execute(order, self._next_id(), source, order.get("issuer"))

    def follow_up(self, order: Any, source: str, status: str = "applied") -> None:
        """Apply ``order`` right after the order being applied has been logged (a deal's
        commitments, applied when the last party accepts)."""
        self._followups.append((order, source, status))

    def drain(self) -> None:
        """Apply the follow-up orders queued so far (and theirs)."""
        if self._draining:
            return
        self._draining = True
        try:
            while self._followups:
                order, source, status = self._followups.pop(0)
                self._execute(order, self._next_id(), source, status=status)
        finally:
            self._draining = False

    def _execute(
        self,
        order: Any,
        order_id: str,
        source: str,
        seat: str | None = None,
        status: str = "applied",
        scripted: bool = False,
    ) -> OrderResult:
        """Check, apply, log; then apply any follow-ups. A rejected order changes nothing."""
        queued = len(self._followups)
        try:
            parsed = self._parse(order)
            if seat is not None:
                self._check_static(parsed, seat)
            message = self._apply(parsed, order_id, source, scripted)
        except OrderRejected as exc:
            del self._followups[queued:]
            self._record(order, order_id, "rejected", str(exc), source)
            self.drain()
            return OrderResult("rejected", str(exc), order_id)
        self._record(parsed, order_id, status, message, source)
        self.drain()
        return OrderResult(status, message, order_id)

    def schedule(self, month: int, order: dict, source: str = "replay") -> None:
        """Apply ``order`` at the start of ``month`` (after the scenario's scripted orders)."""
        self.replayed.setdefault(month, []).append((order, source))

    def start_of_month(self, month: int) -> None:
        """Settle diplomacy, apply scripted orders due this month, replayed ones, at a turn
        boundary the queued ones, then let AI states answer proposals and invitations.

        A month starts once: a second call for the same month (a copy of the world taken
        during this phase and stepped again, see world/deals.py) does nothing."""
        if month == self._month_started:
            return
        self._month_started = month
        self.diplomacy.start_of_month(month)
        for order_id, item in self.scripted.get(month, []):
            body = {k: v for k, v in item.items() if k not in ("id", "date")}
            self._execute(body, order_id, "script", scripted=True)
        for order, source in self.replayed.pop(month, []):
            self._execute(order, self._next_id(), source)
        if month % self.world.spec.turn_months == 0 and self.pending:
            queued, self.pending = self.pending, []
            for order, _seat, source, order_id in queued:
                self._execute(order, order_id, source)
        self.diplomacy.ai_step()

    # ------------------------------------------------------------------ checks

    def _next_id(self) -> str:
        self._counter += 1
        return f"o{self._counter}"

    @staticmethod
    def _parse(order: Any) -> BaseModel:
        if isinstance(order, BaseModel):
            return order
        try:
            return parse_order(order)
        except ValidationError as exc:
            raise OrderRejected("; ".join(order_field_problems(exc))) from None
        except (ValueError, TypeError) as exc:  # not JSON, not a table
            raise OrderRejected(f"not an order: {exc}") from None

    def _check_static(self, order: BaseModel, seat: str | None) -> None:
        w = self.world
        regions = w.region_ids
        if order.kind in FIRM_ORDER_KINDS:
            if order.issuer not in w.firms_by_id:
                raise OrderRejected(f"issuer: unknown firm '{order.issuer}'")
        elif order.issuer not in w.states_by_region:
            raise OrderRejected(
                f"issuer: '{order.issuer}' is not a state; allowed: "
                f"{', '.join(sorted(w.states_by_region))}"
            )
        if seat is not None and seat != order.issuer:
            raise OrderRejected(
                f"issuer: seat '{seat}' cannot act for '{order.issuer}' (a seat issues its own "
                "orders only)"
            )
        for c in self._commodities(order):
            if c not in w.commodity_index:
                raise OrderRejected(
                    f"commodity: unknown commodity '{c}'; allowed: {', '.join(w.commodity_ids)}"
                )
        for r in getattr(order, "partners", []) or []:
            if r not in regions:
                raise OrderRejected(
                    f"partners: unknown region '{r}'; allowed: {', '.join(regions)}"
                )
            if r == order.issuer:
                raise OrderRejected(
                    f"partners: '{r}' is the issuer itself; a trade measure applies to others"
                )
        for r in getattr(order, "exempt", []) or []:
            if r not in regions:
                raise OrderRejected(f"exempt: unknown region '{r}'; allowed: {', '.join(regions)}")
        for r in (getattr(order, "recipients", []) or []) + (getattr(order, "invite", []) or []):
            name = "recipients" if hasattr(order, "recipients") else "invite"
            if r not in w.states_by_region:
                raise OrderRejected(
                    f"{name}: '{r}' is not a state; allowed: "
                    f"{', '.join(sorted(w.states_by_region))}"
                )
        for name in ("stages", "fund_stages"):
            for s in getattr(order, name, []) or []:
                if s not in w.spec.stages:
                    raise OrderRejected(
                        f"{name}: unknown stage '{s}'; allowed: {', '.join(w.spec.stages)}"
                    )
        for d in getattr(order, "deposits", None) or []:
            if d not in w.deposit_index:
                raise OrderRejected(
                    f"deposits: unknown deposit '{d}'; allowed: {', '.join(w.deposit_ids)}"
                )
        firm = getattr(order, "firm", None)
        if firm is not None:
            if firm not in w.firms_by_id:
                raise OrderRejected(f"firm: unknown firm '{firm}'")
            if w.firms_by_id[firm].region != order.issuer:
                raise OrderRejected(
                    f"firm: '{firm}' is in {w.firms_by_id[firm].region}; a state supports its "
                    "own producers only"
                )

    @staticmethod
    def _commodities(order: BaseModel) -> list[str]:
        found = list(getattr(order, "commodities", []) or [])
        if hasattr(order, "commodity"):
            found.append(order.commodity)
        if order.kind == "alliance":
            found += list(order.common_external_tariff) + list(order.offtake_commodities)
        return found

    # ------------------------------------------------------------------ application

    def _apply(
        self, order: BaseModel, order_id: str, source: str = "script", scripted: bool = False
    ) -> str:
        """Apply one order now; returns a sentence saying what changed.

        ``scripted``: a scenario's scripted order, whose measures take its id.

        Raises:
            OrderRejected: before anything changed.
        """
        self._check_static(order, None)
        handler = getattr(self, f"_apply_{order.kind}", None)
        if handler is None and order.kind in TRADE_KINDS:
            handler = self._apply_trade
        if handler is None:
            raise OrderRejected(f"kind: '{order.kind}' is not supported")
        broken = self.diplomacy.contradictions(order, source)
        self._key = order_id if scripted else f"a{self._applied + 1}"
        self._ids_made = 0
        self._created = []
        message = handler(order, order_id)
        if self._created and not any(i in message for i in self._created):
            message += f" [{', '.join(self._created)}]"
        if not scripted:
            self._applied += 1
        if source.removeprefix("replay:").startswith("deal:") and self._created:
            self.diplomacy.record_created(source, list(self._created))
        if broken:
            message += self.diplomacy.breach(broken, order.issuer)
        return message

    def _new_id(self, issuer: str, kind: str) -> str:
        """The id of a measure or programme the current order creates (see the docstring)."""
        self._ids_made += 1
        suffix = "" if self._ids_made == 1 else f".{self._ids_made}"
        new = f"{issuer}-{kind}-{self._key}{suffix}"
        self._created.append(new)
        return new

    def _apply_alliance(self, order: BaseModel, order_id: str) -> str:
        return self.diplomacy.alliance(order)

    def _apply_propose_deal(self, order: BaseModel, order_id: str) -> str:
        return self.diplomacy.propose(order)

    def _apply_respond_deal(self, order: BaseModel, order_id: str) -> str:
        return self.diplomacy.respond(order)

    def _date(self, month: int) -> str:
        return add_months(self.world.spec.start, month)

    def _end(self, order: BaseModel) -> int | None:
        duration = getattr(order, "duration_months", None)
        return None if duration is None else self.world.month + duration

    def _apply_trade(self, order: BaseModel, order_id: str) -> str:
        w = self.world
        partners = list(order.partners)
        exempt = set(getattr(order, "exempt", []) or [])
        if exempt:
            pool = partners or [r for r in w.region_ids if r != order.issuer]
            partners = [r for r in pool if r not in exempt]
            if not partners:
                raise OrderRejected("exempt: every partner is exempted; the order would do nothing")
        end = self._end(order)
        fields: dict[str, Any] = {
            "id": self._new_id(order.issuer, order.kind),
            "kind": order.kind,
            "issuer": order.issuer,
            "commodities": list(order.commodities),
            "partners": partners,
            "start": self._date(w.month),
            "end": None if end is None else self._date(end),
            "note": order.note,
        }
        if order.kind == "export_quota":
            fields.update(quota_t=order.quota_t, period_months=order.period_months)
        elif order.kind == "export_licence":
            fields.update(
                review_months=order.review_months,
                approval_share=order.approval_share,
                decided_by=order.decided_by,
            )
        elif order.kind in ("export_duty", "import_tariff"):
            fields.update(rate=order.rate)
        w.policies.add(PolicySpec(**fields))
        return self._describe_trade(order, partners)

    def _describe_trade(self, order: BaseModel, partners: list[str]) -> str:
        w = self.world
        who = w.spec.regions[order.issuer].name
        what = ", ".join(order.commodities)
        to = ", ".join(partners) if partners else "all others"
        duration = (
            f" for {order.duration_months} months" if order.duration_months is not None else ""
        )
        text = {
            "export_ban": f"{who} bans exports of {what} to {to}",
            "import_ban": f"{who} bans imports of {what} from {to}",
            "export_duty": f"{who} sets a {getattr(order, 'rate', 0):.0%} export duty on {what} "
            f"to {to}",
            "import_tariff": f"{who} sets a {getattr(order, 'rate', 0):.0%} tariff on {what} "
            f"from {to}",
        }.get(order.kind)
        if order.kind == "export_quota":
            text = (
                f"{who} caps exports of {what} to {to} at {order.quota_t:,.0f} t per "
                f"{order.period_months} months"
            )
        elif order.kind == "export_licence":
            text = (
                f"{who} requires export licences for {what} to {to}: {order.review_months}-month "
                f"review, {order.approval_share:.0%} approved"
            )
        return text + duration

    def lift_targets(self, order: BaseModel) -> tuple[list[PolicySpec], list[Programme]]:
        """The policies and programmes of the issuer in force that a ``lift`` order would end.

        Raises:
            OrderRejected: if ``policy_id`` names another state's measure, or the order names
                neither a ``policy_id`` nor a ``measure``.
        """
        w = self.world
        month = w.month
        if order.policy_id:
            policies = [s for s in w.policies.active if s.id == order.policy_id]
            progs = [p for p in self.programmes if p.id == order.policy_id and p.active(month)]
            owners = [s.issuer for s in policies] + [p.issuer for p in progs]
            if owners and owners[0] != order.issuer:
                raise OrderRejected(f"policy_id: '{order.policy_id}' belongs to {owners[0]}")
            return policies, progs
        if order.measure is None:
            raise OrderRejected("measure: lift needs a policy_id or a measure")
        policies = [
            s
            for s in w.policies.active
            if s.issuer == order.issuer
            and s.kind == order.measure
            and (not order.commodities or set(order.commodities) & set(s.commodities))
            and (not order.partners or not s.partners or set(order.partners) & set(s.partners))
        ]
        progs = [
            p
            for p in self.programmes
            if p.issuer == order.issuer
            and p.kind == order.measure
            and p.active(month)
            and "alliance" not in p.params
            and (
                not order.commodities
                or "commodity" not in p.params
                or p.params["commodity"] in order.commodities
            )
        ]
        return policies, progs

    def _apply_lift(self, order: BaseModel, order_id: str) -> str:
        w = self.world
        policies, progs = self.lift_targets(order)
        if not policies and not progs:
            raise OrderRejected("nothing to lift: no such measure of the issuer is in force")
        ended, kept = [], []
        for spec in policies:
            remainders = self._remainders(spec, order)
            if w.policies.end(spec.id, w.month):
                ended.append(spec.id)
            for update in remainders:
                new = spec.model_copy(
                    update={
                        **update,
                        "id": self._new_id(spec.issuer, spec.kind),
                        "start": self._date(w.month),
                    }
                )
                w.policies.add(new)
                kept.append(
                    f"{new.id} ({', '.join(new.commodities)} to "
                    f"{', '.join(new.partners) or 'all others'})"
                )
        for prog in progs:
            prog.end = w.month
            ended.append(prog.id)
        text = f"{w.spec.regions[order.issuer].name} lifts {', '.join(ended)}"
        if kept:
            text += f"; it stays in force as {'; '.join(kept)}"
        return text

    def _remainders(self, spec: PolicySpec, order: BaseModel) -> list[dict]:
        """What of a trade measure stays in force after a lift for some of its commodities or
        partners: updates (commodities, partners) for the policies that carry on."""
        w = self.world
        if spec.kind not in TRADE_KINDS and spec.kind != "stockpile_target":
            return []
        if spec.kind == "export_quota":
            return []
        goods = [c for c in spec.commodities if not order.commodities or c in order.commodities]
        out = []
        other_goods = [c for c in spec.commodities if c not in goods]
        if other_goods:
            out.append({"commodities": other_goods, "partners": list(spec.partners)})
        if order.partners and spec.kind in TRADE_KINDS:
            covered = spec.partners or [r for r in w.region_ids if r != spec.issuer]
            left = [r for r in covered if r not in order.partners]
            if left:
                out.append({"commodities": goods, "partners": left})
        return out

    def add_programme(
        self, id: str, kind: str, issuer: str, params: dict, end: int | None = None
    ) -> Programme:
        """Start a programme now (used by alliances for their fund and shared releases)."""
        prog = Programme(
            id=id, kind=kind, issuer=issuer, start=self.world.month, end=end, params=params
        )
        self.programmes.append(prog)
        return prog

    def _programme(self, order: BaseModel, order_id: str, **params: Any) -> Programme:
        prog = Programme(
            id=self._new_id(order.issuer, order.kind),
            kind=order.kind,
            issuer=order.issuer,
            start=self.world.month,
            end=self._end(order),
            params=params,
        )
        self.programmes.append(prog)
        return prog

    def _apply_tech_export_ban(self, order: BaseModel, order_id: str) -> str:
        self._programme(
            order,
            order_id,
            stages=list(order.stages),
            capex_multiplier=order.capex_multiplier,
            extra_lead_months=order.extra_lead_months,
        )
        return (
            f"{self.world.spec.regions[order.issuer].name} bans the export of "
            f"{', '.join(order.stages)} technology: plants abroad cost "
            f"{order.capex_multiplier:.1f}x and take {order.extra_lead_months} months longer"
        )

    def _apply_defense_priority(self, order: BaseModel, order_id: str) -> str:
        w = self.world
        w.policies.add(
            PolicySpec(
                id=self._new_id(order.issuer, order.kind),
                kind="defense_priority",
                issuer=order.issuer,
                commodities=["magnet"],
                start=self._date(w.month),
            )
        )
        return f"{w.spec.regions[order.issuer].name} puts defence demand first"

    def _apply_stockpile_target(self, order: BaseModel, order_id: str) -> str:
        w = self.world
        end = self._end(order)
        w.policies.add(
            PolicySpec(
                id=self._new_id(order.issuer, order.kind),
                kind="stockpile_target",
                issuer=order.issuer,
                commodities=list(order.commodities),
                start=self._date(w.month),
                end=None if end is None else self._date(end),
                months_of_cover=order.months_of_cover,
            )
        )
        return (
            f"{w.spec.regions[order.issuer].name} targets a strategic stock of "
            f"{order.months_of_cover:g} months of {', '.join(order.commodities)}"
        )

    def _budget_left(self, issuer: str) -> float:
        state = self.world.states_by_region[issuer]
        if state.spec.budget_usd_per_year is None:
            return float("inf")
        return state.spec.budget_usd_per_year - state.spent_this_year_usd

    def _check_budget(self, issuer: str, cost_usd: float, what: str) -> None:
        left = self._budget_left(issuer)
        if cost_usd > left + 1e-6:
            raise OrderRejected(
                f"budget: {what} would cost about {cost_usd / 1e6:,.0f} M USD, more than the "
                f"{max(left, 0) / 1e6:,.0f} M USD left in this year's budget"
            )

    def _check_first_year(self, order: BaseModel, usd_per_year: float, what: str) -> None:
        """Check a recurring cost against the budget for its first year (or its duration)."""
        months = min(getattr(order, "duration_months", None) or 12, 12)
        self._check_budget(order.issuer, usd_per_year * months / 12.0, what)

    def _firm_output(self, order: BaseModel):
        """The firm an order supports and its yearly capacity for the product, t/yr."""
        firm = self.world.firms_by_id[order.firm]
        if order.commodity not in firm.output_commodities():
            raise OrderRejected(f"commodity: {firm.name} does not make {order.commodity}")
        return firm, firm.capacity_tpy * firm.nominal_yields().get(order.commodity, 0.0)

    def _apply_stockpile_buy(self, order: BaseModel, order_id: str) -> str:
        w = self.world
        ci = w.commodity_index[order.commodity]
        state = w.states_by_region[order.issuer]
        cost = order.tonnes * float(w.prices[ci, state.r]) * 1000.0
        self._check_budget(order.issuer, cost, f"buying {order.tonnes:,.0f} t")
        prog = self._programme(
            order, order_id, commodity=order.commodity, t_per_month=order.tonnes / order.months
        )
        prog.end = w.month + order.months
        return (
            f"{w.spec.regions[order.issuer].name} buys {order.tonnes:,.0f} t of {order.commodity} "
            f"for its stockpile over {order.months} months"
        )

    def _apply_stockpile_release(self, order: BaseModel, order_id: str) -> str:
        w = self.world
        state = w.states_by_region[order.issuer]
        held = float(np.sum(state.stockpile[order.commodity]))
        committed = sum(
            p.params["t_per_month"] * ((p.end or w.month) - w.month)
            for p in self.programmes
            if p.kind == "stockpile_release"
            and p.issuer == order.issuer
            and p.params["commodity"] == order.commodity
            and p.active(w.month)
        )
        if order.tonnes > held - committed + 1e-9:
            raise OrderRejected(
                f"tonnes: cannot release {order.tonnes:,.0f} t of {order.commodity}; the "
                f"stockpile holds {max(held - committed, 0):,.0f} t not yet committed"
            )
        prog = self._programme(
            order, order_id, commodity=order.commodity, t_per_month=order.tonnes / order.months
        )
        prog.end = w.month + order.months
        return (
            f"{w.spec.regions[order.issuer].name} releases {order.tonnes:,.0f} t of "
            f"{order.commodity} from its stockpile over {order.months} months"
        )

    def _apply_capex_subsidy(self, order: BaseModel, order_id: str) -> str:
        self._programme(order, order_id, stages=list(order.stages), share=order.share)
        return (
            f"{self.world.spec.regions[order.issuer].name} pays {order.share:.0%} of the capex of "
            f"new {', '.join(order.stages)} plants at home"
        )

    def _apply_production_subsidy(self, order: BaseModel, order_id: str) -> str:
        w = self.world
        yearly = sum(
            f.capacity_tpy * 1000.0 * order.usd_per_kg
            for f in w.firms
            if f.region == order.issuer and f.stage in order.stages
        )
        self._check_first_year(order, yearly, "the production subsidy")
        self._programme(order, order_id, stages=list(order.stages), usd_per_kg=order.usd_per_kg)
        return (
            f"{w.spec.regions[order.issuer].name} pays {', '.join(order.stages)} producers "
            f"{order.usd_per_kg:g} USD/kg produced"
        )

    def _apply_production_quota(self, order: BaseModel, order_id: str) -> str:
        w = self.world
        # A new quota replaces the issuer's quota on the same stages and deposits (quotas are
        # set yearly; China's ion-clay quota is set apart from the light-ore quota).
        deposits = sorted(order.deposits) if order.deposits else None
        for prog in self.active("production_quota"):
            if (
                prog.issuer == order.issuer
                and set(prog.params["stages"]) & set(order.stages)
                and prog.params.get("deposits") == deposits
            ):
                prog.end = w.month
        self._programme(
            order,
            order_id,
            stages=list(order.stages),
            deposits=deposits,
            tonnes_per_year=order.tonnes_per_year,
            growth_per_year=order.growth_per_year,
            headroom=order.headroom,
            restraint=order.restraint,
        )
        return (
            f"{w.spec.regions[order.issuer].name} sets its {', '.join(order.stages)} quota"
            + (f" on {', '.join(deposits)}" if deposits else "")
            + " at "
            f"{order.tonnes_per_year:,.0f} t/yr"
            + (f", changing {order.growth_per_year:+.1%} a year" if order.growth_per_year else "")
        )

    def _apply_price_floor(self, order: BaseModel, order_id: str) -> str:
        w = self.world
        firm, yearly_t = self._firm_output(order)
        ci = w.commodity_index[order.commodity]
        gap = max(order.floor_usd_per_kg - float(w.prices[ci, firm.r]), 0.0)
        self._check_first_year(order, gap * yearly_t * 1000.0, f"the price floor for {firm.name}")
        self._programme(
            order,
            order_id,
            firm=order.firm,
            commodity=order.commodity,
            floor=order.floor_usd_per_kg,
        )
        return (
            f"{w.spec.regions[order.issuer].name} guarantees {firm.name} "
            f"{order.floor_usd_per_kg:g} USD/kg for its {order.commodity}"
        )

    def _apply_invest(self, order: BaseModel, order_id: str) -> str:
        firm = self.world.firms_by_id[order.issuer]
        if firm.status == "exited":
            raise OrderRejected(f"issuer: {firm.name} has exited")
        capex = firm.capex_per_tpy * self.world.capex_multiplier(firm)
        if firm.status == "candidate":
            firm.status = "construction"
        firm._invest(order.capacity_tpy, capex, "orders new capacity")
        return f"{firm.name} orders {order.capacity_tpy:,.0f} t/yr of new capacity"

    def _apply_idle(self, order: BaseModel, order_id: str) -> str:
        firm = self.world.firms_by_id[order.issuer]
        if firm.capacity_tpy <= 0:
            raise OrderRejected(f"issuer: {firm.name} has no operating capacity to idle")
        step = firm.capacity_tpy * order.share
        firm.mothball(step)
        return f"{firm.name} idles {step:,.0f} t/yr"

    def _apply_restart(self, order: BaseModel, order_id: str) -> str:
        firm = self.world.firms_by_id[order.issuer]
        if firm.idle_tpy <= 0:
            raise OrderRejected(f"issuer: {firm.name} has no idle capacity to restart")
        amount = firm.idle_tpy
        firm.restart_idle()
        return f"{firm.name} restarts {amount:,.0f} t/yr"

    def _apply_licence_decision(self, order: BaseModel, order_id: str) -> str:
        w = self.world
        if order.partner not in w.region_index:
            raise OrderRejected(f"partner: unknown region '{order.partner}'")
        ci = w.commodity_index[order.commodity]
        o, d = w.region_index[order.issuer], w.region_index[order.partner]
        book = w.policies
        if not book.seat_decided[ci, o, d]:
            raise OrderRejected(
                f"{order.commodity} to {order.partner}: no licence of "
                f"{order.issuer} that its seat decides is in force"
            )
        approved = book.decide_licences(w.month, ci, o, d, order.share)
        return (
            f"{w.spec.regions[order.issuer].name} approves {order.share:.0%} of licence "
            f"applications for {order.commodity} to {order.partner} ({approved:,.0f} t)"
        )

    def _apply_equity_stake(self, order: BaseModel, order_id: str) -> str:
        w = self.world
        firm = w.firms_by_id[order.firm]
        self._check_budget(order.issuer, order.usd, f"the stake in {firm.name}")
        firm.cash_usd += order.usd
        w.states_by_region[order.issuer].spend(order.usd)
        self._programme(order, order_id, firm=order.firm, usd=order.usd)
        return (
            f"{w.spec.regions[order.issuer].name} takes a {order.usd / 1e6:,.0f} M USD stake in "
            f"{firm.name}"
        )

    def _apply_rnd_programme(self, order: BaseModel, order_id: str) -> str:
        w = self.world
        self._check_first_year(order, order.usd_per_year, "the programme")
        self._programme(
            order, order_id, commodities=list(order.commodities), usd_per_year=order.usd_per_year
        )
        return (
            f"{w.spec.regions[order.issuer].name} funds {order.usd_per_year / 1e6:,.0f} M USD a "
            f"year of research to thrift {', '.join(order.commodities)}"
        )

    def _apply_offtake_guarantee(self, order: BaseModel, order_id: str) -> str:
        w = self.world
        firm, yearly_t = self._firm_output(order)
        yearly_usd = yearly_t * order.share * order.price_usd_per_kg * 1000.0
        self._check_first_year(order, yearly_usd, f"buying {firm.name}'s output")
        self._programme(
            order,
            order_id,
            firm=order.firm,
            commodity=order.commodity,
            share=order.share,
            price=order.price_usd_per_kg,
        )
        return (
            f"{w.spec.regions[order.issuer].name} guarantees to buy {order.share:.0%} of "
            f"{firm.name}'s {order.commodity} at {order.price_usd_per_kg:g} USD/kg"
        )

    def _apply_offtake_contract(self, order: BaseModel, order_id: str) -> str:
        w = self.world
        buyer = w.firms_by_id[order.issuer]
        if order.supplier not in w.firms_by_id:
            raise OrderRejected(f"supplier: unknown firm '{order.supplier}'")
        supplier = w.firms_by_id[order.supplier]
        if not set(supplier.output_commodities()) & set(buyer.inputs):
            raise OrderRejected(
                f"supplier: {supplier.name} makes nothing {buyer.name} uses "
                f"({', '.join(buyer.inputs) or 'no inputs'})"
            )
        self._programme(
            order,
            order_id,
            buyer=order.issuer,
            supplier=order.supplier,
            tonnes_per_year=order.tonnes_per_year,
        )
        volume = f" for up to {order.tonnes_per_year:,.0f} t/yr" if order.tonnes_per_year else ""
        return f"{buyer.name} signs an offtake contract with {supplier.name}{volume}"

    def _apply_set_premium(self, order: BaseModel, order_id: str) -> str:
        firm = self.world.firms_by_id[order.issuer]
        for prog in self.active("set_premium"):
            if prog.issuer == order.issuer:
                prog.end = self.world.month
        self._programme(order, order_id, premium=order.premium, region=firm.region)
        return f"{firm.name} pays up to {order.premium:.0%} more for non-Chinese supply"

    # ------------------------------------------------------------------ effects on the world

    def active(self, kind: str) -> list[Programme]:
        """Programmes of a kind in force this month."""
        month = self.world.month
        return [p for p in self.programmes if p.kind == kind and p.active(month)]

    def charge_capex_subsidy(self, firm: Firm, full_usd: float) -> None:
        """Charge the capex subsidy of a new plant to whoever pays it: a national subsidy to its
        state, an alliance fund's share to the members pro rata. ``full_usd`` is the plant's
        capex before subsidies (after any foreign technology ban).

        Hook for ``World.pay_capex_subsidy``; until the world calls it, the world charges the
        firm's home state and the alliance's part is moved onto the members a month later.
        """
        self.capex_hook_used = True
        progs = [
            p
            for p in self.active("capex_subsidy")
            if p.issuer == firm.region and firm.stage in p.params["stages"]
        ]
        total = sum(p.params["share"] for p in progs)
        scale = 1.0 / total if total > 1.0 else 1.0
        for p in progs:
            usd = p.params["share"] * scale * full_usd
            if usd <= 0:
                continue
            if "alliance" in p.params:
                self.diplomacy.pay_fund(p.params["alliance"], usd)
            else:
                self.world.states_by_region[p.issuer].spend(usd)

    # ------------------------------------------------------------------ log

    def _record(self, order: Any, order_id: str, status: str, message: str, source: str) -> None:
        w = self.world
        if isinstance(order, BaseModel):
            kind, issuer, params = order.kind, order.issuer, order.parameters()
        else:
            data = order if isinstance(order, dict) else _try_json(order)
            kind = str(data.get("kind", "")) if isinstance(data, dict) else ""
            issuer = str(data.get("issuer", "")) if isinstance(data, dict) else ""
            params = data if isinstance(data, dict) else {"raw": str(order)}
        self.log.append(
            {
                "month": w.month,
                "date": self._date(w.month),
                "order_id": order_id,
                "issuer": issuer,
                "kind": kind,
                "parameters": json.dumps(params, sort_keys=True, default=str),
                "status": status,
                "message": message,
                "source": source,
            }
        )

    def table(self) -> pd.DataFrame:
        """Every order applied or rejected: month, date, issuer, kind, parameters, status."""
        columns = [
            "month",
            "date",
            "order_id",
            "issuer",
            "kind",
            "parameters",
            "status",
            "message",
            "source",
        ]
        return pd.DataFrame(self.log, columns=columns)


def _try_json(text: Any) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return {"raw": str(text)}

"""The order desk: where the world checks orders against its state, applies them and logs them.

Seats (human teams, doctrines, experiment scripts) submit orders at any time; they take effect
at the next turn boundary, in the order submitted. Scripted orders from the scenario take effect
at the start of their month. Every order is logged, applied or rejected, with the reason; a
rejected order changes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ValidationError

from world.calendar import add_months, months_between
from world.orders import FIRM_ORDER_KINDS, TRADE_KINDS, parse_order
from world.scenario import PolicySpec

if TYPE_CHECKING:
    from world.model import World


class OrderRejected(ValueError):
    """An order the world will not apply; the message says why."""


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

    status: str  # "pending", "applied" or "rejected"
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
        self.scripted: dict[int, list[tuple[str, dict]]] = {}
        self.replayed: dict[int, list[tuple[dict, str]]] = {}
        for item in world.spec.orders:
            month = months_between(world.spec.start, item["date"])
            self.scripted.setdefault(month, []).append((str(item["id"]), item))

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
            ``pending`` if it passed the checks that do not depend on the turn's outcome,
            else ``rejected`` with the reason (and the rejection is logged).
        """
        order_id = self._next_id()
        try:
            parsed = self._parse(order)
            self._check_static(parsed, seat)
        except OrderRejected as exc:
            self._record(order, order_id, "rejected", str(exc), source)
            return OrderResult("rejected", str(exc), order_id)
        self.pending.append((parsed, seat or "", source, order_id))
        return OrderResult("pending", "", order_id)

    def apply_now(
        self, order: BaseModel | dict | str, source: str = "script", seat: str | None = None
    ) -> OrderResult:
        """Validate and apply an order at once (scripts and doctrines at a turn boundary)."""
        order_id = self._next_id()
        try:
            parsed = self._parse(order)
            self._check_static(parsed, seat)
            message = self._apply(parsed, order_id)
        except OrderRejected as exc:
            self._record(order, order_id, "rejected", str(exc), source)
            return OrderResult("rejected", str(exc), order_id)
        self._record(parsed, order_id, "applied", message, source)
        return OrderResult("applied", message, order_id)

    def schedule(self, month: int, order: dict, source: str = "replay") -> None:
        """Apply ``order`` at the start of ``month`` (after the scenario's scripted orders)."""
        self.replayed.setdefault(month, []).append((order, source))

    def start_of_month(self, month: int) -> None:
        """Apply scripted orders due this month and, at a turn boundary, the queued ones."""
        for order_id, item in self.scripted.get(month, []):
            body = {k: v for k, v in item.items() if k not in ("id", "date")}
            self._apply_logged(body, order_id, "script")
        for order, source in self.replayed.pop(month, []):
            self._apply_logged(order, self._next_id(), source)
        if month % self.world.spec.turn_months == 0 and self.pending:
            queued, self.pending = self.pending, []
            for order, _seat, source, order_id in queued:
                self._apply_logged(order, order_id, source)

    def _apply_logged(self, order: Any, order_id: str, source: str) -> None:
        try:
            parsed = self._parse(order)
            message = self._apply(parsed, order_id)
        except OrderRejected as exc:
            self._record(order, order_id, "rejected", str(exc), source)
            return
        self._record(parsed, order_id, "applied", message, source)

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
            problems = []
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function"))
                msg = err["msg"].removeprefix("Value error, ")
                if err["type"] == "union_tag_invalid":
                    msg = f"unknown order kind; {msg}"
                problems.append(f"{loc}: {msg}" if loc else msg)
            raise OrderRejected("; ".join(problems)) from None

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
        for s in getattr(order, "stages", []) or []:
            if s not in w.spec.stages:
                raise OrderRejected(
                    f"stages: unknown stage '{s}'; allowed: {', '.join(w.spec.stages)}"
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
        return found

    # ------------------------------------------------------------------ application

    def _apply(self, order: BaseModel, order_id: str) -> str:
        """Apply one order now; returns a sentence saying what changed."""
        self._check_static(order, None)
        handler = getattr(self, f"_apply_{order.kind}", None)
        if handler is None and order.kind in TRADE_KINDS:
            handler = self._apply_trade
        if handler is None:
            raise OrderRejected(f"kind: '{order.kind}' is not supported")
        return handler(order, order_id)

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
            "id": f"{order.issuer}-{order.kind}-{order_id}",
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
            fields.update(review_months=order.review_months, approval_share=order.approval_share)
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

    def _apply_lift(self, order: BaseModel, order_id: str) -> str:
        w = self.world
        ended = []
        if order.policy_id:
            candidates = [s for s in w.policies.active if s.id == order.policy_id]
            if candidates and candidates[0].issuer != order.issuer:
                raise OrderRejected(
                    f"policy_id: '{order.policy_id}' belongs to {candidates[0].issuer}"
                )
        else:
            if order.measure is None:
                raise OrderRejected("lift needs a policy_id or a measure")
            candidates = [
                s
                for s in w.policies.active
                if s.issuer == order.issuer
                and s.kind == order.measure
                and (not order.commodities or set(order.commodities) & set(s.commodities))
                and (not order.partners or not s.partners or set(order.partners) & set(s.partners))
            ]
        for spec in candidates:
            if w.policies.end(spec.id, w.month):
                ended.append(spec.id)
        for prog in self.programmes:
            if (
                prog.issuer == order.issuer
                and prog.active(w.month)
                and (prog.id == order.policy_id or prog.kind == order.measure)
            ):
                prog.end = w.month
                ended.append(prog.id)
        if not ended:
            raise OrderRejected("nothing to lift: no such measure of the issuer is in force")
        return f"{w.spec.regions[order.issuer].name} lifts {', '.join(ended)}"

    def _programme(self, order: BaseModel, order_id: str, **params: Any) -> Programme:
        prog = Programme(
            id=f"{order.issuer}-{order.kind}-{order_id}",
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
                id=f"{order.issuer}-defense_priority-{order_id}",
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
                id=f"{order.issuer}-stockpile_target-{order_id}",
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
        months = min(order.duration_months or 12, 12)
        self._check_budget(order.issuer, yearly * months / 12.0, "the production subsidy")
        self._programme(order, order_id, stages=list(order.stages), usd_per_kg=order.usd_per_kg)
        return (
            f"{w.spec.regions[order.issuer].name} pays {', '.join(order.stages)} producers "
            f"{order.usd_per_kg:g} USD/kg produced"
        )

    def _apply_price_floor(self, order: BaseModel, order_id: str) -> str:
        w = self.world
        firm = w.firms_by_id[order.firm]
        ci = w.commodity_index[order.commodity]
        if order.commodity not in firm.output_commodities():
            raise OrderRejected(f"commodity: {firm.name} does not make {order.commodity}")
        gap = max(order.floor_usd_per_kg - float(w.prices[ci, firm.r]), 0.0)
        yield_c = firm.nominal_yields().get(order.commodity, 0.0)
        months = min(order.duration_months or 12, 12)
        cost = gap * firm.capacity_tpy * yield_c * 1000.0 * months / 12.0
        self._check_budget(order.issuer, cost, f"the price floor for {firm.name}")
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

    # ------------------------------------------------------------------ effects on the world

    def active(self, kind: str) -> list[Programme]:
        """Programmes of a kind in force this month."""
        month = self.world.month
        return [p for p in self.programmes if p.kind == kind and p.active(month)]

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

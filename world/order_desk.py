"""The order desk: where the world checks orders against its state, applies them and logs them.

Seats (human teams, doctrines, experiment scripts) submit orders at any time; they take effect
at the next turn boundary, in the order submitted. A submitted order is checked at once against
the world as it is (on a copy, so nothing changes), and again when it applies. Scripted orders
from the scenario take effect at the start of their month. Every order is logged, applied or
rejected, with the reason; a rejected order changes nothing.

The start of each month, in order: deals expire and alliances share stocks (world/deals.py);
scripted orders due; orders replayed from a log; at a turn boundary, the queued orders; then AI
states answer open deal proposals and alliance invitations. Doctrines play after this (World.step).

An order keeps one id from submission to the log: ``o<n>`` for the n-th order submitted or
applied in the run (pending, then applied or rejected under the same id), the scenario's id for
a scripted order. Measures and programmes an order creates get ids ``<issuer>-<kind>-<order id>``
(``.2``, ``.3`` after it when one order creates several), so what a seat sees waiting
(``o4``) is what it later finds in force (``US-stockpile_buy-o4``). A replay applies each
logged order under its logged id, so the ids (and a ``lift`` naming one) are the same again.
Orders a deal applies as its commitments are logged with status ``committed`` under the id of
the order that agreed the deal, then ``.1``, ``.2``... (a replay re-derives them from the deal).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd
from pydantic import BaseModel, ValidationError

from world.calendar import add_months, is_boundary, months_between
from world.deals import Diplomacy, scratch_copy
from world.instruments import FIRM_ORDER_KINDS, instrument
from world.measures import PendingOrder
from world.orders import OrderRejected, order_field_problems, parse_order

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


def measure_id(issuer: str, kind: str, order_id: str, n: int = 1) -> str:
    """The id of the ``n``-th measure or programme an order creates: ``US-stockpile_buy-o4``,
    then ``US-stockpile_buy-o4.2``, ..."""
    return f"{issuer}-{kind}-{order_id}" + ("" if n == 1 else f".{n}")


class OrderDesk:
    """Validates, queues, applies and logs orders for one world.

    Args:
        world: the world the orders act on.
    """

    def __init__(self, world: World):
        self.world = world
        #: Orders waiting for the turn boundary; read and cancel them through the measure book
        #: (world/measures.py).
        self.pending: list[PendingOrder] = []
        self.log: list[dict] = []
        self.programmes: list[Programme] = []
        #: (the programme list it indexes, its length then, {kind: programmes in list order}).
        self._by_kind: tuple[list[Programme], int, dict[str, list[Programme]]] | None = None
        self._counter = 0
        #: The id of the order being applied ("" between orders): its measures' ids, its
        #: follow-ups' ids and the news it logs (world/deals.py) take it.
        self.applying = ""
        self._follow_ups_made = 0
        self._ids_made = 0
        self._created: list[str] = []
        self._followups: list[tuple[Any, str, str, str]] = []  # order, source, status, id
        self._draining = False
        self._month_started = -1
        self.scripted: dict[int, list[tuple[str, dict]]] = {}
        self.replayed: dict[int, list[tuple[dict, str, str]]] = {}  # order, source, id
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
            self.check_static(parsed, seat)
            self._dry_run(parsed, source)
        except OrderRejected as exc:
            self._record(order, order_id, "rejected", str(exc), source)
            return OrderResult("rejected", str(exc), order_id)
        self.pending.append(PendingOrder(parsed, seat or "", source, order_id))
        return OrderResult("pending", "", order_id)

    def check(self, order: BaseModel | dict | str, seat: str | None = None) -> str:
        """Check an order as :meth:`submit` would, changing nothing (no id, no log entry).

        Returns:
            ``""`` if the order would apply now, else the reason it would be rejected.
        """
        try:
            parsed = self._parse(order)
            self.check_static(parsed, seat)
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
        message = clone.desk.apply_unlogged(order, "dry-run", source)
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
        commitments, applied when the last party accepts). It takes the id of the order
        being applied and ``.1``, ``.2``... (a fresh id outside an order)."""
        if self.applying:
            self._follow_ups_made += 1
            order_id = f"{self.applying}.{self._follow_ups_made}"
        else:
            order_id = self._next_id()
        self._followups.append((order, source, status, order_id))

    def drain(self) -> None:
        """Apply the follow-up orders queued so far (and theirs)."""
        if self._draining:
            return
        self._draining = True
        try:
            while self._followups:
                order, source, status, order_id = self._followups.pop(0)
                self._execute(order, order_id, source, status=status)
        finally:
            self._draining = False

    def _execute(
        self,
        order: Any,
        order_id: str,
        source: str,
        seat: str | None = None,
        status: str = "applied",
    ) -> OrderResult:
        """Check, apply, log; then apply any follow-ups. A rejected order changes nothing."""
        queued = len(self._followups)
        try:
            parsed = self._parse(order)
            if seat is not None:
                self.check_static(parsed, seat)
            message = self._apply(parsed, order_id, source)
        except OrderRejected as exc:
            del self._followups[queued:]
            self._record(order, order_id, "rejected", str(exc), source)
            self.drain()
            return OrderResult("rejected", str(exc), order_id)
        self._record(parsed, order_id, status, message, source)
        self.drain()
        return OrderResult(status, message, order_id)

    def schedule(self, month: int, order: dict, source: str = "replay", order_id: str = "") -> None:
        """Apply ``order`` at the start of ``month`` (after the scenario's scripted orders),
        under ``order_id`` (a logged order's id, so that a replay gives the same ids; ``""``:
        a new one). Later orders get ids after it."""
        if order_id:
            self.reserve_ids([order_id])
        self.replayed.setdefault(month, []).append((order, source, order_id))

    def reserve_ids(self, ids: list[str]) -> None:
        """Make sure no order submitted from now on takes one of ``ids`` (``o<n>`` ids and
        their follow-ups' ``o<n>.<k>``; any other id is the scenario's own)."""
        for order_id in ids:
            head = str(order_id).split(".")[0]
            if head.startswith("o") and head[1:].isdigit():
                self._counter = max(self._counter, int(head[1:]))

    def reserve_ids_after(self, other: OrderDesk) -> None:
        """Make sure no order submitted from now on takes an ``o<n>`` id ``other`` has given
        (the desk of the game this one replaces, e.g. on undo: ids stay unique over a game)."""
        self._counter = max(self._counter, other._counter)

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
            self._execute(body, order_id, "script")
        for order, source, order_id in self.replayed.pop(month, []):
            self._execute(order, order_id or self._next_id(), source)
        if is_boundary(month, self.world.spec.turn_months) and self.pending:
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

    def check_static(self, order: BaseModel, seat: str | None) -> None:
        """Check an order's ids against the world (issuer and seat, commodities, regions,
        states, stages, deposits, firm), changing nothing.

        Raises:
            OrderRejected: naming the field and the values allowed.
        """
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

    def _apply(self, order: BaseModel, order_id: str, source: str = "script") -> str:
        """Apply one order now, under ``order_id``; returns a sentence saying what changed.

        Raises:
            OrderRejected: before anything changed.
        """
        self.check_static(order, None)
        handler = instrument(order.kind).apply
        broken = self.diplomacy.contradictions(order, source)
        self._ids_made = 0
        self._follow_ups_made = 0
        self._created = []
        self.applying = order_id
        try:
            message = handler(self, order)
            if self._created and not any(i in message for i in self._created):
                message += f" [{', '.join(self._created)}]"
            if source.removeprefix("replay:").startswith("deal:") and self._created:
                self.diplomacy.record_created(source, list(self._created))
            if broken:
                message += self.diplomacy.breach(broken, order.issuer)
        finally:
            self.applying = ""
        return message

    def apply_unlogged(self, order: BaseModel | dict | str, order_id: str, source: str) -> str:
        """Check and apply an order at once under ``order_id``, without logging it or applying
        its follow-ups: a dry run on a scratch copy of the world (see world/deals.py).

        Returns:
            What the log would say.

        Raises:
            OrderRejected: before anything changed.
        """
        return self._apply(self._parse(order), order_id, source)

    def new_id(self, issuer: str, kind: str) -> str:
        """The id of a measure or programme the order being applied creates (see the module
        docstring)."""
        self._ids_made += 1
        new = measure_id(issuer, kind, self.applying, self._ids_made)
        self._created.append(new)
        return new

    def date(self, month: int) -> str:
        """The date ("YYYY-MM") of a month of the run."""
        return add_months(self.world.spec.start, month)

    def end_month(self, order: BaseModel) -> int | None:
        """The month an order's measure ends (its ``duration_months`` from now), None: until
        lifted."""
        duration = getattr(order, "duration_months", None)
        return None if duration is None else self.world.month + duration

    def add_programme(
        self, id: str, kind: str, issuer: str, params: dict, end: int | None = None
    ) -> Programme:
        """Start a programme now (used by alliances for their shared releases)."""
        prog = Programme(
            id=id, kind=kind, issuer=issuer, start=self.world.month, end=end, params=params
        )
        self.programmes.append(prog)
        return prog

    def start_programme(self, order: BaseModel, **params: Any) -> Programme:
        """Start the programme an order creates, from now for its duration, with these terms."""
        prog = Programme(
            id=self.new_id(order.issuer, order.kind),
            kind=order.kind,
            issuer=order.issuer,
            start=self.world.month,
            end=self.end_month(order),
            params=params,
        )
        self.programmes.append(prog)
        return prog

    # ------------------------------------------------------------------ effects on the world

    def active(self, kind: str) -> list[Programme]:
        """Programmes of a kind in force this month, in list order.

        Indexed by kind, because firms' own programmes (offtake contracts) grow with the number
        of firms and the world asks for several kinds for every firm a month. Programmes are
        only ever appended to the list, or the list replaced (world/deals.py), so the index is
        rebuilt when the list is another object or longer than when it was built.
        """
        index = self._by_kind
        if index is None or index[0] is not self.programmes or index[1] != len(self.programmes):
            by_kind: dict[str, list[Programme]] = {}
            for p in self.programmes:
                by_kind.setdefault(p.kind, []).append(p)
            index = self._by_kind = (self.programmes, len(self.programmes), by_kind)
        programmes = index[2].get(kind)
        if not programmes:  # most kinds, most months
            return []
        month = self.world.month
        # Programme.active inlined, for the same reason.
        return [p for p in programmes if p.start <= month and (p.end is None or month < p.end)]

    def capex_subsidies(self, firm: Firm) -> list:
        """The national capex subsidies in force on a firm's new plants: its home state's, for
        its stage."""
        return [
            p
            for p in self.active("capex_subsidy")
            if p.issuer == firm.region and firm.stage in p.params["stages"]
        ]

    def charge_capex_subsidy(self, firm: Firm, full_usd: float) -> None:
        """Charge the national capex subsidies of a new plant to their states. ``full_usd`` is
        the plant's capex before subsidies (after any foreign technology ban). Alliance funds
        pay their share apart (world/instruments/alliances.py, :func:`pay_fund`).
        """
        progs = self.capex_subsidies(firm)
        total = sum(p.params["share"] for p in progs)
        scale = 1.0 / total if total > 1.0 else 1.0
        for p in progs:
            usd = p.params["share"] * scale * full_usd
            if usd <= 0:
                continue
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
                "date": self.date(w.month),
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

"""One player's game: a world, its seat, the controls and the news, with no UI code.

The Solara page keeps one :class:`GameSession` per browser session; tests drive it directly.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from agents.doctrines import DOCTRINES
from world import Scenario, World, load_scenario
from world.calendar import FIRST_TURN, next_boundary, turn_of, turn_start
from world.deals import NEGOTIATION_KINDS, deals_of
from world.measures import terms_in_words as _short
from world.model import MAX_SEED
from world.objectives import seat_weights
from world.objectives import weights as objective_weights
from world.order_desk import measure_id
from world.orders import PRIVATE_ORDER_KINDS, observed
from world.scenario import MAX_TURN_MONTHS, SeatSpec
from world.shortfalls import shortfall_summary

OBSERVER = "observer"


def seats_of(spec: Scenario) -> list[str]:
    """The seats a player can take: every state with a government, then the observer."""
    return [s.region for s in spec.states] + [OBSERVER]


#: What each objective weight rewards, in a player's words (world/objectives.py has the sums).
OBJECTIVE_WORDS = {
    "welfare": "welfare: what your users pay for magnets and oxides against the start, plus your "
    "producers' margins",
    "security": "security: defence and all magnet demand met, and supply free of adversary content",
    "leverage": "leverage: how far others depend on your exports, times the share you restrict",
    "fiscal": "fiscal cost: what your policies spend (it counts against you)",
}


def briefing(spec: Scenario, seat: str) -> str:
    """A seat's briefing as Markdown: the situation, the seat's role, its objectives (the weights
    of its score) and what success looks like. The observer reads the situation only."""
    brief = spec.briefing
    parts = [f"**Situation.** {brief.situation if brief else spec.description}"]
    if seat in {s.region for s in spec.states}:
        mine = brief.seats.get(seat) if brief else None
        if mine:
            parts.append(f"**Your role.** {mine.role}")
        weights = seat_weights(spec, seat)
        parts.append(
            "**Your objectives** (the weights of your score, -1 to 1):\n\n"
            + "\n".join(f"- {OBJECTIVE_WORDS.get(k, k)} (x {v:g})" for k, v in weights.items() if v)
        )
        if mine:
            parts.append(f"**Success.** {mine.success}")
    return "\n\n".join(parts)


def default_doctrine(spec: Scenario, region: str) -> str:
    """The doctrine the scenario gives a state's seat (``passive`` if it gives none)."""
    seat = spec.seats.get(region)
    return seat.doctrine if seat else "passive"


def debrief_questions(spec: Scenario) -> list[str]:
    """The scenario's questions for the debrief (none if it has no briefing)."""
    return list(spec.briefing.debrief_questions) if spec.briefing else []


def whole_number(
    name: str,
    value: object,
    low: int,
    high: int,
    what: str = "a whole number",
    error: type[ValueError] = ValueError,
) -> None:
    """Check a setting is a whole number from ``low`` to ``high`` (``True`` is not 1);
    otherwise raise ``error`` naming the field: "name: what from low to high (got ...)"."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise error(f"{name}: {what} from {low} to {high} (got {value!r})")


@dataclass
class GameSession:
    """A game in progress.

    Args:
        scenario: the scenario (a bundled name, a path or a Scenario).
        seed: the world's seed.
        seat: the region the player plays, or ``observer``.
        turn_months: months per turn; None keeps the scenario's.
        doctrines: region -> doctrine for AI seats (see agents/doctrines), replacing the
            scenario's; a state with no seat in the scenario gets one. The player's own seat
            cannot be given a doctrine.
        record: called with each input the player gives (kind, payload) once it has been
            played, so that the game can be stored and rebuilt by :meth:`play_inputs`
            (play/saved_games.py); None keeps nothing.

    Raises:
        ValueError: a doctrine for a region that is not a state or is the player's seat, or an
            unknown doctrine name (the message names the field and the allowed values).
    """

    scenario: str | Scenario
    seed: int = 0
    seat: str = OBSERVER
    turn_months: int | None = None
    doctrines: dict[str, str] = field(default_factory=dict)
    spec: Scenario = field(init=False)
    world: World = field(init=False)
    record: Callable[[str, dict], None] | None = field(default=None, repr=False, compare=False)
    version: int = field(init=False, default=0)
    #: The scenario as given, before the turn length and doctrines were set (what is stored).
    base_spec: Scenario = field(init=False, repr=False)
    #: Orders that an undo or a reset threw away (rows of :meth:`World.orders`), oldest first.
    undone: list[dict] = field(init=False, default_factory=list, repr=False)
    #: What redo brings back: (the world before the undo or reset, rows it added to undone).
    _redo: list[tuple[World, int]] = field(init=False, default_factory=list, repr=False)
    #: (world id, order id) -> a pending order in words (worked out once: a dry run).
    _words: dict[tuple[int, str], str] = field(init=False, default_factory=dict, repr=False)
    #: The step of the guided first turn on show (0-based, ui/guide.py); None once the player
    #: finished or skipped it. Kept with the game, so a reload does not show it again.
    guide_step: int | None = field(init=False, default=0, repr=False)

    def __post_init__(self) -> None:
        spec = (
            self.scenario if isinstance(self.scenario, Scenario) else load_scenario(self.scenario)
        )
        self.base_spec = spec
        whole_number("seed", self.seed, 0, MAX_SEED)
        if self.seat not in seats_of(spec):
            raise ValueError(
                f"seat: unknown seat {self.seat!r}; allowed: {', '.join(seats_of(spec))}"
            )
        if self.turn_months is not None:
            whole_number("turn_months", self.turn_months, 1, MAX_TURN_MONTHS)
            spec = spec.model_copy(update={"turn_months": self.turn_months})
        if not isinstance(self.doctrines, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in self.doctrines.items()
        ):
            raise ValueError("doctrines: a table of region -> doctrine name, e.g. CN = hedger")
        if self.doctrines:
            spec = spec.model_copy(update={"seats": self._seats(spec)})
        self.spec = spec
        self.world = self._new_world()

    def _seats(self, spec: Scenario) -> dict[str, SeatSpec]:
        states = [s.region for s in spec.states]
        seats = dict(spec.seats)
        for region, doctrine in self.doctrines.items():
            if region not in states or region == self.seat:
                allowed = ", ".join(r for r in states if r != self.seat)
                raise ValueError(f"doctrines.{region}: not an AI seat here; allowed: {allowed}")
            if doctrine not in DOCTRINES:
                raise ValueError(
                    f"doctrines.{region}: unknown doctrine '{doctrine}'; "
                    f"allowed: {', '.join(DOCTRINES)}"
                )
            seat = seats.get(region) or SeatSpec()
            if doctrine != seat.doctrine:  # another doctrine: the scenario's tuning was for its own
                seat = seat.model_copy(update={"doctrine": doctrine, "params": {}})
            seats[region] = seat
        return seats

    # ------------------------------------------------------------------ the world

    @property
    def human_seats(self) -> frozenset[str]:
        return frozenset() if self.seat == OBSERVER else frozenset({self.seat})

    def _new_world(self) -> World:
        return World(self.spec, seed=self.seed, human_seats=self.human_seats)

    @property
    def month(self) -> int:
        return self.world.month

    @property
    def turn_months_now(self) -> int:
        return self.spec.turn_months

    @property
    def turn(self) -> int:
        """The turn the next month belongs to (turn 1 is the first)."""
        return turn_of(self.world.month, self.spec.turn_months)

    @property
    def finished(self) -> bool:
        return self.world.month >= self.spec.months

    @property
    def turns(self) -> int:
        """How many turns the game has (the last is shorter if the turn length does not divide
        the horizon)."""
        return -(-self.spec.months // self.spec.turn_months)

    def clock(self) -> str:
        """Where the game stands, in words: the date, the month of the horizon, the turn of the
        game's turns (at the horizon: that the game is over) and the seat."""
        w = self.world
        where = (
            f"game over ({self.turns} turns played)"
            if self.finished
            else f"turn {self.turn}/{self.turns}"
        )
        return f"{self.date()} · month {w.month}/{self.spec.months} · {where} · seat {self.seat}"

    def date(self) -> str:
        return self.world.date_of(self.world.month)

    def _touch(self) -> None:
        self.version += 1

    def _played(self, kind: str, **payload) -> None:
        """Keep an input the player gave (see ``record``), with the month it left the game at."""
        if self.record is not None:
            self.record(kind, {**payload, "month": self.world.month})

    def _moved_on(self) -> None:
        """The world changed by the player's hand: what an undo threw away stays undone."""
        self._redo.clear()

    def step(self) -> None:
        """One month."""
        if not self.finished:
            self._moved_on()
            self.world.step()
        self._touch()
        self._played("step")

    def end_turn(self) -> None:
        """Run to the next turn boundary (pending orders apply there)."""
        target = min(self.spec.months, next_boundary(self.world.month + 1, self.spec.turn_months))
        if self.world.month < target:
            self._moved_on()
        while self.world.month < target:
            self.world.step()
        self._touch()
        self._played("end_turn")

    def reset(self) -> None:
        """Start again from month 0 with the same settings (:meth:`redo` undoes it)."""
        self._rewind(self._new_world(), 0)
        self._played("reset")

    def undo_to_turn(self, turn: int) -> None:
        """Go back to the start of an earlier turn (turn 1 is the first): replay every order
        applied before it (:meth:`redo` undoes it).

        The AI seats' decisions come from the log (as in :meth:`World.replay`), so the world
        is the one the player saw; after the rewind the AIs decide again.
        """
        whole_number("turn", turn, 1, self.turns)
        month = turn_start(turn, self.spec.turn_months)
        if month >= self.world.month:
            return
        table = self.world.orders()
        before = table[table["month"] < month]
        world = World.replay(self.spec, self.seed, before)
        world.run(month)
        # A replay re-applies applied orders only: the seat's rejected ones stay on record.
        rejected = before[before["status"] == "rejected"].to_dict("records")
        world.desk.log = sorted(rejected + world.desk.log, key=lambda row: row["month"])
        # The replay silences every doctrine; from here on the AI seats decide again.
        world.human_seats = self.human_seats
        world.doctrines = self._new_world().doctrines
        self._rewind(world, month)
        self._played("undo", turn=turn, first_turn=FIRST_TURN)

    def _rewind(self, world: World, month: int) -> None:
        """Put ``world`` (at ``month``) in place of the current one, keeping the current one
        for :meth:`redo` and its orders from ``month`` on (pending ones too) as undone."""
        old = self.world
        table = old.orders()
        lost = table[table["month"] >= month].to_dict("records")
        lost += pending_rows(old)
        self.undone += lost
        self._redo.append((old, len(lost)))
        # Ids stay unique over the whole game: no new order takes the id of an undone one.
        world.desk.reserve_ids_after(old.desk)
        self.world = world
        self._touch()

    @property
    def can_redo(self) -> bool:
        """Whether an undo or a reset can be taken back (nothing was played since)."""
        return bool(self._redo)

    def redo(self) -> None:
        """Take back the last undo or reset: the game is where it was before it."""
        if not self._redo:
            return
        world, lost = self._redo.pop()
        if lost:
            del self.undone[-lost:]
        self.world = world
        self._touch()
        self._played("redo")

    def play_inputs(self, inputs: list[tuple[str, dict]]) -> None:
        """Play stored inputs (kind, payload) again, as :meth:`record` received them: the
        game ends where it was (the world is deterministic).

        Raises:
            ValueError: an input of an unknown kind (the stored game is not one of these).
        """
        for kind, payload in inputs:
            if kind == "submit":
                self.submit(payload["order"])
            elif kind == "cancel":
                self.cancel(payload["order_id"])
            elif kind == "undo":
                # Games saved before turns counted from 1 stored the turn from 0 (no first_turn).
                self.undo_to_turn(payload["turn"] + FIRST_TURN - payload.get("first_turn", 0))
            elif kind == "guide":
                self.guide_at(payload["step"])
            elif kind in INPUT_ACTIONS:
                getattr(self, INPUT_ACTIONS[kind])()
            else:
                raise ValueError(f"input: unknown kind {kind!r}; allowed: {', '.join(INPUTS)}")

    def guide_at(self, step: int | None) -> None:
        """Show step ``step`` (0-based) of the guided first turn, or close it for this game
        (None: finished or skipped). It changes nothing in the world, so Redo still holds.

        Raises:
            ValueError: a step that is not a whole number from 0 to :data:`MAX_GUIDE_STEPS`.
        """
        if step is not None:
            whole_number("guide step", step, 0, MAX_GUIDE_STEPS)
        self.guide_step = step
        self._touch()
        self._played("guide", step=step)

    # ------------------------------------------------------------------ orders

    def submit(self, order: dict):
        """Submit an order for the seat; returns the world's OrderResult (``rejected``, with
        the reason, for anything that is not an order)."""
        if isinstance(order, dict):
            order = {**order, "issuer": order.get("issuer") or self.seat}
        seat = None if self.seat == OBSERVER else self.seat
        self._moved_on()
        result = self.world.submit(order, seat=seat)
        self._touch()
        self._played("submit", order=_storable(order))
        return result

    def pending(self) -> list[str]:
        """The seat's orders waiting for the turn boundary, in words, each after its id."""
        return [f"{order_id}: {text}" for order_id, text in self.pending_orders()]

    def pending_orders(self) -> list[tuple[str, str]]:
        """The seat's orders waiting for the turn boundary: (order id, the order in words).

        The words are the world's own (what its log would say were the order applied now:
        :meth:`world.order_desk.OrderDesk.describe`), else the instrument and its settings."""
        out = []
        for order, _seat, source, order_id in self.world.measures.pending():
            key = (id(self.world), order_id)
            if key not in self._words:
                params = {k: v for k, v in order.parameters().items() if k not in ("note",)}
                self._words[key] = self.world.desk.describe(order, source) or (
                    f"{order.issuer} {order.kind.replace('_', ' ')} {_short(params)}".strip()
                )
            out.append((order_id, self._words[key]))
        return out

    def cancel(self, order_id: str) -> None:
        """Withdraw one pending order (nothing happens if it is not pending)."""
        if self.world.measures.cancel(order_id):
            self._moved_on()
        self._touch()
        self._played("cancel", order_id=order_id)

    def cancel_pending(self) -> None:
        if self.world.measures.cancel_all():
            self._moved_on()
        self._touch()
        self._played("cancel_all")

    def in_force(self, region: str | None = None) -> list[str]:
        """Policies and programmes in force now (of ``region``, or everyone's), in words."""
        return in_force(self.world, region)

    # ------------------------------------------------------------------ news and deals

    def news(self, show: str = "all") -> pd.DataFrame:
        """What the seat may read of what happened, newest first (see :func:`news`; ``show``:
        one of :data:`NEWS_FILTERS`): a player's seat reads its own rejected orders and nobody
        else's; the observer reads everything public, no rejection included (a rejected order
        changed nothing), and has nothing of its own."""
        if self.seat == OBSERVER:
            return news(self.world, rejected=False, show=show)
        return news(self.world, self.seat, show=show)

    def news_mark(self) -> tuple[int, int, int, int]:
        """A mark that changes whenever :meth:`news` may read differently: the world (an undo or
        a reset puts a new one in place), its log and its order log (both only ever appended
        to; an undo puts a new order log in place). Many months add no news (6 of the first 10 of
        alliance-vs-tariffs-2025): the page keeps the feed it built until the mark moves, where
        building it again costs ~5 ms."""
        w = self.world
        return id(w), len(w.log), id(w.desk.log), len(w.desk.log)

    def deals(self):
        return deals_of(self.world)

    def inbox(self) -> list:
        """Proposals waiting for the seat's answer."""
        return [] if self.seat == OBSERVER else inbox(self.world, self.seat)

    def trust_table(self) -> pd.DataFrame:
        return trust_table(self.world)

    def weights(self) -> dict[str, float]:
        if self.seat == OBSERVER:
            return {}
        return objective_weights(self.world, self.seat)

    # ------------------------------------------------------------------ exports

    def results_csv(self) -> bytes:
        return self.world.results().to_csv(index=False).encode()

    def results_parquet(self) -> bytes:
        buffer = io.BytesIO()
        self.world.results().to_parquet(buffer, index=False)
        return buffer.getvalue()

    def orders_csv(self) -> bytes:
        return self.world.orders().to_csv(index=False).encode()


#: Stored inputs that take no payload -> the GameSession method that plays them.
INPUT_ACTIONS = {
    "step": "step",
    "end_turn": "end_turn",
    "reset": "reset",
    "redo": "redo",
    "cancel_all": "cancel_pending",
}
#: Every kind of stored input.
INPUTS = ("submit", "cancel", "undo", "guide", *INPUT_ACTIONS)
#: The guided first turn has at most this many steps (ui/guide.py; the class needs 3 to 5).
MAX_GUIDE_STEPS = 9


def pending_rows(world: World) -> list[dict]:
    """The orders waiting for the turn boundary as rows of :meth:`World.orders` (status
    ``pending``, at the current month, under the id they will be applied with)."""
    return [
        {
            "month": world.month,
            "date": world.date_of(world.month),
            "order_id": order_id,
            "issuer": order.issuer,
            "kind": order.kind,
            "parameters": json.dumps(order.parameters(), sort_keys=True, default=str),
            "status": "pending",
            "message": "",
            "source": source,
        }
        for order, _seat, source, order_id in world.measures.pending()
    ]


def _storable(order: object) -> object:
    """An order as JSON can hold it (a model as its dict; anything else as given, since a
    rejected order is an input too)."""
    if hasattr(order, "model_dump"):
        return order.model_dump(mode="json")
    try:
        json.dumps(order)
    except (TypeError, ValueError):
        return str(order)
    return order


#: The news filters a player chooses from, each -> what it keeps (see :func:`news`).
NEWS_FILTERS = {
    "mine": "what the seat did or was told alone: its orders, its deals' talks, its shortfalls",
    "all": "everything the seat may read",
    "orders": "orders and what they started: deals, alliances, shortfalls",
    "events": "the scenario's and the facilitator's events",
    "firms": "firms' decisions: investments, plants online, idling, exits",
}
#: The topic of a news item by its kind (every other kind is about orders).
NEWS_TOPICS = {"event": "events", "firm": "firms"}
NEWS_COLUMNS = ["month", "date", "who", "kind", "text", "topic", "mine", "order_id"]


def news(
    world: World, seat: str | None = None, rejected: bool = True, show: str = "all"
) -> pd.DataFrame:
    """Orders, events, firm decisions and deals, newest first: columns month, date, who, kind,
    text, topic (``orders``, ``events`` or ``firms``), mine (the seat issued it or alone with
    the other parties was told it) and order_id (the order behind it, ``""`` if none).

    With ``seat``, what is not that seat's business is left out: other seats' rejected
    orders (what a state tried and failed to do), talks on deals it is not party to until
    they are agreed (proposals, answers, counters, lapses; an agreement is public), and the
    terms of other seats' stockpile orders (only what the market sees:
    :func:`world.orders.observed`). ``rejected=False`` leaves out every rejected order.

    Each item is shown once: an entry the world logged while applying an order (a deal's
    proposal or answer, a breach, an alliance formed or joined) is left out when that order's
    own line is shown, since the line says it too, under the order's id. An agreement is
    news of its own (world/deals.py), beside the acceptance that completed it.

    Args:
        show: one of :data:`NEWS_FILTERS`.

    Raises:
        ValueError: an unknown filter (the message names the allowed ones).
    """
    if show not in NEWS_FILTERS:
        raise ValueError(f"show: unknown news filter {show!r}; allowed: {', '.join(NEWS_FILTERS)}")
    diplomacy = deals_of(world)
    orders = []
    for o in world.orders().itertuples(index=False):
        if not rejected and o.status == "rejected":
            continue
        parties = None
        if o.kind in NEGOTIATION_KINDS:
            parties = diplomacy.order_parties(o.kind, json.loads(o.parameters))
        if seat is not None and o.issuer != seat:
            if o.status == "rejected":
                continue
            if parties is not None and seat not in parties:
                continue
        verb = "" if o.status in ("applied", "committed") else f" [{o.status}] "
        text = o.message or f"{o.issuer} {o.kind.replace('_', ' ')}"
        if seat is not None and o.issuer != seat and o.kind in PRIVATE_ORDER_KINDS:
            region = world.spec.regions.get(o.issuer)
            name = region.name if region is not None else o.issuer
            text = observed(o.kind, name, json.loads(o.parameters)) or text
        orders.append(
            {
                "month": o.month,
                "date": o.date,
                "who": o.issuer,
                "kind": "order",
                "text": f"{verb}{text}".strip(),
                "mine": seat is not None and (o.issuer == seat or seat in (parties or ())),
                "order_id": o.order_id,
            }
        )
    shown = {row["order_id"] for row in orders}
    rows = [
        {
            "month": e["month"],
            "date": e["date"],
            "who": e.get("actor", ""),
            "kind": e.get("kind", ""),
            "text": e["text"],
            "mine": seat is not None
            and (e.get("actor") == seat or seat in e.get("private_to", ())),
            "order_id": e.get("order_id", ""),
        }
        for e in world.log
        if (seat is None or seat in e.get("private_to", (seat,)))
        and not (e.get("order_id") and e["order_id"] in shown)
    ]
    frame = pd.DataFrame(rows + orders, columns=NEWS_COLUMNS)
    frame["topic"] = frame["kind"].map(lambda k: NEWS_TOPICS.get(k, "orders"))
    frame["mine"] = frame["mine"].astype(bool)
    if show == "mine":
        frame = frame[frame["mine"]]
    elif show != "all":
        frame = frame[frame["topic"] == show]
    return frame.iloc[::-1].sort_values("month", ascending=False, kind="stable")


def inbox(world: World, seat: str) -> list:
    """Deal proposals waiting for ``seat``'s answer."""
    return [
        d
        for d in deals_of(world).deals.values()
        if d.status == "proposed" and seat in d.recipients and seat not in d.responses
    ]


def trust_table(world: World) -> pd.DataFrame:
    """How far each state (row) trusts each other (column), 0-1."""
    regions = [s.region for s in world.spec.states]
    dip = deals_of(world)
    return pd.DataFrame(
        [[dip.trust_in(a, b) for b in regions] for a in regions], index=regions, columns=regions
    )


def in_force(world: World, region: str | None = None, kind: str | None = None) -> list[str]:
    """Policies and programmes in force now (of ``region``, or everyone's; of ``kind``, or of
    every kind), in words, each after its id."""
    w = world
    lines = []
    for m in w.measures.measures(region or None, kind or None):
        lines.append(f"{m.id}: {m.in_words()}{falls_short(w, m.id)}")
    return lines


def decisions(world: World, seat: str | None, turn_months: int) -> pd.DataFrame:
    """The debrief's table of orders that went into force: turn, date, issuer, what it did and,
    for the seat's own orders (shortfalls are private), how often it fell short and why
    (world/shortfalls.py ``shortfall_summary``; "" for an order that did what it asked)."""
    table = world.orders()
    done = table[table["status"].isin(["applied", "committed"])].copy()
    done["turn"] = turn_of(done["month"], turn_months)
    done["effect"] = [
        shortfall_summary(world, measure_id(issuer, kind, order_id))
        if seat is not None and issuer == seat
        else ""
        for issuer, kind, order_id in zip(
            done["issuer"], done["kind"], done["order_id"], strict=True
        )
    ]
    return done[["turn", "date", "issuer", "message", "effect"]].reset_index(drop=True)


def falls_short(world: World, measure: str) -> str:
    """The status of a measure in force that did less than ordered in the last month played
    (world/shortfalls.py), as a tail for its line ("" if it did what it was meant to)."""
    short = world.shortfalls.get(measure)
    if short is None or short.month != world.month - 1:
        return ""
    return f" (falls short in {world.date_of(short.month)}: {short.reason})"

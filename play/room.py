"""Live workshop games: who may act for which seat, team orders, turns, the facilitator's actions.

One :class:`Workshops` per server process holds every game of its database. A :class:`Game` is
its world plus the teams' draft orders for the current turn; it changes only through *inputs*
(an order drafted, withdrawn, vetoed or edited, a seat's "submitted", a resolution, an injected
event, a seat handed between a team and a doctrine, an undo, ...). Each input is written to the
database first and then applied by the one function that also rebuilds a game after a restart,
so a restarted game is the game that was running, down to the doctrines' memory.

Every public method takes the caller's :class:`Credential` and refuses (:class:`Refused`) what
it does not allow: a join code admits one seat of one game; the facilitator key admits the
console of every game. Bad input raises :class:`WorkshopError` naming the field and changes
nothing.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import hmac
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents.doctrines import make_doctrine
from play.session import whole_number
from play.store import GameRecord, InputRecord, Store
from world import World
from world.calendar import next_boundary, turn_of
from world.model import MAX_SEED
from world.scenario import (
    MAX_TURN_MONTHS,
    ProblemsError,
    Scenario,
    load_scenario,
    seat_every_state,
)

FACILITATOR = "facilitator"
SEAT = "seat"
#: Join-code letters: no 0/O, 1/I/L (read aloud and typed from a printed sheet).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12  # 31**12: 59 bits, unguessable at any rate a web server answers
#: How long a signed-in browser stays signed in (the cookie's lifetime too): a workshop day.
SESSION_MAX_AGE_S = 24 * 3600
#: What a page or an action hears once its session is over.
SESSION_ENDED = (
    "your session has ended (signed out, expired, or the seat was handed over): "
    "sign in again at /join"
)


class Refused(PermissionError):
    """The caller may not do this (another seat's orders, a facilitator action, another game)."""


class WorkshopError(ValueError):
    """Bad input: the message names the field and what is allowed; nothing changed."""


#: The longest turn timer, in seconds (a day).
MAX_TIMER_S = 86_400


def _flag(name: str, value: Any) -> None:
    """A yes/no input must be one (the text "false" is not False)."""
    if not isinstance(value, bool):
        raise WorkshopError(f"{name}: true or false (got {value!r})")


@dataclass(frozen=True)
class Credential:
    """Who a browser session acts as: the facilitator, or one seat of one game.

    ``alive`` says whether the browser session behind the credential is still signed in (None:
    no session, e.g. the server's own clock); every action checks it, so a page left open after
    its session ended (signed out, expired, a restart with another key) can no longer act.
    """

    role: str
    game_id: str | None = None
    seat: str | None = None
    alive: Callable[[], bool] | None = field(default=None, compare=False, repr=False)

    @property
    def facilitator(self) -> bool:
        return self.role == FACILITATOR

    def __repr__(self) -> str:  # never a secret in a log line
        return f"Credential({self.role}, {self.game_id}, {self.seat})"


@dataclass
class Draft:
    """An order a team has drafted for the current turn.

    Attributes:
        id: the sequence number of the input that drafted it (stable across restarts).
        seat: the seat that drafted it.
        order: the order as plain data (world/orders.py).
        vetoed: the facilitator struck it out (``note`` says why).
        note: the facilitator's reason for a veto or an edit.
    """

    id: int
    seat: str
    order: dict[str, Any]
    vetoed: bool = False
    note: str = ""


@dataclass
class SeatStatus:
    """A line of the facilitator's roster."""

    seat: str
    team: bool
    doctrine: str
    connected: int
    submitted: bool
    drafts: int


def new_code() -> str:
    """A fresh join code, e.g. ``K7QF-M2XP-9HTW``."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def normalise_code(text: str) -> str:
    """A code as typed (any case, spaces or dashes) in its printed form."""
    raw = "".join(ch for ch in str(text).upper() if ch.isalnum())
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


@dataclass
class _Snapshot:
    world: World
    drafts: dict[str, list[Draft]]


class Game:
    """One workshop game, rebuilt from its stored inputs.

    Args:
        record: the stored game.
        store: the database its inputs go to.
    """

    def __init__(self, record: GameRecord, store: Store):
        self.record = record
        self.id = record.id
        self.name = record.name
        self.store = store
        self.spec = Scenario.model_validate_json(record.scenario_json)
        self.lock = threading.RLock()
        self._changed = threading.Condition(self.lock)
        self.version = 0
        self.presence: dict[str, int] = {}
        teams = frozenset(s for s, (_code, team) in record.seats.items() if team)
        self.world = World(self.spec, seed=record.seed, human_seats=teams)
        self.drafts: dict[str, list[Draft]] = {s: [] for s in record.seats}
        self.submitted: set[str] = set()
        self.paused = False
        self.timer_s: int | None = None
        self.deadline: float | None = None
        #: Broadcasts and facilitator actions, for everyone: dicts month, date, actor, text.
        self.messages: list[dict[str, Any]] = []
        self.history: list[dict[str, Any]] = []
        self._snapshots: list[_Snapshot] = []
        for item in store.inputs(record.id):
            self._apply(item)
        if self.timer_s:  # a restarted countdown starts again in full
            self.deadline = time.time() + self.timer_s

    # ------------------------------------------------------------------ reading

    @property
    def seats(self) -> list[str]:
        return list(self.record.seats)

    @property
    def teams(self) -> frozenset[str]:
        """Seats played by people now."""
        return self.world.human_seats

    @property
    def turn(self) -> int:
        """The turn being played (1-based)."""
        return turn_of(self.world.month, self.spec.turn_months)

    @property
    def finished(self) -> bool:
        return self.world.month >= self.spec.months

    def date(self) -> str:
        return self.world.date_of(self.world.month)

    def seconds_left(self, now: float | None = None) -> float | None:
        """Seconds until the turn timer resolves the turn (at ``now``, default: the clock);
        None without a running timer."""
        if self.deadline is None or self.paused or self.finished:
            return None
        return max(0.0, self.deadline - (time.time() if now is None else now))

    def waiting_for(self) -> list[str]:
        """Team seats that have not submitted this turn."""
        return [s for s in self.seats if s in self.teams and s not in self.submitted]

    def code(self, cred: Credential, seat: str) -> str:
        """A seat's join code (the facilitator's printable sheet)."""
        self._facilitator(cred)
        return self.record.seats[self._seat(seat)][0]

    def drafts_of(self, cred: Credential, seat: str) -> list[Draft]:
        """The seat's orders for this turn; only that seat and the facilitator may read them."""
        self._authorise(cred, seat)
        with self.lock:
            return [copy.copy(d) for d in self.drafts[seat]]

    def roster(self, cred: Credential) -> list[SeatStatus]:
        self._facilitator(cred)
        with self.lock:
            return [
                SeatStatus(
                    seat,
                    seat in self.teams,
                    self.world.doctrines[seat].name if seat in self.world.doctrines else "",
                    self.presence.get(seat, 0),
                    seat in self.submitted,
                    len(self.drafts[seat]),
                )
                for seat in self.seats
            ]

    def wait(self, version: int, timeout: float) -> int:
        """Block until the game changes from ``version`` (or ``timeout`` s pass); the version."""
        with self._changed:
            self._changed.wait_for(lambda: self.version != version, timeout)
            return self.version

    def connect(self, cred: Credential) -> None:
        """A browser joined (the roster shows who is connected)."""
        self._member(cred)
        key = cred.seat if cred.seat else FACILITATOR
        with self.lock:
            self.presence[key] = self.presence.get(key, 0) + 1
            self._touch()

    def disconnect(self, cred: Credential) -> None:
        key = cred.seat if cred.seat else FACILITATOR
        with self.lock:
            self.presence[key] = max(0, self.presence.get(key, 0) - 1)
            self._touch()

    def world_at(self, cred: Credential, turn: int) -> World:
        """A private copy of the world as it stood at the start of ``turn`` (1 = the first,
        up to the turn being played), before that turn's team orders applied: where a
        facilitator forks "what if" futures from (kept from each resolution, as undo uses)."""
        self._facilitator(cred)
        with self.lock:
            if not isinstance(turn, int) or not 1 <= turn <= self.turn:
                raise WorkshopError(f"turn: a turn from 1 to {self.turn} (got {turn!r})")
            if turn == self.turn:
                return self.world.fork()
            return self._snapshots[turn - 1].world.fork()

    def snapshot(self, cred: Credential) -> World:
        """A private copy of the world for a participant to read or fork (the live one moves)."""
        self._member(cred)
        with self.lock:
            return self.world.fork()

    # ------------------------------------------------------------------ a team's actions

    def add_order(self, cred: Credential, seat: str, order: dict[str, Any]) -> Draft:
        """Draft an order for ``seat``; checked against the world now (the message says why not).

        Raises:
            Refused: the caller does not play ``seat``, or the order is issued for another state.
            WorkshopError: the world would reject the order; nothing is stored.
        """
        self._authorise(cred, seat)
        order = self._seat_order(seat, order)
        with self.lock:
            self._playing(seat)
            problem = self.world.check(order, seat=seat)
            if problem:
                raise WorkshopError(problem)
            seq = self._input("order", cred, {"seat": seat, "order": order})
            return copy.copy(next(d for d in self.drafts[seat] if d.id == seq))

    def withdraw(self, cred: Credential, seat: str, draft_id: int) -> None:
        self._authorise(cred, seat)
        with self.lock:
            self._playing(seat)
            self._draft(seat, draft_id)
            self._input("withdraw", cred, {"seat": seat, "draft": int(draft_id)})

    def submit_turn(self, cred: Credential, seat: str, submitted: bool = True) -> None:
        """Mark the seat's orders as final for this turn (or take that back). The turn resolves
        once every team has submitted, unless the facilitator paused the game."""
        self._authorise(cred, seat)
        _flag("submitted", submitted)
        with self.lock:
            self._playing(seat)
            self._input("submitted", cred, {"seat": seat, "submitted": bool(submitted)})
            if not self.waiting_for() and not self.paused and self.teams:
                self._input("resolve", cred, {"why": "every team submitted"})

    # ------------------------------------------------------------------ the facilitator

    def resolve(self, cred: Credential, why: str = "forced by the facilitator") -> None:
        """Resolve the turn now: the drafts apply, the world runs to the next turn boundary."""
        if cred.role != "timer":
            self._facilitator(cred)
        with self.lock:
            self._running()
            self._input("resolve", cred, {"why": why})

    def veto(self, cred: Credential, seat: str, draft_id: int, reason: str) -> None:
        self._facilitator(cred)
        reason = self._reason(reason)
        with self.lock:
            self._draft(seat, draft_id)
            self._input("veto", cred, {"seat": seat, "draft": int(draft_id), "reason": reason})

    def edit(
        self, cred: Credential, seat: str, draft_id: int, order: dict[str, Any], reason: str
    ) -> None:
        """Replace a team's draft with ``order`` (checked like a team's), with a logged reason."""
        self._facilitator(cred)
        reason = self._reason(reason)
        order = self._seat_order(seat, order)
        with self.lock:
            self._draft(seat, draft_id)
            problem = self.world.check(order, seat=seat)
            if problem:
                raise WorkshopError(problem)
            payload = {"seat": seat, "draft": int(draft_id), "order": order, "reason": reason}
            self._input("edit", cred, payload)

    def set_team(self, cred: Credential, seat: str, team: bool, doctrine: str = "") -> None:
        """Hand a seat to a team or to a doctrine (the scenario's, or ``doctrine``), from the
        current turn on. Handed to a doctrine, the seat's draft orders are withdrawn.

        Either way every browser signed in for the seat is signed out in the same transaction
        (an open page loses its live updates and private views at once), and a seat handed to
        a team gets a new join code (:meth:`code`): the team that had it before cannot come
        back with the old one."""
        self._facilitator(cred)
        seat = self._seat(seat)
        _flag("team", team)
        if not isinstance(doctrine, str):
            raise WorkshopError(f"doctrine: a doctrine's name, or blank (got {doctrine!r})")
        if doctrine:
            try:
                make_doctrine(doctrine, seat)  # only to check the name
            except ValueError as exc:
                raise WorkshopError(f"doctrine: {exc}") from None
        with self.lock:
            code = new_code() if team else None
            payload = {"seat": seat, "team": bool(team), "doctrine": doctrine}
            self._input("seat", cred, payload, end_seat=seat, code=code)
            if code is not None:
                self.record.seats[seat] = (code, self.record.seats[seat][1])

    def inject_event(self, cred: Credential, event: dict[str, Any]) -> None:
        """Add an event (a mine accident, a seizure of mines, a demand shock, an announcement)."""
        self._facilitator(cred)
        if not isinstance(event, dict):
            raise WorkshopError("event: expected a table of fields (kind, region, ...)")
        with self.lock:
            try:
                self.world.check_event(event)
            except ProblemsError as exc:
                raise WorkshopError("; ".join(exc.problems)) from None
            self._input("event", cred, {"event": dict(event)})

    def broadcast(self, cred: Credential, text: str) -> None:
        self._facilitator(cred)
        if not isinstance(text, str):
            raise WorkshopError(f"text: a message (got {text!r})")
        text = text.strip()
        if not text:
            raise WorkshopError("text: a broadcast needs a message")
        with self.lock:
            self._input("broadcast", cred, {"text": text[:2000]})

    def pause(self, cred: Credential, paused: bool) -> None:
        """Pause (no automatic resolution, the timer stops) or resume."""
        self._facilitator(cred)
        _flag("paused", paused)
        with self.lock:
            self._input("pause", cred, {"paused": bool(paused)})

    def set_timer(self, cred: Credential, seconds: int | None) -> None:
        """A countdown for each turn (None: no timer); at zero the turn resolves."""
        self._facilitator(cred)
        if seconds is not None:
            timer = "a turn timer is a whole number of seconds"
            whole_number("seconds", seconds, 10, MAX_TIMER_S, timer, WorkshopError)
        with self.lock:
            self._input("timer", cred, {"seconds": seconds})

    def undo(self, cred: Credential) -> None:
        """Take back the last resolution: the world returns to the start of that turn and the
        teams' orders of that turn are drafts again."""
        self._facilitator(cred)
        with self.lock:
            if not self._snapshots:
                raise WorkshopError("undo: no turn has been resolved yet")
            self._input("undo", cred, {})

    def tick(self, now: float) -> None:
        """Resolve the turn if its timer ran out (called by the server's clock)."""
        with self.lock:
            left = self.seconds_left(now)
            if left is not None and left <= 0:
                self._input("resolve", Credential("timer"), {"why": "the turn timer ran out"})

    # ------------------------------------------------------------------ inputs

    def _input(
        self,
        kind: str,
        cred: Credential,
        payload: dict[str, Any],
        end_seat: str | None = None,
        code: str | None = None,
    ) -> int:
        """Store an input (on disk before anything changes), then apply it; ``end_seat`` and
        ``code``: sessions to end and a new join code, in the same transaction
        (:meth:`Store.add_input`)."""
        if cred.alive is not None and not cred.alive():
            raise Refused(SESSION_ENDED)
        actor = cred.seat or cred.role
        seq = self.store.add_input(self.id, kind, actor, payload, end_seat, code)
        self._apply(InputRecord(seq, kind, actor, payload, time.time()))
        self._touch()
        return seq

    def _apply(self, item: InputRecord) -> None:
        """Apply one input: the single path for live play and for a rebuild."""
        p = item.payload
        kind = item.kind
        w = self.world
        if kind == "order":
            self.drafts[p["seat"]].append(Draft(item.seq, p["seat"], p["order"]))
            self.submitted.discard(p["seat"])
        elif kind == "withdraw":
            self.drafts[p["seat"]] = [d for d in self.drafts[p["seat"]] if d.id != p["draft"]]
            self.submitted.discard(p["seat"])
        elif kind == "submitted":
            (self.submitted.add if p["submitted"] else self.submitted.discard)(p["seat"])
        elif kind == "veto":
            draft = self._draft(p["seat"], p["draft"])
            draft.vetoed, draft.note = True, p["reason"]
            self._log(item, f"vetoes {p['seat']}'s order {p['draft']}: {p['reason']}")
        elif kind == "edit":
            draft = self._draft(p["seat"], p["draft"])
            draft.order, draft.note = p["order"], p["reason"]
            self._log(item, f"edits {p['seat']}'s order {p['draft']}: {p['reason']}")
        elif kind == "resolve":
            self._resolve()
            self.history.append(self._entry(item, f"Turn {self.turn - 1} resolved ({p['why']})"))
            self.deadline = item.at + self.timer_s if self.timer_s else None
        elif kind == "seat":
            w.set_seat(p["seat"], p["team"], p["doctrine"] or None)
            self.submitted.discard(p["seat"])
            who = "a team" if p["team"] else f"a doctrine ({w.doctrines[p['seat']].name})"
            dropped = ""
            if not p["team"] and self.drafts[p["seat"]]:
                # The doctrine plays the seat from now on: the team's drafts go with the team.
                dropped = f"; its {len(self.drafts[p['seat']])} draft order(s) are withdrawn"
                self.drafts[p["seat"]] = []
            self._log(item, f"hands {p['seat']} to {who}{dropped}")
        elif kind == "event":
            event = w.inject_event(p["event"])
            self._log(item, f"injects an event: {event.note or event.kind} ({event.region})")
        elif kind == "broadcast":
            self.messages.append(self._entry(item, p["text"]))
        elif kind == "pause":
            self.paused = p["paused"]
            self._log(item, "pauses the game" if self.paused else "resumes the game")
        elif kind == "timer":
            self.timer_s = p["seconds"]
            self.deadline = item.at + self.timer_s if self.timer_s else None
        elif kind == "undo":
            snap = self._snapshots.pop()
            self.world, self.drafts = snap.world, snap.drafts
            self.submitted = set()
            for entry in (*self.history, *self.messages):  # what the undone turn did
                if entry["month"] > self.world.month:
                    entry["undone"] = True
            self._log(item, f"undoes turn {self.turn}: back to {self.date()}")
        else:
            raise WorkshopError(f"input kind: unknown '{kind}'")

    def _resolve(self) -> None:
        w = self.world
        self._snapshots.append(_Snapshot(w.fork(), copy.deepcopy(self.drafts)))
        # Seats in the scenario's order, each seat's orders in the order drafted: reproducible.
        for seat in self.seats:
            for d in self.drafts[seat]:
                if not d.vetoed:
                    w.submit(d.order, seat=seat, source=f"team:{seat}")
        target = min(self.spec.months, next_boundary(w.month + 1, self.spec.turn_months))
        while w.month < target:
            w.step()
        self.drafts = {s: [] for s in self.seats}
        self.submitted = set()

    def _entry(self, item: InputRecord, text: str) -> dict[str, Any]:
        m = self.world.month
        return {
            "month": m,
            "date": self.world.date_of(m),
            "actor": item.actor,
            "kind": item.kind,
            "text": text,
        }

    def _log(self, item: InputRecord, text: str) -> None:
        self.history.append(self._entry(item, f"{item.actor} {text}"))

    def _touch(self) -> None:
        with self._changed:
            self.version += 1
            self._changed.notify_all()

    # ------------------------------------------------------------------ checks

    def _member(self, cred: Credential) -> None:
        if not (cred.facilitator or cred.game_id == self.id):
            raise Refused("this code does not admit you to this game")

    def _facilitator(self, cred: Credential) -> None:
        if not cred.facilitator:
            raise Refused("only the facilitator may do this")

    def _seat(self, seat: str) -> str:
        if not isinstance(seat, str) or seat not in self.record.seats:
            raise WorkshopError(f"seat: unknown seat '{seat}'; allowed: {', '.join(self.seats)}")
        return seat

    def _authorise(self, cred: Credential, seat: str) -> None:
        self._seat(seat)
        if cred.facilitator:
            return
        if cred.game_id != self.id or cred.seat != seat:
            raise Refused(f"your code admits {cred.seat} only, not {seat}")

    def _playing(self, seat: str) -> None:
        self._running()
        if seat not in self.teams:
            raise Refused(f"{seat} is played by a doctrine now; the facilitator can hand it back")

    def _running(self) -> None:
        if self.finished:
            raise WorkshopError(f"game: finished in {self.world.date_of(self.spec.months - 1)}")

    def _seat_order(self, seat: str, order: Any) -> dict[str, Any]:
        if not isinstance(order, dict):
            raise WorkshopError("order: expected a table of fields (kind, issuer, ...)")
        order = dict(order)
        issuer = order.setdefault("issuer", seat) or seat
        if not isinstance(issuer, str):
            raise WorkshopError(f"issuer: a state's id, e.g. {seat} (got {issuer!r})")
        order["issuer"] = issuer
        if issuer in self.record.seats and issuer != seat:
            raise Refused(f"your code admits {seat} only; this order is issued by {issuer}")
        return order

    def _draft(self, seat: str, draft_id: int) -> Draft:
        if isinstance(draft_id, bool) or not isinstance(draft_id, int):
            raise WorkshopError(f"draft: an order's number, a whole number (got {draft_id!r})")
        for d in self.drafts[self._seat(seat)]:
            if d.id == draft_id:
                return d
        ids = ", ".join(str(d.id) for d in self.drafts[seat]) or "none"
        raise WorkshopError(f"draft: {seat} has no order {draft_id} this turn; its orders: {ids}")

    @staticmethod
    def _reason(reason: str) -> str:
        if not isinstance(reason, str):
            raise WorkshopError(f"reason: the facilitator's reason, as text (got {reason!r})")
        reason = reason.strip()
        if not reason:
            raise WorkshopError("reason: the facilitator's reason is logged; give one")
        return reason[:500]


class Workshops:
    """Every game of one database, and the keys to them.

    Args:
        data_dir: the folder of the database (``workshop.sqlite``).
        facilitator_key: the key that opens the facilitator's console.
        clock_s: how often the turn timers are checked (a background thread); 0 for none.
    """

    def __init__(self, data_dir: Path, facilitator_key: str, clock_s: float = 0.25):
        if not isinstance(facilitator_key, str) or len(facilitator_key) < 12:
            raise WorkshopError("facilitator key: text of at least 12 characters")
        self.data_dir = Path(data_dir)
        self.store = Store(self.data_dir / "workshop.sqlite")
        self._key = facilitator_key
        self.lock = threading.RLock()
        self.games: dict[str, Game] = {}
        #: Games whose inputs no longer replay (a newer engine, a damaged row): id -> why. The
        #: others still open; these stay in the database untouched.
        self.broken: dict[str, str] = {}
        for record in self.store.games():
            try:
                self.games[record.id] = Game(record, self.store)
            except Exception as exc:  # one bad game must not keep the workshop closed
                self.broken[record.id] = f"{record.name}: {type(exc).__name__}: {exc}"
        self._stop = threading.Event()
        self._clock = None
        if clock_s:
            self._clock = threading.Thread(target=self._run_clock, args=(clock_s,), daemon=True)
            self._clock.start()

    def close(self) -> None:
        self._stop.set()
        if self._clock is not None:
            self._clock.join(2)
        self.store.close()

    def _run_clock(self, every_s: float) -> None:
        while not self._stop.wait(every_s):
            for game in list(self.games.values()):
                game.tick(time.time())

    # ------------------------------------------------------------------ keys

    def login(self, secret: str) -> Credential | None:
        """The credential a facilitator key or join code gives, else None. Every code is
        compared in constant time and all of them are compared, so timing tells nothing.
        A seat played by a doctrine admits nobody: its code is replaced when the facilitator
        hands it to a team (:meth:`Game.set_team`)."""
        secret = str(secret).strip()
        found = None
        if hmac.compare_digest(secret.encode(), self._key.encode()):
            found = Credential(FACILITATOR)
        code = normalise_code(secret).encode()
        for game in list(self.games.values()):
            for seat, (stored, _team) in game.record.seats.items():
                matches = hmac.compare_digest(code, stored.encode())
                if matches and found is None and seat in game.teams:
                    found = Credential(SEAT, game.id, seat)
        return found

    def new_session(self, cred: Credential) -> str:
        """A session token for a browser (kept by it as a cookie); only its hash is stored.
        A facilitator's session also records which key opened it (a fingerprint of it), so a
        server restarted with another key admits none of the old facilitator sessions."""
        token = secrets.token_urlsafe(32)
        seat = self._key_fingerprint() if cred.facilitator else cred.seat
        self.store.add_session(token, cred.role, cred.game_id, seat)
        return token

    def credential(self, token: str | None) -> Credential | None:
        """The credential of a session token not older than :data:`SESSION_MAX_AGE_S`; it
        checks the session again before each action (:attr:`Credential.alive`)."""
        row = self._session(token)
        if row is None:
            return None
        role, game_id, seat = row
        alive = functools.partial(self._signed_in, str(token))
        if role == FACILITATOR:
            return Credential(FACILITATOR, alive=alive)
        return Credential(role, game_id, seat, alive=alive)

    def _session(self, token: str | None) -> tuple[str, str | None, str | None] | None:
        """A live session's (role, game, seat); a facilitator's only under the current key."""
        if not token:
            return None
        row = self.store.session(str(token), SESSION_MAX_AGE_S)
        if row is None:
            return None
        role, _game_id, seat = row
        if role == FACILITATOR and not hmac.compare_digest(str(seat), self._key_fingerprint()):
            return None
        return row

    def _signed_in(self, token: str) -> bool:
        return self._session(token) is not None

    def _key_fingerprint(self) -> str:
        return hashlib.sha256(b"chokepoint-facilitator:" + self._key.encode()).hexdigest()[:32]

    def end_session(self, token: str) -> None:
        self.store.drop_session(token)

    # ------------------------------------------------------------------ games

    def create_game(
        self,
        cred: Credential,
        scenario: str | Scenario,
        teams: list[str],
        seed: int = 0,
        name: str = "",
        turn_months: int | None = None,
    ) -> Game:
        """A new game; every seat gets a join code (AI seats too: the facilitator may hand them
        to a team later). ``teams`` are the seats people play from the start."""
        if not cred.facilitator:
            raise Refused("only the facilitator may create games")
        if not isinstance(scenario, (str, Scenario)):
            raise WorkshopError(f"scenario: a bundled scenario's name (got {scenario!r})")
        try:
            spec = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        except (ProblemsError, FileNotFoundError, ValueError) as exc:
            raise WorkshopError(f"scenario: {exc}") from None
        if turn_months is not None:
            months = "a whole number of months"
            whole_number("turn_months", turn_months, 1, MAX_TURN_MONTHS, months, WorkshopError)
            spec = spec.model_copy(update={"turn_months": turn_months})
        spec = seat_every_state(spec)
        seats = list(spec.seats)
        if not isinstance(teams, (list, tuple)) or not all(isinstance(t, str) for t in teams):
            raise WorkshopError(f"teams: a list of seats, from {', '.join(seats)}")
        unknown = [t for t in teams if t not in seats]
        if unknown:
            raise WorkshopError(
                f"teams: unknown seat(s) {', '.join(unknown)}; allowed: {', '.join(seats)}"
            )
        whole_number("seed", seed, 0, MAX_SEED, error=WorkshopError)
        if not isinstance(name, str):
            raise WorkshopError(f"name: text, or blank for a name of the scenario's (got {name!r})")
        with self.lock:
            game_id = "g" + secrets.token_hex(3)
            while game_id in self.games:
                game_id = "g" + secrets.token_hex(3)
            record = GameRecord(
                game_id,
                name.strip() or f"{spec.name} #{len(self.games) + 1}",
                spec.model_dump_json(),
                seed,
                time.time(),
                {s: (new_code(), s in teams) for s in seats},
            )
            self.store.add_game(record)
            game = Game(record, self.store)
            self.games[game_id] = game
            return game

    def game(self, cred: Credential, game_id: str) -> Game:
        game = self.games.get(game_id) if isinstance(game_id, str) else None
        if game is None:
            raise WorkshopError(f"game: unknown game '{game_id}'")
        game._member(cred)
        return game

    def list_games(self, cred: Credential) -> list[Game]:
        if not cred.facilitator:
            raise Refused("only the facilitator may list games")
        return list(self.games.values())


_SERVER: Workshops | None = None
_SERVER_LOCK = threading.Lock()


def default_data_dir() -> Path:
    """The per-user data folder (``~/.local/share/chokepoint`` on Linux)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("chokepoint", appauthor=False))


def workshops() -> Workshops:
    """The server process's games: from ``CHOKEPOINT_DATA`` and ``CHOKEPOINT_FACILITATOR_KEY``
    (set by ``chokepoint serve``), made once."""
    global _SERVER
    with _SERVER_LOCK:
        if _SERVER is None:
            key = os.environ.get("CHOKEPOINT_FACILITATOR_KEY", "")
            if not key:
                raise WorkshopError(
                    "CHOKEPOINT_FACILITATOR_KEY: not set; start the server with chokepoint serve"
                )
            data = os.environ.get("CHOKEPOINT_DATA") or str(default_data_dir())
            _SERVER = Workshops(Path(data), key)
        return _SERVER


__all__ = [
    "SESSION_ENDED",
    "Credential",
    "Draft",
    "Game",
    "Refused",
    "SeatStatus",
    "WorkshopError",
    "Workshops",
    "default_data_dir",
    "new_code",
    "normalise_code",
    "workshops",
]

"""Single-player games kept across a reload and a server restart.

They live in an SQLite file (``$CHOKEPOINT_GAMES``, default ``saved-games/games.sqlite``),
held by the workshop's store (play/store.py) and kept the way it keeps workshop games:
the scenario as given, the seed and the seat, then the ordered list of the player's inputs
(each step, order, cancellation, undo, reset, redo), each on disk before the page goes on.
A game is rebuilt by playing its inputs again (:meth:`play.session.GameSession.play_inputs`),
which is exact because the world is deterministic.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from play.session import GameSession
from play.store import GameRecord, Store
from world import Scenario

#: The environment variable naming the database file.
GAMES_ENV = "CHOKEPOINT_GAMES"
DEFAULT_PATH = Path("saved-games") / "games.sqlite"
#: The first input of every game: the settings the scenario file does not hold.
SETTINGS = "settings"


def games_path() -> Path:
    """Where single-player games are kept: ``$CHOKEPOINT_GAMES``, else the default."""
    return Path(os.environ.get(GAMES_ENV) or DEFAULT_PATH)


@dataclass(frozen=True)
class SavedGame:
    """A stored game, as the start screen lists it."""

    id: str
    name: str
    seat: str
    seed: int
    created: float  # wall-clock seconds
    month: int  # where it was left
    months: int  # its horizon

    @property
    def finished(self) -> bool:
        return self.month >= self.months

    def label(self) -> str:
        """The game in words: name, seat, seed, where it stands and when it was started."""
        started = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.created))
        where = "finished" if self.finished else f"month {self.month}/{self.months}"
        return f"{self.name} · seat {self.seat} · seed {self.seed} · {where} · started {started}"


class SavedGames:
    """The single-player games of one database file.

    Args:
        path: the SQLite file; default :func:`games_path`.

    Raises:
        play.store.StoreError: the file cannot be opened (the message says why).
    """

    def __init__(self, path: Path | None = None):
        self.store = Store(path or games_path())

    def keep(self, session: GameSession) -> str:
        """Store a new game and every input its player gives from now on; returns its id."""
        game_id = secrets.token_hex(6)
        spec = session.base_spec
        self.store.add_game(
            GameRecord(
                id=game_id,
                name=spec.name,
                scenario_json=spec.model_dump_json(),
                seed=session.seed,
                created=time.time(),
                seats={session.seat: ("", True)},
            )
        )
        settings = {"turn_months": session.turn_months, "doctrines": session.doctrines}
        self.store.add_input(game_id, SETTINGS, session.seat, {**settings, "month": 0})
        self._follow(session, game_id)
        return game_id

    def _follow(self, session: GameSession, game_id: str) -> None:
        def record(kind: str, payload: dict) -> None:
            self.store.add_input(game_id, kind, session.seat, payload)

        session.record = record

    def games(self) -> list[SavedGame]:
        """Every stored game, the latest started first."""
        out = []
        for record in self.store.games():
            inputs = self.store.inputs(record.id)
            spec = Scenario.model_validate_json(record.scenario_json)
            out.append(
                SavedGame(
                    id=record.id,
                    name=record.name,
                    seat=next(iter(record.seats), ""),
                    seed=record.seed,
                    created=record.created,
                    month=int(inputs[-1].payload.get("month", 0)) if inputs else 0,
                    months=spec.months,
                )
            )
        return sorted(out, key=lambda g: (-g.created, g.id))

    def resume(self, game_id: str) -> GameSession:
        """The stored game, rebuilt where it was left; its inputs are kept from then on.

        Raises:
            KeyError: no game has this id.
        """
        record = next((g for g in self.store.games() if g.id == game_id), None)
        if record is None:
            raise KeyError(f"game: no saved game {game_id!r}")
        inputs = self.store.inputs(game_id)
        settings = inputs[0].payload if inputs and inputs[0].kind == SETTINGS else {}
        session = GameSession(
            Scenario.model_validate_json(record.scenario_json),
            seed=record.seed,
            seat=next(iter(record.seats)),
            turn_months=settings.get("turn_months"),
            doctrines=dict(settings.get("doctrines") or {}),
        )
        session.play_inputs([(i.kind, i.payload) for i in inputs if i.kind != SETTINGS])
        self._follow(session, game_id)
        return session


_opened: dict[Path, SavedGames] = {}
_lock = threading.Lock()


def saved_games() -> SavedGames:
    """The database of :func:`games_path`, opened once per process (every browser session
    of the server shares it; the store serialises writes)."""
    path = games_path().resolve()
    with _lock:
        if path not in _opened:
            _opened[path] = SavedGames(path)
        return _opened[path]

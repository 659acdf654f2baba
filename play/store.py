"""Where workshop games are kept: an embedded SQLite database under the server's data folder.

A game is stored as what cannot be recomputed: its scenario, seed and seats with their join
codes, and the ordered list of its *inputs* (every order a team drafts or withdraws, every
"submitted", every resolution, every facilitator action). The world itself is never saved: it
is rebuilt by replaying the inputs (room.py), which is exact because the world is deterministic.

Each write is one transaction committed with ``synchronous=FULL`` before the caller goes on,
so an input acknowledged to a browser survives the server being killed at any moment; a
half-written transaction is rolled back by SQLite on the next open.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS games (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    scenario TEXT NOT NULL,      -- the Scenario as JSON (a game outlives edits to its file)
    seed INTEGER NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS seats (
    game_id TEXT NOT NULL REFERENCES games(id),
    seat TEXT NOT NULL,
    code TEXT NOT NULL,          -- the join code (the facilitator reprints the sheet from it)
    team INTEGER NOT NULL,       -- 1 if a team plays it at the start, else its doctrine does
    PRIMARY KEY (game_id, seat)
);
CREATE TABLE IF NOT EXISTS inputs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    game_id TEXT NOT NULL REFERENCES games(id),
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,         -- "facilitator", a seat, or "timer"
    payload TEXT NOT NULL,       -- JSON
    at REAL NOT NULL             -- wall-clock seconds
);
CREATE INDEX IF NOT EXISTS inputs_by_game ON inputs (game_id, seq);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY, -- sha256 of the browser's session token, never the token
    role TEXT NOT NULL,
    game_id TEXT,
    seat TEXT,
    created REAL NOT NULL
);
"""


class StoreError(RuntimeError):
    """The database cannot be opened or read (the message says which file and why)."""


@dataclass(frozen=True)
class GameRecord:
    """A stored game: what it was created from."""

    id: str
    name: str
    scenario_json: str
    seed: int
    created: float
    seats: dict[str, tuple[str, bool]]  # seat -> (join code, played by a team at the start)


@dataclass(frozen=True)
class InputRecord:
    """One stored input of a game."""

    seq: int
    kind: str
    actor: str
    payload: dict[str, Any]
    at: float


def token_hash(token: str) -> str:
    """What is stored of a session token: its SHA-256 (a stolen database admits nobody)."""
    return hashlib.sha256(token.encode()).hexdigest()


class Store:
    """The workshop database.

    Args:
        path: the SQLite file (created, with its folder, if missing; readable by the owner only).
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            where = self.path.parent
            raise StoreError(f"{where}: cannot hold the workshop database ({exc})") from None
        new = not self.path.exists()
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            if new:
                os.chmod(self.path, 0o600)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"{self.path}: not a usable workshop database ({exc}); move it aside or pass "
                "another --data folder"
            ) from None
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _write(self, statements: list[tuple[str, tuple]]) -> int:
        """Run statements in one committed transaction; returns the last row id."""
        with self._lock:
            cur = self._db.cursor()
            try:
                cur.execute("BEGIN IMMEDIATE")
                for sql, args in statements:
                    cur.execute(sql, args)
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            return cur.lastrowid or 0

    def _read(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # ------------------------------------------------------------------ games

    def add_game(self, record: GameRecord) -> None:
        statements = [
            (
                "INSERT INTO games (id, name, scenario, seed, created) VALUES (?, ?, ?, ?, ?)",
                (record.id, record.name, record.scenario_json, record.seed, record.created),
            )
        ]
        statements += [
            ("INSERT INTO seats (game_id, seat, code, team) VALUES (?, ?, ?, ?)",
             (record.id, seat, code, int(team)))
            for seat, (code, team) in record.seats.items()
        ]  # fmt: skip
        self._write(statements)

    def games(self) -> list[GameRecord]:
        seats: dict[str, dict[str, tuple[str, bool]]] = {}
        for game_id, seat, code, team in self._read(
            "SELECT game_id, seat, code, team FROM seats ORDER BY rowid"
        ):
            seats.setdefault(game_id, {})[seat] = (code, bool(team))
        return [
            GameRecord(gid, name, scenario, int(seed), float(created), seats.get(gid, {}))
            for gid, name, scenario, seed, created in self._read(
                "SELECT id, name, scenario, seed, created FROM games ORDER BY created, id"
            )
        ]

    # ------------------------------------------------------------------ inputs

    def add_input(
        self,
        game_id: str,
        kind: str,
        actor: str,
        payload: dict[str, Any],
        end_seat: str | None = None,
        new_code: str | None = None,
    ) -> int:
        """Append an input; returns its sequence number once it is on disk.

        Args:
            end_seat: a seat whose browser sessions end in the same transaction (a seat
                handed over: the team that had it loses it the moment the input is stored).
            new_code: with ``end_seat``, the seat's new join code, stored in that transaction
                too (the old code admits nobody from then on).
        """
        statements = [
            (
                "INSERT INTO inputs (game_id, kind, actor, payload, at) VALUES (?, ?, ?, ?, ?)",
                (game_id, kind, actor, json.dumps(payload, sort_keys=True), time.time()),
            )
        ]
        if end_seat is not None:
            if new_code is not None:
                statements.append(
                    ("UPDATE seats SET code = ? WHERE game_id = ? AND seat = ?",
                     (new_code, game_id, end_seat))
                )  # fmt: skip
            statements.append(
                ("DELETE FROM sessions WHERE role = 'seat' AND game_id = ? AND seat = ?",
                 (game_id, end_seat))
            )  # fmt: skip
        return self._write(statements)

    def inputs(self, game_id: str) -> list[InputRecord]:
        return [
            InputRecord(int(seq), kind, actor, json.loads(payload), float(at))
            for seq, kind, actor, payload, at in self._read(
                "SELECT seq, kind, actor, payload, at FROM inputs WHERE game_id = ? ORDER BY seq",
                (game_id,),
            )
        ]

    # ------------------------------------------------------------------ sessions

    def add_session(self, token: str, role: str, game_id: str | None, seat: str | None) -> None:
        self._write(
            [
                (
                    "INSERT INTO sessions (token_hash, role, game_id, seat, created) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (token_hash(token), role, game_id, seat, time.time()),
                )
            ]
        )

    def session(self, token: str, max_age_s: float) -> tuple[str, str | None, str | None] | None:
        """The (role, game, seat) of a session no older than ``max_age_s``, else None."""
        rows = self._read(
            "SELECT role, game_id, seat FROM sessions WHERE token_hash = ? AND created > ?",
            (token_hash(token), time.time() - max_age_s),
        )
        return rows[0] if rows else None

    def drop_session(self, token: str) -> None:
        self._write([("DELETE FROM sessions WHERE token_hash = ?", (token_hash(token),))])

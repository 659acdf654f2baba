"""The grading file of a single-player game: one JSON document a teacher can read or load.

It holds who played what (scenario, seed, seat, the doctrine of every seat), every order of
the game with what became of it (applied, committed by a deal, rejected, still pending, or
undone: thrown away by an undo or a reset, with the status it had then) and the seat's score
at the end of each turn. :class:`GradingFile` is its format (the JSON schema is
``GradingFile.model_json_schema()``; docs/teachers-guide.md describes it). No UI code here:
ui/components.py offers the file for download.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from play.session import OBSERVER, GameSession, pending_rows
from play.verdict import score_by_month, score_per_turn
from world.calendar import turn_of

#: The format's name and version, first in every file.
FORMAT = "chokepoint-grading/1"
#: What a seat's doctrine reads when a person plays it, or when the scenario seats nobody there.
HUMAN, NO_SEAT = "human", "none"

Status = Literal["applied", "committed", "rejected", "pending", "undone"]


class GradedOrder(BaseModel):
    """One order, as the game logged it."""

    model_config = ConfigDict(extra="forbid")

    order_id: str = Field(description="one id from submission (pending) to the log")
    turn: int = Field(ge=1, description="the turn (1-based) of `month`")
    month: int = Field(ge=0, description="the month it was logged in (0 = scenario start)")
    date: str = Field(description="that month, YYYY-MM")
    issuer: str = Field(description="the state (region id) or firm that issued it")
    kind: str = Field(description="the instrument, e.g. import_tariff, stockpile_buy")
    parameters: dict[str, Any] = Field(description="the order's settings, as submitted")
    status: Status = Field(
        description="applied; committed (applied as a deal's commitment); rejected (changed "
        "nothing); pending (waiting for the turn boundary); undone (an undo or reset threw it "
        "away)"
    )
    undone_status: Literal["", "applied", "committed", "rejected", "pending"] = Field(
        "", description="for an undone order: the status it had when it was undone"
    )
    message: str = Field(description="what the world said: what changed, or why it was refused")
    source: str = Field(description="who sent it: seat, doctrine:<name>, ai:deals, script, ...")


class TurnScore(BaseModel):
    """The seat's score at the end of one turn."""

    model_config = ConfigDict(extra="forbid")

    turn: int = Field(ge=1)
    date: str = Field(description="the turn's last month, YYYY-MM")
    score: float = Field(description="the seat's objective score, -1 to 1")


class GradingFile(BaseModel):
    """A whole game, for grading."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["chokepoint-grading/1"] = FORMAT
    scenario: str = Field(description="the scenario's name")
    scenario_version: str
    seed: int = Field(ge=0)
    seat: str = Field(description="the player's seat (a region id), or observer")
    turn_months: int = Field(ge=1, description="months per turn")
    months: int = Field(ge=1, description="the game's horizon, months")
    month: int = Field(ge=0, description="the month the game was left at")
    doctrines: dict[str, str] = Field(
        description="every state -> the doctrine that played it: 'human' for the player's "
        "seat, 'none' for a state the scenario seats nobody at"
    )
    start_score: float | None = Field(
        description="the seat's score after the first month (None: the observer, or no month "
        "played yet); success is ending above it"
    )
    scores: list[TurnScore] = Field(description="the seat's score at the end of each turn played")
    orders: list[GradedOrder] = Field(description="every order of the game, oldest first")


def grading_file(session: GameSession) -> GradingFile:
    """The session's game as a :class:`GradingFile` (validated)."""
    spec, t = session.spec, session.spec.turn_months
    rows = session.world.orders().to_dict("records") + pending_rows(session.world)
    rows = [{**row, "undone_status": ""} for row in rows]
    rows += [{**row, "status": "undone", "undone_status": row["status"]} for row in session.undone]
    rows.sort(key=lambda row: int(row["month"]))  # stable: the log's sequence within a month
    orders = [
        GradedOrder(
            order_id=str(row["order_id"]),
            turn=turn_of(int(row["month"]), t),
            month=int(row["month"]),
            date=str(row["date"]),
            issuer=str(row["issuer"]),
            kind=str(row["kind"]),
            parameters=_parameters(row["parameters"]),
            status=row["status"],
            undone_status=row["undone_status"],
            message=str(row["message"]),
            source=str(row["source"]),
        )
        for row in rows
    ]
    scored = session.seat != OBSERVER and session.world.month > 0
    table = score_per_turn(session) if scored else None
    return GradingFile(
        scenario=spec.name,
        scenario_version=spec.version,
        seed=session.seed,
        seat=session.seat,
        turn_months=t,
        months=spec.months,
        month=session.world.month,
        doctrines={
            s.region: HUMAN
            if s.region == session.seat
            else (spec.seats[s.region].doctrine if s.region in spec.seats else NO_SEAT)
            for s in spec.states
        },
        start_score=float(score_by_month(session.world, session.seat).iloc[0]) if scored else None,
        scores=[]
        if table is None
        else [
            TurnScore(turn=int(r.turn), date=str(r.date), score=float(r.played))
            for r in table.itertuples(index=False)
        ],
        orders=orders,
    )


def grading_json(session: GameSession) -> bytes:
    """The grading file as UTF-8 JSON (what the page offers for download)."""
    return grading_file(session).model_dump_json(indent=2).encode()


def _parameters(text: str) -> dict[str, Any]:
    """An order's settings as a table (the log keeps them as JSON text; a rejected order that
    was not one may have been anything)."""
    try:
        parsed = json.loads(text)
    except (TypeError, ValueError):
        return {"raw": str(text)}
    return parsed if isinstance(parsed, dict) else {"raw": parsed}

"""The verdict of a finished single-player game: its score against the do-nothing run of the
same seed, turn by turn, and what each objective contributed (no UI code; ui/results_screen.py
shows it).

The do-nothing run is the same scenario, seed and AI seats with the player's seat issuing no
order at all. It is computed once per (scenario, seed, seat) in a background thread, so that
the page does not wait for it.
"""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import pandas as pd

from play.session import OBJECTIVE_WORDS, GameSession
from world import Scenario, World
from world.calendar import turn_start
from world.objectives import OBJECTIVES, economy_scale, normalised, state_scores, weights

#: The weighted objectives -> the objective whose value they are made from.
WEIGHTED = {"welfare": "welfare", "security": "security", "leverage": "leverage",
            "fiscal": "fiscal_cost"}  # fmt: skip

_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="do-nothing")
_runs: dict[tuple[str, int, str], Future] = {}
_lock = threading.Lock()


def _do_nothing(spec: Scenario, seed: int, seat: str) -> World:
    world = World(spec, seed=seed, human_seats=frozenset({seat}))
    return world.run()


def baseline(session: GameSession) -> Future:
    """The do-nothing run of the session's scenario, seed and seat (a future holding the
    World at the horizon), started in the background the first time it is asked for."""
    digest = hashlib.sha256(session.spec.model_dump_json().encode()).hexdigest()
    key = (digest, session.seed, session.seat)
    with _lock:
        if key not in _runs:
            _runs[key] = _pool.submit(_do_nothing, session.spec, session.seed, session.seat)
        return _runs[key]


def score_by_month(world: World, seat: str) -> pd.Series:
    """The seat's score (-1 to 1) month by month (index: month)."""
    table = world.objectives()
    mine = table[(table.region == seat) & (table.objective == "score")]
    return mine.set_index("month")["value"]


def score_per_turn(session: GameSession, other: World | None = None) -> pd.DataFrame:
    """The score at the end of each turn: turn, date (the turn's last month), played and, with
    ``other`` (the do-nothing run), do_nothing and their difference."""
    t = session.spec.turn_months
    played = score_by_month(session.world, session.seat)
    rows = []
    for turn in range(1, session.turns + 1):
        last = min(turn_start(turn + 1, t), session.spec.months) - 1
        if last not in played.index:
            break
        row = {"turn": turn, "date": session.world.date_of(last), "played": played[last]}
        if other is not None:
            row["do_nothing"] = score_by_month(other, session.seat).get(last, float("nan"))
            row["difference"] = row["played"] - row["do_nothing"]
        rows.append(row)
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Contribution:
    """One objective's part in a score."""

    objective: str  # a weighted objective: welfare, security, leverage or fiscal
    weight: float
    value: float  # the objective's value, in its unit (see world.objectives.OBJECTIVES)
    normalised: float  # on the score's scale, -1 to 1
    points: float  # what it adds to the score: weight x normalised / sum of |weights|


def contributions(world: World, seat: str) -> list[Contribution]:
    """What each weighted objective adds to the seat's score in the month that just ran
    (read at the horizon: the last month of the game). Their points add up to the score."""
    values = state_scores(world, seat)
    norm = normalised(values, economy_scale(world, seat))
    weight = weights(world, seat)
    total = sum(abs(weight.get(k, 0.0)) for k in norm) or 1.0
    return [
        Contribution(k, weight.get(k, 0.0), values[WEIGHTED[k]], norm[k],
                     weight.get(k, 0.0) * norm[k] / total)
        for k in norm
    ]  # fmt: skip


def objective_words(objective: str) -> str:
    """What a weighted objective rewards, in a player's words."""
    return OBJECTIVE_WORDS.get(objective, objective)


def formatted(value: float, unit: str) -> str:
    """A value as a person reads it: USD in millions or billions, shares and scores to three
    decimals (``530878074.722`` USD/month reads ``530.9 million USD/month``)."""
    if value != value:  # NaN: not known
        return "n/a"
    if unit.startswith("USD"):
        per = unit[3:]
        size = abs(value)
        if size >= 1e9:
            return f"{value / 1e9:,.2f} billion USD{per}"
        if size >= 1e6:
            return f"{value / 1e6:,.1f} million USD{per}"
        return f"{value:,.0f} USD{per}"
    return f"{value:+.3f}" if unit == "score" else f"{value:.3f}"


def objective_value(objective: str, value: float) -> str:
    """A value of one of world.objectives.OBJECTIVES (``fiscal_cost``, ``score``...),
    formatted in its unit."""
    unit = OBJECTIVES.get(objective, ("",))[0]
    return formatted(value, "score" if objective == "score" else unit)


#: The unit of each weighted objective's value, for :func:`formatted`.
UNITS = {"welfare": "USD/month", "security": "share", "leverage": "share",
         "fiscal": "USD/month"}  # fmt: skip

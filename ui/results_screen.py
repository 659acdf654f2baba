"""The results screen shown at the horizon: the verdict of play/verdict.py, and the grading file."""

from __future__ import annotations

import pandas as pd
import solara
from matplotlib.figure import Figure

from play import verdict
from play.grading import grading_json
from play.session import OBSERVER, GameSession
from ui import charts


def score_figure(table, seat: str) -> Figure:
    """The seat's score at the end of each turn, played against doing nothing."""
    figure = Figure(figsize=(7.2, 3.2), layout="constrained")
    ax = figure.subplots()
    ax.plot(table["turn"], table["played"], marker="o", label="your game")
    if "do_nothing" in table:
        ax.plot(table["turn"], table["do_nothing"], marker=".", ls="--", label="doing nothing")
    ax.set_xlabel("turn")
    ax.set_ylabel(f"score of {seat} (-1 to 1)")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=11)
    return figure


@solara.component
def ResultsScreen(session: GameSession, version: int):
    """The verdict of a finished game (``version``: as in ui/components.py's panels). The
    do-nothing run is computed in the background; the screen fills in when it is ready."""
    if session.seat == OBSERVER:
        with solara.Card("The game is over", classes=["results-screen"]):
            solara.Markdown("You observed: no seat was scored. Read the debrief below.")
    else:
        SeatResults(session, version)


@solara.component
def SeatResults(session: GameSession, version: int):
    """:func:`ResultsScreen` for a player's seat."""
    seat = session.seat
    future = verdict.baseline(session)
    ready = solara.use_reactive(future.done())

    def wait() -> None:
        future.result()
        ready.set(True)

    solara.use_thread(wait, dependencies=[id(future)], intrusive_cancel=False)
    other = future.result() if ready.value and future.done() else None
    table = verdict.score_per_turn(session, other)
    played = verdict.score_by_month(session.world, seat)
    start, end = played.iloc[0], played.iloc[-1]
    with solara.Card("The game is over: your results", classes=["results-screen"]):
        lines = [
            f"**Final score of {seat}: {verdict.formatted(end, 'score')}** "
            f"(it started at {verdict.formatted(start, 'score')}; -1 to 1, higher is better)."
        ]
        if other is None:
            lines.append("*Computing the do-nothing run for the same seed...*")
        else:
            base = verdict.score_by_month(other, seat).iloc[-1]
            gap = end - base
            better = "better than" if gap > 0 else "worse than" if gap < 0 else "the same as"
            lines.append(
                f"Doing nothing (same seed, no order from {seat}) ends at "
                f"**{verdict.formatted(base, 'score')}**: your game is {better} doing nothing "
                f"by {abs(gap):.3f}."
            )
        with solara.Column(classes=["results-verdict"]):
            solara.Markdown("\n\n".join(lines))
        solara.Markdown("**What each objective contributed to the final score**")
        solara.DataFrame(_contributions(session, other), items_per_page=8)
        solara.Markdown("**Score at the end of each turn**")
        figure = solara.use_memo(
            lambda: charts.png(score_figure(table, seat)),
            dependencies=[version, id(session.world), other is not None],
        )
        solara.Image(figure)
        shown = table.copy()
        for column in ("played", "do_nothing", "difference"):
            if column in shown:
                shown[column] = shown[column].map(lambda v: verdict.formatted(v, "score"))
        solara.DataFrame(shown, items_per_page=12)
        GradingDownload(session)


@solara.component
def GradingDownload(session: GameSession):
    """The grading file of the game so far (play/grading.py), for download."""
    name = f"{session.spec.name}-seed{session.seed}-{session.seat}-m{session.month}"
    solara.FileDownload(
        lambda: grading_json(session), filename=f"{name}-grading.json", label="Grading file (JSON)"
    )


def _contributions(session: GameSession, other) -> pd.DataFrame:
    """The final month's contributions as a table, values formatted with their units."""
    rows = []
    mine = verdict.contributions(session.world, session.seat)
    theirs = verdict.contributions(other, session.seat) if other is not None else None
    for i, part in enumerate(mine):
        unit = verdict.UNITS[part.objective]
        row = {
            "objective": verdict.objective_words(part.objective),
            "weight": f"{part.weight:g}",
            "value": verdict.formatted(part.value, unit),
            "points": verdict.formatted(part.points, "score"),
        }
        if theirs is not None:
            row["doing nothing: value"] = verdict.formatted(theirs[i].value, unit)
            row["doing nothing: points"] = verdict.formatted(theirs[i].points, "score")
        rows.append(row)
    return pd.DataFrame(rows)

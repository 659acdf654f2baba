"""The start screen's list of stored games, each with a button that resumes it."""

from __future__ import annotations

import functools
from collections.abc import Callable

import solara

from play.saved_games import saved_games
from play.session import GameSession
from play.store import StoreError

#: How many of the latest games the list shows.
SHOWN = 12


@solara.component
def SavedGamesList(on_resume: Callable[[GameSession], None]):
    """The latest stored games (play/saved_games.py); Resume rebuilds one where it was left."""
    problem = solara.use_reactive("")
    try:
        games = saved_games().games()[:SHOWN]
    except StoreError as exc:
        solara.Warning(f"Saved games cannot be read: {exc}")
        return
    if not games:
        return

    def resume(game_id: str) -> None:
        try:
            session = saved_games().resume(game_id)
        except (KeyError, ValueError, StoreError) as exc:
            problem.set(f"This game cannot be resumed: {exc}")
            return
        on_resume(session)

    with solara.Card("Resume a saved game", classes=["saved-games"], style={"max-width": "900px"}):
        for game in games:
            with solara.Row(classes=["saved-game"], style={"align-items": "center"}):
                solara.Button(
                    "Results" if game.finished else "Resume",
                    on_click=functools.partial(resume, game.id),
                    classes=["resume-game"],
                    small=True,
                )
                solara.Text(game.label())
        if problem.value:
            solara.Error(problem.value)

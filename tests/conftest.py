"""Fixtures shared across test modules."""

import os

import pytest
from workshop_setup import facilitator, game, workshops  # noqa: F401

from play.saved_games import GAMES_ENV


@pytest.fixture(scope="session", autouse=True)
def saved_games_in_tmp(tmp_path_factory):
    """Single-player games are kept in a temporary folder, never in the working tree (session
    scope, so that a server a test module starts inherits it too)."""
    path = tmp_path_factory.mktemp("saved-games") / "games.sqlite"
    before = os.environ.get(GAMES_ENV)
    os.environ[GAMES_ENV] = str(path)
    yield path
    if before is None:
        os.environ.pop(GAMES_ENV, None)
    else:
        os.environ[GAMES_ENV] = before

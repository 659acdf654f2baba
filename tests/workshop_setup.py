"""What the workshop tests share: a workshop database in a temporary folder, its facilitator,
and a game of three teams (registered as fixtures by conftest.py; a module may still
define its own `game`, as the single-player tests do)."""

import pytest

from play.room import Workshops

SCENARIO = "alliance-vs-tariffs-2025"
KEY = "facilitator-key-for-tests"


@pytest.fixture
def workshops(tmp_path):
    """The games of a fresh database (no timer thread: tests drive the clock)."""
    server = Workshops(tmp_path, KEY, clock_s=0)
    yield server
    server.close()


@pytest.fixture
def facilitator(workshops):
    return workshops.login(KEY)


@pytest.fixture
def game(workshops, facilitator):
    """A game of alliance-vs-tariffs-2025 with teams for the US, China and Japan."""
    return workshops.create_game(facilitator, SCENARIO, teams=["US", "CN", "JP"], seed=3)

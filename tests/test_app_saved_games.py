"""Single-player games kept in SQLite: rebuilt exactly after a reload or a restart, with undo,
reset and redo (play/saved_games.py, play/session.py)."""

import pytest

from play.saved_games import GAMES_ENV, SavedGames, games_path
from play.session import GameSession
from world import load_scenario

SCENARIO = "alliance-vs-tariffs-2025"
TARIFF = {"kind": "import_tariff", "commodities": ["magnet"], "partners": ["CN"], "rate": 0.5}


@pytest.fixture(scope="module")
def spec():
    return load_scenario(SCENARIO)


def test_the_database_is_where_the_environment_says(saved_games_in_tmp, monkeypatch):
    assert games_path() == saved_games_in_tmp
    monkeypatch.delenv(GAMES_ENV)
    assert str(games_path()) == "saved-games/games.sqlite"


def _played(spec, games: SavedGames) -> GameSession:
    game = GameSession(spec, seed=3, seat="US", turn_months=2, doctrines={"CN": "hedger"})
    games.keep(game)
    game.submit(TARIFF)
    game.submit({"kind": "import_tariff", "rate": 99})  # rejected: an input too
    game.end_turn()
    game.step()
    game.submit({**TARIFF, "rate": 0.25})
    order_id = game.pending_orders()[0][0]
    game.cancel(order_id)
    game.end_turn()
    return game


def test_a_game_is_rebuilt_exactly_from_the_database_after_a_restart(spec, tmp_path):
    path = tmp_path / "games.sqlite"
    game = _played(spec, SavedGames(path))
    # A new SavedGames on the same file: what a restarted server opens.
    games = SavedGames(path)
    [saved] = games.games()
    assert (saved.seat, saved.seed, saved.month, saved.finished) == ("US", 3, 4, False)
    assert "month 4/" in saved.label() and spec.name in saved.label()
    back = games.resume(saved.id)
    assert back.month == game.month == 4
    assert back.spec.turn_months == 2 and back.world.doctrines["CN"].name == "hedger"
    assert back.world.orders().equals(game.world.orders())
    assert back.world.results().equals(game.world.results())
    # The resumed game goes on being kept.
    back.end_turn()
    assert SavedGames(path).games()[0].month == 6


def test_undo_reset_and_redo_are_kept_and_rebuilt(spec, tmp_path):
    path = tmp_path / "games.sqlite"
    games = SavedGames(path)
    game = _played(spec, games)
    at_four = game.world.results()
    waiting = game.submit({**TARIFF, "rate": 0.3}).order_id
    game.undo_to_turn(2)
    assert game.month == 2 and game.can_redo and not game.pending_orders()
    # What the undo threw away is kept as undone: the order waiting for the turn too.
    assert [(r["order_id"], r["status"]) for r in game.undone] == [(waiting, "pending")]
    game.redo()
    assert game.month == 4 and not game.undone and not game.can_redo
    assert game.world.results().equals(at_four)
    assert [order_id for order_id, _ in game.pending_orders()] == [waiting]
    game.reset()
    assert game.month == 0
    assert {r["status"] for r in game.undone} == {"applied", "rejected", "pending"}
    game.redo()
    assert game.month == 4
    game.undo_to_turn(2)
    game.step()  # playing on after an undo: what it threw away stays undone
    assert not game.can_redo and game.undone
    back = SavedGames(path).resume(games.games()[0].id)
    assert back.month == game.month == 3
    assert back.world.results().equals(game.world.results())
    assert back.undone == game.undone


def test_new_order_ids_never_reuse_an_undone_orders_id(spec):
    game = GameSession(spec, seed=0, seat="US")
    game.end_turn()
    game.submit(TARIFF)
    game.end_turn()
    game.undo_to_turn(2)
    result = game.submit(TARIFF)
    assert result.order_id not in {row["order_id"] for row in game.undone}


def test_resuming_an_unknown_game_names_it(tmp_path):
    with pytest.raises(KeyError, match="no saved game 'nope'"):
        SavedGames(tmp_path / "g.sqlite").resume("nope")


def test_a_game_saved_when_turns_counted_from_0_resumes_where_it_was_left(spec, tmp_path):
    games = SavedGames(tmp_path / "games.sqlite")
    game = GameSession(spec, seed=3, seat="US", turn_months=2)
    game_id = games.keep(game)
    game.submit(TARIFF)
    game.end_turn()
    game.end_turn()
    game.undo_to_turn(2)  # the start of the second turn, month 2
    [undo] = [i for i in games.store.inputs(game_id) if i.kind == "undo"]
    assert undo.payload == {"turn": 2, "first_turn": 1, "month": 2}
    # The same game as an older version stored it: the undo's turn counted from 0.
    old = GameSession(spec, seed=3, seat="US", turn_months=2)
    old_id = games.keep(old)
    old.submit(TARIFF)
    old.end_turn()
    old.end_turn()
    old.record = None
    games.store.add_input(old_id, "undo", "US", {"turn": 1, "month": 2})
    back = games.resume(old_id)
    assert back.month == game.month == 2 and back.turn == 2
    assert back.world.results().equals(game.world.results())
    assert back.undone == game.undone

"""The verdict of a finished game: score against the do-nothing run, per turn, and what each
objective contributed (play/verdict.py)."""

import re

import ipyvuetify as v
import pytest
import solara

from play import verdict
from play.session import GameSession
from ui.components import Game
from world import World, load_scenario

SCENARIO = "alliance-vs-tariffs-2025"


@pytest.fixture(scope="module")
def finished():
    spec = load_scenario(SCENARIO).model_copy(update={"months": 12})
    game = GameSession(spec, seed=5, seat="US")
    game.submit({"kind": "stockpile_buy", "commodity": "magnet", "tonnes": 300, "months": 12})
    while not game.finished:
        game.end_turn()
    return game


def test_the_do_nothing_run_is_the_same_seed_with_no_order_from_the_seat(finished):
    other = verdict.baseline(finished).result(timeout=120)
    assert verdict.baseline(finished).result() is other, "computed once"
    assert other.month == finished.spec.months
    mine = other.orders()
    assert not (mine["issuer"] == "US").any()
    again = World(finished.spec, seed=5, human_seats=frozenset({"US"})).run()
    assert again.results().equals(other.results())
    # The player's stockpile purchase cost money the do-nothing run did not spend.
    played = verdict.score_per_turn(finished, other)
    assert list(played["turn"]) == [1, 2, 3, 4]
    assert (played["difference"] == played["played"] - played["do_nothing"]).all()
    assert played["difference"].abs().max() > 0


def test_the_score_per_turn_is_the_score_in_each_turns_last_month(finished):
    table = verdict.score_per_turn(finished)
    scores = verdict.score_by_month(finished.world, "US")
    assert list(table["played"]) == [scores[m] for m in (2, 5, 8, 11)]
    assert list(table["date"]) == [finished.world.date_of(m) for m in (2, 5, 8, 11)]


def test_the_contributions_add_up_to_the_final_score(finished):
    parts = verdict.contributions(finished.world, "US")
    assert [p.objective for p in parts] == ["welfare", "security", "leverage", "fiscal"]
    final = verdict.score_by_month(finished.world, "US").iloc[-1]
    assert sum(p.points for p in parts) == pytest.approx(final, abs=1e-12)
    fiscal = next(p for p in parts if p.objective == "fiscal")
    assert fiscal.value > 0 and fiscal.points < 0, "the purchase's cost counts against the seat"


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (530878074.722, "USD/month", "530.9 million USD/month"),
        (-2.5e9, "USD/month", "-2.50 billion USD/month"),
        (1234.5, "USD", "1,234 USD"),
        (0.12345, "share", "0.123"),
        (-0.0514, "score", "-0.051"),
        (float("nan"), "score", "n/a"),
    ],
)
def test_values_read_with_their_units(value, unit, text):
    assert verdict.formatted(value, unit) == text


def test_the_game_shows_the_results_screen_once_finished(finished):
    verdict.baseline(finished).result(timeout=120)  # ready: the screen shows it at once
    _, rc = solara.render(Game(finished), handle_error=False)
    text = " ".join(str(w.template) for w in rc.find(v.VuetifyTemplate).widgets)
    assert "Final score of US" in text
    assert "Doing nothing (same seed, no order from US) ends at" in text
    assert not re.search(r"\d{7,}", text)


def test_the_results_screen_waits_for_a_game_to_end():
    game = GameSession(SCENARIO, seed=0, seat="US")
    _, rc = solara.render(Game(game), handle_error=False)
    assert "Final score" not in " ".join(
        str(w.template) for w in rc.find(v.VuetifyTemplate).widgets
    )


def test_the_debrief_formats_objective_values_in_their_units(finished):
    from solara.components.datatable import DataTableWidget

    from ui.components import Debrief

    _, rc = solara.render(Debrief(finished, 0), handle_error=False)
    tables = rc.find(DataTableWidget).widgets
    [table] = [w for w in tables if "objective" in str(w.headers)]
    cells = [str(c) for row in table.items for k, c in row.items() if k != "objective"]
    assert any("million USD/month" in c or c.endswith(" USD/month") for c in cells)
    assert not any(re.fullmatch(r"-?\d{7,}(\.\d+)?", c) for c in cells)

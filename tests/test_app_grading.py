"""The grading file of a single-player game (play/grading.py) and its download."""

import json

import ipyvuetify as v
import pytest
import solara

from play.grading import GradingFile, grading_file, grading_json
from play.session import OBSERVER, GameSession
from play.verdict import score_per_turn
from ui.components import Debrief
from world import load_scenario

SCENARIO = "alliance-vs-tariffs-2025"
TARIFF = {"kind": "import_tariff", "commodities": ["magnet"], "partners": ["CN"], "rate": 0.25}
STOCKPILE = {"kind": "stockpile_buy", "commodity": "magnet", "tonnes": 300, "months": 6}


@pytest.fixture(scope="module")
def spec():
    return load_scenario(SCENARIO)


def _game(spec) -> tuple[GameSession, dict[str, str]]:
    """A US game: a tariff kept, a typo, a stockpile purchase an undo throws away after it
    applied, and a tariff still waiting; returns the game and those orders' ids."""
    game = GameSession(spec, seed=1, seat="US", doctrines={"CN": "tariff-hawk"})
    ids = {"kept": game.submit(TARIFF).order_id}
    ids["typo"] = game.submit({"kind": "import_tariff", "rate": 99}).order_id
    game.end_turn()
    ids["undone"] = game.submit(STOCKPILE).order_id
    game.end_turn()
    game.end_turn()
    game.undo_to_turn(2)
    game.end_turn()
    game.end_turn()
    ids["pending"] = game.submit({**TARIFF, "rate": 0.1}).order_id
    return game, ids


def test_the_file_holds_every_order_with_undone_ones_marked_and_the_score_per_turn(spec):
    game, ids = _game(spec)
    data = json.loads(grading_json(game))
    again = GradingFile.model_validate(data)  # the format it documents
    assert again == grading_file(game)
    assert (data["scenario"], data["seed"], data["seat"]) == (SCENARIO, 1, "US")
    assert data["turn_months"] == spec.turn_months and data["month"] == game.month
    assert data["doctrines"]["US"] == "human" and data["doctrines"]["CN"] == "tariff-hawk"
    assert set(data["doctrines"]) == {s.region for s in spec.states}
    orders = {o["order_id"]: o for o in data["orders"]}
    assert orders[ids["kept"]]["status"] == "applied"
    assert orders[ids["kept"]]["parameters"]["rate"] == 0.25
    assert orders[ids["typo"]]["status"] == "rejected" and "rate" in orders[ids["typo"]]["message"]
    undone = orders[ids["undone"]]
    assert (undone["status"], undone["undone_status"]) == ("undone", "applied")
    assert (undone["kind"], undone["parameters"]["tonnes"]) == ("stockpile_buy", 300)
    assert undone["turn"] == 2 and undone["month"] == spec.turn_months
    assert orders[ids["pending"]]["status"] == "pending"
    assert [o["month"] for o in data["orders"]] == sorted(o["month"] for o in data["orders"])
    # The AI seats' orders are there too, and no order is listed twice.
    assert any(o["source"].startswith("doctrine:") for o in data["orders"])
    listed = [o["order_id"] for o in data["orders"]]
    assert len(listed) == len(set(listed))
    expected = score_per_turn(game)
    assert [s["turn"] for s in data["scores"]] == list(expected["turn"]) == [1, 2, 3]
    assert [s["score"] for s in data["scores"]] == pytest.approx(list(expected["played"]))
    assert data["start_score"] == pytest.approx(game.world.objectives().query(
        "region == 'US' and objective == 'score'")["value"].iloc[0])  # fmt: skip


def test_an_undone_pending_order_is_marked_and_a_redo_takes_the_mark_back(spec):
    game, ids = _game(spec)
    game.undo_to_turn(3)
    marked = {o.order_id: o for o in grading_file(game).orders}
    assert (marked[ids["pending"]].status, marked[ids["pending"]].undone_status) == (
        "undone",
        "pending",
    )
    game.redo()
    after = {o.order_id: o.status for o in grading_file(game).orders}
    assert after[ids["pending"]] == "pending"
    assert after[ids["undone"]] == "undone" and after[ids["kept"]] == "applied"


def test_the_observer_has_no_score_and_a_fresh_game_no_orders(spec):
    observer = GradingFile.model_validate_json(grading_json(GameSession(spec, seed=0)))
    assert observer.seat == OBSERVER and observer.scores == [] and observer.start_score is None
    assert "human" not in observer.doctrines.values()
    assert observer.orders == []


def test_the_debrief_offers_the_grading_file(spec):
    game = GameSession(spec, seed=0, seat="US")
    game.end_turn()
    _, rc = solara.render(Debrief(game, game.version), handle_error=False)
    labels = [str(w.children) for w in rc.find(v.Btn).widgets]
    assert any("Grading file (JSON)" in label for label in labels), labels

"""The guided first turn (ui/guide.py): its steps, Skip, Finish and Help, and that a game
keeps where its player stands in the guide across a reload (play/saved_games.py)."""

import re

import ipyvuetify as v
import pytest
import solara

from play.saved_games import SavedGames
from play.session import OBSERVER, GameSession
from ui.components import Game
from ui.guide import STEPS, steps_for

SCENARIO = "alliance-vs-tariffs-2025"


def _click(rc, label: str) -> None:
    rc.find(v.Btn, children=[label]).widget.click()


def _step_title(rc) -> str:
    """The title of the guide's card on show ("" if none)."""
    cards = [w for w in rc.find(v.Card).widgets if "guide-step" in (w.class_ or "")]
    if not cards:
        return ""
    (card,) = cards
    return next(str(k.children[0]) for k in card.children if isinstance(k, v.CardTitle))


def _text(rc) -> str:
    return " ".join(str(w.template) for w in rc.find(v.VuetifyTemplate).widgets)


def test_a_new_game_walks_through_the_steps_and_finishing_closes_the_guide():
    game = GameSession(SCENARIO, seed=0, seat="US")
    _, rc = solara.render(Game(game), handle_error=False)
    assert 3 <= len(STEPS) <= 5
    assert _step_title(rc) == f"Guided first turn, step 1 of {len(STEPS)}: {STEPS[0].title}"
    assert re.search(r"You play (<strong>)?US", _text(rc)) and "welfare x" in _text(rc)
    rc.find(v.Btn, children=["Guided first turn"]).assert_single()
    assert rc.find(v.Btn, children=["Guided first turn"]).widget.disabled  # already on show
    for i in range(1, len(STEPS)):
        _click(rc, "Next")
        assert _step_title(rc).startswith(f"Guided first turn, step {i + 1} of {len(STEPS)}")
        assert game.guide_step == i
    _click(rc, "Back")
    assert game.guide_step == len(STEPS) - 2
    _click(rc, "Next")
    rc.find(v.Btn, children=["Next"]).assert_empty()
    _click(rc, "Finish")
    assert game.guide_step is None and _step_title(rc) == ""
    assert game.month == 0, "the guide plays nothing itself"
    # Help starts it again.
    _click(rc, "Guided first turn")
    assert game.guide_step == 0 and "step 1 of" in _step_title(rc)


def test_skip_closes_the_guide_at_any_step():
    game = GameSession(SCENARIO, seed=0, seat="US")
    _, rc = solara.render(Game(game), handle_error=False)
    _click(rc, "Next")
    _click(rc, "Skip the guide")
    assert game.guide_step is None and _step_title(rc) == ""
    _click(rc, "End turn")
    assert _step_title(rc) == "", "not shown again as the game goes on"


def test_the_steps_that_ask_for_something_say_when_it_is_done():
    game = GameSession(SCENARIO, seed=0, seat="US")
    _, rc = solara.render(Game(game), handle_error=False)
    order_step = next(i for i, s in enumerate(STEPS) if "order" in s.title)
    clock_step = next(i for i, s in enumerate(STEPS) if "clock" in s.title)
    for _ in range(order_step):
        _click(rc, "Next")
    rc.find(v.Alert, children=["Done: press Next."]).assert_empty()
    rc.find(v.TextField, label="Rate (0.25 = 25%)").widget.v_model = "0.3"
    _click(rc, "Submit order")
    rc.find(v.Alert, children=["Done: press Next."]).assert_single()
    game.cancel_pending()
    _click(rc, "Next")
    assert game.guide_step == order_step + 1 == clock_step
    rc.find(v.Alert, children=["Done: press Next."]).assert_empty()
    _click(rc, "Step 1 month")
    rc.find(v.Alert, children=["Done: press Next."]).assert_single()


def test_the_observer_is_not_asked_to_play_a_seat():
    observer = steps_for(GameSession(SCENARIO, seed=0, seat=OBSERVER))
    assert [s.title for s in observer] == [s.title for s in STEPS if not s.players_only]
    assert 3 <= len(observer) < len(STEPS)


def test_a_saved_game_keeps_its_place_in_the_guide(tmp_path):
    games = SavedGames(tmp_path / "games.sqlite")
    skipped = GameSession(SCENARIO, seed=1, seat="US")
    games_id = games.keep(skipped)
    skipped.guide_at(None)
    skipped.step()
    midway = GameSession(SCENARIO, seed=2, seat="JP")
    midway_id = games.keep(midway)
    midway.guide_at(1)
    midway.guide_at(2)
    fresh_id = games.keep(GameSession(SCENARIO, seed=3, seat="EU"))

    again = games.resume(games_id)
    assert again.guide_step is None and again.month == 1
    _, rc = solara.render(Game(again), handle_error=False)
    assert _step_title(rc) == ""
    assert games.resume(midway_id).guide_step == 2
    assert games.resume(fresh_id).guide_step == 0
    # Moving in the guide is not a move in the game: Redo still holds after it.
    skipped.reset()
    skipped.guide_at(0)
    assert skipped.can_redo


@pytest.mark.parametrize("step", [-1, 10, 1.5, "2", True])
def test_a_guide_step_out_of_range_is_refused_with_the_field_named(step):
    game = GameSession(SCENARIO, seed=0, seat="US")
    with pytest.raises(ValueError, match="guide step: a whole number from 0 to 9"):
        game.guide_at(step)
    assert game.guide_step == 0

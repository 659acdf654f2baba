"""An order applied but delivering less than asked says why, in its seat's news only
(world/shortfalls.py)."""

import re

import numpy as np
import pytest

from ui.session import GameSession
from world.shortfalls import SHORTFALL

SCENARIO = "alliance-vs-tariffs-2025"
LINE = re.compile(
    r"stockpile purchase (\S+): ([\d,.]+) of ([\d,.]+) t of (\w+) bought in (\d{4}-\d\d): (.+)"
)


@pytest.fixture(scope="module")
def played():
    game = GameSession(SCENARIO, seed=0, seat="US")
    game.submit({"kind": "stockpile_buy", "commodity": "magnet", "tonnes": 9e6})
    held = []
    for _ in range(4):
        held.append(float(np.sum(game.world.states_by_region["US"].stockpile["magnet"])))
        game.step()
    held.append(float(np.sum(game.world.states_by_region["US"].stockpile["magnet"])))
    return game, held


def test_a_purchase_short_of_its_aim_says_what_it_got_and_why(played):
    game, held = played
    news = game.news()
    lines = news[news["kind"] == SHORTFALL]
    assert len(lines) == 4  # one a month: nobody sells 750,000 t of magnets in a month
    by_month = {}
    for text in lines["text"]:
        match = LINE.fullmatch(text)
        assert match, text
        programme, got, asked, commodity, date, reason = match.groups()
        assert programme.startswith("US-stockpile_buy-") and commodity == "magnet"
        assert float(asked.replace(",", "")) == pytest.approx(750_000, rel=1e-3)
        assert reason and float(got.replace(",", "")) < 750_000
        by_month[date] = float(got.replace(",", ""))
    # What the news says was bought is what went into the stockpile (the seat has no other
    # purchase in the market), month by month.
    bought = np.diff(held)
    for month, tonnes in enumerate(bought):
        assert by_month[game.world.date_of(month)] == pytest.approx(tonnes, abs=0.06)


def test_a_shortfall_is_news_to_its_own_seat_only(played):
    game, _ = played
    other = GameSession(SCENARIO, seed=0, seat="JP")
    other.world = game.world  # the same world, read from Japan's seat
    assert not (other.news()["kind"] == SHORTFALL).any()
    assert (game.news()["kind"] == SHORTFALL).any()


def test_a_purchase_nobody_can_fill_says_the_market_sold_out():
    game = GameSession(SCENARIO, seed=0, seat="US")
    game.submit({"kind": "stockpile_buy", "commodity": "oxide_heavy", "tonnes": 50})
    game.step()
    (text,) = game.news().query("kind == @SHORTFALL")["text"]
    assert text.startswith("stockpile purchase US-stockpile_buy-")
    assert ": 0.0 of 4.2 t of oxide_heavy bought in 2025-01: the market sold out" in text
    assert float(np.sum(game.world.states_by_region["US"].stockpile["oxide_heavy"])) == 0

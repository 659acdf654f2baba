"""The game session behind the browser page, and the dashboard's figures (no browser)."""

import re

import numpy as np
import pytest

from agents.doctrines import make_doctrine
from play.session import (
    OBSERVER,
    GameSession,
    briefing,
    debrief_questions,
    default_doctrine,
    seats_of,
)
from ui import charts
from world import load_scenario

SCENARIO = "alliance-vs-tariffs-2025"


@pytest.fixture(scope="module")
def spec():
    return load_scenario(SCENARIO)


def test_seats_are_the_states_and_the_observer(spec):
    assert seats_of(spec) == [s.region for s in spec.states] + [OBSERVER]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"seed": -1}, "seed: a whole number from 0 to"),
        ({"seed": "x"}, "seed: a whole number from 0 to"),
        ({"seat": "ZZ"}, "seat: unknown seat 'ZZ'; allowed: CN, US"),
        ({"seat": None}, "seat: unknown seat None"),
        ({"turn_months": -3}, "turn_months: a whole number from 1 to 24"),
        ({"turn_months": 2.7}, "turn_months: a whole number from 1 to 24"),
        ({"doctrines": ["CN"]}, "doctrines: a table of region -> doctrine name"),
        ({"doctrines": {"CN": ["hedger"]}}, "doctrines: a table of region -> doctrine name"),
    ],
)
def test_a_malformed_game_is_refused_with_the_field_named(spec, settings, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        GameSession(spec, **{"seat": "US", **settings})


def test_anything_but_an_order_is_rejected_with_a_reason(spec):
    game = GameSession(spec, seed=0, seat="US")
    for junk in (None, [1], "x", {"kind": "nuke"}):
        result = game.submit(junk)
        assert result.status == "rejected" and result.message
    with pytest.raises(ValueError, match="turn: a whole number from 1 to"):
        game.undo_to_turn("x")
    assert game.pending() == []


def test_a_seats_briefing_has_the_situation_its_role_objectives_and_success(spec):
    text = briefing(spec, "US")
    brief = spec.briefing
    for part in (brief.situation, brief.seats["US"].role, brief.seats["US"].success):
        assert part in text
    assert "security" in text and "(x 1)" in text and "leverage" not in text  # US weight 0
    china = briefing(spec, "CN")
    assert brief.seats["CN"].role in china and "leverage" in china
    observer = briefing(spec, OBSERVER)
    assert brief.situation in observer and "Your role" not in observer
    bare = spec.model_copy(update={"briefing": None})
    assert spec.description in briefing(bare, "US") and debrief_questions(bare) == []
    assert debrief_questions(spec) == brief.debrief_questions


def test_the_player_picks_the_ai_seats_doctrines(spec):
    game = GameSession(spec, seed=0, seat="US", doctrines={"CN": "tariff-hawk", "AU": "passive"})
    assert type(game.world.doctrines["CN"]) is type(make_doctrine("tariff-hawk", "CN", {}))
    assert game.spec.seats["CN"].doctrine == "tariff-hawk"
    assert game.spec.seats["JP"].doctrine == spec.seats["JP"].doctrine  # untouched
    assert default_doctrine(spec, "AU") == spec.seats["AU"].doctrine
    game.end_turn()
    game.undo_to_turn(1)
    assert game.world.doctrines["CN"].name == "tariff-hawk"  # the choice survives an undo
    with pytest.raises(ValueError, match=r"doctrines\.US: not an AI seat here; allowed: CN, JP"):
        GameSession(spec, seat="US", doctrines={"US": "passive"})
    with pytest.raises(
        ValueError, match=r"doctrines\.CN: unknown doctrine 'bully'; allowed: passive"
    ):
        GameSession(spec, seat="US", doctrines={"CN": "bully"})


def test_end_turn_applies_a_tariff_and_reports_it(spec):
    game = GameSession(spec, seed=0, seat="US")
    result = game.submit(
        {"kind": "import_tariff", "commodities": ["magnet"], "partners": ["CN"], "rate": 0.25}
    )
    assert result.status == "pending"
    assert (
        game.pending() and "United States sets a 25% tariff on magnet from CN" in game.pending()[0]
    )
    game.end_turn()
    assert game.month == spec.turn_months
    assert any("import tariff on magnet (CN) at 25%" in line for line in game.in_force("US"))
    news = game.news()
    assert news["text"].str.contains("United States sets a 25% tariff").any()
    assert list(news["month"]) == sorted(news["month"], reverse=True)


def test_the_id_a_pending_order_shows_is_the_one_it_is_applied_and_in_force_under(spec):
    game = GameSession(spec, seed=0, seat="US")
    game.end_turn()
    game.submit({"kind": "import_tariff", "commodities": ["magnet"], "partners": ["CN"],
                 "rate": 0.25})  # fmt: skip
    ((order_id, _words),) = game.pending_orders()
    game.end_turn()
    row = game.world.orders().set_index("order_id").loc[order_id]
    assert row["status"] == "applied" and f"US-import_tariff-{order_id}" in row["message"]
    assert any(line.startswith(f"US-import_tariff-{order_id}: ") for line in game.in_force("US"))
    mine = game.news("mine")
    (line,) = mine.loc[mine["order_id"] == order_id, "text"]
    assert f"US-import_tariff-{order_id}" in line


def test_invalid_order_gives_the_worlds_reason(spec):
    game = GameSession(spec, seed=0, seat="US")
    result = game.submit({"kind": "import_tariff", "commodities": ["magnet"], "rate": 25})
    assert result.status == "rejected"
    assert "must be between 0 and 10" in result.message
    assert not game.pending()


def test_turn_length_and_reset(spec):
    game = GameSession(spec, seed=0, seat=OBSERVER, turn_months=2)
    game.end_turn()
    assert game.month == 2
    game.step()
    assert game.month == 3
    game.reset()
    assert game.month == 0


def test_undo_to_an_earlier_turn_reproduces_it(spec):
    game = GameSession(spec, seed=0, seat="US")
    game.submit(
        {"kind": "import_tariff", "commodities": ["magnet"], "partners": ["CN"], "rate": 0.5}
    )
    game.end_turn()
    game.end_turn()
    before = game.world.results()
    game.undo_to_turn(2)
    assert game.month == spec.turn_months
    after = game.world.results()
    cut = spec.turn_months
    a = before[before.month < cut].reset_index(drop=True)
    b = after[after.month < cut].reset_index(drop=True)
    assert a.equals(b)
    # The AI seats play on after the rewind.
    assert set(game.world.doctrines) == set(spec.seats) - {"US"}
    game.end_turn()
    assert game.month == 2 * spec.turn_months


def test_two_sessions_are_independent(spec):
    a = GameSession(spec, seed=0, seat="US")
    b = GameSession(spec, seed=0, seat="US")
    a.submit({"kind": "import_tariff", "commodities": ["magnet"], "partners": ["CN"], "rate": 1})
    a.end_turn()
    assert b.month == 0 and not b.pending()


def test_exports(spec):
    game = GameSession(spec, seed=0, seat="US")
    game.step()
    assert game.results_csv().startswith(b"month,date,variable")
    assert game.results_parquet()[:4] == b"PAR1"
    assert game.orders_csv().startswith(b"month,")


@pytest.mark.parametrize("months", [0, 4])
def test_every_tab_draws(spec, months):
    game = GameSession(spec, seed=0, seat="US")
    game.world.run(months)
    for tab in charts.TABS:
        fig = charts.draw(game.world, tab, "US", log=True)
        assert fig.axes
    assert charts.colour("CN") == "#d62728" and charts.colour("US") == "#1f77b4"


def test_stocks_show_commercial_and_strategic_cover_and_keep_stockpiles_secret(spec):
    game = GameSession(spec, seed=0, seat="US")
    buy = {"kind": "stockpile_buy", "issuer": "US", "commodity": "magnet", "tonnes": 3000,
           "months": 3}  # fmt: skip
    assert game.submit(buy).status == "pending"
    game.world.run(6)
    w, ci = game.world, game.world.commodity_index["magnet"]
    cover = w.recorder.array("cover_months")[:, ci, :]
    fig = charts.stocks(w, "magnet")

    def series(ax):  # the data lines (turn and event markers are lines too)
        return [line for line in ax.lines if len(line.get_xdata()) == w.month]

    commercial, strategic, tonnes = (series(ax) for ax in fig.axes[:3])
    assert len(commercial) == len(strategic) == len(tonnes) == len(w.region_ids)
    for r in range(len(w.region_ids)):
        both = commercial[r].get_ydata() + strategic[r].get_ydata()
        np.testing.assert_allclose(both, np.nan_to_num(cover[:, r]), rtol=1e-9)
    us = w.region_index["US"]
    assert strategic[us].get_ydata()[-1] > 0  # the purchase shows as months of cover
    # A team sees every region's commercial stocks but only its own strategic stockpile.
    mine = charts.draw(w, "Stocks", "JP", viewer="JP")
    assert len(series(mine.axes[0])) == len(w.region_ids)
    assert len(series(mine.axes[1])) == len(series(mine.axes[2])) == 1
    assert "(JP only)" in mine.axes[2].get_title()


@pytest.mark.parametrize("log", [False, True])
def test_live_price_chart_blits_the_same_picture_as_a_full_redraw(spec, log):
    import io

    import numpy as np
    from PIL import Image

    game = GameSession(spec, seed=0, seat="US")
    live = charts.LivePrices(game.world, log=log)
    pictures = []
    for _ in range(14):  # past a year: the x axis grows once on the way
        game.step()
        pictures.append(live.png())
    assert len(set(pictures)) == len(pictures)  # every month changes the picture
    live.background = None  # force a full redraw at the same limits
    fresh = live.png()
    blitted, redrawn = (np.asarray(Image.open(io.BytesIO(p))) for p in (pictures[-1], fresh))
    assert blitted.shape == redrawn.shape
    assert np.array_equal(blitted, redrawn)
    # Every price drawn lies inside its panel's limits (the y axes grow with the data).
    data = game.world.recorder.array("price")
    for ci, ax in enumerate(live.axes):
        low, high = ax.get_ylim()
        assert low <= data[:, ci, :].min() and data[:, ci, :].max() <= high
        assert ax.get_xlim()[1] >= game.world.month


@pytest.mark.parametrize("log", [False, True])
def test_a_panel_redrawn_alone_when_its_axis_grows_matches_a_whole_redraw(spec, log):
    """Month by month for two years, the live chart (which redraws only the panels whose y
    axis grew) makes the same picture as one that redraws everything every month."""
    game = GameSession(spec, seed=0, seat="US")
    live = charts.LivePrices(game.world, log=log)
    whole = charts.LivePrices(game.world, log=log)
    alone = 0
    for _ in range(26):
        game.step()
        live.update()
        alone += bool(live._stale) and live.background is not None
        whole.update()
        whole.background = None  # a whole redraw
        assert live.png() == whole.png(), f"month {game.world.month}"
    assert alone > 0  # some months grew some panels' axes, not all: that path was taken


def test_the_clock_never_reads_a_turn_past_the_last_and_says_when_the_game_is_over(spec):
    short = spec.model_copy(update={"months": 36, "turn_months": 3})
    game = GameSession(short, seed=0, seat="US")
    assert game.turns == 12 and "turn 1/12" in game.clock()
    seen = []
    while not game.finished:
        seen.append(game.clock())
        game.end_turn()
    assert [re.search(r"turn (\d+)/12", c).group(1) for c in seen] == [str(t) for t in range(1, 13)]
    assert game.month == 36
    assert "month 36/36 · game over (12 turns played)" in game.clock()
    assert "turn 13" not in game.clock()


def test_pending_orders_read_in_the_worlds_words_and_each_can_be_cancelled(spec):
    game = GameSession(spec, seed=0, seat="US")
    tariff = {"kind": "import_tariff", "commodities": ["magnet"], "partners": ["CN"], "rate": 0.25}
    buy = {"kind": "stockpile_buy", "commodity": "magnet", "tonnes": 500}
    ids = [game.submit(order).order_id for order in (tariff, buy)]
    (first, tariff_words), (second, buy_words) = game.pending_orders()
    assert [first, second] == ids
    assert tariff_words == "United States sets a 25% tariff on magnet from CN"
    assert buy_words == "United States buys 500 t of magnet for its stockpile over 12 months"
    assert not any(mark in text for text in game.pending() for mark in ("=", "['", "[US-"))
    game.cancel(first)
    assert [order_id for order_id, _ in game.pending_orders()] == [second]
    game.end_turn()
    kinds = game.world.orders().query("status == 'applied' and issuer == 'US'")["kind"]
    assert "stockpile_buy" in set(kinds) and "import_tariff" not in set(kinds)


def test_reading_pending_orders_changes_nothing_in_the_world(spec):
    tariff = {"kind": "import_tariff", "commodities": ["magnet"], "partners": ["CN"], "rate": 0.25}
    games = [GameSession(spec, seed=3, seat="US") for _ in range(2)]
    for game in games:
        game.end_turn()
        game.submit(tariff)
    assert games[0].pending()  # a dry run on a copy of the world, in one game only
    for game in games:
        game.end_turn()
        game.end_turn()
    a, b = (game.world.results() for game in games)
    assert a.equals(b)


def test_a_rejected_order_is_news_only_to_the_seat_that_sent_it(spec):
    typo = {"kind": "import_tariff", "commodities": ["magnet"], "rate": 25}
    us, observer = GameSession(spec, seed=0, seat="US"), GameSession(spec, seed=0)
    for game in (us, observer):
        game.submit({**typo, "issuer": "US"} if game is observer else typo)
        game.world.submit({**typo, "issuer": "CN"}, seat="CN")  # China's typo
        game.end_turn()
        assert list(game.world.orders().status).count("rejected") == 2
    news = us.news()
    assert list(news[news.text.str.contains("[rejected]", regex=False)].who) == ["US"]
    assert not observer.news().text.str.contains("rejected").any()
    assert observer.news().text.str.contains("Kachin").any()  # the public news stays

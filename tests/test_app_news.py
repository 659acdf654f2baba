"""The single-player news: filters by topic, and every item once (play/session.py's ``news``,
ui/components.py's ``NewsFeed``)."""

from html import unescape

import ipyvuetify as v
import pytest
import solara

from play.session import NEWS_FILTERS, OBSERVER, GameSession
from ui.components import NewsFeed
from world import load_scenario

SCENARIO = "alliance-vs-tariffs-2025"
TARIFF = {"kind": "import_tariff", "commodities": ["magnet"], "partners": ["CN"], "rate": 0.25}
LIFT = {"kind": "lift", "issuer": "US", "measure": "import_tariff", "commodities": ["magnet"]}
#: What each topic filter keeps, by the kind column of the news.
TOPIC_KINDS = {"events": {"event"}, "firms": {"firm"}}


@pytest.fixture(scope="module")
def spec():
    return load_scenario(SCENARIO)


def _played(spec, months_after: int = 0) -> GameSession:
    """A US game with an applied tariff, a rejected typo, a deal China offers the US and the
    US's answer, then ``months_after`` more months."""
    game = GameSession(spec, seed=0, seat="US")
    game.submit(TARIFF)
    game.submit({"kind": "import_tariff", "commodities": ["magnet"], "rate": 25})  # rejected
    game.end_turn()
    offer = {"kind": "propose_deal", "issuer": "CN", "recipients": ["US"], "duration_months": 12}
    game.world.submit({**offer, "commitments": [LIFT]})
    game.end_turn()
    (deal,) = game.inbox()
    game.submit({"kind": "respond_deal", "deal_id": deal.id, "action": "reject"})
    game.end_turn()
    game.world.run(months_after)
    return game


@pytest.fixture(scope="module")
def played(spec):
    return _played(spec, months_after=30)


def test_each_filter_shows_only_its_kind_and_the_topics_add_up_to_all(played):
    everything = played.news("all")
    by_filter = {show: played.news(show) for show in NEWS_FILTERS}
    for show, kinds in TOPIC_KINDS.items():
        assert not by_filter[show].empty, show
        assert set(by_filter[show]["kind"]) == kinds, show
    orders = by_filter["orders"]
    assert "order" in set(orders["kind"])
    assert not set(orders["kind"]) & {"event", "firm"}
    # mine: what the US did, or was told alone (its deal talks, its shortfalls).
    mine = by_filter["mine"]
    assert not mine.empty and mine["mine"].all()
    assert set(mine["who"]) <= {"US", "CN"}  # China's offer was told to the US and China only
    assert (mine["who"] == "US").any() and not (
        everything[~everything["mine"]]["who"] == "US"
    ).any()
    assert len(orders) + len(by_filter["events"]) + len(by_filter["firms"]) == len(everything)
    with pytest.raises(ValueError, match="show: unknown news filter 'deals'; allowed: mine, all"):
        played.news("deals")


def test_no_item_is_shown_twice(played):
    observer = GameSession(played.spec, seed=0, seat=OBSERVER)
    observer.world = played.world
    for game in (played, observer):
        news = game.news()
        assert len(news) > 30
        # One line per order, whether the world's log or the order's own line tells it.
        ids = news.loc[news["order_id"] != "", "order_id"]
        assert not ids.duplicated().any(), list(ids[ids.duplicated()])
        assert not news.duplicated(["month", "who", "text"]).any()
    # China's offer and the US's answer: once each (the order's line, with the order's id).
    offer = next(d for d in played.deals().deals.values() if d.proposer == "CN")
    news = played.news()
    for verb in ("proposes", "rejects"):
        told = news[news["text"].str.contains(rf"{verb} {offer.id}\b")]
        assert len(told) == 1, list(told["text"])


def test_the_seats_rejected_order_stays_its_own_and_is_kept_after_an_undo(spec):
    game = _played(spec)
    assert game.news("mine")["text"].str.contains("[rejected]", regex=False).sum() == 1
    china = GameSession(spec, seed=0, seat="CN")
    china.world = game.world
    assert not china.news("all")["text"].str.contains("[rejected]", regex=False).any()
    game.undo_to_turn(2)
    assert game.news("mine")["text"].str.contains("[rejected]", regex=False).sum() == 1


def _html(rc) -> str:
    from solara.widgets.widgets import HTML

    return " ".join(w.unsafe_innerHTML for w in rc.find(HTML).widgets)


def _filters(rc):
    return next(
        w
        for w in rc.find(v.BtnToggle).widgets
        if [b.children[0] for b in w.children][:2] in (["mine", "all"], ["all", "orders"])
    )


def test_the_feeds_filter_buttons_show_one_topic_each(played):
    _, rc = solara.render(NewsFeed(played, played.version, per_page=500), handle_error=False)
    toggle = _filters(rc)
    labels = [b.children[0] for b in toggle.children]
    assert labels == list(NEWS_FILTERS)
    assert "(firm)" in _html(rc) and "(event)" in _html(rc) and "(order)" in _html(rc)
    toggle.v_model = labels.index("firms")
    assert "(firm)" in _html(rc)
    assert "(event)" not in _html(rc) and "(order)" not in _html(rc)
    toggle.v_model = labels.index("events")
    assert "Kachin" in _html(rc) and "(firm)" not in _html(rc) and "(order)" not in _html(rc)
    toggle.v_model = labels.index("orders")
    assert "(order)" in _html(rc) and "(firm)" not in _html(rc) and "(event)" not in _html(rc)
    toggle.v_model = labels.index("mine")
    assert "[rejected]" in _html(rc) and "(firm)" not in _html(rc)
    observer = GameSession(played.spec, seed=0, seat=OBSERVER)
    _, rc = solara.render(NewsFeed(observer, 0), handle_error=False)
    assert [b.children[0] for b in _filters(rc).children] == [
        f for f in NEWS_FILTERS if f != "mine"
    ]


def _lines(rc) -> str:
    """The feed's lines: the one HTML element of class news-lines ("" while it is empty)."""
    from solara.widgets.widgets import HTML

    found = [w for w in rc.find(HTML).widgets if "news-lines" in w.attributes.get("class", "")]
    return found[0].unsafe_innerHTML if found else ""


def test_the_live_feed_follows_every_step_order_and_undo_of_the_game(spec):
    """The game page keeps the feed it built while the news stays the same (news_mark): in one
    live render, every new item still shows after the step, order or undo that made it, and an
    undo drops what it took back. Expected items are read from the session's own news."""
    from ui.components import Game

    game = GameSession(spec, seed=0, seat="US")
    _, rc = solara.render(Game(game), handle_error=False)
    step = rc.find(v.Btn, children=["Step 1 month"])
    grew = 0
    for _ in range(8):
        before = game.news_mark()
        step.widget.click()
        newest = game.news().iloc[0]
        assert newest.text.split(":")[0][:40] in unescape(_lines(rc))
        grew += game.news_mark() != before
    assert 0 < grew < 8  # some months add news, some do not: both paths are taken
    order = game.submit(TARIFF).order_id  # news once applied, as the next turn is played
    for _ in range(2):
        if order not in set(game.news()["order_id"]):
            rc.find(v.Btn, children=["End turn"]).widget.click()
    assert order in set(game.news()["order_id"])
    assert "25% tariff on magnet from CN" in unescape(_lines(rc))
    rows = len(game.news())
    game.undo_to_turn(1)  # a new world: the feed is built again
    step.widget.click()
    assert len(game.news()) < rows
    assert "25% tariff on magnet from CN" not in unescape(_lines(rc))

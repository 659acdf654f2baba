"""An order applied but delivering less than asked says why, in its seat's news only
(world/shortfalls.py)."""

import re

import numpy as np
import pytest

from play.session import GameSession
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


#: Orders that apply and yet act on nothing in this scenario's first months, with what the
#: seat is told: (order, the words its line and its status give the reason in).
DO_NOTHING = {
    "tariff on an import that does not occur": (
        {"kind": "import_tariff", "commodities": ["concentrate"], "partners": ["JP"], "rate": 0.2},
        "has no effect on concentrate: none is made or offered in JP",
    ),
    "export ban on a flow that does not exist": (
        {"kind": "export_ban", "commodities": ["metal"], "partners": ["CN"]},
        "has no effect on metal: none is made or offered in US",
    ),
    "capex subsidy with no eligible plant": (
        {"kind": "capex_subsidy", "stages": ["recycler"], "share": 0.3},
        "has no effect: no recycler firm in US to pay",
    ),
    "production subsidy with nobody producing": (
        {"kind": "production_subsidy", "stages": ["metal"], "usd_per_kg": 2},
        "has no effect: the 1 metal firm(s) in US produced nothing this month",
    ),
    "price floor for a plant not producing": (
        {
            "kind": "price_floor",
            "firm": "mp-independence",
            "commodity": "magnet",
            "floor_usd_per_kg": 60,
        },
        "has no effect: MP Materials (Independence, Fort Worth) made no magnet this month "
        "(status: construction)",
    ),
    "offtake guarantee with no supply": (
        {
            "kind": "offtake_guarantee",
            "firm": "mp-independence",
            "commodity": "magnet",
            "share": 0.5,
            "price_usd_per_kg": 60,
        },
        "has no effect: MP Materials (Independence, Fort Worth) made no magnet this month "
        "(status: construction)",
    ),
}


@pytest.mark.parametrize("case", DO_NOTHING)
def test_an_order_that_acts_on_nothing_says_why_once_and_in_its_status(case):
    order, words = DO_NOTHING[case]
    game = GameSession(SCENARIO, seed=0, seat="US")
    order_id = game.submit(order).order_id
    game.step()
    game.step()
    mine = game.news().query("kind == @SHORTFALL")
    assert len(mine) == 1, mine["text"].tolist()  # once while it holds, not every month
    (text,) = mine["text"]
    measure = f"US-{order['kind']}-{order_id}"
    assert text == f"{order['kind'].replace('_', ' ')} {measure} {words}"
    # Its status where the seat sees its orders in force: the reason, for the month played.
    reason = game.world.shortfalls[measure].reason
    assert reason and reason in words
    (line,) = [x for x in game.in_force("US") if x.startswith(f"{measure}: ")]
    assert line.endswith(f"(falls short in 2025-02: {reason})"), line


def test_orders_that_act_say_nothing():
    game = GameSession(SCENARIO, seed=0, seat="US")
    for order in (
        # China makes magnets and the US buys them; Mountain Pass mines; MP separates.
        {"kind": "import_tariff", "commodities": ["magnet"], "partners": ["CN"], "rate": 0.2},
        {"kind": "production_subsidy", "stages": ["mine"], "usd_per_kg": 1},
        {"kind": "capex_subsidy", "stages": ["magnet"], "share": 0.3},
        {
            "kind": "offtake_guarantee",
            "firm": "mp-separation",
            "commodity": "oxide_light",
            "share": 0.1,
            "price_usd_per_kg": 60,
        },
    ):
        assert game.submit(order).status == "pending"
    game.step()
    game.step()
    assert not (game.news()["kind"] == SHORTFALL).any()
    assert not [s for s in game.world.shortfalls.values() if s.issuer == "US"]
    assert not any("falls short" in line for line in game.in_force("US"))


def test_the_why_panel_and_the_order_panel_name_the_reason():
    import ipyvuetify as v
    import solara

    from ui.components import OrderPanel
    from ui.why import WhyPanel

    game = GameSession(SCENARIO, seed=0, seat="US")
    order, words = DO_NOTHING["tariff on an import that does not occur"]
    game.submit(order)
    game.step()
    reason = "none is made or offered in JP"
    assert reason in words

    def shown(rc) -> str:
        return " ".join(str(w.template) for w in rc.find(v.VuetifyTemplate).widgets)

    _, rc = solara.render(OrderPanel(game, game.version, lambda: None), handle_error=False)
    assert f"(falls short in 2025-01: concentrate: {reason})" in shown(rc)
    _, rc = solara.render(WhyPanel(game, game.version), handle_error=False)
    assert "did less than ordered" not in shown(rc)  # magnets: the tariff is not on them
    rc.find(v.Select, label="Commodity").widget.v_model = "concentrate"
    assert "Your orders on it that did less than ordered" in shown(rc)
    assert reason in shown(rc)


RELEASE = re.compile(
    r"stockpile release (\S+): ([\d,.]+) of ([\d,.]+) t of (\w+) sold in (\d{4}-\d\d): (.+)"
)


def _china_releasing(tonnes: float, months: int) -> GameSession:
    """China (700 t of Dy/Tb oxide in store in baseline-2024) releases ``tonnes`` over
    ``months``."""
    game = GameSession("baseline-2024", seed=0, seat="CN")
    order = {"kind": "stockpile_release", "commodity": "oxide_heavy"}
    result = game.submit({**order, "tonnes": tonnes, "months": months})
    assert result.status in ("pending", "applied"), result
    return game


def test_a_release_buyers_do_not_take_says_what_sold_and_why():
    # 700 t in one month is about four months of the world's Dy/Tb use: buyers take part of it.
    game = _china_releasing(700, 1)
    china = game.world.states_by_region["CN"]
    game.step()
    (text,) = game.news().query("kind == @SHORTFALL")["text"]
    match = RELEASE.fullmatch(text)
    assert match, text
    programme, sold, asked, commodity, _date, reason = match.groups()
    assert programme.startswith("CN-stockpile_release-") and commodity == "oxide_heavy"
    assert float(asked.replace(",", "")) == pytest.approx(700)
    # What the news says sold is what left the stockpile.
    left = float(np.sum(china.stockpile["oxide_heavy"]))
    assert float(sold.replace(",", "")) == pytest.approx(700 - left, abs=0.06)
    assert 0 < 700 - left < 700
    assert reason.startswith("buyers took no more at ") and f"({left:,.1f} t still held)" in reason


def test_a_release_from_an_emptied_stockpile_says_it_holds_none():
    game = _china_releasing(70, 7)
    game.step()
    assert not (game.news()["kind"] == SHORTFALL).any()  # 10 t a month sells
    china = game.world.states_by_region["CN"]
    # Something else took the stock (a sale by hand, say): the release has nothing to sell.
    china.stockpile["oxide_heavy"] = game.world.new_stock("oxide_heavy")
    game.step()
    (text,) = game.news().query("kind == @SHORTFALL")["text"]
    assert RELEASE.fullmatch(text), text
    assert ": 0.0 of 10.0 t of oxide_heavy sold in " in text
    assert text.endswith(": the stockpile holds no oxide_heavy")


def _contract_news(game: GameSession, buyer: str) -> list[dict]:
    return [e for e in game.world.log if e["kind"] == SHORTFALL and e["actor"] == buyer]


def test_a_firms_contract_with_an_unbuilt_plant_says_why_to_its_region_only():
    # Hyundai/Kia's offtake from Arafura's Nolans (baseline-2024) delivers nothing until Nolans
    # is built: its buyer (row-metal) is told why, once while it holds, in its region's news.
    game = GameSession("baseline-2024", seed=0, seat="observer")
    nolans = game.world.firms_by_id["arafura-nolans-separation"]
    buyer = game.world.firms_by_id["row-metal"]
    head = (
        f"offtake contract {buyer.firm_id}-offtake_contract-hyundai-kia-arafura-offtake "
        f"({buyer.name} from {nolans.name}) delivers nothing: {nolans.name} made no "
        "oxide_light or oxide_heavy this month (status: "
    )
    statuses = []
    for _ in range(4):
        statuses.append(nolans.status)
        game.step()
        assert nolans.throughput == 0
    news = _contract_news(game, "row-metal")
    # A line when it starts to fall short and when its reason changes (the plant's status, as
    # it was when the month's trade was checked): not one a month.
    assert [e["text"] for e in news] == [f"{head}{s})" for s in dict.fromkeys(statuses)]
    assert all(e["private_to"] == ["ROW"] and e["region"] == "ROW" for e in news)


def test_a_contract_across_a_ban_says_the_arc_is_closed():
    # Shenghe's Chinese metal makers take MP's NdPr oxide (baseline-2024); a US export ban on
    # oxide to China closes the arc, and China's seat is told why.
    game = GameSession("baseline-2024", seed=0, seat="US")
    game.step()
    assert not _contract_news(game, "cn-metal"), "the contract delivers while the arc is open"
    assert game.submit(
        {"kind": "export_ban", "commodities": ["oxide_light"], "partners": ["CN"]}
    ).status in ("pending", "applied")
    for _ in range(game.spec.turn_months):
        game.step()
    (entry,) = _contract_news(game, "cn-metal")
    assert entry["private_to"] == ["CN"]
    assert entry["text"].endswith(
        "delivers nothing: a ban, quota or licence stands on oxide_light from US to CN"
    )
    cn = GameSession("baseline-2024", seed=0, seat="CN")
    cn.world = game.world
    assert entry["text"] in cn.news()["text"].tolist()
    assert entry["text"] not in game.news()["text"].tolist()


def test_the_debrief_says_which_of_the_seats_orders_fell_short_and_why():
    from play.session import decisions

    game = GameSession(SCENARIO, seed=0, seat="US")
    short = game.submit({"kind": "stockpile_buy", "commodity": "oxide_heavy", "tonnes": 50})
    fine = game.submit(
        {"kind": "import_tariff", "commodities": ["magnet"], "partners": ["CN"], "rate": 0.2}
    )
    for _ in range(3):
        game.step()
    table = decisions(game.world, "US", game.spec.turn_months)
    mine = table[table["issuer"] == "US"]
    mine = mine.set_index(mine["message"].str.extract(r"\[(.+)\]$")[0])
    buy, tariff = f"US-stockpile_buy-{short.order_id}", f"US-import_tariff-{fine.order_id}"
    assert mine.loc[buy, "effect"] == (
        "fell short in 3 months, last in 2025-03: " + game.world.shortfalls[buy].reason
    )
    assert mine.loc[tariff, "effect"] == ""
    # Another seat's debrief does not see the US's shortfalls (they are the US's own news).
    assert (decisions(game.world, "JP", game.spec.turn_months)["effect"] == "").all()

"""Headless tests of the page's panels (solara.render, no browser)."""

import io
import re
import zipfile

import ipyvuetify as v
import pytest
import solara

from play.session import GameSession
from ui import charts
from ui.components import (
    Controls,
    Dashboard,
    DealsPanel,
    Debrief,
    Game,
    GamePage,
    NewsFeed,
    OrderPanel,
    StartScreen,
)
from ui.order_form import build_order, instrument_help, json_object
from world import load_scenario
from world.orders import STATE_ORDER_KINDS

SCENARIO = "alliance-vs-tariffs-2025"


@pytest.fixture
def game():
    return GameSession(SCENARIO, seed=0, seat="US")


def _click(rc, label):
    rc.find(v.Btn, children=[label]).widget.click()


def _html(rc) -> str:
    """The inner HTML of every solara.HTML element rendered."""
    from solara.widgets.widgets import HTML

    return " ".join(w.unsafe_innerHTML for w in rc.find(HTML).widgets)


def _markdown(rc) -> str:
    """The text of every Markdown element rendered."""
    return " ".join(str(w.template) for w in rc.find(v.VuetifyTemplate).widgets)


def test_start_screen_starts_a_game_for_the_chosen_seat():
    started = []
    _, rc = solara.render(
        StartScreen(on_start=started.append, scenario=SCENARIO), handle_error=False
    )
    spec = load_scenario(SCENARIO)
    assert spec.briefing.seats["US"].role in _markdown(rc)  # the first seat's briefing
    rc.find(v.Select, label="Your seat").widget.v_model = "CN"
    text = _markdown(rc)
    assert spec.briefing.seats["CN"].success in text and spec.briefing.situation in text
    # Every other state's doctrine can be chosen; the player's own seat is not among them.
    rc.find(v.Select, label="CN").assert_empty()
    us = rc.find(v.Select, label="US").widget
    assert us.v_model == spec.seats["US"].doctrine and "tariff-hawk" in us.items
    us.v_model = "tariff-hawk"
    _click(rc, "Start the game")
    assert len(started) == 1 and started[0].seat == "CN" and started[0].month == 0
    assert started[0].world.doctrines["US"].name == "tariff-hawk"
    assert started[0].world.doctrines["JP"].name == spec.seats["JP"].doctrine


def test_page_goes_from_start_screen_to_game():
    _, rc = solara.render(GamePage(scenario=SCENARIO), handle_error=False)
    _click(rc, "Start the game")
    rc.find(v.Btn, children=["End turn"]).assert_single()


def test_controls_step_and_end_turn(game):
    changes = []
    _, rc = solara.render(Controls(game, 0, lambda: changes.append(game.month)), handle_error=False)
    _click(rc, "Step 1 month")
    _click(rc, "End turn")
    assert changes == [1, 3]


def test_dashboard_draws_only_the_visible_tab(game, monkeypatch):
    from ui import charts

    drawn = []
    real = charts.draw
    monkeypatch.setattr(
        charts, "draw", lambda w, tab, *a, **k: drawn.append(tab) or real(w, tab, *a, **k)
    )
    game.step()
    _, rc = solara.render(Dashboard(game, 1), handle_error=False)
    assert drawn == []  # the price tab updates its own figure in place
    rc.find(v.BtnToggle).widget.v_model = charts.TABS.index("Trade")
    assert drawn == ["Trade"]
    rc.find(v.BtnToggle).widget.v_model = charts.TABS.index("Capacity")
    assert drawn == ["Trade", "Capacity"]


def test_order_panel_shows_the_worlds_rejection_and_pending_orders(game):
    _, rc = solara.render(OrderPanel(game, 0, lambda: None), handle_error=False)
    rc.find(v.TextField, label="Rate (0.25 = 25%)").widget.v_model = "25"
    _click(rc, "Submit order")
    rc.find(v.Alert).assert_single()
    assert "must be between 0 and 10" in str(rc.find(v.Alert).widget.children)
    rc.find(v.TextField, label="Rate (0.25 = 25%)").widget.v_model = "0.3"
    _click(rc, "Submit order")
    message = str(rc.find(v.Alert).widget.children)
    assert "pending" in message and "takes effect from 2025-01, as the turn is played" in message
    assert len(game.pending()) == 1


#: What a US player enters beyond the form's starting values, for the order to be good now.
ENTERED = {
    **{
        # A restrictive form preselects no commodity and no partner.
        kind: {"Commodities": ["magnet"], "Partners (none = all)": ["CN"]}
        for kind in ("export_ban", "import_ban", "export_quota", "export_licence")
    },
    "production_quota": {"Stages": ["mine"], "Tonnes per year, t/yr": "45000"},
    "price_floor": {"Firm": "mp-separation"},
    "offtake_guarantee": {"Firm": "mp-separation"},
    "equity_stake": {"Firm": "mp-separation"},
    "alliance": {"Alliance name": "Minerals Security Partnership"},
    "lift": {
        "Measure (kind)": "import_tariff",
        "Commodities": ["metal"],
        "Partners (none = all)": [],
    },
}
#: Orders the world turns down at the start, with its reason.
REJECTED = {
    "licence_decision": "no licence of US that its seat decides is in force",
    "licence_terms": "US has no export licence in force that matches",
    "extraterritorial_control": "issuer: only CN",
    "stockpile_release": "the stockpile holds 0 t",
}


@pytest.mark.parametrize("kind", STATE_ORDER_KINDS)
def test_order_panel_offers_every_instrument_and_each_submits(game, kind):
    _, rc = solara.render(OrderPanel(game, 0, lambda: None), handle_error=False)
    items = rc.find(v.Select, label="Order").widget.items
    assert [i["value"] for i in items] == list(STATE_ORDER_KINDS)
    assert {"text": "Import tariff (import_tariff)", "value": "import_tariff"} in items
    rc.find(v.Select, label="Order").widget.v_model = kind
    # The instrument's own description (its class docstring) is shown.
    assert instrument_help(kind)[:40] in str([w.children for w in rc.find(v.Html).widgets])
    for label, value in ENTERED.get(kind, {}).items():
        found = rc.find(v.Select, label=label) if label != "Alliance name" else None
        if found is not None and found.widgets:
            found.widget.v_model = value
        else:
            rc.find(v.TextField, label=label).widget.v_model = value
    _click(rc, "Submit order")
    alert = str(rc.find(v.Alert).widget.children)
    if kind in REJECTED:
        assert "Rejected:" in alert and REJECTED[kind] in alert, alert
    else:
        assert "pending" in alert, alert
        ((order, *_),) = game.world.desk.pending
        assert order.kind == kind and order.issuer == "US"
    assert len(game.pending()) == (0 if kind in REJECTED else 1)


def test_a_programme_for_a_firm_offers_that_firms_products(game):
    _, rc = solara.render(OrderPanel(game, 0, lambda: None), handle_error=False)
    rc.find(v.Select, label="Order").widget.v_model = "price_floor"
    rc.find(v.Select, label="Firm").widget.v_model = "mp-separation"
    firm = game.world.firms_by_id["mp-separation"]
    commodity = rc.find(v.Select, label="Commodity").widget
    assert commodity.items == list(firm.output_commodities())
    assert commodity.v_model in firm.output_commodities()


def test_the_form_shows_the_instrument_in_force_and_reads_pairs(game):
    _, rc = solara.render(OrderPanel(game, 0, lambda: None), handle_error=False)
    # The US starts with its 5% most-favoured-nation duty on metal (the scenario's policy).
    assert "us-mfn-metal" in _markdown(rc) and "Yours in force now" in _markdown(rc)
    rc.find(v.Select, label="Order").widget.v_model = "export_ban"
    assert "Yours in force now" not in _markdown(rc)
    rc.find(v.Select, label="Order").widget.v_model = "alliance"
    rc.find(v.TextField, label="Alliance name").widget.v_model = "MSP"
    field = "Common external tariff (commodity=rate, ...)"
    rc.find(v.TextField, label=field).widget.v_model = "magnet 0.1"
    _click(rc, "Submit order")
    assert "common_external_tariff: write key=value pairs" in str(rc.find(v.Alert).widget.children)
    rc.find(v.TextField, label=field).widget.v_model = "magnet=0.1, metal=0.05"
    _click(rc, "Submit order")
    assert "pending" in str(rc.find(v.Alert).widget.children)
    ((order, *_),) = game.world.desk.pending
    assert order.common_external_tariff == {"magnet": 0.1, "metal": 0.05}
    # The message belongs to the instrument it answered: another one starts clean.
    rc.find(v.Select, label="Order").widget.v_model = "export_ban"
    rc.find(v.Alert).assert_empty()


def test_the_start_screen_names_a_bad_setting_instead_of_starting():
    started = []
    _, rc = solara.render(
        StartScreen(on_start=started.append, scenario=SCENARIO), handle_error=False
    )
    rc.find(v.TextField, label="Seed").widget.v_model = "-5"
    _click(rc, "Start the game")
    assert started == []
    assert "seed: a whole number from 0 to" in str(rc.find(v.Alert).widget.children)


def test_json_and_form_helpers_refuse_junk_with_the_field_named():
    for junk, message in (
        ('{"a":' * 100_000, "order: nested too deeply"),
        (None, "order: JSON text"),
        ("[1, 2]", "order: a JSON object of fields"),
    ):
        with pytest.raises(ValueError, match=re.escape(message)):
            json_object(junk)
    with pytest.raises(ValueError, match="kind: unknown order kind 'nuke'; allowed: export_ban"):
        build_order("nuke", "US", {})
    assert build_order("export_ban", "US", {"commodities": "magnet"})["commodities"] == ["magnet"]


def test_any_order_can_be_typed_as_json(game):
    _, rc = solara.render(OrderPanel(game, 0, lambda: None), handle_error=False)
    area = rc.find(v.Textarea, label="Order as JSON").widget
    area.v_model = '{"kind": "defense_priority", "issuer": "US"'
    _click(rc, "Submit JSON order")
    assert "order: not JSON" in str(rc.find(v.Alert).widget.children)
    area.v_model = '{"kind": "rnd_programme", "issuer": "US", "usd_per_year": 2e8}'
    _click(rc, "Submit JSON order")
    assert "pending" in str(rc.find(v.Alert).widget.children)
    assert len(game.pending()) == 1


def test_news_feed_lists_orders_and_events(game):
    game.submit(
        {"kind": "import_tariff", "commodities": ["magnet"], "partners": ["CN"], "rate": 0.25}
    )
    game.end_turn()
    _, rc = solara.render(NewsFeed(game, game.version), handle_error=False)
    text = _html(rc)
    assert "25% tariff on magnet from CN" in text
    assert "Kachin" in text


def _china_offers_a_deal(game) -> None:
    """China (an AI seat) proposes that the US lift its magnet tariff; the turn ends."""
    lift = {"kind": "lift", "issuer": "US", "measure": "import_tariff", "commodities": ["magnet"]}
    order = {"kind": "propose_deal", "issuer": "CN", "recipients": ["US"], "duration_months": 12}
    game.world.submit({**order, "commitments": [lift]})
    game.end_turn()


def test_deals_panel_proposes_and_answers(game):
    _, rc = solara.render(DealsPanel(game, 0, lambda: None), handle_error=False)
    _click(rc, "Propose")
    assert "pending" in str(rc.find(v.Alert).widget.children)
    game.end_turn()
    # An AI proposal to the US appears in the inbox with accept and reject.
    _china_offers_a_deal(game)
    assert game.inbox()
    _, rc = solara.render(DealsPanel(game, 1, lambda: None), handle_error=False)
    rc.find(v.Btn, children=["Reject"]).widget.click()
    assert "pending" in str(rc.find(v.Alert).widget.children)


def test_deals_panel_answers_with_a_counter_proposal(game):
    game.end_turn()
    _china_offers_a_deal(game)
    (offer,) = game.inbox()
    _, rc = solara.render(DealsPanel(game, 1, lambda: None), handle_error=False)
    _click(rc, "Counter")
    assert f"Counter-proposal to {offer.id}" in _markdown(rc)
    _click(rc, "Send counter-proposal")
    assert "pending" in str(rc.find(v.Alert).widget.children)
    game.end_turn()
    deals = game.deals().deals
    assert deals[offer.id].status == "countered"
    (counter,) = [d for d in deals.values() if d.counter_of == offer.id]
    assert counter.proposer == "US" and counter.recipients == ["CN"]
    # Both sides lift something: the US its tariff, China its licence (the form's defaults).
    assert {(c["issuer"], c["measure"]) for c in counter.commitments} == {
        ("US", "import_tariff"),
        ("CN", "export_licence"),
    }


def test_debrief_offers_downloads(game):
    game.end_turn()
    _, rc = solara.render(Debrief(game, game.version), handle_error=False)
    labels = [str(w.children) for w in rc.find(v.Btn).widgets]
    for name in ("Results (CSV)", "Results (Parquet)", "Orders (CSV)", "Price figure (PNG)"):
        assert any(name in label for label in labels), labels
    assert any("Every figure (PNG, zip)" in label for label in labels), labels
    for seat in (game.seat, "observer"):
        archive = zipfile.ZipFile(io.BytesIO(charts.figures_zip(game.world, seat)))
        names = archive.namelist()
        assert len(names) == len(charts.TABS) and names[0] == "01-prices.png"
        assert all(archive.read(n)[:8] == b"\x89PNG\r\n\x1a\n" for n in names)
    text = _markdown(rc)
    assert "Questions for the debrief" in text
    assert all(q in text for q in game.spec.briefing.debrief_questions)


def test_game_shows_the_debrief_across_the_page(game):
    _, rc = solara.render(Game(game), handle_error=False)
    # The side panel's buttons (the news feed's filters are buttons too).
    toggles = [w for w in rc.find(v.BtnToggle).widgets if w.children[0].children == ["Orders"]]
    assert not any("debrief" in (w.class_ or "") for w in rc.find(v.Card).widgets)
    toggles[0].v_model = 3  # Orders, Why?, Negotiation, Briefing, Debrief
    assert game.spec.briefing.seats["US"].role in _markdown(rc)
    toggles[0].v_model = 4
    assert any("debrief" in (w.class_ or "") for w in rc.find(v.Card).widgets)


def _observed_and_legend(figure) -> tuple[list, list[str]]:
    """The observed-series lines of a figure and the texts of all its legends."""
    lines = [ln for ax in figure.axes for ln in ax.get_lines() if ln.get_gid() == "observed"]
    legends = [*figure.legends, *(ax.get_legend() for ax in figure.axes if ax.get_legend())]
    return lines, [t.get_text() for legend in legends for t in legend.get_texts()]


@pytest.mark.parametrize(("scenario", "history"), [("quota-2010", True), (SCENARIO, False)])
def test_dashboard_overlays_a_historical_scenarios_observed_series(scenario, history, monkeypatch):
    built, drawn = [], []
    live, draw = charts.LivePrices, charts.draw
    monkeypatch.setattr(
        charts, "LivePrices", lambda *a, **k: built.append(live(*a, **k)) or built[-1]
    )
    monkeypatch.setattr(charts, "draw", lambda *a, **k: drawn.append(draw(*a, **k)) or drawn[-1])
    game = GameSession(scenario, seed=0, seat="US")
    game.step()
    _, rc = solara.render(Dashboard(game, 1), handle_error=False)
    rc.find(v.BtnToggle).widget.v_model = charts.TABS.index("China's share")
    assert built and drawn  # the price tab and the (production) share tab were drawn
    for figure in (built[-1].fig, drawn[-1]):
        lines, legend = _observed_and_legend(figure)
        assert bool(lines) is history and ("observed" in legend) is history
        assert all(line.get_linestyle() == ":" for line in lines)
    if history:  # the price panels carry the scenario's observed prices, ex-China in black
        spec = game.world.spec
        prices = [s for s in spec.references.series if s.variable == "price"]
        lines, _ = _observed_and_legend(built[-1].fig)
        assert len(lines) == len(prices)
        assert sorted(len(line.get_xdata()) for line in lines) == sorted(
            len(s.points) for s in prices
        )
        assert charts.OBSERVED_COLOUR in {line.get_color() for line in lines}


@pytest.mark.parametrize(("scenario", "history"), [("baseline-2024", True), (SCENARIO, False)])
def test_the_trade_tab_sets_observed_output_beside_the_model(scenario, history, monkeypatch):
    drawn = []
    draw = charts.draw
    monkeypatch.setattr(charts, "draw", lambda *a, **k: drawn.append(draw(*a, **k)) or drawn[-1])
    game = GameSession(scenario, seed=0, seat="US")
    game.step()
    _, rc = solara.render(Dashboard(game, 1), handle_error=False)
    rc.find(v.BtnToggle).widget.v_model = charts.TABS.index("Trade")
    figure = drawn[-1]
    lines, legend = _observed_and_legend(figure)
    flows = [s for s in game.world.spec.references.series if s.variable in charts.FLOW_VARIABLES]
    assert len([ax for ax in figure.axes if ax.get_visible()]) == (2 if history else 1)
    assert len([ln for ln in lines if ln.get_linestyle() == ":"]) == len(flows)
    assert ("observed" in legend) is history and bool(flows) is history
    if history:  # each observed series beside the model's line of the same colour and name
        assert {s.title() for s in flows} <= set(legend)


def test_controls_at_the_horizon_say_the_game_is_over():
    spec = load_scenario(SCENARIO).model_copy(update={"months": 6, "turn_months": 3})
    game = GameSession(spec, seed=0, seat="US")
    game.end_turn()
    game.end_turn()
    _, rc = solara.render(Controls(game, game.version, lambda: None), handle_error=False)
    clock = str(rc.find(v.Html, class_="game-clock").widget.children)
    assert "game over (2 turns played)" in clock and "turn 3" not in clock
    assert rc.find(v.Btn, children=["End turn"]).widget.disabled


def test_undo_starts_at_the_latest_turn_and_undo_and_reset_ask_first(game):
    for _ in range(4):
        game.end_turn()
    game.step()  # month 13, in turn 5
    changes = []
    _, rc = solara.render(
        Controls(game, game.version, lambda: changes.append(1)), handle_error=False
    )
    assert rc.find(v.Select, label="Undo to start of turn").widget.v_model == 5
    _click(rc, "Undo")
    assert game.month == 13 and changes == []  # nothing happens before it is confirmed
    warning = str(rc.find(v.Alert).widget.children)
    assert "Go back to turn 5: from month 13 to month 12" in warning
    _click(rc, "Keep playing")
    rc.find(v.Alert).assert_empty()
    assert game.month == 13
    _click(rc, "Undo")
    _click(rc, "Yes, undo")
    assert game.month == 12 and changes == [1]
    _click(rc, "Reset")
    assert game.month == 12 and "from month 12 to month 0" in str(rc.find(v.Alert).widget.children)
    _click(rc, "Yes, reset")
    assert game.month == 0 and changes == [1, 1]


def test_the_price_floor_starts_at_the_commodity_price_and_a_ban_bans_nothing_untouched(game):
    _, rc = solara.render(OrderPanel(game, 0, lambda: None), handle_error=False)
    rc.find(v.Select, label="Order").widget.v_model = "price_floor"
    w = game.world
    for firm in ("mp-separation", *(f.firm_id for f in w.firms if f.region == "US")):
        rc.find(v.Select, label="Firm").widget.v_model = firm
        commodity = rc.find(v.Select, label="Commodity").widget.v_model
        price = w.prices[w.commodity_index[commodity], w.region_index["US"]]
        floor = float(rc.find(v.TextField, label="Floor, USD/kg").widget.v_model)
        assert floor == pytest.approx(price, rel=0.01), (firm, commodity)
    rc.find(v.Select, label="Order").widget.v_model = "export_ban"
    assert rc.find(v.Select, label="Commodities").widget.v_model == []
    _click(rc, "Submit order")
    assert "Rejected:" in str(rc.find(v.Alert).widget.children) and game.pending() == []


def test_an_extreme_tariff_or_floor_needs_a_ticked_confirmation(game):
    _, rc = solara.render(OrderPanel(game, 0, lambda: None), handle_error=False)
    rc.find(v.TextField, label="Rate (0.25 = 25%)").widget.v_model = "5"
    assert "rate 500% is above 100%" in str(rc.find(v.Alert).widget.children)
    assert rc.find(v.Btn, children=["Submit order"]).widget.disabled
    _click(rc, "Submit order")
    assert game.pending() == []
    assert "Confirm first: rate 500%" in str([w.children for w in rc.find(v.Alert).widgets])
    confirm = rc.find(v.Checkbox, label="I mean it: submit these values").widget
    confirm.v_model = True
    rc.find(v.TextField, label="Rate (0.25 = 25%)").widget.v_model = "6"  # another value: again
    assert not rc.find(v.Checkbox, label="I mean it: submit these values").widget.v_model
    rc.find(v.Checkbox, label="I mean it: submit these values").widget.v_model = True
    assert not rc.find(v.Btn, children=["Submit order"]).widget.disabled
    _click(rc, "Submit order")
    ((order, *_),) = game.world.desk.pending
    assert order.rate == 6
    # A floor over twice the price now asks too; one at 1.5 times does not.
    rc.find(v.Select, label="Order").widget.v_model = "price_floor"
    rc.find(v.Select, label="Firm").widget.v_model = "mp-separation"
    field = rc.find(v.TextField, label="Floor, USD/kg").widget
    price = float(field.v_model)
    field.v_model = f"{1.5 * price:.3f}"
    rc.find(v.Checkbox, label="I mean it: submit these values").assert_empty()
    field.v_model = f"{3 * price:.3f}"
    assert "times the price of" in str(rc.find(v.Alert).widget.children)


def test_the_order_panel_lists_pending_orders_in_words_with_a_cancel_each(game):
    game.submit({"kind": "rnd_programme", "usd_per_year": 2e8})
    game.submit({"kind": "stockpile_buy", "commodity": "magnet", "tonnes": 500})
    _, rc = solara.render(OrderPanel(game, game.version, lambda: None), handle_error=False)
    assert len(rc.find(v.Btn, children=["Cancel"]).widgets) == 2
    text = str([w.children for w in rc.find(v.Html).widgets])
    assert "buys 500 t of magnet for its stockpile over 12 months" in text
    assert "funds 200 M USD a year of research" in text
    rc.find(v.Btn, children=["Cancel"]).widgets[1].click()
    assert [words for _, words in game.pending_orders()] == [
        "United States funds 200 M USD a year of research to thrift magnet, oxide_heavy"
    ]


def test_the_news_feed_pages_back_to_the_first_month_instead_of_dropping_it(game):
    for _ in range(4):
        game.end_turn()
    news = game.news()
    assert len(news) > 10 and "Kachin" in " ".join(news.text.tail(3))  # month 0: the oldest
    _, rc = solara.render(NewsFeed(game, game.version, per_page=5), handle_error=False)
    pages = -(-len(news) // 5)
    assert f"page 1 of {pages} ({len(news)} items)" in str(rc.find(v.Html).widgets[0].children)
    assert news.text.iloc[0] in _html(rc) and "Kachin" not in _html(rc)
    assert rc.find(v.Btn, children=["Newer"]).widget.disabled
    for _ in range(pages - 1):
        _click(rc, "Older")
    assert "Kachin" in _html(rc) and rc.find(v.Btn, children=["Older"]).widget.disabled
    _click(rc, "Newer")
    assert "Kachin" not in _html(rc)


def test_the_preview_button_shows_the_dry_run_in_words_and_numbers(game):
    _, rc = solara.render(OrderPanel(game, 0, lambda: None), handle_error=False)
    rc.find(v.Select, label="Order").widget.v_model = "stockpile_buy"
    _click(rc, "Preview")
    words = str(rc.find(v.Alert, class_="order-preview-words").widget.children)
    assert "buys 500 t of magnet" in words and "t of the 250.0 t due" in words
    assert "Extra spending, M USD per month from 2025-01" in _markdown(rc)
    assert "<td>magnet</td>" in _markdown(rc) and game.pending() == []  # a preview submits nothing
    # Another value: the preview no longer holds.
    rc.find(v.TextField, label="Tonnes").widget.v_model = "600"
    rc.find(v.Alert, class_="order-preview-words").assert_empty()
    # A refused order previews as the world's reason.
    rc.find(v.Select, label="Order").widget.v_model = "stockpile_release"
    _click(rc, "Preview")
    assert "the stockpile holds 0 t" in str(
        rc.find(v.Alert, class_="order-preview-words").widget.children
    )


def test_a_purchase_beyond_world_output_or_a_costly_dry_run_needs_confirming(game):
    _, rc = solara.render(OrderPanel(game, 0, lambda: None), handle_error=False)
    rc.find(v.Select, label="Order").widget.v_model = "stockpile_buy"
    rc.find(v.TextField, label="Tonnes").widget.v_model = "9000000"
    assert "more than a year of the world's magnet output" in str(
        rc.find(v.Alert, class_="order-extreme").widget.children
    )
    # Two billion USD a year of research breaks no rule of the form, but its dry run spends
    # far too much: Submit runs the dry run first and asks.
    rc.find(v.Select, label="Order").widget.v_model = "rnd_programme"
    rc.find(v.TextField, label="USD per year").widget.v_model = "2000000000"
    rc.find(v.Alert, class_="order-extreme").assert_empty()
    _click(rc, "Submit order")
    assert game.pending() == []
    assert "above 100 M USD" in str(rc.find(v.Alert, class_="order-extreme").widget.children)
    rc.find(v.Checkbox, label="I mean it: submit these values").widget.v_model = True
    _click(rc, "Submit order")
    ((order, *_),) = game.world.desk.pending
    assert order.usd_per_year == 2e9


def test_a_ban_names_no_partner_by_default_and_all_partners_needs_confirming(game):
    _, rc = solara.render(OrderPanel(game, 0, lambda: None), handle_error=False)
    rc.find(v.Select, label="Order").widget.v_model = "export_ban"
    assert rc.find(v.Select, label="Partners (none = all)").widget.v_model == []
    rc.find(v.Select, label="Commodities").widget.v_model = ["magnet"]
    assert "applies to every other region" in str(
        rc.find(v.Alert, class_="order-extreme").widget.children
    )
    rc.find(v.Select, label="Partners (none = all)").widget.v_model = ["CN"]
    rc.find(v.Alert, class_="order-extreme").assert_empty()

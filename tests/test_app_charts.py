"""Headless tests of the teaching charts and the seat's live readouts (solara.render, no
browser): the readouts show the model's numbers, the fiscal chart's running total is the sum of
its months, the price chart has data from the first step, and the ex-China capacity panel
shows the capacity outside China. Expected values are worked out here from the world's own
state and tables, not from the chart code."""

import re
from html import unescape

import ipyvuetify as v
import numpy as np
import pytest
import solara

from play.session import GameSession
from ui import charts
from ui.components import Dashboard, Game
from world import World

SCENARIO = "alliance-vs-tariffs-2025"


@pytest.fixture
def game():
    return GameSession(SCENARIO, seed=0, seat="US")


def _html(rc, css_class: str) -> str:
    """The text of the solara.HTML element of that class (or, for the hover layer, of its
    pieces), tags stripped, entities read."""
    from solara.widgets.widgets import HTML

    pieces = css_class == "hover-layer"
    css_class = "hover-piece" if pieces else css_class
    found = [w for w in rc.find(HTML).widgets if css_class in w.attributes.get("class", "").split()]
    assert (len(found) >= 1) if pieces else (len(found) == 1), f"{len(found)} of {css_class}"
    return unescape(re.sub(r"<[^>]+>", " ", "".join(w.unsafe_innerHTML for w in found)))


def _capture(monkeypatch) -> tuple[list, list]:
    """Keep every price figure and every other tab's figure the dashboard makes."""
    built, drawn = [], []
    live, draw = charts.LivePrices, charts.draw
    monkeypatch.setattr(
        charts, "LivePrices", lambda *a, **k: built.append(live(*a, **k)) or built[-1]
    )
    monkeypatch.setattr(charts, "draw", lambda *a, **k: drawn.append(draw(*a, **k)) or drawn[-1])
    return built, drawn


def _show(rc, tab: str) -> None:
    rc.find(v.BtnToggle).widgets[0].v_model = charts.TABS.index(tab)


def _series(ax) -> dict[str, np.ndarray]:
    """The labelled data lines of a panel (turn and event markers are unlabelled)."""
    return {
        ln.get_label(): np.asarray(ln.get_ydata(), dtype=float)
        for ln in ax.get_lines()
        if not ln.get_label().startswith("_")
    }


def _expected(world: World, seat: str) -> dict:
    """The seat's key numbers from the world's tidy tables and its state agent."""
    results = world.results()
    r = seat
    prices = results[(results.variable == "price") & (results.region == r)]
    price_of = prices.set_index(["month", "commodity"])["value"]
    imports = results[
        (results.variable == "exports") & (results.partner == r) & (results.region != r)
    ]
    bill = imports.groupby(["month", "commodity"])["value"].sum()
    bill = (bill * price_of.reindex(bill.index)).groupby("commodity").sum()
    main = bill.idxmax()
    last = results.month.max()
    now = results[(results.month == last) & (results.region == r)]
    stock = now.set_index(["variable", "commodity"])["value"]
    strategic = {
        c: stock["stock_strategic", c] * stock["cover_months", c]
        / (stock["stock_strategic", c] + stock["stock_commercial", c])
        for c in world.commodity_ids
        if stock["stock_strategic", c] > 0
    }  # fmt: skip
    held = max(strategic, key=strategic.get) if strategic else main
    table = world.objectives()
    score = table[(table.region == r) & (table.objective == "score")].sort_values("month")
    return {
        "main": main,
        "price": price_of[last, main],
        "cover": (held, strategic.get(held, 0.0)),
        "spent": world.states_by_region[r].fiscal_cost_usd / 1e6,
        "score": (score.value.iloc[0], score.value.iloc[-1]),
    }


def test_the_readouts_show_the_seats_price_cover_spending_and_score(game, monkeypatch):
    game.submit({"kind": "stockpile_buy", "commodity": "magnet", "tonnes": 600, "months": 3})
    game.submit({"kind": "rnd_programme", "usd_per_year": 1.2e9})
    game.end_turn()
    game.end_turn()
    _, rc = solara.render(Game(game), handle_error=False)
    for months_played in (6, 7):  # and again after a step from the page: they follow the world
        text = _html(rc, "readouts")
        want = _expected(game.world, "US")
        assert f"{want['main']} price US pays (its main import)" in text
        assert f"{want['price']:,.2f} USD/kg" in text
        held, cover = want["cover"]
        assert cover > 0  # the purchase shows as cover
        assert f"{cover:,.2f} months" in text and f"of {held} use" in text
        assert want["spent"] > 0 and f"{want['spent']:,.1f} USD million" in text
        start, now = want["score"]
        assert f"{now:+.3f}" in text and f"the start ({start:+.3f})" in text
        assert game.month == months_played
        rc.find(v.Btn, children=["Step 1 month"]).widget.click()


def test_the_readouts_and_the_fiscal_chart_never_build_the_objectives_table(game, monkeypatch):
    game.submit({"kind": "rnd_programme", "usd_per_year": 1.2e9})
    game.end_turn()

    def slow(self):
        raise AssertionError("world.objectives() on a redraw")

    monkeypatch.setattr(World, "objectives", slow)
    _, rc = solara.render(Game(game), handle_error=False)
    _show(rc, "Fiscal & score")
    rc.find(v.Btn, children=["Step 1 month"]).widget.click()
    assert "USD million" in _html(rc, "readouts")


def test_the_fiscal_chart_runs_a_sum_of_the_monthly_spending(game, monkeypatch):
    _, drawn = _capture(monkeypatch)
    game.submit({"kind": "rnd_programme", "usd_per_year": 1.2e9})
    game.submit({"kind": "stockpile_buy", "commodity": "magnet", "tonnes": 300, "months": 3})
    game.end_turn()
    game.end_turn()
    _, rc = solara.render(Dashboard(game, game.version), handle_error=False)
    _show(rc, "Fiscal & score")
    monthly, cumulative, score = drawn[-1].axes
    assert monthly.get_ylabel() == "USD million/month"
    assert cumulative.get_ylabel() == "USD million"
    each, total = _series(monthly)["US"], _series(cumulative)["US"]
    table = game.world.objectives()
    cost = table[(table.region == "US") & (table.objective == "fiscal_cost")].sort_values("month")
    np.testing.assert_allclose(each, cost.value / 1e6, rtol=1e-12)
    np.testing.assert_allclose(total, np.cumsum(each), rtol=1e-12)
    assert total[-1] == pytest.approx(game.world.states_by_region["US"].fiscal_cost_usd / 1e6)
    assert total[-1] > each.max() > 0  # spending builds up over the months
    mine = table[(table.region == "US") & (table.objective == "score")].sort_values("month")
    np.testing.assert_allclose(_series(score)["US"], mine.value, rtol=1e-12)
    # Pointing at a month reads both figures off the chart.
    hover = _html(rc, "hover-layer")
    assert f"(month 5)\nUSD million\nUS  {charts._value(total[5])}" in hover.replace(" \n", "\n")


def test_the_price_chart_has_data_at_the_start_and_after_the_first_step(game, monkeypatch):
    built, _ = _capture(monkeypatch)
    _, rc = solara.render(Dashboard(game, game.version), handle_error=False)
    us = game.world.region_index["US"]
    live = built[-1]
    for ci, ax in enumerate(live.axes):  # month 0: the start prices, one dot each
        start = _series(ax)
        assert len(start) == len(game.world.region_ids)
        assert start["US"] == pytest.approx([game.world.reference_prices[ci, us]])
    game.step()
    _, rc = solara.render(Dashboard(game, game.version), handle_error=False)
    live = built[-1]
    first = game.world.results()
    first = first[(first.variable == "price") & (first.month == 0)]
    for ax in live.axes:
        lines = {ln.get_label(): ln for ln in ax.get_lines() if ln.get_label() in ("US", "CN")}
        for region, line in lines.items():
            want = first[(first.commodity == ax.get_title()) & (first.region == region)].value
            assert list(line.get_ydata()) == pytest.approx(list(want))
            assert line.get_markevery() == [0]  # a single month shows as a dot
            low, high = ax.get_ylim()
            assert low <= line.get_ydata()[0] <= high
    picture = live.png()
    pixels = np.frombuffer(live.canvas.buffer_rgba(), dtype=np.uint8).reshape(-1, 4)[:, :3]
    assert picture[:8] == b"\x89PNG\r\n\x1a\n"
    cn = np.array([0xD6, 0x27, 0x28])  # China's red dots are in the picture
    assert (np.abs(pixels.astype(int) - cn).sum(axis=1) < 30).sum() > 20
    hover = _html(rc, "hover-layer")
    magnet = first[(first.commodity == "magnet") & (first.region == "US")].value.iloc[0]
    assert "magnet · 2025-01 (month 0)" in hover and f"US  {magnet:.3g}" in hover


def test_the_capacity_tab_has_an_ex_china_panel_of_the_capacity_outside_china(game, monkeypatch):
    _, drawn = _capture(monkeypatch)
    game.submit({"kind": "capex_subsidy", "stages": ["magnet"], "share": 0.3})
    for _ in range(4):
        game.end_turn()
    _, rc = solara.render(Dashboard(game, game.version), handle_error=False)
    _show(rc, "Capacity")
    figure = drawn[-1]
    assert charts.EX_CHINA_TITLE in [t.get_text() for t in figure.texts]
    w = game.world
    operating = dict.fromkeys(w.commodity_ids, 0.0)
    for firm in w.firms:
        if firm.region != "CN":
            for c, share in firm.nominal_yields().items():
                operating[c] += firm.capacity_tpy * share
    panels = {ax.get_gid(): ax for ax in figure.axes if (ax.get_gid() or "").startswith("ex-")}
    shown = {c for c, t in operating.items() if t > 0}
    assert shown <= {gid.removeprefix("ex-china:") for gid in panels} and "magnet" in shown
    for gid, ax in panels.items():
        c = gid.removeprefix("ex-china:")
        solid, building = ax.containers  # by region, China left out
        regions = [t.get_text() for t in ax.get_yticklabels()]
        assert "CN" not in regions and len(regions) == len(w.region_ids) - 1
        assert sum(bar.get_width() for bar in solid.patches) == pytest.approx(operating[c])
        assert ax.get_xlabel() == "t/yr"
        # On its own scale: the stage's largest plant is not flattened by China's (or a mine's).
        ends = [a.get_width() + b.get_width() for a, b in zip(solid, building, strict=True)]
        biggest = max(ends)
        assert ax.get_xlim()[1] < 3 * max(biggest, 1.0)
    # China against the rest across the top, with the ex-China total on demand.
    hover = _html(rc, "hover-layer")
    ex_china_kt = operating["magnet"] / 1000
    assert "rest of the world: magnets\nkt/yr\n" in hover.replace(" \n", "\n")
    assert f"ex-China  {charts._value(ex_china_kt)}" in hover


def test_a_step_changes_only_its_own_years_piece_of_the_hover_layer(game):
    for _ in range(14):
        game.step()
    live = charts.LivePrices(game.world)
    before = live.hover()
    game.step()  # month 14 recorded: the same year of play, the same x axis
    after = live.hover()
    assert len(before) == len(after) == 2  # months 0-11, then 12 onwards
    assert after[0] == before[0]  # last year's cells are not sent again
    assert "(month 14)" in after[1] and "(month 14)" not in before[1]
    assert "(month 14)" not in after[0] and "(month 3)" in after[0]
    # Together they are the whole layer.
    assert "".join(after) == charts.hover_layer(live.fig, game.world)

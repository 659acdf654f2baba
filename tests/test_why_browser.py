"""Browser tests of the help a player gets: the "Why did this move?" panel's breakdown adds up
to the price it shows, the glossary's tooltips are on the page's controls and charts, and a
skipped guide stays skipped after a reload (the fixtures are tests/test_app_browser.py's)."""

import re

import pytest
from test_app_browser import Tab, chrome, server  # noqa: F401  (fixtures)

from play.session import GameSession
from ui.glossary import glossary
from ui.why import PART_LABELS
from world.price_breakdown import PARTS, explain

SCENARIO = "alliance-vs-tariffs-2025"
#: Months played before the panel is opened (two turns of three).
PLAYED = 6
#: Five figures each rounded to 0.01 USD/kg: the shown parts may miss the shown price by this.
ROUNDING = 5 * 0.005


@pytest.fixture
def game_tab(chrome, server):  # noqa: F811
    t = Tab(chrome, server)
    yield t
    t.close()


def _number(text: str) -> float:
    return float(text.strip().replace(",", ""))


def _choose(tab: Tab, label: str, item: str) -> None:
    """Pick ``item`` in the Why panel's select labelled ``label``."""
    field = tab.page.locator(".why-panel .v-select").filter(
        has=tab.page.locator(".v-label", has_text=re.compile(f"^{re.escape(label)}$"))
    )
    field.locator(".v-select__slot").click()
    menu = tab.page.locator(".menuable__content__active")
    menu.locator(".v-list-item", has_text=re.compile(f"^\\s*{re.escape(item)}\\s*$")).click()
    menu.wait_for(state="hidden")


def _played():
    """The world the browser's game is in after :data:`PLAYED` months: the start screen's
    defaults (seat US, seed 0, the scenario's turn length and doctrines) played without a
    browser, which gives the same world (it is deterministic)."""
    game = GameSession(SCENARIO, seed=0, seat="US")
    game.world.run(PLAYED)
    return game.world


def _the_price_to_explain(world) -> tuple[str, str, int]:
    """The price with the largest policy wedge (so that every part of the breakdown is there
    to add up) in a month before the latest, which the panel shows unless told otherwise:
    (commodity, region, month)."""
    return max(
        (
            (c, r, m)
            for c in world.commodity_ids
            for r in world.region_ids
            for m in range(PLAYED - 1)
        ),
        key=lambda crm: abs(explain(world, *crm).parts["policy"]),
    )


def test_the_why_panel_breaks_a_chosen_price_into_parts_that_add_up_to_it(game_tab):
    tab = game_tab
    world = _played()
    commodity, region, month = _the_price_to_explain(world)
    tab.start()
    tab.end_turn(3)
    tab.end_turn(PLAYED)
    tab.page.locator(".game-side .v-btn-toggle button", has_text="Why?").click()
    panel = tab.page.locator(".why-panel")
    panel.wait_for()
    _choose(tab, "Commodity", commodity)
    _choose(tab, "Region", region)
    _choose(tab, "Month", f"{month} ({world.date_of(month)})")
    heading = panel.locator("p", has_text=f"{commodity} in {region}, {world.date_of(month)}:")
    heading.wait_for()
    shown_price = _number(panel.locator(".why-price").inner_text())
    assert f"{shown_price:,.2f} USD/kg" in heading.inner_text()

    rows = panel.locator(".why-row")
    parts = {
        rows.nth(i).get_attribute("data-part"): _number(
            rows.nth(i).locator(".why-value").inner_text()
        )
        for i in range(rows.count())
    }
    assert list(parts) == list(PARTS) == ["inputs", "scarcity", "policy", "transport"]
    names = panel.locator(".why-row abbr").all_inner_texts()
    assert names == [PART_LABELS[p][0] for p in PARTS]
    assert abs(sum(parts.values()) - shown_price) <= ROUNDING, (parts, shown_price)
    assert parts["policy"] != 0, "the price chosen has a policy wedge to add"
    # It is the price of that month: the same game played without a browser gives it.
    assert shown_price == round(explain(world, commodity, region, month).price, 2)
    assert tab.errors == [], tab.errors


def _titled(element, tip: str) -> None:
    """Wait until ``element``'s tooltip (its title) is ``tip``; fail if it never is."""
    element.page.wait_for_function(
        "([e, t]) => e.getAttribute('title') === t", arg=[element.element_handle(), tip]
    )


def test_controls_and_charts_carry_their_glossary_entry_and_a_skipped_guide_stays_skipped(
    game_tab,
):
    tab = game_tab
    tab.start()
    terms = glossary()
    _titled(tab.page.locator(".end-turn"), terms.entry("End turn").tip())
    speed = tab.page.locator(".v-input", has=tab.page.locator(".v-label", has_text="Speed"))
    _titled(speed, terms.entry("Speed").tip())
    chart = tab.page.locator(".dashboard img").first
    _titled(chart, terms.entry("Prices").tip())
    tab.page.locator(".dashboard .v-btn-toggle button", has_text="Trade").click()
    _titled(chart, terms.entry("Trade").tip())  # the chart on show now

    guide = tab.page.locator(".guide-step")
    assert "step 1 of" in guide.inner_text()
    tab.page.locator(".guide-next").click()
    tab.page.get_by_text("step 2 of").wait_for()
    tab.page.locator(".guide-skip").click()
    guide.wait_for(state="detached")
    tab.end_turn(3)
    tab.page.reload()
    tab.resume_latest()
    assert "month 3/" in tab.clock()
    tab.page.locator(".help-bar").wait_for()
    assert guide.count() == 0, "a skipped guide is not shown again for that game"
    tab.page.locator(".guide-restart").click()
    tab.page.get_by_text("step 1 of").wait_for()
    assert tab.errors == [], tab.errors

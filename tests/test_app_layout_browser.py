"""Browser tests of the page's layout: on a 1024×768 projector no element lies outside the
viewport, whichever tab or side panel is open; at 390 px the columns stack; solara's credit
never covers a control. Screenshots of every state checked are saved (pytest's tmp dir, or
``$CHOKEPOINT_SCREENSHOTS``) for a person to look at."""

import os
from pathlib import Path

import pytest
from test_app_browser import Tab, chrome, server  # noqa: F401  (fixtures)

from ui import charts

SIDE_PANELS = ["Orders", "Why?", "Negotiation", "Briefing", "Debrief"]

#: Every visible element whose box runs past the left or right edge of the viewport (the page
#: scrolls down, never sideways), described as tag.class (left-right px). The busy bar's
#: sliding stripe is left out: its bar clips it.
OUTSIDE = """() => {
  const width = window.innerWidth, out = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (getComputedStyle(el).visibility === 'hidden') continue;
    if (el.closest('.v-progress-linear')) continue;  // the busy bar's animation, clipped by it
    if (r.right > width + 1 || r.left < -1) {
      out.push(`${el.tagName}.${el.className} (${Math.round(r.left)}-${Math.round(r.right)})`);
    }
  }
  return {outside: out.slice(0, 10), count: out.length,
          scroll: document.documentElement.scrollWidth, width};
}"""

#: Controls (buttons, inputs, selects) whose box meets the "runs on Solara" credit's.
UNDER_CREDIT = """() => {
  const credit = [...document.querySelectorAll('div')].find(
    d => d.children.length === 1 && d.innerText.trim().startsWith('This website runs on'));
  if (!credit) return null;
  const c = credit.getBoundingClientRect(), hit = [];
  for (const el of document.querySelectorAll('button, input, .v-select, textarea, a')) {
    if (credit.contains(el)) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (r.left < c.right && c.left < r.right && r.top < c.bottom && c.top < r.bottom) {
      hit.push(`${el.tagName}.${el.className} ${el.innerText || el.value || ''}`.trim());
    }
  }
  return hit;
}"""


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("CHOKEPOINT_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _sized(browser, url, width: int, height: int) -> Tab:
    tab = Tab(browser, url)
    tab.page.set_viewport_size({"width": width, "height": height})
    return tab


def _inside(tab: Tab, what: str, shots: Path) -> None:
    tab.page.wait_for_timeout(300)  # let the panel settle
    found = tab.page.evaluate(OUTSIDE)
    # The page scrolls inside solara's content box, which a full-page shot does not follow:
    # the shot is taken in a window as tall as the page (the width, so the layout, unchanged).
    size = tab.page.viewport_size
    tall = tab.page.locator(".solara-autorouter-content").evaluate("e => e.scrollHeight")
    tab.page.set_viewport_size({"width": size["width"], "height": max(tall, size["height"])})
    tab.page.wait_for_timeout(200)
    tab.page.screenshot(path=shots / f"{what}.png")
    tab.page.set_viewport_size(size)
    assert found["count"] == 0, f"{what}: outside the viewport: {found}"
    assert found["scroll"] <= found["width"], f"{what}: the page scrolls sideways: {found}"


def _show_tab(tab: Tab, name: str) -> None:
    """Open a dashboard tab and wait for its chart."""
    image = tab.page.locator(".dashboard img").first
    before = image.get_attribute("src")
    tab.page.locator(".dashboard .v-btn-toggle button", has_text=name).click()
    if name != "Prices":  # the first tab: its picture is already on show
        tab.page.wait_for_function(
            "s => document.querySelector('.dashboard img').getAttribute('src') !== s", arg=before
        )


def test_nothing_lies_outside_a_1024x768_viewport_on_any_tab_or_panel(chrome, server, shots):  # noqa: F811
    tab = _sized(chrome, server, 1024, 768)
    try:
        _inside(tab, "1024-start", shots)
        tab.start()
        tab.end_turn(3)
        for name in charts.TABS:
            _show_tab(tab, name)
            _inside(tab, f"1024-tab-{name}", shots)
        for name in SIDE_PANELS:
            tab.page.locator(".game-side .v-btn-toggle button", has_text=name).click()
            _inside(tab, f"1024-side-{name}", shots)
        assert tab.page.evaluate(UNDER_CREDIT) == []
        assert tab.errors == [], tab.errors
    finally:
        tab.close()


def test_at_390_px_the_columns_stack_and_nothing_overflows(chrome, server, shots):  # noqa: F811
    tab = _sized(chrome, server, 390, 844)
    try:
        tab.start()
        tab.end_turn(3)
        _inside(tab, "390-game", shots)
        main = tab.page.locator(".game-main").bounding_box()
        side = tab.page.locator(".game-side").bounding_box()
        assert side["y"] >= main["y"] + main["height"] - 1, (main, side)
        _show_tab(tab, "Trade")
        _inside(tab, "390-trade", shots)
        assert tab.page.evaluate(UNDER_CREDIT) == []
    finally:
        tab.close()


def test_on_a_tablet_held_upright_nothing_overflows(chrome, server, shots):  # noqa: F811
    tab = _sized(chrome, server, 768, 1024)  # an iPad held upright; on its side it is 1024x768
    try:
        tab.start()
        tab.end_turn(3)
        _inside(tab, "tablet-game", shots)
        _show_tab(tab, "Trade")
        _inside(tab, "tablet-trade", shots)
        assert tab.page.evaluate(UNDER_CREDIT) == []
    finally:
        tab.close()

"""A workshop played in real browsers: ``chokepoint serve`` on a free loopback port, a
facilitator and three teams (US, CN, JP of alliance-vs-tariffs-2025), each in its own Chromium
context (its own cookie, its own session), offline as in test_app_browser.py.

The tests run in file order and share one game: two turns played through the pages, a team
refused when it acts for another seat, the server killed and restarted under the open pages,
and the after-action report downloaded."""

from __future__ import annotations

import contextlib
import os
import re
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
import test_app_browser
from test_workshop_server import KEY, SCENARIO, Server, _sign_in

from play.room import Credential, Workshops
from play.store import Store
from ui.assets import ensure_assets

TEAMS = ["US", "CN", "JP"]
#: How long a change may take to reach an open page (the brief's target is well under it).
LIVE_MS = 5_000
#: How long a page may take to come back after the server restarted.
RESUME_MS = 20_000
#: Debian's Chromium, headless, shared with the game page's browser tests.
chrome = test_app_browser.chrome
#: Turn 1: the US drafts the form's default order; CN and JP type JSON orders.
CN_ORDER = (
    '{"kind": "export_licence", "commodities": ["magnet"], "partners": ["JP"], '
    '"approval_share": 0.5}'
)
JP_ORDER = '{"kind": "stockpile_buy", "commodity": "magnet", "tonnes": 500, "months": 12}'
JP_TURN_2 = '{"kind": "import_tariff", "commodities": ["magnet"], "partners": ["CN"], "rate": 0.1}'
#: What each seat's turn-1 order says in the news once applied.
APPLIED = {
    "US": "United States sets a 25% tariff on magnet from CN",
    "CN": "China requires export licences for magnet to JP",
    "JP": "Japan buys 500 t of magnet for its stockpile",
}


#: What the other seats read of Japan's stockpile purchase.
OBSERVED_JP = "Japan's stockpile agency is buying magnet"


def sign_in(chrome, server: Server, secret: str, who: str) -> test_app_browser.Tab:
    """A new browser context signed in with ``secret``, its page showing ``who``."""
    tab = _sign_in(chrome, server, secret)
    tab.page.get_by_text(f"Signed in as {who}").wait_for()
    return tab


def open_console(tab: test_app_browser.Tab, game_label: str) -> None:
    """Choose the game in the facilitator's console and wait for its roster."""
    page = tab.page
    page.locator(".v-select", has_text="Game").click()
    page.get_by_role("option", name=game_label).click()
    page.locator(".roster-row").first.wait_for()


def clock_shows(tab: test_app_browser.Tab, text: str, timeout: float = LIVE_MS):
    """Wait until the page's workshop clock contains ``text`` (no reload)."""
    tab.page.locator(".workshop-clock", has_text=text).first.wait_for(timeout=timeout)


def json_order(tab: test_app_browser.Tab, text: str, expect: str = "drafted") -> None:
    """Type an order as JSON and send it; wait for the page's answer containing ``expect``."""
    page = tab.page
    page.locator(".order-panel textarea").fill(text)
    page.locator(".submit-json").click()
    page.locator(".json-message", has_text=expect).wait_for(timeout=LIVE_MS)


def news(tab: test_app_browser.Tab) -> str:
    return tab.page.locator(".workshop-news").inner_text()


@pytest.fixture(scope="module")
def game(tmp_path_factory):
    """A database with one game of three teams, made before the server opens it."""
    data = tmp_path_factory.mktemp("workshop")
    room = Workshops(data, KEY, clock_s=0)
    try:
        made = room.create_game(Credential("facilitator"), SCENARIO, teams=TEAMS)
        codes = {s: made.code(Credential("facilitator"), s) for s in TEAMS}
        return {"data": data, "id": made.id, "label": f"{made.name} ({made.id})", "codes": codes}
    finally:
        room.close()


@contextlib.contextmanager
def running(data: Path, log: Path) -> Iterator[Server]:
    """``chokepoint serve`` on ``data`` with the test key, stopped on leaving."""
    assert not ensure_assets(quiet=True), "the page's assets could not be put in place"
    s = Server(data, log, {**os.environ, "CHOKEPOINT_FACILITATOR_KEY": KEY})
    s.start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="module")
def server(game, tmp_path_factory):
    with running(game["data"], tmp_path_factory.mktemp("log") / "server.log") as s:
        yield s


@pytest.fixture(scope="module")
def tabs(chrome, server, game):
    """The facilitator's console and the three teams' pages, all open for the whole module."""
    opened = {"facilitator": sign_in(chrome, server, KEY, "facilitator")}
    open_console(opened["facilitator"], game["label"])
    for seat in TEAMS:
        opened[seat] = sign_in(chrome, server, game["codes"][seat], seat)
        clock_shows(opened[seat], "turn 1")
    yield opened
    for tab in opened.values():
        assert tab.blocked == [], f"requests that left the machine: {tab.blocked}"
        tab.close()


def test_two_turns_reach_every_page_and_each_team_sees_only_its_drafts(tabs):
    us, cn, jp = (tabs[s] for s in TEAMS)
    us.page.locator(".submit-order").click()  # the form's default: 25% on magnet from CN
    us.page.locator(".order-message", has_text="drafted").wait_for(timeout=LIVE_MS)
    json_order(cn, CN_ORDER)
    json_order(jp, JP_ORDER)
    for seat in TEAMS:
        tab = tabs[seat]
        tab.page.locator(".draft").first.wait_for()
        assert tab.page.locator(".draft").count() == 1
        drafts = tab.page.locator(".order-panel").inner_text()
        for other in TEAMS:  # another team's draft is on no page but its own, not even as news
            if other != seat:
                assert APPLIED[other] not in news(tab)
        assert {"US": "rate=0.25", "CN": "approval_share=0.5", "JP": "tonnes=500"}[seat] in drafts
        assert "approval_share" not in drafts or seat == "CN"
        assert "stockpile_buy" not in drafts or seat == "JP"
    for seat in ("US", "CN"):
        tabs[seat].page.locator(".submit-turn").click()
        tabs[seat].page.locator(".submitted").wait_for(timeout=LIVE_MS)
    clock_shows(tabs["facilitator"], "waiting for JP")
    jp.page.locator(".submit-turn").click()
    # the last submission resolves the turn; every page follows by itself
    for tab in tabs.values():
        clock_shows(tab, "turn 2")
    for seat in TEAMS:
        feed = tabs[seat].page.locator(".workshop-news")
        for who, text in APPLIED.items():
            # Japan's stockpile is Japan's secret: the others read only what the market sees
            shown = text if who != "JP" or seat == "JP" else OBSERVED_JP
            feed.get_by_text(shown).first.wait_for(timeout=LIVE_MS)
        assert (APPLIED["JP"] in news(tabs[seat])) == (seat == "JP")
        assert tabs[seat].page.locator(".draft").count() == 0
    # turn 2: one draft, not submitted, then the facilitator resolves the turn
    json_order(jp, JP_TURN_2)
    for seat in ("US", "CN"):
        assert "Japan sets" not in news(tabs[seat])
        assert "rate=0.1" not in tabs[seat].page.locator(".order-panel").inner_text()
    tabs["facilitator"].page.get_by_role("button", name="Resolve turn now").click()
    for tab in tabs.values():
        clock_shows(tab, "turn 3")
    for seat in ("US", "CN"):
        tabs[seat].page.locator(".workshop-news").get_by_text(
            "Japan sets a 10% tariff on magnet from CN"
        ).first.wait_for(timeout=LIVE_MS)


def test_a_team_cannot_act_for_another_seat(tabs, server, game):
    us = tabs["US"]
    store = Store(game["data"] / "workshop.sqlite")  # read-only here; the server owns writes
    try:
        before = [i for i in store.inputs(game["id"]) if i.payload.get("seat") == "CN"]
        ban = '{"kind": "export_ban", "issuer": "CN", "commodities": ["magnet"]}'
        json_order(us, ban, expect="your code admits US only")
        after = [i for i in store.inputs(game["id"]) if i.payload.get("seat") == "CN"]
        assert after == before
        assert not [i for i in store.inputs(game["id"]) if i.actor == "US" and i.kind != "order"
                    and i.payload.get("seat") != "US"]  # fmt: skip
    finally:
        store.close()
    assert tabs["CN"].page.locator(".draft").count() == 0
    # a team's page has no console: nothing of the facilitator's to click
    for seat in TEAMS:
        page = tabs[seat].page
        assert page.locator(".console").count() == 0
        assert page.get_by_role("button", name="Resolve turn now").count() == 0
        assert page.locator(".roster-row").count() == 0
    # and a wrong code gets no session at all
    code = game["codes"]["CN"]
    wrong = code[:-1] + ("X" if code[-1] != "X" else "Y")  # one symbol off, never the code itself
    response = server.post("/join", "secret=" + wrong)
    assert response.status == 303 and response.getheader("Set-Cookie") is None


def test_every_page_resumes_after_the_server_is_killed_mid_turn(tabs, server):
    us = tabs["US"]
    us.page.locator(".submit-order").click()
    us.page.locator(".draft").first.wait_for()
    us.page.locator(".submit-turn").click()
    us.page.locator(".submitted").wait_for(timeout=LIVE_MS)
    roster = tabs["facilitator"].page.locator(".roster-row", has_text="US ·")
    roster.get_by_text(re.compile("submitted · 1 order")).wait_for(timeout=LIVE_MS)
    server.stop(signal.SIGKILL)
    server.start()  # same port, same database
    for who, tab in tabs.items():
        tab.page.wait_for_function("() => solara.debug.remountCount >= 1", timeout=RESUME_MS)
        tab.page.get_by_text(f"Signed in as {who}").wait_for(timeout=RESUME_MS)
        assert tab.page.get_by_text("refresh the page").count() == 0
    for seat in TEAMS:
        clock_shows(tabs[seat], "turn 3", timeout=RESUME_MS)
    us.page.locator(".submitted").wait_for(timeout=LIVE_MS)
    assert "rate=0.25" in us.page.locator(".draft").inner_text()
    facilitator = tabs["facilitator"]
    clock_shows(facilitator, "turn 3", timeout=RESUME_MS)
    roster = facilitator.page.locator(".roster-row", has_text="US ·")
    roster.get_by_text(re.compile("submitted · 1 order")).wait_for(timeout=LIVE_MS)


def test_the_after_action_report_downloads_self_contained(tabs, tmp_path):
    page = tabs["facilitator"].page
    with page.expect_download() as info:
        page.get_by_text("After-action report").click()
    path = tmp_path / "report.html"
    info.value.save_as(path)
    html = path.read_text()
    assert html.lstrip().lower().startswith("<!doctype html")
    for text in ("United States sets a 25% tariff", "China requires export licences",
                 "Japan buys 500 t"):  # fmt: skip
        assert text in html, text
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", html), "external resource"
    assert not re.search(r"url\(\s*['\"]?https?:", html), "external resource in a style"

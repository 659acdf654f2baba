"""Browser tests of the game page: a real solara server on a free loopback port, driven by
Playwright in Debian's Chromium (/usr/bin/chromium), with every non-loopback request blocked."""

import contextlib
import os
import re
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import sync_playwright

from play.saved_games import SavedGames
from play.session import GameSession
from ui.assets import ensure_assets
from ui.serve import command, environment

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_MS = 30_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving():
    """A solara server of the page on a free loopback port, until the block ends; its games
    are kept where ``$CHOKEPOINT_GAMES`` says (tests/conftest.py: a temporary folder)."""
    assert not ensure_assets(quiet=True), "the page's assets could not be put in place"
    port = _free_port()
    proc = subprocess.Popen(
        command("127.0.0.1", port),
        env=environment("alliance-vs-tariffs-2025"),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 60
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            break
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("the solara server did not start") from None
            time.sleep(0.3)
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def server():
    with serving() as url:
        yield url


@pytest.fixture(scope="module")
def chrome():
    assert os.path.exists(CHROMIUM), "install Debian's chromium: apt-get install -y chromium"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


class Tab:
    """One browser session on the page, offline: non-loopback requests are aborted."""

    def __init__(self, browser, url):
        self.context = browser.new_context(viewport={"width": 1500, "height": 1000})
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.page.route("**/*", self._route)
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else 0)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(url)

    def _route(self, route):
        if urlparse(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def start(self):
        self.page.get_by_role("button", name="Start the game").click()
        self.wait_for_game()

    def wait_for_game(self):
        self.page.locator(".end-turn").wait_for()
        self.page.locator(".dashboard img").wait_for()

    def resume_latest(self):
        """Resume the latest game the start screen lists."""
        self.page.locator(".resume-game").first.click()
        self.wait_for_game()

    def clock(self) -> str:
        return self.page.locator(".game-clock").inner_text()

    def end_turn(self, month: int):
        self.page.locator(".end-turn").click()
        self.page.get_by_text(f"month {month}/").wait_for()

    def chart(self) -> bytes:
        """A screenshot of the dashboard's chart."""
        return self.page.locator(".dashboard img").first.screenshot()

    def set_rate(self, text: str):
        field = self.page.locator(".order-rate input")
        field.fill(text)
        self.page.locator(".submit-order").click()
        return self.page.locator(".order-message")

    def close(self):
        self.context.close()


@pytest.fixture
def tab(chrome, server):
    t = Tab(chrome, server)
    yield t
    t.close()


def test_page_loads_offline_and_renders_the_dashboard(tab):
    tab.start()
    assert "month 0/" in tab.clock()
    assert tab.chart()[:8] == b"\x89PNG\r\n\x1a\n"
    assert tab.page.locator(".dashboard img").first.bounding_box()["height"] > 200
    # Every Markdown panel imports mermaid and KaTeX when it mounts: served offline too.
    tab.page.wait_for_load_state("networkidle")
    assert tab.blocked == [], f"requests that left the machine: {tab.blocked}"
    assert tab.errors == [], tab.errors


def test_play_a_turn_as_the_us_with_a_tariff(tab):
    tab.start()
    assert "seat US" in tab.clock()
    tab.page.locator(".end-turn").click()  # one turn first, so the price chart has lines
    tab.page.get_by_text("month 3/").wait_for()
    before = tab.chart()
    message = tab.set_rate("0.5")
    message.wait_for()
    assert "pending" in message.inner_text()
    pending = tab.page.locator(".pending-order")
    pending.get_by_text("United States sets a 50% tariff on magnet from CN").wait_for()
    tab.end_turn(6)
    tab.page.locator(".news-feed").get_by_text(
        "United States sets a 50% tariff on magnet"
    ).wait_for()
    assert tab.chart() != before
    assert tab.blocked == []


def test_pointing_at_a_month_of_any_year_shows_its_values(tab):
    """The hover layer comes in a piece per year (ui/charts.py hover_pieces): a later year's
    piece lies over the earlier ones, and pointing at a month of either still shows its tip."""
    tab.start()
    for month in (3, 6, 9, 12, 15):
        tab.end_turn(month)
    pieces = tab.page.locator(".hover-piece")
    assert pieces.count() == 2  # months 0-11, then 12-14
    for piece, month in ((pieces.first, 4), (pieces.last, 13)):
        cell = piece.locator(".hover-cell").filter(has_text=f"(month {month})").first
        cell.hover()
        tip = cell.locator(".hover-tip")
        tip.wait_for(state="visible")
        assert f"(month {month})" in tip.inner_text() and "USD/kg" in tip.inner_text()
    assert tab.errors == []


def test_undo_goes_back_one_turn_only_once_confirmed(tab):
    tab.start()
    tab.end_turn(3)
    tab.end_turn(6)
    tab.page.get_by_role("button", name="Undo", exact=True).click()
    tab.page.get_by_text("Go back to turn 2: from month 6 to month 3").wait_for()
    assert "month 6/" in tab.clock()
    tab.page.get_by_role("button", name="Yes, undo").click()
    tab.page.get_by_text("month 3/").wait_for()
    assert "turn 2/" in tab.clock()


def test_invalid_order_shows_the_worlds_message(tab):
    tab.start()
    message = tab.set_rate("25")
    message.wait_for()
    assert "Rejected" in message.inner_text()
    assert "must be between 0 and 10" in message.inner_text()


def test_two_sessions_stay_independent(chrome, server):
    a, b = Tab(chrome, server), Tab(chrome, server)
    try:
        a.start()
        b.start()
        a.end_turn(3)
        a.end_turn(6)
        b.page.reload()
        b.start()
        assert "month 0/" in b.clock()
        b.end_turn(3)
        assert "month 6/" in a.clock()
    finally:
        a.close()
        b.close()


def test_a_game_survives_a_reload_and_a_server_restart(chrome, server):
    tab = Tab(chrome, server)
    try:
        tab.start()
        tab.end_turn(3)
        tab.set_rate("0.5").wait_for()
        tab.end_turn(6)
        tab.page.reload()
        tab.page.locator(".saved-game").first.get_by_text("month 6/").wait_for()
        tab.resume_latest()
        assert "month 6/" in tab.clock() and "turn 3/" in tab.clock()
        news = tab.page.locator(".news-feed")
        news.get_by_text("United States sets a 50% tariff on magnet").wait_for()
        tab.end_turn(9)  # the resumed game plays on, and is kept
    finally:
        tab.close()
    with serving() as restarted:
        tab = Tab(chrome, restarted)
        try:
            tab.page.locator(".saved-game").first.get_by_text("month 9/").wait_for()
            tab.resume_latest()
            assert "month 9/" in tab.clock()
            tab.page.locator(".news-feed").get_by_text(
                "United States sets a 50% tariff on magnet"
            ).wait_for()
            assert tab.errors == [], tab.errors
        finally:
            tab.close()


def test_redo_takes_an_undo_back(tab):
    tab.start()
    tab.end_turn(3)
    tab.end_turn(6)
    tab.page.get_by_role("button", name="Undo", exact=True).click()
    tab.page.get_by_role("button", name="Yes, undo").click()
    tab.page.get_by_text("month 3/").wait_for()
    tab.page.locator(".redo").click()
    tab.page.get_by_text("month 6/").wait_for()
    assert tab.page.locator(".redo").count() == 0


def test_the_results_screen_at_the_horizon_scores_the_game_against_doing_nothing(chrome, server):
    # A game kept a turn before its end (in this process, in the database the server reads).
    game = GameSession("alliance-vs-tariffs-2025", seed=2, seat="US")
    SavedGames().keep(game)
    while game.month < game.spec.months - game.spec.turn_months:
        game.end_turn()
    tab = Tab(chrome, server)
    try:
        tab.resume_latest()
        assert tab.page.locator(".results-screen").count() == 0
        tab.end_turn(game.spec.months)
        screen = tab.page.locator(".results-screen")
        screen.get_by_text("Doing nothing (same seed, no order from US) ends at").wait_for()
        text = screen.inner_text()
        assert "Final score of US" in text and "it started at" in text
        assert "security" in text and "points" in text
        assert screen.locator("img").count() == 1
        assert not re.search(r"\d{7,}", text), "values are formatted"
        assert "game over" in tab.clock()
        assert tab.errors == [], tab.errors
    finally:
        tab.close()

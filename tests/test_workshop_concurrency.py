"""A workshop at its busiest, in real browsers (issue 15, finding 8): 10 team browsers (2 per
seat of alliance-vs-tariffs-2025) submit within the same 100 ms while the facilitator resolves
the turn; then two facilitator tabs undo and resolve at the same moment. Every acknowledged
order is applied exactly once, and every browser ends on the server's turn."""

from __future__ import annotations

import json
import shutil
import sqlite3
import time

import pytest
import test_app_browser
from test_workshop_browser import LIVE_MS, json_order, open_console, running, sign_in
from test_workshop_server import KEY, SCENARIO

from play.room import Credential, Workshops

chrome = test_app_browser.chrome
SEATS = ["US", "CN", "JP", "EU", "AU"]
#: How long the pages may take to settle on the same turn after the burst.
SETTLE_S = 60

#: Clicks ``selector`` (or the button reading ``text``) at wall-clock ``at`` (ms since the
#: epoch), and notes when it did: every page is told the same moment in advance.
CLICK_AT = """([selector, text, at]) => {
    setTimeout(() => {
        const button = selector ? document.querySelector(selector)
            : [...document.querySelectorAll("button")].find(
                b => b.textContent.trim().toLowerCase() === text);
        window.__clickedAt = Date.now();
        button.click();
    }, at - Date.now());
}"""


@pytest.fixture(scope="module")
def game(tmp_path_factory):
    data = tmp_path_factory.mktemp("workshop")
    room = Workshops(data, KEY, clock_s=0)
    try:
        made = room.create_game(Credential("facilitator"), SCENARIO, teams=SEATS, seed=11)
        codes = {s: made.code(Credential("facilitator"), s) for s in SEATS}
        return {"data": data, "id": made.id, "label": f"{made.name} ({made.id})", "codes": codes}
    finally:
        room.close()


def _rebuilt(game, tmp_path):
    """The game as the database holds it (a copy, rebuilt as a restarted server would)."""
    copy = tmp_path / f"copy-{time.monotonic_ns()}"
    copy.mkdir()
    source = sqlite3.connect(game["data"] / "workshop.sqlite")
    target = sqlite3.connect(copy / "workshop.sqlite")
    source.backup(target)
    source.close()
    target.close()
    room = Workshops(copy, KEY, clock_s=0)
    try:
        g = room.game(room.login(KEY), game["id"])
        orders = g.world.orders()
        mine = orders[orders["source"].str.startswith("team:")]
        rates = sorted(json.loads(p)["rate"] for p in mine["parameters"])
        return g.turn, rates
    finally:
        room.close()
        shutil.rmtree(copy)


def _turn_of(tab) -> int | None:
    text = tab.page.locator(".workshop-clock").first.inner_text()
    words = text.split("turn ")
    return int(words[1].split()[0]) if len(words) > 1 else None


def _settle(tabs, game, tmp_path) -> int:
    """Wait until the database's turn is on every page; that turn."""
    deadline = time.monotonic() + SETTLE_S
    while True:
        turn, _rates = _rebuilt(game, tmp_path)
        shown = [_turn_of(t) for t in tabs]
        if all(s == turn for s in shown):
            return turn
        assert time.monotonic() < deadline, f"pages on turns {shown}, the server on {turn}"
        time.sleep(1.0)


def _burst(clicks, at_ms: float) -> list[float]:
    """Schedule every (tab, selector, text) click for ``at_ms``; when each one happened."""
    for tab, selector, text in clicks:
        tab.page.evaluate(CLICK_AT, [selector, text, at_ms])
    for tab, _s, _t in clicks:
        tab.page.wait_for_function("() => window.__clickedAt !== undefined", timeout=LIVE_MS * 4)
    return [tab.page.evaluate("() => window.__clickedAt") for tab, _s, _t in clicks]


def test_ten_browsers_submit_while_the_facilitator_resolves_then_undo_races_resolve(
    chrome, game, tmp_path
):
    with running(game["data"], tmp_path / "server.log") as server:
        bosses = [sign_in(chrome, server, KEY, "facilitator") for _ in range(2)]
        teams = [(s, sign_in(chrome, server, game["codes"][s], s)) for s in SEATS for _ in (0, 1)]
        tabs = [*bosses, *(t for _s, t in teams)]
        try:
            for boss in bosses:
                open_console(boss, game["label"])
            acked = []
            for i, (region, tab) in enumerate(teams):
                rate = round(0.01 * (i + 1), 2)
                partner = "AU" if region != "AU" else "CN"
                order = {"kind": "import_tariff", "commodities": ["magnet"],
                         "partners": [partner], "rate": rate}  # fmt: skip
                json_order(tab, json.dumps(order))  # waits for "drafted": acknowledged
                acked.append(rate)
            clicks = [(tab, ".submit-turn", "") for _r, tab in teams]
            clicks.append((bosses[0], ".resolve-turn", ""))
            moments = _burst(clicks, time.time() * 1000 + 3000)
            assert max(moments) - min(moments) <= 100, moments  # the same 100 ms
            turn = _settle(tabs, game, tmp_path)
            assert turn >= 2
            assert _rebuilt(game, tmp_path)[1] == sorted(acked)  # none lost, none twice
            # two facilitator tabs at once: one undoes, the other resolves
            for boss in bosses:
                boss.page.evaluate("() => { delete window.__clickedAt; }")
            races = [(bosses[0], "", "undo last turn"), (bosses[1], ".resolve-turn", "")]
            moments = _burst(races, time.time() * 1000 + 2000)
            assert max(moments) - min(moments) <= 100, moments
            after = _settle(tabs, game, tmp_path)
            assert after == turn  # one step back and one forward, in either order
            assert _rebuilt(game, tmp_path)[1] == sorted(acked)
            for tab in tabs:
                assert tab.page.get_by_text("Traceback").count() == 0
        finally:
            for tab in tabs:
                tab.close()
    print(f"\n10 concurrent submits + a resolve: {len(acked)} acknowledged orders, "
          f"turn {turn}, then undo and resolve at once: turn {after}")  # fmt: skip

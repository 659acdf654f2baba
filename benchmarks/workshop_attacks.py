"""Workshop attack run (issue 15): the attacks of the security test, counted, with kill -9s.

Starts ``chokepoint serve`` on free loopback ports (each rate-limit attack on a server of its
own), drives it over raw HTTP and in Debian's Chromium (every non-loopback request blocked),
and prints, per kind of attack, how many were tried and how many succeeded; then kills the
server with ``kill -9`` right after acknowledged orders and a run of futures, restarts it, and
prints kills, acknowledged orders, orders lost and helper processes left behind.

    uv run python benchmarks/workshop_attacks.py [--kills 4]

Uses only HTTP and the pages (no import of the server's own modules beyond the test helpers),
so the same run measures an older commit too. Exits 1 if any attack succeeded or any order or
helper was lost or left.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import http.client
import json
import os
import re
import signal
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for where in (REPO, REPO / "tests"):  # the browser tests' helpers are reused, not copied
    if str(where) not in sys.path:
        sys.path.insert(0, str(where))

from playwright.sync_api import sync_playwright  # noqa: E402
from test_app_browser import ARGS, CHROMIUM  # noqa: E402
from test_workshop_browser import json_order, open_console, sign_in  # noqa: E402
from test_workshop_lifeline import _descendants, _running  # noqa: E402
from test_workshop_security import CRAFT, EVIL  # noqa: E402
from test_workshop_server import KEY, SCENARIO, Server  # noqa: E402

from play.room import Credential, Workshops  # noqa: E402

TEAMS = ["US", "CN", "JP"]
#: How long an open page is given to go dark before it counts as still reading.
DARK_S = 5.0
STOCKPILE = '{"kind": "stockpile_buy", "commodity": "magnet", "tonnes": 500, "months": 3}'


def make_game(data: Path) -> tuple[str, str, dict[str, str]]:
    room = Workshops(data, KEY, clock_s=0)
    try:
        game = room.create_game(Credential("facilitator"), SCENARIO, teams=TEAMS)
        codes = {s: game.code(Credential("facilitator"), s) for s in TEAMS}
        return game.id, f"{game.name} ({game.id})", codes
    finally:
        room.close()


def start(data: Path, log: Path) -> Server:
    s = Server(data, log, {**os.environ, "CHOKEPOINT_FACILITATOR_KEY": KEY})
    s.start()
    return s


def request(s: Server, method: str, path: str, headers: dict, body: str = ""):
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=60)
    conn.request(method, path, body=body or None, headers=headers)
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def form(s: Server) -> tuple[str, str]:
    """The login form's CSRF cookie and token, if it has them (an older server has none)."""
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
    conn.request("GET", "/join")
    response = conn.getresponse()
    page = response.read().decode()
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    cookie = (response.getheader("Set-Cookie") or "").split(";")[0]
    return cookie, found.group(1) if found else ""


def post(
    s: Server,
    path: str,
    fields: str,
    cookie: str = "",
    origin: str = "",
    xff: str = "",
    got: tuple[str, str] | None = None,
):
    """A form POST as a browser would send it, with the form's own CSRF token (generously: a
    foreign page could not read it); ``got``: the form's cookie and token, fetched before."""
    csrf_cookie, token = got or form(s)
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "Cookie": "; ".join(c for c in (cookie, csrf_cookie) if c)}  # fmt: skip
    if origin:
        headers["Origin"] = origin
    if xff:
        headers["X-Forwarded-For"] = xff
    body = "&".join(p for p in (fields, f"csrf={token}" if token else "") if p)
    return request(s, "POST", path, headers, body)


def session_of(response) -> str:
    cookie = response.getheader("Set-Cookie") or ""
    return cookie.split(";")[0] if cookie.startswith("chokepoint_session=") else ""


def upgrade(s: Server, origin: str) -> int:
    headers = {
        "Origin": origin,
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
    }
    path = f"/jupyter/api/kernels/{uuid.uuid4()}/channels?session_id={uuid.uuid4()}"
    return request(s, "GET", path, headers).status


def http_attacks(s: Server, codes: dict[str, str]) -> dict[str, tuple[int, int]]:
    """Cross-site requests, malformed forms, Solara's cookie: kind -> (tried, succeeded)."""
    found = {}
    login = post(s, "/join", f"secret={codes['US']}", origin=EVIL)
    found["login from a foreign Origin (login CSRF)"] = (1, int(bool(session_of(login))))
    token = session_of(post(s, "/join", f"secret={KEY}"))
    out = post(s, "/logout", "", cookie=token, origin=EVIL)
    deleted = 'chokepoint_session=""' in (out.getheader("Set-Cookie") or "")
    found["logout from a foreign Origin"] = (1, int(deleted))
    found["websocket from a foreign or null Origin"] = (
        2, sum(upgrade(s, o) == 101 for o in (EVIL, "null")))  # fmt: skip
    rebinding = request(s, "GET", "/join", {"Host": "evil.example"})
    found["request naming a foreign Host (DNS rebinding)"] = (1, int(rebinding.status == 200))
    many = post(s, "/join", "secret=x&" + "&".join(f"f{i}=x" for i in range(11)))
    twice = post(s, "/join", "secret=x&secret=y&z=1")
    found["malformed login form answered 500"] = (2, (many.status == 500) + (twice.status == 500))
    root = request(s, "GET", "/", {})
    weak = [c for c in root.headers.get_all("Set-Cookie") or [] if c.startswith("solara")
            and not ("HttpOnly" in c and "SameSite=Strict" in c and "2038" not in c)]  # fmt: skip
    found["Solara session cookie not HttpOnly/Strict/short"] = (1, int(bool(weak)))
    return found


def limiter_attacks(tmp: Path) -> dict[str, tuple[int, int]]:
    """Wrong codes past the limit of 10 a minute: kind -> (tried, evaluated beyond the limit)."""
    found = {}
    for kind, n, rotate in (("200 wrong codes, rotating X-Forwarded-For", 200, True),
                            ("100 concurrent wrong codes, one address", 100, False)):  # fmt: skip
        where = tmp / f"limiter-{n}"
        where.mkdir()
        s = start(where / "data", where / "log")
        got = form(s)  # one form for all: the guesses leave at once
        try:
            with concurrent.futures.ThreadPoolExecutor(100 if not rotate else 20) as pool:
                statuses = list(pool.map(
                    lambda i, s=s, rotate=rotate, got=got: post(
                        s, "/join", f"secret=WRONG-{i:04d}", got=got,
                        xff=f"198.51.100.{i % 250 + 1}" if rotate else "").status,
                    range(n)))  # fmt: skip
        finally:
            s.stop()
        found[kind] = (n, max(0, statuses.count(303) - 10))
        print(f"  {kind}: {statuses.count(303)} evaluated, {statuses.count(429)} refused")
    return found


def reads_intelligence(tab) -> bool:
    """Whether the page still shows the seat's private Intelligence after :data:`DARK_S`."""
    tab.page.wait_for_timeout(DARK_S * 1000)
    return "Spent this year" in tab.page.inner_text("body")


def show_intelligence(tab) -> None:
    tab.page.get_by_role("button", name="Intelligence").click()
    tab.page.get_by_text("Spent this year").wait_for()


def page_attacks(browser, s: Server, label: str, codes: dict[str, str]):
    """Open pages after their rights ended, crafted widget messages, stockpile news."""
    found = {}
    left = 0
    for seat in ("US", "CN"):
        tab = sign_in(browser, s, codes[seat], seat)
        show_intelligence(tab)
        other = tab.context.new_page()
        other.goto(f"{s.url}/")
        other.locator(".logout").first.click()
        other.wait_for_url(re.compile("/join"))
        left += reads_intelligence(tab)
        tab.close()
    found["page still reads Intelligence after signing out"] = (2, left)
    boss = sign_in(browser, s, KEY, "facilitator")
    open_console(boss, label)
    jp = sign_in(browser, s, codes["JP"], "JP")
    show_intelligence(jp)
    row = boss.page.locator(".roster-row", has_text="JP ·")
    row.get_by_role("button", name="Hand to AI").click()
    dark = not reads_intelligence(jp)
    found["page still reads Intelligence after the seat went to AI"] = (1, int(not dark))
    jp.close()
    row.get_by_role("button", name="Hand to team").click()
    boss.page.wait_for_timeout(2000)
    again = post(s, "/join", f"secret={codes['JP']}")
    admitted = bool(session_of(again))
    found["old code admitted after the seat went to another team"] = (1, int(admitted))
    new = re.search(r"code ([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})", row.inner_text()).group(1)
    codes["JP"] = new
    us = sign_in(browser, s, codes["US"], "US")
    us.page.locator(".workshop-clock").first.wait_for()
    shown = 0
    labels = "Orders|Negotiation|Intelligence|Briefing"
    for value in (99, {"__class__": "x"}):
        if "Traceback" in us.page.inner_text("body"):  # a page already broken: a fresh one
            us.close()
            us = sign_in(browser, s, codes["US"], "US")
        us.page.get_by_role("button", name="Intelligence").wait_for()
        us.page.wait_for_timeout(800)
        us.page.evaluate(CRAFT, [labels, value])
        us.page.wait_for_timeout(1500)
        shown += "Traceback" in us.page.inner_text("body")
    found["crafted widget message puts a traceback in the page"] = (2, shown)
    us.close()
    us = sign_in(browser, s, codes["US"], "US")
    jp = sign_in(browser, s, codes["JP"], "JP")
    json_order(jp, STOCKPILE)
    boss.page.get_by_role("button", name="Resolve turn now").click()
    us.page.locator(".workshop-clock", has_text="turn 2").first.wait_for()
    us.page.wait_for_timeout(1500)
    leaked = "500 t of magnet" in us.page.locator(".workshop-news").inner_text()
    found["another seat's stockpile purchase readable in the news"] = (1, int(leaked))
    for tab in (us, jp, boss):
        tab.close()
    return found


def kills(browser, tmp: Path, n: int) -> dict[str, int]:
    """``n`` kill -9s, each right after an acknowledged order and a run of futures."""
    data = tmp / "kills"
    game_id, label, codes = make_game(data)
    s = start(data, tmp / "kills.log")
    acked, orphans, seen = [], 0, 0
    try:
        for k in range(n):
            boss = sign_in(browser, s, KEY, "facilitator")
            open_console(boss, label)
            boss.page.get_by_label("Futures").fill("2")
            boss.page.get_by_label("Months ahead").fill("1")
            boss.page.locator(".run-futures").click()
            boss.page.get_by_text("Running the futures").wait_for(state="detached", timeout=120_000)
            us = sign_in(browser, s, codes["US"], "US")
            rate = round(0.01 * (k + 1), 2)
            json_order(us, json.dumps({"kind": "import_tariff", "commodities": ["magnet"],
                                       "partners": ["CN"], "rate": rate}))  # fmt: skip
            acked.append(rate)
            helpers = _descendants(s.proc.pid)
            seen += len(helpers)
            s.stop(signal.SIGKILL)
            time.sleep(5)
            alive = [p for p in helpers if _running(p)]
            orphans += len(alive)
            for pid in alive:
                os.kill(pid, signal.SIGKILL)
            us.close()
            boss.close()
            s.start()
    finally:
        s.stop()
    db = sqlite3.connect(data / "workshop.sqlite")
    stored = [json.loads(p)["order"]["rate"] for (p,) in db.execute(
        "SELECT payload FROM inputs WHERE kind = 'order' AND game_id = ?", (game_id,))]  # fmt: skip
    db.close()
    return {"kills": n, "acknowledged orders": len(acked),
            "orders lost": len(set(acked) - set(stored)), "helpers seen": seen,
            "helpers left after kill -9": orphans}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=4)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="workshop-attacks-"))
    found: dict[str, tuple[int, int]] = {}
    _game, label, codes = make_game(tmp / "data")
    s = start(tmp / "data", tmp / "server.log")
    try:
        found.update(http_attacks(s, codes))
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            found.update(page_attacks(browser, s, label, codes))
            s.stop()
            killed = kills(browser, tmp, args.kills)
            browser.close()
    finally:
        s.stop()
    found.update(limiter_attacks(tmp))
    print(f"{'attack':<58} tried succeeded")
    for kind, (tried, won) in found.items():
        print(f"{kind:<58} {tried:>5} {won:>9}")
    for name, value in killed.items():
        print(f"{name:<58} {value:>5}")
    bad = sum(w for _t, w in found.values()) + killed["orders lost"]
    return 1 if bad or killed["helpers left after kill -9"] else 0


if __name__ == "__main__":
    sys.exit(main())

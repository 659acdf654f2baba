"""The workshop server under attack (issue 15): sessions that end when they should, requests
from other sites refused, the login limiter not fooled, crafted input refused without a
traceback, Solara's cookie kept short and strict. A real ``chokepoint serve`` on a free loopback
port, driven over raw HTTP and in Debian's Chromium (offline, as in test_app_browser.py)."""

from __future__ import annotations

import concurrent.futures
import http.client
import os
import re
import uuid

import pytest
import test_app_browser
from test_workshop_browser import clock_shows, open_console, running, sign_in
from test_workshop_server import KEY, SCENARIO, Server

from play.room import Credential, Workshops
from ui.workshop import server as workshop_server
from ui.workshop.security import CSRF_COOKIE

chrome = test_app_browser.chrome
TEAMS = ["US", "CN", "JP"]
EVIL = "http://evil.example"
#: How long a page may take to go dark once its session ended.
DARK_MS = 5_000


@pytest.fixture(scope="module")
def game(tmp_path_factory):
    data = tmp_path_factory.mktemp("workshop")
    room = Workshops(data, KEY, clock_s=0)
    try:
        made = room.create_game(Credential("facilitator"), SCENARIO, teams=TEAMS)
        codes = {s: made.code(Credential("facilitator"), s) for s in TEAMS}
        return {"data": data, "id": made.id, "label": f"{made.name} ({made.id})", "codes": codes}
    finally:
        room.close()


@pytest.fixture(scope="module")
def server(game, tmp_path_factory):
    with running(game["data"], tmp_path_factory.mktemp("log") / "server.log") as s:
        yield s


def _fresh(tmp_path, *args: str) -> Server:
    """A server of its own (its limiter untouched by other tests) on an empty database."""
    s = Server(tmp_path / "data", tmp_path / "server.log",
               {**os.environ, "CHOKEPOINT_FACILITATOR_KEY": KEY}, args)  # fmt: skip
    s.start()
    return s


def _request(server: Server, method: str, path: str, headers: dict[str, str], body: str = ""):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.request(method, path, body=body or None, headers=headers)
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def _session_cookie(response) -> str | None:
    cookie = response.getheader("Set-Cookie") or ""
    return cookie.split(";")[0] if cookie.startswith(workshop_server.COOKIE) else None


# ---------------------------------------------------------------------- 3. cross-site requests


def test_login_from_another_sites_page_is_refused(server, game):
    """Login CSRF: a foreign page posting the attacker's code must not sign the victim in."""
    code = game["codes"]["US"]
    response = server.post("/join", f"secret={code}", headers={"Origin": EVIL})
    assert response.status == 403 and _session_cookie(response) is None
    # and without the form's token (a foreign page cannot read it) neither, from any origin
    origin = f"http://127.0.0.1:{server.port}"
    response = server.post("/join", f"secret={code}", csrf=False, headers={"Origin": origin})
    assert response.status == 403 and _session_cookie(response) is None
    # the same request from our own page signs in
    response = server.post("/join", f"secret={code}", headers={"Origin": origin})
    assert response.status == 303 and _session_cookie(response)


def test_logout_from_another_sites_page_is_refused(server):
    token = _session_cookie(server.post("/join", f"secret={KEY}"))
    response = server.post("/logout", "", cookie=token, headers={"Origin": EVIL})
    assert response.status == 403 and response.getheader("Set-Cookie") is None
    # without the page's token: a page asking to confirm, and the session goes on
    response = server.post("/logout", "", cookie=token, csrf=False)
    assert response.status == 403 and response.getheader("Set-Cookie", "").startswith(
        CSRF_COOKIE  # the confirmation form's token, not a deletion
    )
    response = server.post("/logout", "", cookie=token)
    assert response.status == 303 and f'{workshop_server.COOKIE}=""' in response.getheader(
        "Set-Cookie"
    )


def _upgrade(server: Server, origin: str, host: str = "") -> int:
    """The status of a websocket handshake to the page's kernel channel."""
    headers = {
        "Host": host or f"127.0.0.1:{server.port}",
        "Origin": origin,
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
    }
    path = f"/jupyter/api/kernels/{uuid.uuid4()}/channels?session_id={uuid.uuid4()}"
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", path, headers=headers)
    status = conn.getresponse().status
    conn.close()
    return status


def test_the_websocket_refuses_another_sites_page(server):
    assert _upgrade(server, EVIL) == 403
    assert _upgrade(server, "null") == 403  # a sandboxed frame anywhere
    assert _upgrade(server, f"http://127.0.0.1:{server.port}") == 101


def test_a_request_naming_another_host_is_refused(server):
    """DNS rebinding: a foreign name resolving to this machine gets nothing."""
    response = _request(server, "GET", "/join", {"Host": "evil.example"})
    assert response.status == 403
    assert _request(server, "GET", "/join", {"Host": f"localhost:{server.port}"}).status == 200
    assert _upgrade(server, "http://evil.example", host="evil.example") == 403


def test_allowed_origins_are_admitted(tmp_path):
    proxy = "https://workshop.example.org"
    s = _fresh(tmp_path, "--allowed-origin", proxy)
    try:
        assert _upgrade(s, proxy, host="workshop.example.org") == 101
        assert _upgrade(s, EVIL, host="workshop.example.org") == 403
        response = s.post("/join", f"secret={KEY}", headers={"Origin": proxy})
        assert response.status == 303 and _session_cookie(response)
    finally:
        s.stop()


# ---------------------------------------------------------------------- 2. rate limiting


def _guesses(server: Server, n: int, forwarded: bool) -> list[int]:
    """``n`` wrong codes at once from this address (each with its own X-Forwarded-For if
    ``forwarded``); their statuses: 303 evaluated, 429 refused unevaluated."""
    cookie, token = server.csrf()

    def guess(i: int) -> int:
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
        if forwarded:
            headers["X-Forwarded-For"] = f"198.51.100.{i % 250 + 1}"
        body = f"secret=WRONG-CODE-{i:04d}&csrf={token}"
        return _request(server, "POST", "/join", headers, body).status

    with concurrent.futures.ThreadPoolExecutor(n) as pool:
        return list(pool.map(guess, range(n)))


def test_a_forged_forwarded_for_does_not_get_past_the_limiter(tmp_path):
    s = _fresh(tmp_path)
    try:
        statuses = _guesses(s, 40, forwarded=True)
    finally:
        s.stop()
    assert statuses.count(303) <= workshop_server.MAX_FAILS
    assert statuses.count(429) >= 40 - workshop_server.MAX_FAILS


def test_concurrent_guesses_from_one_address_stay_within_the_limit(tmp_path):
    s = _fresh(tmp_path)
    try:
        statuses = _guesses(s, 100, forwarded=False)
    finally:
        s.stop()
    assert statuses.count(303) <= workshop_server.MAX_FAILS, statuses.count(303)
    assert set(statuses) <= {303, 429}


def test_a_trusted_proxy_forwards_each_clients_own_address(tmp_path):
    s = _fresh(tmp_path, "--trusted-proxy", "127.0.0.1")
    try:
        statuses = _guesses(s, 2 * workshop_server.MAX_FAILS, forwarded=True)
    finally:
        s.stop()
    assert statuses == [303] * (2 * workshop_server.MAX_FAILS)  # 20 clients, one guess each


# ---------------------------------------------------------------------- 5, 6. input, cookies


def test_a_login_form_with_extra_fields_gets_a_clear_refusal(server):
    fields = "&".join(f"f{i}=x" for i in range(11))
    response = server.post("/join", f"secret=x&{fields}")
    assert response.status == 400
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    cookie, token = server.csrf()
    conn.request("POST", "/join", body=f"secret=x&csrf={token}&secret=y",
                 headers={"Cookie": cookie,
                          "Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    answer = conn.getresponse()
    text = answer.read().decode()
    assert answer.status == 400 and "Refused: the form has more than 2 fields" in text
    assert "Traceback" not in text and "Internal Server Error" not in text


def test_solaras_session_cookie_is_httponly_strict_and_short_lived(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", "/")
    response = conn.getresponse()
    response.read()
    cookies = [c for c in response.headers.get_all("Set-Cookie") or [] if "solara" in c]
    assert cookies, response.headers
    for cookie in cookies:
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie, cookie
        assert "Max-Age=86400" in cookie and "2038" not in cookie, cookie


# ---------------------------------------------------------------------- 1, 5. open pages


def _dark(tab: test_app_browser.Tab) -> None:
    """The page says it is signed out and shows nothing of the seat any more."""
    tab.page.locator(".signed-out").wait_for(timeout=DARK_MS)
    assert tab.page.locator(".seat-view").count() == 0
    assert "Spent this year" not in tab.page.inner_text("body")
    assert tab.page.locator("a.join-link").count() == 1


def _intelligence(tab: test_app_browser.Tab) -> None:
    tab.page.get_by_role("button", name="Intelligence").click()
    tab.page.get_by_text("Spent this year").wait_for()


def test_a_page_left_open_after_signing_out_goes_dark(chrome, server, game):
    tab = sign_in(chrome, server, game["codes"]["CN"], "CN")
    try:
        _intelligence(tab)
        other = tab.context.new_page()  # a second tab of the same browser
        other.goto(f"{server.url}/")
        other.locator("button.logout").click()
        other.wait_for_url(re.compile("/join"))
        _dark(tab)
    finally:
        tab.close()


def test_handing_a_seat_over_ends_the_teams_page_and_rotates_its_code(chrome, server, game):
    boss = sign_in(chrome, server, KEY, "facilitator")
    jp = sign_in(chrome, server, game["codes"]["JP"], "JP")
    try:
        open_console(boss, game["label"])
        _intelligence(jp)
        row = boss.page.locator(".roster-row", has_text="JP ·")
        old = game["codes"]["JP"]
        row.get_by_text(old).wait_for()
        row.get_by_role("button", name="Hand to AI").click()
        _dark(jp)
        response = server.post("/join", f"secret={old}")  # the seat's code admits nobody now
        assert response.getheader("Location") == "/join?failed=1"
        row.get_by_role("button", name="Hand to team").click()
        row.get_by_text(re.compile("code (?!" + re.escape(old) + ")[A-Z0-9]{4}-")).wait_for()
        new = re.search(r"code ([A-Z0-9-]{14})", row.inner_text()).group(1)
        assert new != old
        assert server.post("/join", f"secret={old}").getheader("Location") == "/join?failed=1"
        again = sign_in(chrome, server, new, "JP")  # the new team comes in with the new code
        clock_shows(again, "turn 1")
        again.close()
        game["codes"]["JP"] = new
    finally:
        jp.close()
        boss.close()


#: Sends a widget message no control of the page would send: the model of the control whose
#: buttons read ``labels`` gets ``value`` (as a crafted client, or the browser's console, can).
CRAFT = """async ([labels, value]) => {
    const manager = solara.debug.widgetManager();
    for (const promise of Object.values(manager._models)) {
        const model = await promise;
        if (model.get("_model_name") !== "BtnToggleModel") continue;
        const kids = await Promise.all(model.get("children").map(c => c.get ? c : null));
        const texts = kids.map(k => k && k.get("children") ? k.get("children").join("") : "");
        if (texts.join("|").toLowerCase() === labels.toLowerCase()) {
            model.set("v_model", value);
            model.save_changes();
            return true;
        }
    }
    return false;
}"""


def test_crafted_widget_messages_get_a_refusal_and_the_page_goes_on(chrome, server, game):
    us = sign_in(chrome, server, game["codes"]["US"], "US")
    frames: list[str] = []  # everything the server sends the page, not only what it shows
    us.page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(str(f))))
    try:
        us.page.reload()
        clock_shows(us, "turn 1")
        labels = "Orders|Negotiation|Intelligence|Briefing"
        assert us.page.evaluate(CRAFT, [labels, 99])
        us.page.locator(".refused").wait_for()
        us.page.get_by_role("button", name="Intelligence").wait_for()  # mounted afresh
        us.page.wait_for_timeout(500)
        assert us.page.evaluate(CRAFT, [labels, {"__class__": "x"}])
        us.page.wait_for_timeout(1000)
        text = us.page.inner_text("body")
        assert "Traceback" not in text and "KeyError" not in text, text[-500:]
        _intelligence(us)  # the page still works
        assert frames and not [f for f in frames if "Traceback" in f]
    finally:
        us.close()
    assert "Traceback" not in server.output()  # logged as one line: what was refused
    assert "refused a malformed message from a page" in server.output()

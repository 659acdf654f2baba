"""The workshop server (ui/workshop/server.py, ``chokepoint serve``): the login form, the session
cookie, the page a signed-in browser sees, a restart under open pages, and that no key or join
code ever reaches the server's output. A real server on a free loopback port, driven over HTTP
and in Debian's Chromium (offline, as in test_app_browser.py)."""

import http.client
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import test_app_browser
from test_app_browser import ROOT, Tab, _free_port

from play.room import Credential, Workshops
from ui.assets import ensure_assets
from ui.workshop import server as workshop_server
from ui.workshop.security import LoginLimiter

KEY = "test-facilitator-key-4f9a"
SCENARIO = "alliance-vs-tariffs-2025"
#: Debian's Chromium, headless, shared with the game page's browser tests.
chrome = test_app_browser.chrome
SERVE = [sys.executable, "-m", "experiments.cli", "serve", "--host", "127.0.0.1"]


class Server:
    """``chokepoint serve`` as a subprocess; everything it prints goes to one log file."""

    def __init__(self, data: Path, log: Path, env: dict[str, str], args: tuple[str, ...] = ()):
        self.data, self.log, self.env, self.args = data, log, env, args
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [*SERVE, "--port", str(self.port), "--data", str(self.data), *self.args],
                env=self.env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/join", timeout=2).read()
                return
            except OSError:
                if time.time() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"the server did not start:\n{self.output()}") from None
                time.sleep(0.2)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def csrf(self) -> tuple[str, str]:
        """What a browser gets with the login form: its CSRF cookie and the form's token."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("GET", "/join")
        response = conn.getresponse()
        page = response.read().decode()
        cookie = response.getheader("Set-Cookie").split(";")[0]
        token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        return cookie, token

    def post(
        self,
        path: str,
        body: str,
        cookie: str = "",
        csrf: bool = True,
        headers: dict[str, str] | None = None,
    ) -> http.client.HTTPResponse:
        """A form POST, redirects not followed (the test looks at the 303 and its cookie); with
        ``csrf``, as from the form: with the CSRF cookie and token a browser would send."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        sent = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        cookies = [cookie] if cookie else []
        if csrf:
            csrf_cookie, token = self.csrf()
            cookies.append(csrf_cookie)
            body = f"{body}&csrf={token}" if body else f"csrf={token}"
        if cookies:
            sent["Cookie"] = "; ".join(cookies)
        conn.request("POST", path, body=body, headers=sent)
        response = conn.getresponse()
        response.read()
        return response


@pytest.fixture(scope="module")
def game(tmp_path_factory):
    """A database with one game, made before the server opens it: its folder and a join code."""
    data = tmp_path_factory.mktemp("workshop")
    room = Workshops(data, KEY, clock_s=0)
    try:
        seat = "US"
        made = room.create_game(Credential("facilitator"), SCENARIO, teams=[seat])
        return data, seat, made.code(Credential("facilitator"), seat)
    finally:
        room.close()


@pytest.fixture(scope="module")
def server(game, tmp_path_factory):
    assert not ensure_assets(quiet=True), "the page's assets could not be put in place"
    env = {**os.environ, "CHOKEPOINT_FACILITATOR_KEY": KEY}
    s = Server(game[0], tmp_path_factory.mktemp("log") / "server.log", env)
    s.start()
    yield s
    s.stop()


def _sign_in(chrome, server: Server, secret: str) -> Tab:
    tab = Tab(chrome, f"{server.url}/join")
    tab.page.locator("#secret").fill(secret)
    tab.page.get_by_role("button", name="Join").click()
    return tab


def test_join_is_a_self_contained_form(server):
    page = urllib.request.urlopen(f"{server.url}/join").read().decode()
    assert '<form method="post" action="/join">' in page
    assert 'name="secret"' in page
    assert "src=" not in page and "href=" not in page and "http" not in page
    assert "not recognised" not in page
    failed = urllib.request.urlopen(f"{server.url}/join?failed=1").read().decode()
    assert "not recognised" in failed


def test_a_wrong_secret_gets_no_cookie(server):
    response = server.post("/join", "secret=NOT-THE-CODE")
    assert response.status == 303
    assert response.getheader("Location") == "/join?failed=1"
    assert response.getheader("Set-Cookie") is None


def test_the_facilitator_key_sets_an_httponly_session_cookie(server):
    response = server.post("/join", f"secret={KEY}")
    assert response.status == 303
    assert response.getheader("Location") == "/"
    cookie = response.getheader("Set-Cookie")
    assert cookie.startswith(f"{workshop_server.COOKIE}=")
    assert KEY not in cookie
    for part in ("HttpOnly", "SameSite=strict", "Path=/", "Max-Age=86400"):
        assert part.lower() in cookie.lower(), cookie


def test_logout_ends_the_session(server):
    token = server.post("/join", f"secret={KEY}").getheader("Set-Cookie").split(";")[0]
    response = server.post("/logout", "", cookie=token)
    assert response.status == 303
    assert response.getheader("Location") == "/join"
    assert f'{workshop_server.COOKIE}=""' in response.getheader("Set-Cookie")


def test_repeated_failures_from_one_address_are_refused():
    limiter = LoginLimiter(workshop_server.MAX_FAILS, workshop_server.FAIL_WINDOW_S)
    client, now = "203.0.113.7", 1000.0
    for _ in range(workshop_server.MAX_FAILS):
        assert limiter.reserve(client, now)
        limiter.done(client, failed=True, now=now)
    assert not limiter.reserve(client, now + 1)
    assert limiter.reserve("203.0.113.8", now + 1)  # another address is not held up
    assert limiter.reserve(client, now + workshop_server.FAIL_WINDOW_S + 1)


def test_a_successful_login_gives_its_slot_back():
    limiter = LoginLimiter(2, 60.0)
    for _ in range(5):
        assert limiter.reserve("203.0.113.9", 0.0)
        limiter.done("203.0.113.9", failed=False, now=0.0)
    assert limiter.reserve("203.0.113.9", 0.0) and limiter.reserve("203.0.113.9", 0.0)
    assert not limiter.reserve("203.0.113.9", 0.0)  # two pending: the third waits its turn


def test_the_page_after_login_knows_the_facilitator(chrome, server):
    tab = _sign_in(chrome, server, KEY)
    try:
        tab.page.get_by_text("Signed in as facilitator").wait_for()
        assert tab.blocked == [], f"requests that left the machine: {tab.blocked}"
    finally:
        tab.close()


def test_a_join_code_signs_in_its_seat_typed_loosely(chrome, server, game):
    _data, seat, code = game
    tab = _sign_in(chrome, server, f" {code.lower().replace('-', ' ')} ")
    try:
        tab.page.get_by_text(f"Signed in as {seat}").wait_for()
    finally:
        tab.close()


def test_an_open_page_resumes_after_the_server_restarts(chrome, server):
    tab = _sign_in(chrome, server, KEY)
    try:
        tab.page.get_by_text("Signed in as facilitator").wait_for()
        server.stop(signal.SIGKILL)
        server.start()  # same port and database
        # the client reconnects and runs the page again on the new server (a "remount"); the
        # text alone would not tell, as the dead page keeps showing its last render
        tab.page.wait_for_function("() => solara.debug.remountCount >= 1", timeout=20_000)
        tab.page.get_by_text("Signed in as facilitator").wait_for()
        assert tab.page.get_by_text("refresh the page").count() == 0
    finally:
        tab.close()


def test_the_output_holds_no_key_or_code(server, game):
    """Runs last in this module: everything above has been logged by now."""
    server.stop()
    output = server.output()
    assert "Facilitator key: the one in CHOKEPOINT_FACILITATOR_KEY" in output
    assert KEY not in output
    code = game[2]
    assert code not in output and code.replace("-", "") not in output


def test_a_generated_key_is_printed_once_and_admits_the_facilitator(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "CHOKEPOINT_FACILITATOR_KEY"}
    s = Server(tmp_path / "data", tmp_path / "server.log", env)
    s.start()
    try:
        lines = [line for line in s.output().splitlines() if line.startswith("Facilitator key: ")]
        assert len(lines) == 1
        key = lines[0].removeprefix("Facilitator key: ")
        assert len(key) >= 12
        assert s.post("/join", f"secret={key}").getheader("Location") == "/"
    finally:
        s.stop()
    assert s.output().count(key) == 1


def test_serve_refuses_a_file_as_data_folder(tmp_path):
    afile = tmp_path / "not-a-folder"
    afile.write_text("x")
    done = subprocess.run(
        [*SERVE, "--data", str(afile)], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "not a folder" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert len(done.stderr.strip().splitlines()) == 1


def test_serve_refuses_an_unusable_database(tmp_path):
    (tmp_path / "workshop.sqlite").write_bytes(b"this is not sqlite" * 100)
    done = subprocess.run(
        [*SERVE, "--data", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "not a usable workshop database" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout

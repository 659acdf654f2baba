"""The workshop's web server: Solara's own app (the page ui/workshop/page.py, its websockets and
static assets, exactly as under ``solara run``) plus the login that admits a browser to it.

- ``GET /join``: a small self-contained form for a join code or the facilitator key;
- ``POST /join``: checks the secret (``Workshops.login``); on success it sets the session cookie
  the page reads (``chokepoint_session``, HttpOnly, SameSite=Strict) and sends the browser to
  ``/``; on failure back to ``/join?failed=1``, after a fixed delay, and with ``429`` once an
  address has failed too often in a minute;
- ``POST /logout``: ends the session and deletes the cookie.

``chokepoint serve`` calls :func:`serve`, which runs uvicorn in this process with access
logging off: no URL, code or key ever reaches a log line.

A server restarted on the same port resumes open pages by itself: the Solara client reconnects
its websocket, and with ``auto_remount`` on (see :func:`_configure_solara`) it runs the page again
on the new server's kernel; the cookie comes along, so each browser is still signed in.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
import warnings
from collections import deque
from pathlib import Path
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from ui.workshop.room import SESSION_MAX_AGE_S

COOKIE = "chokepoint_session"  # the name ui/workshop/page.py reads
APP = "ui.workshop.page"
#: The cookie's lifetime: the session's (a workshop day); the browser forgets it after that.
COOKIE_MAX_AGE_S = SESSION_MAX_AGE_S
#: Every failed login waits this long, so guessing is slow even from many connections.
FAIL_DELAY_S = 0.5
#: Failed logins allowed per client address in :data:`FAIL_WINDOW_S` before ``429``.
MAX_FAILS = 10
FAIL_WINDOW_S = 60.0
#: A join form is a few dozen bytes; anything much larger is not one.
MAX_FORM_BYTES = 4096

_failures: dict[str, deque[float]] = {}

_JOIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Join the Chokepoint workshop</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #f4f5f7; margin: 0; }}
main {{ max-width: 26rem; margin: 12vh auto; background: #fff; padding: 2rem;
        border-radius: 8px; box-shadow: 0 1px 4px rgba(0,0,0,.15); }}
h1 {{ font-size: 1.4rem; margin-top: 0; }}
label {{ display: block; margin-bottom: .4rem; }}
input {{ width: 100%; box-sizing: border-box; font-size: 1.2rem; padding: .5rem;
         letter-spacing: .08em; }}
button {{ margin-top: 1rem; font-size: 1.1rem; padding: .5rem 1.4rem; }}
.failed {{ color: #b00020; }}
</style></head>
<body><main>
<h1>Chokepoint workshop</h1>
{message}
<form method="post" action="/join">
<label for="secret">Join code (or facilitator key)</label>
<input id="secret" name="secret" type="password" autocomplete="off" autofocus required
       autocapitalize="characters" spellcheck="false" placeholder="XXXX-XXXX-XXXX">
<button type="submit">Join</button>
</form>
</main></body></html>
"""

_HEADERS = {
    # the form page needs nothing from elsewhere, may post only here and is never framed
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}


def _form(message: str = "", status: int = 200) -> HTMLResponse:
    text = f'<p class="failed">{message}</p>' if message else ""
    return HTMLResponse(_JOIN_PAGE.format(message=text), status_code=status, headers=_HEADERS)


def join_page(request: Request) -> HTMLResponse:
    """The login form; says so when the last attempt failed (never what was typed)."""
    failed = request.query_params.get("failed")
    return _form("That code was not recognised. Check it and try again." if failed else "")


def _too_many(client: str, now: float) -> bool:
    fails = _failures.get(client)
    if fails is None:
        return False
    while fails and now - fails[0] > FAIL_WINDOW_S:
        fails.popleft()
    if not fails:
        del _failures[client]
        return False
    return len(fails) >= MAX_FAILS


def _record_failure(client: str, now: float) -> None:
    if len(_failures) > 10_000:  # a flood from many addresses must not grow memory for ever
        for key in [k for k, v in _failures.items() if not v or now - v[-1] > FAIL_WINDOW_S]:
            del _failures[key]
    _failures.setdefault(client, deque()).append(now)


async def _form_secret(request: Request) -> str:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return ""
    fields = parse_qs(body.decode("utf-8", "replace"), max_num_fields=10)
    return (fields.get("secret") or [""])[0]


async def join(request: Request) -> Response:
    """Check the posted secret; on success a session cookie and the page, else the form again."""
    from ui.workshop.room import workshops

    client = request.client.host if request.client else "?"
    if _too_many(client, time.monotonic()):
        return _form("Too many attempts from this address; wait a minute.", status=429)
    secret = await _form_secret(request)
    room = workshops()
    # login and the session write touch SQLite and compare every code: off the event loop
    cred = await asyncio.to_thread(room.login, secret) if secret else None
    if cred is None:
        _record_failure(client, time.monotonic())
        await asyncio.sleep(FAIL_DELAY_S)
        return RedirectResponse("/join?failed=1", status_code=303, headers=_HEADERS)
    token = await asyncio.to_thread(room.new_session, cred)
    response = RedirectResponse("/", status_code=303, headers=_HEADERS)
    response.set_cookie(
        COOKIE,
        token,
        max_age=COOKIE_MAX_AGE_S,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",  # plain http on a workshop LAN must still work
    )
    return response


async def logout(request: Request) -> Response:
    """End this browser's session and forget its cookie."""
    from ui.workshop.room import workshops

    token = request.cookies.get(COOKIE)
    if token:
        await asyncio.to_thread(workshops().end_session, token)
    response = RedirectResponse("/join", status_code=303, headers=_HEADERS)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response


ROUTES = [
    Route("/join", endpoint=join_page, methods=["GET"]),
    Route("/join", endpoint=join, methods=["POST"]),
    Route("/logout", endpoint=logout, methods=["POST"]),
]


def _configure_solara() -> None:
    """Point Solara at the workshop page and set how its pages behave, before it loads."""
    # solara.server.app reads SOLARA_APP when first imported (as under `solara run`)
    os.environ["SOLARA_APP"] = APP
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "false")
    from solara.server import settings

    settings.main.mode = "production"
    settings.telemetry.mixpanel_enable = False
    # After a server restart the page's websocket reconnects to a server that has no kernel for
    # it. By default (no state backend) the client then gives up with "Please refresh the page";
    # auto_remount makes it run the page again on a fresh kernel instead. That is right here:
    # everything the page shows is derived from the cookie and the database, none of it lives
    # only in the old kernel.
    settings.state.auto_remount = True
    # and if a remount is impossible after all (e.g. a new solara build), reload rather than
    # leave a dialog nobody in the workshop room will read
    settings.theme.force_refresh = True


def create_app():
    """The ASGI app: the login routes first, then every route of Solara's own server."""
    _configure_solara()
    import solara.server.starlette as solara_app

    return Starlette(
        routes=[*ROUTES, *solara_app.routes],
        lifespan=solara_app.lifespan,
        middleware=solara_app.middleware,
    )


def open_games(data_dir: Path, key: str):
    """Open the games of ``data_dir`` as this process's :func:`~ui.workshop.room.workshops`.

    Raises:
        WorkshopError, StoreError, OSError: the games cannot be opened (bad key or folder).
    """
    from ui.workshop.room import workshops

    # the page's kernels find the games through workshops(), which reads these
    os.environ["CHOKEPOINT_DATA"] = str(data_dir)
    os.environ["CHOKEPOINT_FACILITATOR_KEY"] = key
    return workshops()


def serve(host: str, port: int, data_dir: Path, key: str) -> int:
    """Run the workshop server until interrupted.

    Args:
        host: the interface to listen on.
        port: the port.
        data_dir: the folder of the games' database.
        key: the facilitator key (at least 12 characters).

    Returns:
        0 once the server stopped.

    Raises:
        WorkshopError, StoreError, OSError: the games cannot be opened (bad key or folder).
    """
    import uvicorn

    from ui.assets import ensure_assets

    open_games(data_dir, key)  # a bad folder is an error before anything listens
    # Solara warns on each page load over plain http that its own session cookie cannot be
    # SameSite=None (for iframe embedding). A workshop is served over plain http on a LAN and
    # never embedded, so the warning would only clutter the facilitator's terminal.
    warnings.filterwarnings("ignore", message="Cookies with samesite=none", category=UserWarning)
    for problem in ensure_assets():
        print(f"warning: {problem}; the page will need the internet", file=sys.stderr)
    config = uvicorn.Config(
        create_app(),
        host=host,
        port=port,
        access_log=False,  # a request line must never carry a code or key into a log
        log_level="warning",
        # open websockets would otherwise hold a Ctrl-C'd server up until every tab closes
        timeout_graceful_shutdown=2,
    )
    # Stopping cancels the requests still open (websockets, a static file in flight); uvicorn
    # logs each with its traceback, which tells the facilitator nothing.
    logging.getLogger("uvicorn.error").addFilter(_drop_shutdown_cancellations)
    uvicorn.Server(config).run()
    return 0


def _drop_shutdown_cancellations(record: logging.LogRecord) -> bool:
    exc = record.exc_info[1] if record.exc_info else None
    return not isinstance(exc, asyncio.CancelledError)


__all__ = ["COOKIE", "ROUTES", "create_app", "join", "join_page", "logout", "open_games", "serve"]

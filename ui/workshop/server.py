"""The workshop's web server: Solara's own app (the page ui/workshop/page.py, its websockets and
static assets, exactly as under ``solara run``) plus the login that admits a browser to it.

- ``GET /join``: a small self-contained form for a join code or the facilitator key, with a
  CSRF token (ui/workshop/security.py);
- ``POST /join``: checks the form (its two fields, its token: else ``400``/``403``) and the
  secret (``Workshops.login``); on success it sets the session cookie the page reads
  (``chokepoint_session``, HttpOnly, SameSite=Strict) and sends the browser to ``/``; on failure
  back to ``/join?failed=1``, after a fixed delay, and with ``429`` once the peer's address has
  failed too often in a minute;
- ``POST /logout``: ends the session and deletes the cookie (with the page's CSRF token; without
  it, a page asking to confirm).

Every request passes :class:`~ui.workshop.security.SameOrigin` first: a foreign ``Host``, and a
state-changing request or websocket handshake from a foreign ``Origin``, get ``403``.

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
import warnings
from html import escape
from pathlib import Path
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from play.lifeline import SERVER_PID_ENV
from play.room import SESSION_MAX_AGE_S
from ui.workshop.security import (
    CSRF_COOKIE,
    CSRF_FIELD,
    LoginLimiter,
    SameOrigin,
    csrf_ok,
    new_csrf_token,
)

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
#: The fields a login or logout form has (any other field, or a repeated one, is refused).
FORM_FIELDS = {"secret", CSRF_FIELD}

#: This process's failed logins, by the peer's address (a trusted proxy's forwarded one).
limiter = LoginLimiter(MAX_FAILS, FAIL_WINDOW_S)
logger = logging.getLogger("chokepoint.workshop")

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
{form}
</main></body></html>
"""
_JOIN_FORM = """<form method="post" action="/join">
<input type="hidden" name="csrf" value="{token}">
<label for="secret">Join code (or facilitator key)</label>
<input id="secret" name="secret" type="password" autocomplete="off" autofocus required
       autocapitalize="characters" spellcheck="false" placeholder="XXXX-XXXX-XXXX">
<button type="submit">Join</button>
</form>"""
_LOGOUT_FORM = """<form method="post" action="/logout">
<input type="hidden" name="csrf" value="{token}">
<button type="submit" class="logout">Sign out</button>
</form>"""

_HEADERS = {
    # the form page needs nothing from elsewhere, may post only here and is never framed
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
    # not no-referrer: under it a browser sends "Origin: null" with the form, which the
    # same-origin check must refuse (a sandboxed frame on any site sends that too)
    "Referrer-Policy": "same-origin",
}


def _page(request: Request, message: str = "", status: int = 200, form: str = _JOIN_FORM):
    """The page with ``form`` (carrying the browser's CSRF token, set as a cookie if new)."""
    token = request.cookies.get(CSRF_COOKIE) or new_csrf_token()
    text = f'<p class="failed">{escape(message)}</p>' if message else ""
    page = _JOIN_PAGE.format(message=text, form=form.format(token=escape(token)))
    response = HTMLResponse(page, status_code=status, headers=_HEADERS)
    _set_csrf_cookie(request, response, token)
    return response


def _set_csrf_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        CSRF_COOKIE,
        token,
        max_age=COOKIE_MAX_AGE_S,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def logout_form(csrf_token: str) -> str:
    """The page's "Sign out" button: a form carrying the browser's CSRF token."""
    return _LOGOUT_FORM.format(token=escape(csrf_token or ""))


def join_page(request: Request) -> HTMLResponse:
    """The login form; says so when the last attempt failed (never what was typed)."""
    failed = request.query_params.get("failed")
    return _page(request, "That code was not recognised. Check it and try again." if failed else "")


class FormError(ValueError):
    """A posted form that is not the login or logout form (the message says what is wrong)."""


async def _form(request: Request) -> dict[str, str]:
    """The posted form's fields.

    Raises:
        FormError: too large, a field other than :data:`FORM_FIELDS`, or one given twice.
    """
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise FormError(f"the form is larger than {MAX_FORM_BYTES} bytes")
    try:
        fields = parse_qs(body.decode("utf-8", "replace"), max_num_fields=len(FORM_FIELDS))
    except ValueError:
        raise FormError(f"the form has more than {len(FORM_FIELDS)} fields") from None
    unknown = sorted(set(fields) - FORM_FIELDS)
    if unknown:
        allowed = ", ".join(sorted(FORM_FIELDS))
        raise FormError(f"unknown field(s) {', '.join(unknown)[:80]}; allowed: {allowed}")
    if any(len(v) > 1 for v in fields.values()):
        raise FormError("a field is given more than once")
    return {k: v[0] for k, v in fields.items()}


def _client(request: Request) -> str:
    # The peer's address: uvicorn puts a forwarded one here only from --trusted-proxy.
    return request.client.host if request.client else "?"


async def join(request: Request) -> Response:
    """Check the posted secret; on success a session cookie and the page, else the form again."""
    from play.room import workshops

    try:
        fields = await _form(request)
    except FormError as exc:
        logger.warning("refused a login form: %s", exc)
        return _page(request, f"Refused: {exc}.", status=400)
    if not csrf_ok(request.cookies.get(CSRF_COOKIE), fields.get(CSRF_FIELD)):
        logger.warning("refused a login form without this browser's CSRF token")
        return _page(request, "The form had expired; type the code again.", status=403)
    client = _client(request)
    if not limiter.reserve(client):
        return _page(request, "Too many attempts from this address; wait a minute.", status=429)
    secret = fields.get("secret", "")
    room = workshops()
    cred = None
    try:
        # login and the session write touch SQLite and compare every code: off the event loop
        cred = await asyncio.to_thread(room.login, secret) if secret else None
        if cred is None:
            await asyncio.sleep(FAIL_DELAY_S)
            return RedirectResponse("/join?failed=1", status_code=303, headers=_HEADERS)
        token = await asyncio.to_thread(room.new_session, cred)
    finally:
        limiter.done(client, failed=cred is None)
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
    """End this browser's session and forget its cookie (with the page's CSRF token; without
    it, a page asking to confirm)."""
    from play.room import workshops

    try:
        fields = await _form(request)
    except FormError as exc:
        logger.warning("refused a logout form: %s", exc)
        return _page(request, f"Refused: {exc}.", status=400, form=_LOGOUT_FORM)
    if not csrf_ok(request.cookies.get(CSRF_COOKIE), fields.get(CSRF_FIELD)):
        return _page(request, "Sign out of the workshop?", status=403, form=_LOGOUT_FORM)
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


def create_app(bind_host: str = "127.0.0.1", allowed_origins: tuple[str, ...] = ()):
    """The ASGI app: the login routes first, then every route of Solara's own server, behind
    the same-origin check (:class:`~ui.workshop.security.SameOrigin`).

    Args:
        bind_host: the interface the server listens on (one of its own names).
        allowed_origins: origins besides the server's own whose pages may post and open the
            websocket (``--allowed-origin``: a TLS reverse proxy's public address).
    """
    _configure_solara()
    import solara.server.starlette as solara_app
    from starlette.middleware import Middleware

    guard = Middleware(SameOrigin, bind_host=bind_host, allowed_origins=tuple(allowed_origins))
    return Starlette(
        routes=[*ROUTES, *solara_app.routes],
        lifespan=solara_app.lifespan,
        middleware=[guard, *solara_app.middleware],
    )


def open_games(data_dir: Path, key: str):
    """Open the games of ``data_dir`` as this process's :func:`~play.room.workshops`.

    Raises:
        WorkshopError, StoreError, OSError: the games cannot be opened (bad key or folder).
    """
    from play.room import workshops

    # the page's kernels find the games through workshops(), which reads these
    os.environ["CHOKEPOINT_DATA"] = str(data_dir)
    os.environ["CHOKEPOINT_FACILITATOR_KEY"] = key
    return workshops()


def serve(
    host: str,
    port: int,
    data_dir: Path,
    key: str,
    trusted_proxy: str | None = None,
    allowed_origins: tuple[str, ...] = (),
) -> int:
    """Run the workshop server until interrupted.

    Args:
        host: the interface to listen on.
        port: the port.
        data_dir: the folder of the games' database.
        key: the facilitator key (at least 12 characters).
        trusted_proxy: the address of a reverse proxy whose ``X-Forwarded-For`` and
            ``X-Forwarded-Proto`` are believed (``--trusted-proxy``); None: no forwarded header
            is, and the login limiter counts by the peer's own address.
        allowed_origins: see :func:`create_app`.

    Returns:
        0 once the server stopped.

    Raises:
        WorkshopError, StoreError, OSError: the games cannot be opened (bad key or folder).
    """
    import uvicorn

    from ui.assets import ensure_assets

    open_games(data_dir, key)  # a bad folder is an error before anything listens
    # The branching pool's workers end with this process, even after a kill -9 of it.
    os.environ[SERVER_PID_ENV] = str(os.getpid())
    # Solara warns on each page load over plain http that its own session cookie cannot be
    # SameSite=None (for iframe embedding). A workshop is served over plain http on a LAN and
    # never embedded, so the warning would only clutter the facilitator's terminal.
    warnings.filterwarnings("ignore", message="Cookies with samesite=none", category=UserWarning)
    for problem in ensure_assets():
        print(f"warning: {problem}; the page will need the internet", file=sys.stderr)
    logging.getLogger("chokepoint").addHandler(_stderr_handler())
    config = uvicorn.Config(
        create_app(host, allowed_origins),
        host=host,
        port=port,
        access_log=False,  # a request line must never carry a code or key into a log
        log_level="warning",
        # uvicorn believes X-Forwarded-For from 127.0.0.1 unless told otherwise: then any
        # local client could pose as any address to the login limiter.
        proxy_headers=trusted_proxy is not None,
        forwarded_allow_ips=trusted_proxy or "",
        # open websockets would otherwise hold a Ctrl-C'd server up until every tab closes
        timeout_graceful_shutdown=2,
    )
    # Stopping cancels the requests still open (websockets, a static file in flight); uvicorn
    # logs each with its traceback, which tells the facilitator nothing.
    logging.getLogger("uvicorn.error").addFilter(_drop_shutdown_cancellations)
    uvicorn.Server(config).run()
    return 0


def _stderr_handler() -> logging.Handler:
    """Where the server's refusals go: one line each on stderr, the facilitator's terminal."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    handler.setLevel(logging.WARNING)
    return handler


def _drop_shutdown_cancellations(record: logging.LogRecord) -> bool:
    exc = record.exc_info[1] if record.exc_info else None
    return not isinstance(exc, asyncio.CancelledError)


__all__ = [
    "COOKIE",
    "ROUTES",
    "create_app",
    "join",
    "join_page",
    "logout",
    "logout_form",
    "open_games",
    "serve",
]

"""What guards the workshop server's doors (ui/workshop/server.py) besides the secrets:

- :class:`SameOrigin`: an ASGI middleware that refuses a request whose ``Host`` is not one of the
  server's own names (DNS rebinding) and every state-changing request (any method but GET, HEAD
  and OPTIONS) and every websocket handshake whose ``Origin`` is not the server's own address
  or one named with ``--allowed-origin``. It also rewrites Solara's own session cookie
  (``solara-session-id``) to HttpOnly, SameSite=Strict and a workshop day's lifetime: Solara
  sets it SameSite=Lax with an expiry in 2038 and offers no setting for either.
- :class:`LoginLimiter`: failed logins per client address in a sliding minute, counted so that
  concurrent attempts cannot slip past the limit.
- :func:`new_csrf_token` and :func:`csrf_ok`: the token the login and logout forms carry
  (double-submit: a random value in an HttpOnly, SameSite=Strict cookie and in the form; a
  foreign page can read neither).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import secrets
import socket
import threading
import time
from collections import deque
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import PlainTextResponse
from starlette.websockets import WebSocketClose

logger = logging.getLogger("chokepoint.workshop")

#: Solara's cookies naming a browser's Solara session (its kernels).
SOLARA_COOKIES = ("solara-session-id", "solara-session-id-lax")
#: Requests that change nothing (every other method must come from our own pages).
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_COOKIE = "chokepoint_csrf"
CSRF_FIELD = "csrf"


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL, lower case, without a default port.

    Raises:
        ValueError: not an http(s) URL with a host.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"'{url}': an origin is http:// or https:// and a host, e.g. "
                         "https://workshop.example.org")  # fmt: skip
    default = {"http": 80, "https": 443}[parts.scheme]
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    port = f":{parts.port}" if parts.port and parts.port != default else ""
    return f"{parts.scheme}://{host}{port}"


def _hostname(host_header: str) -> str:
    """The host of a ``Host`` header, without its port."""
    try:
        return (urlsplit(f"//{host_header}").hostname or "").lower()
    except ValueError:
        return ""


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def own_names(bind_host: str) -> frozenset[str]:
    """The names a browser may use for this machine: its hostname (and ``.local``), localhost
    and the interface it listens on. Any IP address is also accepted (see :class:`SameOrigin`):
    a rebinding attack needs a domain name."""
    # not socket.getfqdn(): it asks DNS, which can hang on an offline workshop network
    name = socket.gethostname().lower()
    return frozenset({"localhost", name, f"{name}.local", bind_host.lower()})


class SameOrigin:
    """ASGI middleware: only requests from the server's own pages may change anything.

    Args:
        app: the ASGI app it guards.
        bind_host: the interface the server listens on (its own name, with :func:`own_names`).
        allowed_origins: further origins (``--allowed-origin``, e.g. a TLS reverse proxy's
            public address), in :func:`origin_of` form; their hosts are accepted as ``Host``.
    """

    def __init__(self, app, bind_host: str = "127.0.0.1", allowed_origins: tuple[str, ...] = ()):
        self.app = app
        self.allowed_origins = frozenset(origin_of(o) for o in allowed_origins)
        self.names = own_names(bind_host) | {_hostname(urlsplit(o).netloc)
                                             for o in self.allowed_origins}  # fmt: skip

    def problem(self, scope) -> str:
        """Why the request is refused, or "" if it is not."""
        headers = Headers(scope=scope)
        host_header = headers.get("host", "")
        host = _hostname(host_header)
        if not host or not (_is_ip(host) or host in self.names):
            return "the Host header is not this server's name"
        if scope["type"] == "http" and scope.get("method", "GET") in SAFE_METHODS:
            return ""
        origin = headers.get("origin")
        if origin is None:
            # Browsers send Origin on every websocket and every POST; a client without one is
            # no browser riding on a victim's cookies (the CSRF token still guards the forms).
            return ""
        scheme = {"ws": "http", "wss": "https"}.get(scope.get("scheme", "http"), scope["scheme"])
        try:
            origin = origin_of(origin)
            own = origin_of(f"{scheme}://{host_header}")
        except ValueError:
            return "the Origin header is not an http(s) origin"
        if origin != own and origin not in self.allowed_origins:
            return "the request comes from another site's page"
        return ""

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        why = self.problem(scope)
        if why:
            # method and reason only: a path or query may carry a kernel id
            logger.warning("refused a %s request: %s", scope.get("method", "websocket"), why)
            if scope["type"] == "websocket":
                await WebSocketClose(code=1008)(scope, receive, send)
            else:
                await PlainTextResponse(f"Refused: {why}.", status_code=403)(scope, receive, send)
            return
        https = scope.get("scheme") in ("https", "wss")
        await self.app(scope, receive, _strict_solara_cookie(send, https))


def _strict_solara_cookie(send, https: bool):
    """``send`` with Solara's session cookie made HttpOnly, SameSite=Strict and short-lived."""
    from play.room import SESSION_MAX_AGE_S

    async def wrapped(message):
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            cookies = headers.getlist("set-cookie")
            if any(c.split("=", 1)[0] in SOLARA_COOKIES for c in cookies):
                del headers["set-cookie"]
                for cookie in cookies:
                    name, _, rest = cookie.partition("=")
                    if name in SOLARA_COOKIES:
                        value = rest.split(";", 1)[0]
                        cookie = (
                            f"{name}={value}; HttpOnly; Max-Age={SESSION_MAX_AGE_S}; Path=/; "
                            "SameSite=Strict" + ("; Secure" if https else "")
                        )
                    headers.append("set-cookie", cookie)
        await send(message)

    return wrapped


# ---------------------------------------------------------------------- CSRF


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)


def csrf_ok(cookie: str | None, field: str | None) -> bool:
    """Whether a form's token matches the browser's CSRF cookie (compared in constant time)."""
    if not cookie or not field:
        return False
    return hmac.compare_digest(cookie.encode(), field.encode())


# ---------------------------------------------------------------------- the limiter


class LoginLimiter:
    """At most ``limit`` failed logins per client address in a sliding ``window_s``.

    :meth:`reserve` counts an attempt before its secret is checked, under a lock, so that
    concurrent attempts cannot all pass the check before any failure is recorded; a success
    gives its slot back (:meth:`done`). Hand-written rather than the ``limits`` library's
    moving window: that counts every hit and cannot give one back, so a room of teams behind one
    address would be locked out by its own successful logins.

    Args:
        limit: failed (or pending) attempts allowed per address in the window.
        window_s: the window, in seconds.
        max_addresses: addresses tracked before stale ones are dropped (a flood from many
            addresses must not grow memory for ever).
    """

    def __init__(self, limit: int, window_s: float, max_addresses: int = 10_000):
        self.limit, self.window_s, self.max_addresses = limit, window_s, max_addresses
        self._lock = threading.Lock()
        self._failures: dict[str, deque[float]] = {}
        self._pending: dict[str, int] = {}

    def reserve(self, client: str, now: float | None = None) -> bool:
        """Count an attempt from ``client``; False (counted nothing) if it is over the limit."""
        now = time.monotonic() if now is None else now
        with self._lock:
            fails = self._failures.get(client, deque())
            while fails and now - fails[0] > self.window_s:
                fails.popleft()
            if len(fails) + self._pending.get(client, 0) >= self.limit:
                return False
            if len(self._failures) >= self.max_addresses:
                stale = [
                    k
                    for k, v in self._failures.items()
                    if (not v or now - v[-1] > self.window_s) and not self._pending.get(k)
                ]
                for key in stale:
                    del self._failures[key]
            self._failures[client] = fails
            self._pending[client] = self._pending.get(client, 0) + 1
            return True

    def done(self, client: str, failed: bool, now: float | None = None) -> None:
        """The attempt :meth:`reserve` counted is over; a failure stays counted for the window."""
        now = time.monotonic() if now is None else now
        with self._lock:
            left = self._pending.get(client, 1) - 1
            if left > 0:
                self._pending[client] = left
            else:
                self._pending.pop(client, None)
            if failed:
                self._failures.setdefault(client, deque()).append(now)
            elif not self._failures.get(client):
                self._failures.pop(client, None)

    def forget(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)
            self._pending.pop(client, None)

"""Serve the dashboard over HTTP from inside `agentos serve`: a small standard-library server.

    server = DashboardServer(config, port=DEFAULT_PORT)  # 127.0.0.1 unless bind= says so
    url = server.start()  # listening, in a thread of its own
    ...
    server.stop()

Only two kinds of page exist, and the server never maps a URL onto a file: `/` (or
`/index.html`, `?days=N` for the window) and `/tasks/<task-id>.html`, whose id must be a task id
(one safe path segment) before anything is read. Anything else is 404, any method but GET 405.
Every answer carries a strict Content-Security-Policy (nothing loads but the inline style, by its
hash), `nosniff`, no referrer, no framing, no caching.

Other hosts are served only with a token (`bind` other than a loopback address without one is a
UsageError): then every request needs it, as `Authorization: Bearer <token>`, or a cookie that a
visit with `?token=<token>` sets once (HttpOnly, SameSite=Strict) before redirecting to the same
page without it; each check takes constant time. The ledger is brought up to date at most every
`refresh_seconds`, by the first request after that. A part of the page that cannot be read is a
note on it; a page that cannot be built at all is a 500 saying so, its error in the log (never a
traceback in the page).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import parse_qs, urlencode, urlsplit

from orchestrator.config.model import Config
from orchestrator.dashboard import collect, listing, records, render
from orchestrator.errors import UsageError

DEFAULT_PORT = 8767  # `agentos serve --dashboard` without a PORT
COOKIE = "agentos_dashboard"
MIN_TOKEN = 16  # characters of a token, at least
REFRESH_SECONDS = 10.0
HEADERS = (
    ("Content-Security-Policy", render.HEADER_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cache-Control", "no-store"),
)
Page = tuple[int, str, tuple[tuple[str, str], ...]]  # status, HTML, extra headers


def is_loopback(bind: str) -> bool:
    """Tell whether an address to bind to is this host's own (127.0.0.0/8, ::1, localhost)."""
    if bind == "localhost":
        return True
    try:
        return ipaddress.ip_address(bind).is_loopback
    except ValueError:
        return False


class DashboardServer:
    """The dashboard's HTTP server for one config; `start` it, `stop` it."""

    def __init__(
        self,
        config: Config,
        bind: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        *,
        days: int = collect.DAYS,
        include_rooms: bool = True,
        refresh_seconds: float = REFRESH_SECONDS,
        log: logging.Logger | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if not is_loopback(bind) and not token:
            raise UsageError(
                f"dashboard: binding {bind or 'every address'!r} serves other hosts: give it "
                "a token too (only 127.0.0.1 or ::1 are served without one)"
            )
        if token is not None and len(token) < MIN_TOKEN:
            raise UsageError(
                f"dashboard: the token has {len(token)} characters: use at least {MIN_TOKEN}"
            )
        if not 0 <= port <= 65535:
            raise UsageError(f"dashboard: port {port} is not a port (0 to 65535)")
        self.config, self.bind, self.port, self.token = config, bind, port, token
        self.days, self.include_rooms, self.refresh_seconds = days, include_rooms, refresh_seconds
        self.log = log or logging.getLogger("agentos.dashboard")
        self.clock = clock or (lambda: datetime.now(UTC))
        self._session = (
            hmac.new(token.encode(), b"agentos dashboard session", hashlib.sha256).hexdigest()
            if token
            else ""
        )
        self._http: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._refreshing = threading.Lock()
        self._refreshed_at: float | None = None
        self._refresh_note: str | None = None
        render.register_secrets(config)

    @property
    def url(self) -> str:
        """Where it listens (once started): `http://127.0.0.1:8767/`."""
        if self._http is None:
            raise RuntimeError("the dashboard server is not started")
        host = f"[{self.bind}]" if ":" in self.bind else self.bind or "0.0.0.0"
        return f"http://{host}:{self._http.server_address[1]}/"

    def start(self) -> str:
        """Listen and serve in a background thread; return the URL (without the token)."""
        family = socket.AF_INET6 if ":" in self.bind else socket.AF_INET
        try:
            self._http = _HTTPServer((self.bind, self.port), DashboardHandler, self, family)
        except OSError as exc:
            raise UsageError(
                f"dashboard: cannot listen on {self.bind}:{self.port} ({exc.strerror or exc})"
            ) from None
        self._thread = threading.Thread(
            target=self._http.serve_forever, name="dashboard", daemon=True
        )
        self._thread.start()
        self.log.info(
            "dashboard.started",
            extra={"url": self.url, "bind": self.bind, "token": self.token is not None},
        )
        return self.url

    def stop(self) -> None:
        """Stop listening and wait for the server's thread; the pages being written finish."""
        if self._http is None:
            return
        self._http.shutdown()
        self._http.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._http, self._thread = None, None
        self.log.info("dashboard.stopped")

    # -- answering ---------------------------------------------------------------------------------
    def answer(self, target: str, authorization: str = "", cookie: str = "") -> Page:
        """Return the page for a GET of `target` (path and query), given the request's headers."""
        parts = urlsplit(target)
        query = parse_qs(parts.query, keep_blank_values=True)
        if self.token:
            given = query.pop("token", [""])[-1]
            if given and self._matches(given):
                rest = urlencode(query, doseq=True)
                where = (parts.path or "/") + (f"?{rest}" if rest else "")
                cookie_line = f"{COOKIE}={self._session}; HttpOnly; SameSite=Strict; Path=/"
                return 303, "", (("Location", where), ("Set-Cookie", cookie_line))
            if not (self._bearer(authorization) or self._cookie(cookie)):
                page = render.message_page("Token needed", _TOKEN_HELP, back=False)
                return 401, page, (("WWW-Authenticate", 'Bearer realm="agentos dashboard"'),)
        return self._route(parts.path, query)

    def _route(self, path: str, query: dict[str, list[str]]) -> Page:
        if path in ("/", "/index.html"):
            days = self._days(query.get("days", [""])[-1])
            if days is None:
                return self._message(
                    400, "Bad window", f"days: a whole number from 1 to {collect.MAX_DAYS}"
                )
            return 200, self._overview(days), ()
        if path.startswith("/tasks/") and path.endswith(".html"):
            task_id = path.removeprefix("/tasks/").removesuffix(".html")
            if listing.is_task_id(task_id):
                record = records.task_record(self.config, task_id, include_room=self.include_rooms)
                if record is not None:
                    return 200, render.task_page(record), ()
        return self._message(404, "Not found", "There is no such page on this dashboard.")

    def _overview(self, days: int) -> str:
        note = self._refresh()
        view = collect.overview(self.config, self.clock(), days)
        if note:
            view = replace(view, notes=(note, *view.notes))
        return render.overview_page(view, windows=True)

    def _refresh(self) -> str | None:
        """Bring the ledger up to date unless done lately or being done by another request."""
        fresh = self._refreshed_at is not None
        if fresh and time.monotonic() - (self._refreshed_at or 0.0) < self.refresh_seconds:
            return self._refresh_note
        if not self._refreshing.acquire(blocking=False):
            return self._refresh_note
        try:
            self._refresh_note = collect.refresh(self.config)
            self._refreshed_at = time.monotonic()
        finally:
            self._refreshing.release()
        return self._refresh_note

    def _days(self, given: str) -> int | None:
        if given == "":
            return self.days
        if not given.isdigit() or not 1 <= int(given) <= collect.MAX_DAYS:
            return None
        return int(given)

    def _matches(self, given: str) -> bool:
        return self.token is not None and hmac.compare_digest(given.encode(), self.token.encode())

    def _bearer(self, header: str) -> bool:
        scheme, _, value = header.strip().partition(" ")
        return scheme.lower() == "bearer" and self._matches(value.strip())

    def _cookie(self, header: str) -> bool:
        for item in header.split(";"):
            name, _, value = item.strip().partition("=")
            if name == COOKIE and hmac.compare_digest(value.encode(), self._session.encode()):
                return True
        return False

    def _message(self, status: int, heading: str, text: str, *, back: bool = True) -> Page:
        return status, render.message_page(heading, text, back=back), ()


_TOKEN_HELP = (
    "This dashboard needs its token: open it once as …/?token=<token> (a cookie keeps it), "
    "or send the header Authorization: Bearer <token>."
)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        app: DashboardServer,
        family: socket.AddressFamily,
    ) -> None:
        self.address_family = family
        self.app = app
        super().__init__(address, handler)


class DashboardHandler(BaseHTTPRequestHandler):
    """One request: GET a page; any other method is 405; every answer with the headers above."""

    timeout = 30  # a client that stops sending mid-request frees its thread

    def version_string(self) -> str:
        return "agentos-dashboard"  # no Python version told to whoever asks

    def do_GET(self) -> None:
        app = cast(_HTTPServer, self.server).app
        try:
            status, body, extra = app.answer(
                self.path,
                self.headers.get("Authorization", ""),
                self.headers.get("Cookie", ""),
            )
        except Exception as exc:  # a page that cannot be built: said, logged, never a traceback
            app.log.error(
                "dashboard.failed",
                extra={"path": urlsplit(self.path).path[:200], "error": collect.say(exc)},
            )
            status, body, extra = (
                500,
                render.message_page(
                    "The page could not be built", "The error is in the log of `agentos serve`."
                ),
                (),
            )
        self._send(status, body, extra)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):  # every other method: POST, PUT, HEAD, OPTIONS, …
            return self._not_allowed
        raise AttributeError(name)

    def _not_allowed(self) -> None:
        page = render.message_page("Method not allowed", "This dashboard only answers GET.")
        self._send(405, page, (("Allow", "GET"),))

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The standard library's errors (a bad request line, …), with our headers and page."""
        self.close_connection = True
        text = message or "The request could not be read."
        self._send(code, render.message_page(f"Error {code}", text, back=False), ())

    def _send(self, status: int, body: str, extra: tuple[tuple[str, str], ...]) -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        for name, value in (*HEADERS, *extra):
            self.send_header(name, value)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if getattr(self, "command", "") != "HEAD":
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Requests are not logged: serve's log keeps what the dashboard itself has to say."""

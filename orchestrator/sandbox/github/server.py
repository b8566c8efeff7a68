"""Carry HTTP between sockets and the sandbox.

It holds a threading stdlib server on 127.0.0.1 (HTTPS when given a TLS context), and plain
request values.
"""

from __future__ import annotations

import gzip
import socket
import ssl
import time
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol
from urllib.parse import parse_qs, urlsplit


@dataclass
class Incoming:
    """One HTTP request, fully read (chunked and gzip bodies decoded)."""

    method: str
    path: str
    query_string: str
    headers: dict[str, str]
    body: bytes

    @property
    def query(self) -> dict[str, list[str]]:
        """Return the query parameters."""
        return parse_qs(self.query_string, keep_blank_values=True)

    def header(self, name: str, default: str = "") -> str:
        """Return a header, matched case-insensitively."""
        return self.headers.get(name.lower(), default)


@dataclass(frozen=True)
class RequestRecord:
    """One line of the request log."""

    method: str
    path: str
    status: int | None  # None: the connection was dropped
    duration_ms: float
    login: str | None


@dataclass
class Outgoing:
    """One HTTP response; `drop` closes the connection without answering."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    drop: bool = False


class App(Protocol):
    """What the server needs from the sandbox."""

    def respond(self, request: Incoming) -> Outgoing:
        """Answer a request."""

    def log_request(self, request: Incoming, status: int | None, seconds: float) -> None:
        """Record a request in the log (status None: dropped)."""


class Server(ThreadingHTTPServer):
    """A loopback HTTP server whose handler threads do not block shutdown."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, app: App, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(("127.0.0.1", port), Handler)
        self.app, self.tls = app, tls

    def finish_request(  # type: ignore[override]  # TCP only: never UDP's (data, socket)
        self, request: socket.socket, client_address: object
    ) -> None:
        """Serve one connection; with TLS, shake hands first, in this connection's own thread."""
        if self.tls is None:
            super().finish_request(request, client_address)
            return
        try:
            secure = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):  # a client that refused the certificate, or left
            return
        try:
            super().finish_request(secure, client_address)
        finally:
            self.shutdown_request(secure)


class Handler(BaseHTTPRequestHandler):
    """Read a request, ask the app, write (or drop) the response; one per connection (HTTP/1.0)."""

    server: Server
    server_version = "GitHub.com"
    sys_version = ""

    def do_GET(self) -> None:  # noqa: N802 (the stdlib's naming)
        """Serve any method (the other do_* names point here)."""
        self._serve()

    do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = do_GET

    def _serve(self) -> None:
        started = time.monotonic()
        url = urlsplit(self.path)
        request = Incoming(
            self.command,
            url.path,
            url.query,
            {k.lower(): v for k, v in self.headers.items()},
            self._body(),
        )
        response = self.server.app.respond(request)
        # Log before answering, so a client that saw the response also sees it in the log.
        self.server.app.log_request(
            request, None if response.drop else response.status, time.monotonic() - started
        )
        if response.drop:
            self.close_connection = True
            return
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            raw = self._chunked()
        else:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        encoding = self.headers.get("Content-Encoding", "").lower()
        if encoding in ("gzip", "x-gzip"):
            return gzip.decompress(raw)
        if encoding == "deflate":
            return zlib.decompress(raw)
        return raw

    def _chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                self.rfile.readline()
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (stdlib signature)
        """Stay quiet: the sandbox keeps its own request log."""

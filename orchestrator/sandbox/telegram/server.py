"""Speak HTTP for the sandbox.

`/bot<token>/<method>` as Telegram serves it, and `/_sandbox/` for tests.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import logging
import re
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol
from urllib.parse import parse_qsl

from orchestrator.sandbox.loopback import TrackingServer
from orchestrator.sandbox.telegram import control
from orchestrator.sandbox.telegram.errors import ApiError
from orchestrator.sandbox.telegram.state import Obj
from orchestrator.sandbox.telegram.validation import UploadedFile

log = logging.getLogger(__name__)
_BOT_PATH = re.compile(r"/bot([^/]*)/([^/?]*)")
# Telegram answers 404 to a malformed token and 401 to a well-formed one it does not know.
_TOKEN_SHAPE = re.compile(r"\d+:[\w-]+")


@dataclass(frozen=True, slots=True)
class Reply:
    """An HTTP answer: status and JSON body."""

    status: int
    body: Obj


class Served(control.Controlled, Protocol):
    """What the HTTP side reaches of the sandbox (sandbox.TelegramSandbox is the one)."""

    token: str

    def call(self, name: str, params: Obj) -> Reply | None: ...


class BotApiServer(TrackingServer):
    """A thread per connection (long polls block).

    `close_connections` lets `server_close` join them.
    """

    daemon_threads = False
    block_on_close = True

    def __init__(self, address: tuple[str, int], sandbox: Served) -> None:
        self.sandbox = sandbox
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as httpx expects from Telegram
    disable_nagle_algorithm = (
        True  # headers and body go out in two writes; don't wait for delayed ACKs
    )
    server: BotApiServer

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def log_message(self, format: str, *args: Any) -> None:
        line = (format % args).replace(
            self.server.sandbox.token, "<token>"
        )  # request lines carry it
        log.debug("telegram sandbox: %s", line)

    def _dispatch(self) -> None:
        path, _, query = self.path.partition("?")
        try:
            params = dict(parse_qsl(query, keep_blank_values=True)) | self._body()
        except ValueError as exc:
            self._send(400, ApiError(400, f"Bad Request: {exc}").body())
            return
        if path.startswith(control.PREFIX):
            self._send(*control.handle(self.server.sandbox, self.command, path, params))
            return
        match = _BOT_PATH.fullmatch(path)
        if match is None:
            self._send(404, ApiError(404, "Not Found").body())
        elif match.group(1) != self.server.sandbox.token:
            status = 401 if _TOKEN_SHAPE.fullmatch(match.group(1)) else 404
            self._send(
                status, ApiError(status, "Unauthorized" if status == 401 else "Not Found").body()
            )
        else:
            reply = self.server.sandbox.call(match.group(2), params)
            if reply is None:
                self.close_connection = True  # a scripted dropped connection: no status line at all
            else:
                self._send(reply.status, reply.body)

    def _body(self) -> dict[str, object]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        kind = self.headers.get_content_type()
        if not raw:
            return {}
        if kind == "application/json":
            body = json.loads(raw)
            if not isinstance(body, dict):
                raise ValueError("the JSON body must be an object")
            return body
        if kind == "multipart/form-data":
            return _multipart(self.headers["Content-Type"], raw)
        if kind == "application/x-www-form-urlencoded":
            return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=True))
        raise ValueError(f"unsupported Content-Type {kind}")

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            self.close_connection = True  # the client gave up, e.g. a cancelled long poll


def _multipart(content_type: str, raw: bytes) -> dict[str, object]:
    """Split multipart/form-data into fields (str) and files (UploadedFile)."""
    head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
    if not message.is_multipart():
        raise ValueError("malformed multipart body")
    fields: dict[str, object] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if not isinstance(name, str) or not isinstance(payload, bytes):
            raise ValueError("malformed multipart part")
        filename = part.get_filename()
        fields[name] = (
            payload.decode("utf-8")
            if filename is None
            else UploadedFile(filename, part.get_content_type(), payload)
        )
    return fields

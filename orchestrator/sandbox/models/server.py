"""What the model sandboxes share.

A loopback HTTP server that plays a script and records every exchange.
"""

from __future__ import annotations

import json
import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import Any, Self

from orchestrator.sandbox.loopback import TrackingServer
from orchestrator.sandbox.models.script import (
    EXHAUSTED,
    Fail,
    Json,
    Player,
    Script,
    ScriptBook,
    Step,
    ToolResult,
    Turn,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request as it arrived: header names lower-cased, the path with its query string."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: Json


@dataclass(frozen=True, slots=True)
class Reply:
    """One HTTP answer, already encoded."""

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Exchange:
    """A recorded request: its conversation, the tool results it carried, and the status sent."""

    request: Request
    conversation: str | None
    tool_results: tuple[ToolResult, ...]
    status: int


Route = Callable[[Request], Reply]


def json_reply(status: int, body: Json, headers: tuple[tuple[str, str], ...] = ()) -> Reply:
    """Encode a JSON answer."""
    return Reply(status, json.dumps(body).encode(), headers=headers)


def sse_reply(
    events: Iterable[tuple[str, Json]], headers: tuple[tuple[str, str], ...] = ()
) -> Reply:
    """Encode server-sent events, each as an `event:` line and one `data:` line of JSON."""
    text = "".join(f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in events)
    return Reply(200, text.encode(), "text/event-stream", (("Cache-Control", "no-cache"), *headers))


def estimate_tokens(value: Json) -> int:
    """Estimate tokens at about four characters each: usage clients can add up, not a tokenizer."""
    return max(1, len(value if isinstance(value, str) else json.dumps(value)) // 4)


def output_tokens(turn: Turn) -> int:
    """Estimate the tokens of a scripted turn's text and tool inputs."""
    return estimate_tokens(turn.text) + sum(
        estimate_tokens(dict(call.input)) for call in turn.tool_calls
    )


def text_of(content: Json) -> str:
    """Return the text of message content: a string, or the `text` of each part of a list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


class ModelSandbox(ABC):
    """A scripted model API on 127.0.0.1; subclasses speak one vendor's wire format."""

    def __init__(
        self, steps: Iterable[Step] | ScriptBook = (), *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.script: Player = steps if isinstance(steps, ScriptBook) else Script(steps)
        self.host, self.port = host, port
        self._lock = threading.Lock()
        self._exchanges: list[Exchange] = []
        self._problems: list[str] = []
        self._server: _Server | None = None

    @property
    def url(self) -> str:
        """Return the server's root URL."""
        return f"http://{self.host}:{self.port}"

    @property
    @abstractmethod
    def base_url(self) -> str:
        """Return what the vendor's client takes as its base URL."""

    def start(self) -> str:
        """Serve in a background thread; return `base_url`, with the real port when port was 0."""
        self._server = _Server((self.host, self.port), self)
        self.port = self._server.port
        self._server.serve_in_background("model-sandbox")
        return self.base_url

    def stop(self) -> None:
        """Stop serving, close every client connection and join the server thread."""
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def requests(self) -> list[Exchange]:
        """Return every exchange so far, oldest first."""
        with self._lock:
            return list(self._exchanges)

    @property
    def problems(self) -> list[str]:
        """Return what the sandbox could not answer as the vendor would.

        These are unknown paths and exhausted scripts.
        """
        with self._lock:
            return list(self._problems)

    def tool_results(self) -> list[ToolResult]:
        """Return every tool result the client sent back, in order."""
        return [result for exchange in self.requests for result in exchange.tool_results]

    def handle(self, request: Request) -> Reply:
        """Answer one request and record the exchange."""
        if request.headers.get("content-encoding", "identity") != "identity":
            self._problem(
                f"compressed request body ({request.headers['content-encoding']}) on {request.path}"
            )
        route = self.routes().get((request.method, request.path.partition("?")[0]))
        if route is not None:
            return route(request)
        self._problem(f"no route for {request.method} {request.path}")
        return self.record(request, self.error_reply(Fail(404, f"Not found: {request.path}")))

    def play(self, request: Request) -> Reply:
        """Answer a model request with the next step of its conversation's script."""
        conversation, results = self.conversation(request)
        step = self.script.next(conversation, results, self.opening(request))
        if step is None:
            self._problem(f"script exhausted in conversation {conversation}")
            step = EXHAUSTED
        reply = self.error_reply(step) if isinstance(step, Fail) else self.turn_reply(step, request)
        return self.record(request, reply, conversation, results)

    def record(
        self,
        request: Request,
        reply: Reply,
        conversation: str | None = None,
        results: tuple[ToolResult, ...] = (),
    ) -> Reply:
        """Record an exchange and pass `reply` on.

        A model turn comes with its conversation and tool results.
        """
        with self._lock:
            self._exchanges.append(Exchange(request, conversation, results, reply.status))
        return reply

    @abstractmethod
    def routes(self) -> Mapping[tuple[str, str], Route]:
        """Return the handlers by method and path (without the query string)."""

    @abstractmethod
    def conversation(self, request: Request) -> tuple[str, tuple[ToolResult, ...]]:
        """Return a stable key for the request's conversation, and the tool results it ends with."""

    @abstractmethod
    def opening(self, request: Request) -> str:
        """Return the text the request's conversation opened with (what a ScriptBook matches on)."""

    @abstractmethod
    def turn_reply(self, turn: Turn, request: Request) -> Reply:
        """Encode a scripted turn as the vendor would answer `request` (streamed or not)."""

    @abstractmethod
    def error_reply(self, fail: Fail) -> Reply:
        """Encode a scripted error in the vendor's error shape."""

    def _problem(self, problem: str) -> None:
        log.warning("model sandbox: %s", problem)
        with self._lock:
            self._problems.append(problem)


class _Server(TrackingServer):
    """A thread per connection; `close_connections` ends keep-alive threads so a stop is quick."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], sandbox: ModelSandbox) -> None:
        self.sandbox = sandbox
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDKs and CLIs expect
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("model sandbox: " + format, *args)

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body: Json = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")  # routes treat a non-object body as malformed
        headers = {name.lower(): value for name, value in self.headers.items()}
        reply = self.server.sandbox.handle(Request(self.command, self.path, headers, body))
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers:
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(reply.body)
        except OSError:
            self.close_connection = True  # the client went away mid-answer

"""A scripted Anthropic Messages API on 127.0.0.1.

The anthropic SDK and the real Claude Code CLI talk to it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import Any

from orchestrator.sandbox.models import anthropic_wire
from orchestrator.sandbox.models.script import Fail, ScriptBook, Step, ToolResult, Turn
from orchestrator.sandbox.models.server import (
    ModelSandbox,
    Reply,
    Request,
    Route,
    estimate_tokens,
    json_reply,
    sse_reply,
)

DEFAULT_MODELS = ("claude-sonnet-4-5",)


class AnthropicSandbox(ModelSandbox):
    """Serves `POST /v1/messages` (streamed or not) from a script.

    It also answers the health checks Claude Code makes.
    """

    def __init__(
        self,
        steps: Iterable[Step] | ScriptBook = (),
        *,
        models: tuple[str, ...] = DEFAULT_MODELS,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(steps, host=host, port=port)
        self.models = models
        self._serials = itertools.count(1)

    @property
    def base_url(self) -> str:
        """Return the root URL.

        It is what `anthropic.Anthropic(base_url=...)` and `ANTHROPIC_BASE_URL` take.
        """
        return self.url

    def routes(self) -> Mapping[tuple[str, str], Route]:
        """Return the Messages endpoint, the model list and the HEAD probes Claude Code may send."""

        def health(request: Request) -> Reply:
            return self.record(request, Reply(200))

        return {
            ("POST", "/v1/messages"): self._messages,
            ("GET", "/v1/models"): lambda request: self.record(
                request, json_reply(200, anthropic_wire.models(self.models))
            ),
            ("HEAD", "/"): health,
            ("HEAD", "/api/hello"): health,
        }

    def conversation(self, request: Request) -> tuple[str, tuple[ToolResult, ...]]:
        """Key by the session header and the first message; the results are the last message's."""
        body = _body(request)
        return anthropic_wire.conversation(
            body, dict(request.headers)
        ), anthropic_wire.tool_results(body)

    def opening(self, request: Request) -> str:
        """Return the text of the first message (the prompt, for our loop and Claude Code)."""
        return anthropic_wire.opening(_body(request))

    def turn_reply(self, turn: Turn, request: Request) -> Reply:
        """Answer with a Message, or with its SSE events when the request asked for `stream`."""
        body = _body(request)
        serial, model, used = (
            next(self._serials),
            str(body["model"]),
            estimate_tokens(body["messages"]),
        )
        headers = (("request-id", f"req_sandbox{serial:06d}"),)
        if body.get("stream"):
            return sse_reply(anthropic_wire.events(turn, model, serial, used), headers)
        return json_reply(200, anthropic_wire.message(turn, model, serial, used), headers)

    def error_reply(self, fail: Fail) -> Reply:
        """Answer with Anthropic's error JSON, and `retry-after` when the step sets it."""
        body, headers = anthropic_wire.error(fail, f"req_sandbox{next(self._serials):06d}")
        return json_reply(fail.status, body, headers)

    def _messages(self, request: Request) -> Reply:
        body = request.body
        if not (
            isinstance(body, dict)
            and isinstance(body.get("messages"), list)
            and body["messages"]
            and isinstance(body.get("model"), str)
        ):
            return self.record(
                request, self.error_reply(Fail(400, "messages and model are required"))
            )
        return self.play(request)


def _body(request: Request) -> dict[str, Any]:
    assert isinstance(request.body, dict)  # _messages let only an object through
    return request.body

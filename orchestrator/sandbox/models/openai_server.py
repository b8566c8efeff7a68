"""A scripted OpenAI Responses API on 127.0.0.1, for the real Codex CLI."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import Any

from orchestrator.sandbox.models import openai_wire
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


class OpenAISandbox(ModelSandbox):
    """Serves `POST /v1/responses` (streamed or not) from a script.

    Codex's tools are `exec_command` and kin.
    """

    def __init__(
        self, steps: Iterable[Step] | ScriptBook = (), *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        super().__init__(steps, host=host, port=port)
        self._serials = itertools.count(1)

    @property
    def base_url(self) -> str:
        """Return the root plus `/v1`.

        It is what a Codex provider's `base_url` (and the openai SDK's) takes.
        """
        return f"{self.url}/v1"

    def routes(self) -> Mapping[tuple[str, str], Route]:
        """Return the Responses endpoint."""
        return {("POST", "/v1/responses"): self._responses}

    def conversation(self, request: Request) -> tuple[str, tuple[ToolResult, ...]]:
        """Key by the session header and the opening messages.

        The results are the trailing call outputs.
        """
        body = _body(request)
        return openai_wire.conversation(body, dict(request.headers)), openai_wire.tool_results(body)

    def opening(self, request: Request) -> str:
        """Return the text of the opening messages (Codex's instructions and the prompt)."""
        return openai_wire.opening(_body(request))

    def turn_reply(self, turn: Turn, request: Request) -> Reply:
        """Answer with a Response, or with its SSE events when the request asked for `stream`."""
        body = _body(request)
        serial, model, used = (
            next(self._serials),
            str(body["model"]),
            estimate_tokens(body["input"]),
        )
        if body.get("stream"):
            return sse_reply(openai_wire.events(turn, model, serial, used))
        return json_reply(200, openai_wire.response(turn, model, serial, used))

    def error_reply(self, fail: Fail) -> Reply:
        """Answer with OpenAI's error JSON, and `retry-after` when the step sets it."""
        body, headers = openai_wire.error(fail)
        return json_reply(fail.status, body, headers)

    def _responses(self, request: Request) -> Reply:
        body = request.body
        if not (
            isinstance(body, dict)
            and isinstance(body.get("input"), list)
            and body["input"]
            and isinstance(body.get("model"), str)
        ):
            return self.record(request, self.error_reply(Fail(400, "input and model are required")))
        return self.play(request)


def _body(request: Request) -> dict[str, Any]:
    assert isinstance(request.body, dict)  # _responses let only an object through
    return request.body

"""Anthropic Messages on the wire.

A scripted turn as a Message or as its SSE events, errors, and requests read.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

from orchestrator.sandbox.models.script import Fail, Json, ToolResult, Turn
from orchestrator.sandbox.models.server import output_tokens, text_of

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
SESSION_HEADER = "x-claude-code-session-id"
_CHUNK = 24  # characters per text delta: enough deltas for the client to have to join them


def opening(body: dict[str, Any]) -> str:
    """Return the text of the request's first message, its text blocks joined by newlines."""
    return "\n".join(_first_texts(body))


def _first_texts(body: dict[str, Any]) -> list[str]:
    first = body["messages"][0]["content"]
    return [first] if isinstance(first, str) else [str(block.get("text", "")) for block in first]


def conversation(body: dict[str, Any], headers: dict[str, str]) -> str:
    """Key a conversation by Claude Code's session header and the text of its first message."""
    texts = _first_texts(body)
    seed = json.dumps(
        [headers.get(SESSION_HEADER, ""), texts]
    )  # cache_control moves; the text does not
    return hashlib.sha256(seed.encode()).hexdigest()[:12]


def tool_results(body: dict[str, Any]) -> tuple[ToolResult, ...]:
    """Return the tool results the request's last (user) message carries."""
    last = body["messages"][-1]
    if last.get("role") != "user" or isinstance(last.get("content"), str):
        return ()
    return tuple(
        ToolResult(
            block["tool_use_id"],
            text_of(block.get("content", "")),
            bool(block.get("is_error", False)),
        )
        for block in last["content"]
        if block.get("type") == "tool_result"
    )


def message(turn: Turn, model: str, serial: int, input_tokens: int) -> dict[str, Json]:
    """Return the turn as a complete Message, as a non-streaming create answers."""
    return _envelope(
        model, serial, list(_blocks(turn, serial)), turn.stop_reason, _usage(input_tokens, turn)
    )


def events(turn: Turn, model: str, serial: int, input_tokens: int) -> Iterator[tuple[str, Json]]:
    """Yield the turn as Messages SSE events, in the order the API streams them."""
    start = _envelope(model, serial, [], None, _usage(input_tokens, turn) | {"output_tokens": 1})
    yield "message_start", {"type": "message_start", "message": start}
    yield "ping", {"type": "ping"}
    for index, block in enumerate(_blocks(turn, serial)):
        empty = {"type": "text", "text": ""} if block["type"] == "text" else block | {"input": {}}
        yield (
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": empty},
        )
        for delta in _deltas(block):
            yield (
                "content_block_delta",
                {"type": "content_block_delta", "index": index, "delta": delta},
            )
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
    usage = _usage(input_tokens, turn)
    delta_usage = {
        key: usage[key]
        for key in (
            "input_tokens",
            "cache_creation_input_tokens",
            "cache_read_input_tokens",
            "output_tokens",
        )
    }
    yield (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": turn.stop_reason, "stop_sequence": None},
            "usage": delta_usage,
        },
    )
    yield "message_stop", {"type": "message_stop"}


def error(fail: Fail, request_id: str) -> tuple[dict[str, Json], tuple[tuple[str, str], ...]]:
    """Return an error body in Anthropic's shape, and its headers (request-id, retry-after)."""
    kind = fail.kind or ERROR_TYPES.get(fail.status, "api_error")
    body: dict[str, Json] = {
        "type": "error",
        "error": {"type": kind, "message": fail.message},
        "request_id": request_id,
    }
    headers = [("request-id", request_id)]
    if fail.retry_after is not None:
        headers.append(("retry-after", str(fail.retry_after)))
    return body, tuple(headers)


def models(ids: tuple[str, ...]) -> dict[str, Json]:
    """Return a one-page model list, as `GET /v1/models` answers."""
    data = [
        {
            "type": "model",
            "id": model_id,
            "display_name": model_id,
            "created_at": "2025-09-29T00:00:00Z",
            "lifecycle": "active",
        }
        for model_id in ids
    ]
    return {
        "data": data,
        "has_more": False,
        "first_id": ids[0] if ids else None,
        "last_id": ids[-1] if ids else None,
    }


def _envelope(
    model: str,
    serial: int,
    content: list[dict[str, Json]],
    stop: str | None,
    usage: dict[str, Json],
) -> dict[str, Json]:
    return {
        "id": f"msg_sandbox{serial:06d}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": usage,
    }


def _blocks(turn: Turn, serial: int) -> Iterator[dict[str, Json]]:
    if turn.text:
        yield {"type": "text", "text": turn.text}
    for index, call in enumerate(turn.tool_calls):
        yield {
            "type": "tool_use",
            "id": f"toolu_sandbox{serial:06d}_{index}",
            "name": call.name,
            "input": dict(call.input),
        }


def _deltas(block: dict[str, Json]) -> Iterator[dict[str, Json]]:
    if block["type"] == "text":
        text = str(block["text"])
        for at in range(0, len(text), _CHUNK):
            yield {"type": "text_delta", "text": text[at : at + _CHUNK]}
        return
    encoded = json.dumps(block["input"])
    yield {
        "type": "input_json_delta",
        "partial_json": "",
    }  # the API opens with an empty fragment, too
    for at in range(0, len(encoded), _CHUNK):
        yield {"type": "input_json_delta", "partial_json": encoded[at : at + _CHUNK]}


def _usage(input_tokens: int, turn: Turn) -> dict[str, Json]:
    return {
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        "output_tokens": output_tokens(turn),
        "service_tier": "standard",
    }

"""OpenAI Responses on the wire.

A scripted turn as a Response or as its SSE events, errors, and requests read.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from typing import Any

from orchestrator.sandbox.models.script import Fail, Json, ToolResult, Turn
from orchestrator.sandbox.models.server import output_tokens, text_of

ERROR_CODES = {
    400: "invalid_request_error",
    401: "invalid_api_key",
    403: "permission_denied",
    404: "not_found",
    429: "rate_limit_exceeded",
    500: "server_error",
    503: "server_is_overloaded",
}
SESSION_HEADER = "session-id"
_EXIT = re.compile(
    r"^Process exited with code (\d+)$", re.MULTILINE
)  # how Codex reports exec_command's end
_CHUNK = 24
_CREATED_AT = 1_790_000_000  # a fixed clock keeps recorded streams comparable


def opening(body: dict[str, Any]) -> str:
    """Return the instructions and the text of the input's opening messages, joined by newlines."""
    texts = [text for _, text in _opening(body)]
    return "\n".join([str(body.get("instructions") or ""), *texts])


def _opening(body: dict[str, Any]) -> list[list[Any]]:
    found = []
    for item in body["input"]:
        if item.get("type") != "message" or item.get("role") == "assistant":
            break
        found.append(
            [item.get("role"), text_of(item.get("content"))]
        )  # item ids are left out on purpose
    return found


def conversation(body: dict[str, Any], headers: dict[str, str]) -> str:
    """Key a conversation by Codex's session header and the instructions and prompt that open it."""
    seed = json.dumps([headers.get(SESSION_HEADER, ""), body.get("instructions"), _opening(body)])
    return hashlib.sha256(seed.encode()).hexdigest()[:12]


def tool_results(body: dict[str, Any]) -> tuple[ToolResult, ...]:
    """Return the outputs of the latest turn's calls.

    Those are the outputs that end the input and share its call-id prefix.
    """
    outputs: list[dict[str, Any]] = []
    for item in reversed(body["input"]):
        if item.get("type") not in ("function_call", "function_call_output", "reasoning"):
            break
        if item.get("type") == "function_call_output":
            outputs.insert(0, item)
    turn = (
        _turn_of(outputs[-1]) if outputs else None
    )  # call ids are ours: call_sandbox<serial>_<index>
    return tuple(_result(item) for item in outputs if _turn_of(item) == turn)


def response(turn: Turn, model: str, serial: int, input_tokens: int) -> dict[str, Json]:
    """Return the turn as a completed Response.

    That is how a non-streaming create and `response.completed` carry it.
    """
    output = [_done(item, turn) for item in _items(turn, serial)]
    out_tokens = output_tokens(turn)
    usage = {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": out_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": input_tokens + out_tokens,
    }
    return _response(model, serial, "completed", output, usage)


def events(turn: Turn, model: str, serial: int, input_tokens: int) -> Iterator[tuple[str, Json]]:
    """Yield the turn as Responses SSE events, as the API streams them.

    Each event has its `sequence_number`.
    """
    for sequence, (name, data) in enumerate(_events(turn, model, serial, input_tokens)):
        yield name, {"type": name, "sequence_number": sequence} | data


def error(fail: Fail) -> tuple[dict[str, Json], tuple[tuple[str, str], ...]]:
    """Return an error body in OpenAI's shape, and its headers (retry-after when set)."""
    code = fail.kind or ERROR_CODES.get(fail.status, "server_error")
    body: dict[str, Json] = {
        "error": {"message": fail.message, "type": code, "param": None, "code": code}
    }
    headers = () if fail.retry_after is None else (("retry-after", str(fail.retry_after)),)
    return body, headers


def _events(
    turn: Turn, model: str, serial: int, input_tokens: int
) -> Iterator[tuple[str, dict[str, Json]]]:
    yield "response.created", {"response": _response(model, serial, "in_progress", [], None)}
    for index, item in enumerate(_items(turn, serial)):
        yield "response.output_item.added", {"output_index": index, "item": item}
        where: dict[str, Json] = {"item_id": item["id"], "output_index": index}
        if item["type"] == "message":
            text, part = turn.text, {"type": "output_text", "text": "", "annotations": []}
            yield "response.content_part.added", where | {"content_index": 0, "part": part}
            for at in range(0, len(text), _CHUNK):
                yield (
                    "response.output_text.delta",
                    where | {"content_index": 0, "delta": text[at : at + _CHUNK]},
                )
            yield "response.output_text.done", where | {"content_index": 0, "text": text}
            yield (
                "response.content_part.done",
                where | {"content_index": 0, "part": part | {"text": text}},
            )
        else:
            arguments = str(item["arguments"])
            yield "response.function_call_arguments.delta", where | {"delta": arguments}
            yield "response.function_call_arguments.done", where | {"arguments": arguments}
        yield "response.output_item.done", {"output_index": index, "item": _done(item, turn)}
    yield "response.completed", {"response": response(turn, model, serial, input_tokens)}


def _items(turn: Turn, serial: int) -> Iterator[dict[str, Json]]:
    """Yield the turn's output items as `output_item.added` shows them: in progress, empty."""
    if turn.text:
        yield {
            "id": f"msg_sandbox{serial:06d}",
            "type": "message",
            "status": "in_progress",
            "role": "assistant",
            "content": [],
        }
    for index, call in enumerate(turn.tool_calls):
        yield {
            "id": f"fc_sandbox{serial:06d}_{index}",
            "type": "function_call",
            "status": "in_progress",
            "name": call.name,
            "call_id": f"call_sandbox{serial:06d}_{index}",
            "arguments": json.dumps(dict(call.input)),
        }


def _done(item: dict[str, Json], turn: Turn) -> dict[str, Json]:
    done = item | {"status": "completed"}
    if item["type"] == "message":  # a turn has at most one message: its text
        done["content"] = [{"type": "output_text", "text": turn.text, "annotations": []}]
    return done


def _response(
    model: str,
    serial: int,
    status: str,
    output: list[dict[str, Json]],
    usage: dict[str, Json] | None,
) -> dict[str, Json]:
    return {
        "id": f"resp_sandbox{serial:06d}",
        "object": "response",
        "created_at": _CREATED_AT,
        "status": status,
        "model": model,
        "output": output,
        "usage": usage,
        "error": None,
        "incomplete_details": None,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
    }


def _turn_of(output: dict[str, Any]) -> str:
    return str(output.get("call_id")).rpartition("_")[0]


def _result(item: dict[str, Any]) -> ToolResult:
    output = text_of(item.get("output"))
    exit_code = _EXIT.search(output)
    return ToolResult(
        str(item.get("call_id")), output, exit_code is not None and exit_code.group(1) != "0"
    )

"""The Responses server's wire, read raw.

Event order, sequence numbers, items, errors, tool results.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from orchestrator.sandbox.models import tools
from orchestrator.sandbox.models.openai_server import OpenAISandbox
from orchestrator.sandbox.models.script import Fail, ScriptBook, ToolResult, Turn

TURN = Turn(
    "Listing the files, then counting them.",
    (tools.exec_command("ls"), tools.exec_command("ls | wc -l")),
)
PROMPT = [
    {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "count files"}]}
]


@pytest.fixture
def sandbox() -> Iterator[OpenAISandbox]:
    with OpenAISandbox([TURN, Turn("3 files.")]) as sandbox:
        yield sandbox


def events(reply: httpx.Response) -> list[dict[str, object]]:
    """Parse an SSE body, checking each `event:` line names its data's type."""
    parsed = []
    for chunk in reply.text.strip().split("\n\n"):
        name, data = chunk.split("\n")
        event = json.loads(data.removeprefix("data: "))
        assert name == f"event: {event['type']}"
        parsed.append(event)
    return parsed


def test_a_streamed_turn_has_the_responses_event_sequence(sandbox: OpenAISandbox) -> None:
    reply = httpx.post(
        f"{sandbox.base_url}/responses", json={"model": "m", "stream": True, "input": PROMPT}
    )
    assert reply.headers["content-type"] == "text/event-stream"
    stream = events(reply)
    assert [event["sequence_number"] for event in stream] == list(range(len(stream)))
    kinds = [event["type"] for event in stream]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert (
        kinds.count("response.output_item.added") == kinds.count("response.output_item.done") == 3
    )
    text = "".join(
        str(event["delta"]) for event in stream if event["type"] == "response.output_text.delta"
    )
    assert text == TURN.text
    done = [event["item"] for event in stream if event["type"] == "response.output_item.done"]
    assert [item["type"] for item in done] == ["message", "function_call", "function_call"]
    assert json.loads(done[2]["arguments"]) == {"cmd": "ls | wc -l"}
    completed = stream[-1]["response"]
    assert completed["status"] == "completed" and completed["output"] == done
    assert completed["usage"]["total_tokens"] > 0


def test_a_non_streamed_turn_is_the_completed_response(sandbox: OpenAISandbox) -> None:
    body = httpx.post(f"{sandbox.base_url}/responses", json={"model": "m", "input": PROMPT}).json()
    assert body["object"] == "response" and [item["type"] for item in body["output"]] == [
        "message",
        "function_call",
        "function_call",
    ]


def test_the_latest_turns_outputs_are_its_tool_results(sandbox: OpenAISandbox) -> None:
    first = httpx.post(f"{sandbox.base_url}/responses", json={"model": "m", "input": PROMPT}).json()
    calls = [item for item in first["output"] if item["type"] == "function_call"]
    outputs = [
        {
            "type": "function_call_output",
            "call_id": call["call_id"],
            "output": f"Process exited with code {code}\nOutput:\n",
        }
        for call, code in zip(calls, (0, 2), strict=True)
    ]
    history = PROMPT + [
        {key: call[key] for key in ("type", "name", "arguments", "call_id")} for call in calls
    ]
    httpx.post(f"{sandbox.base_url}/responses", json={"model": "m", "input": history + outputs})
    assert sandbox.tool_results() == [
        ToolResult(calls[0]["call_id"], outputs[0]["output"], is_error=False),
        ToolResult(calls[1]["call_id"], outputs[1]["output"], is_error=True),
    ]
    assert len({exchange.conversation for exchange in sandbox.requests}) == 1


def test_errors_take_openais_shape_and_carry_retry_after() -> None:
    with OpenAISandbox([Fail(429, "quota", retry_after=3, kind="insufficient_quota")]) as failing:
        reply = httpx.post(f"{failing.base_url}/responses", json={"model": "m", "input": PROMPT})
    assert (reply.status_code, reply.headers["retry-after"]) == (429, "3")
    assert reply.json() == {
        "error": {
            "message": "quota",
            "type": "insufficient_quota",
            "param": None,
            "code": "insufficient_quota",
        }
    }


def test_a_malformed_request_or_unknown_path_is_answered_and_reported(
    sandbox: OpenAISandbox,
) -> None:
    assert httpx.post(f"{sandbox.base_url}/responses", content=b"{").status_code == 400
    assert httpx.get(f"{sandbox.base_url}/models").json()["error"]["code"] == "not_found"
    assert sandbox.problems == ["no route for GET /v1/models"]


def test_a_script_book_matches_the_instructions_and_the_prompt() -> None:
    book = ScriptBook([(r"(?s)be terse.*count files", [Turn("3.")])], default=[Turn("No script.")])
    with OpenAISandbox(book) as sandbox:
        terse = httpx.post(
            f"{sandbox.base_url}/responses",
            json={"model": "m", "instructions": "be terse", "input": PROMPT},
        )
        other = httpx.post(f"{sandbox.base_url}/responses", json={"model": "m", "input": PROMPT})
    texts = [reply.json()["output"][0]["content"][0]["text"] for reply in (terse, other)]
    assert texts == ["3.", "No script."]

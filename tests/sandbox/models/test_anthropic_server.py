"""The anthropic SDK, validating strictly, against the scripted Messages server.

The SDK is the judge of the wire.
"""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import httpx
import pytest

from orchestrator.sandbox.models import tools
from orchestrator.sandbox.models.anthropic_server import AnthropicSandbox
from orchestrator.sandbox.models.script import Fail, ScriptBook, ToolResult, Turn

# The SDK warns (an error here) on deprecated models such as claude-sonnet-4-5.
MODEL = "claude-sonnet-4-6"
LOOK = Turn(
    "Let me look at the tree first, then write the file.", (tools.bash("ls -la", "List files"),)
)
DONE = Turn("The file is written.")


@pytest.fixture
def sandbox() -> Iterator[AnthropicSandbox]:
    with AnthropicSandbox([LOOK, DONE]) as sandbox:
        yield sandbox
    assert not sandbox.problems


@pytest.fixture
def client(sandbox: AnthropicSandbox) -> Iterator[anthropic.Anthropic]:
    with strict_client(sandbox) as client:
        yield client


def strict_client(sandbox: AnthropicSandbox, max_retries: int = 0) -> anthropic.Anthropic:
    """A client that rejects any response its own models do not accept."""
    return anthropic.Anthropic(
        base_url=sandbox.base_url,
        api_key="sandbox-key",
        max_retries=max_retries,
        _strict_response_validation=True,
    )


def ask(
    client: anthropic.Anthropic, *history: anthropic.types.MessageParam
) -> anthropic.types.Message:
    return client.messages.create(
        model=MODEL,
        max_tokens=1024,
        messages=[{"role": "user", "content": "write hello.txt"}, *history],
    )


def test_a_tool_use_turn_then_a_text_turn_parse_as_messages(
    client: anthropic.Anthropic, sandbox: AnthropicSandbox
) -> None:
    first = ask(client)
    text, call = first.content
    assert isinstance(text, anthropic.types.TextBlock) and text.text.startswith("Let me look")
    assert isinstance(call, anthropic.types.ToolUseBlock)
    assert (call.name, call.input, first.stop_reason) == (
        "Bash",
        {"command": "ls -la", "description": "List files"},
        "tool_use",
    )
    assert first.usage.input_tokens > 0 and first.usage.output_tokens > 0
    result: anthropic.types.ToolResultBlockParam = {
        "type": "tool_result",
        "tool_use_id": call.id,
        "content": "a.txt",
    }
    second = ask(
        client,
        {"role": "assistant", "content": first.content},
        {"role": "user", "content": [result]},
    )
    assert [block.type for block in second.content] == ["text"] and second.stop_reason == "end_turn"
    assert sandbox.tool_results() == [ToolResult(call.id, "a.txt", is_error=False)]
    assert all(exchange.request.headers["anthropic-version"] for exchange in sandbox.requests)


def test_the_stream_accumulates_text_and_tool_input_from_many_deltas(
    client: anthropic.Anthropic,
) -> None:
    with client.messages.stream(
        model=MODEL, max_tokens=1024, messages=[{"role": "user", "content": "go"}]
    ) as stream:
        kinds = [event.type for event in stream]
        first = stream.get_final_message()
    assert kinds.count("content_block_start") == 2 and kinds[-1] == "message_stop"
    assert [block.type for block in first.content] == ["text", "tool_use"]
    assert first.content[1].input == dict(LOOK.tool_calls[0].input)
    assert first.content[0].text == LOOK.text
    assert first.stop_reason == "tool_use" and first.usage.output_tokens > 1
    with client.messages.stream(
        model=MODEL,
        max_tokens=1024,
        messages=[
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": first.content},
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": first.content[1].id,
                        "content": "Exit code 2\nno such file",
                        "is_error": True,
                    }
                ],
            },
        ],
    ) as stream:
        assert stream.get_final_text() == DONE.text


def test_a_scripted_429_is_a_rate_limit_error_with_retry_after() -> None:
    with AnthropicSandbox([Fail(429, retry_after=17)]) as limited, strict_client(limited) as client:
        with pytest.raises(anthropic.RateLimitError) as raised:
            ask(client)
    assert raised.value.response.headers["retry-after"] == "17"
    assert raised.value.body == {
        "type": "error",
        "error": {"type": "rate_limit_error", "message": Fail().message},
        "request_id": raised.value.request_id,
    }
    assert raised.value.request_id and raised.value.request_id.startswith("req_")


@pytest.mark.parametrize(
    "status, error",
    [
        (529, anthropic.InternalServerError),
        (401, anthropic.AuthenticationError),
        (402, anthropic.APIStatusError),
    ],
)
def test_scripted_errors_map_to_the_sdk_exceptions(status: int, error: type[Exception]) -> None:
    with AnthropicSandbox([Fail(status, "scripted")]) as failing, strict_client(failing) as client:
        with pytest.raises(error) as raised:
            ask(client)
    assert isinstance(raised.value, anthropic.APIStatusError) and raised.value.status_code == status


def test_the_sdk_retries_a_transient_error_after_retry_after() -> None:
    with (
        AnthropicSandbox([Fail(529, "Overloaded", retry_after=0), DONE]) as flaky,
        strict_client(flaky, max_retries=1) as client,
    ):
        assert ask(client).content[0].text == DONE.text
        assert [exchange.status for exchange in flaky.requests] == [529, 200]


def test_the_model_list_validates(client: anthropic.Anthropic) -> None:
    assert [model.id for model in client.models.list()] == ["claude-sonnet-4-5"]


def test_an_exhausted_script_ends_the_turn_and_is_reported() -> None:
    with AnthropicSandbox([]) as empty, strict_client(empty) as client:
        assert ask(client).stop_reason == "end_turn"
        assert empty.problems == [
            f"script exhausted in conversation {empty.requests[0].conversation}"
        ]


def test_a_malformed_request_or_unknown_path_is_answered_and_reported() -> None:
    with AnthropicSandbox([DONE]) as sandbox:
        reply = httpx.post(f"{sandbox.base_url}/v1/messages", json={"messages": []})
        missing = httpx.get(f"{sandbox.base_url}/v1/files")
    assert reply.status_code == 400 and reply.json()["error"]["type"] == "invalid_request_error"
    assert missing.status_code == 404 and missing.json()["error"]["type"] == "not_found_error"
    assert sandbox.problems == ["no route for GET /v1/files"]


@pytest.mark.parametrize("path", ["/", "/api/hello"])
def test_the_connectivity_probes_claude_code_may_send_are_answered(
    sandbox: AnthropicSandbox, path: str
) -> None:
    assert httpx.head(f"{sandbox.base_url}{path}").status_code == 200


def test_a_script_book_answers_each_prompt_with_its_own_script() -> None:
    book = ScriptBook([("write hello", [LOOK, DONE]), ("say bye", [Turn("Bye.")])])
    with AnthropicSandbox(book) as sandbox, strict_client(sandbox) as client:
        bye = client.messages.create(
            model=MODEL,
            max_tokens=64,
            messages=[
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "please"},
                        {"type": "text", "text": "say bye"},
                    ],
                }
            ],
        )
        hello = ask(client)
    assert bye.content[0].text == "Bye." and hello.content[0].text == LOOK.text
    assert not sandbox.problems and sorted(book.matched().values()) == ["say bye", "write hello"]

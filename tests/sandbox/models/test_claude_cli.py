"""The real Claude Code CLI against the scripted Messages server.

It runs the tools; we read what it prints.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from orchestrator.sandbox.models import tools
from orchestrator.sandbox.models.anthropic_server import AnthropicSandbox
from orchestrator.sandbox.models.script import Fail, Turn, failed
from tests.sandbox.models.conftest import RECORDINGS, make_worktree, recorded
from tests.support import model_clis

CHECK = "python3 -c 'import greet; assert greet.hello() == \"hello\", greet.hello()'"
RESULT_MD = "## Summary\nAdded greet.hello().\n"


@dataclass(frozen=True)
class Session:
    outcome: model_clis.Outcome
    sandbox: AnthropicSandbox
    worktree: Path


# Relative paths: Claude Code resolves them against its cwd, so a script need not know the worktree.
SCRIPT = [
    Turn(
        "I'll add the greeting module.",
        (tools.write("greet.py", "def hello():\n    return 'helo'\n"),),
    ),
    Turn("Checking it.", (tools.bash(CHECK, "Check greet.hello"),)),
    Turn(
        "The check failed; fixing the typo.",
        (tools.edit("greet.py", "'helo'", "'hello'"),),
        when=failed,
    ),
    Turn("", (tools.bash(CHECK, "Check again"),)),
    Turn("", (tools.write(".agent_result.md", RESULT_MD),)),
    Turn("Done: greet.hello() returns 'hello'."),
]


@pytest.fixture(scope="module")
def session(claude_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    """One scripted task run by the real CLI, shared by the tests that read it."""
    tmp = tmp_path_factory.mktemp("claude")
    worktree = make_worktree(tmp)
    with AnthropicSandbox(SCRIPT) as sandbox:
        invocation = model_clis.prepare_claude(
            claude_bin, sandbox.base_url, "Add greet.hello().", worktree, tmp / "home"
        )
        yield Session(model_clis.run(invocation), sandbox, worktree)


def test_the_cli_runs_the_scripted_task_in_the_worktree(session: Session) -> None:
    assert session.outcome.returncode == 0, session.outcome.stderr
    assert (session.worktree / "greet.py").read_text() == "def hello():\n    return 'hello'\n"
    assert (session.worktree / ".agent_result.md").read_text() == RESULT_MD
    assert not session.sandbox.problems


def test_the_server_records_the_tool_results_the_cli_sent_back(session: Session) -> None:
    results = session.sandbox.tool_results()
    assert [result.is_error for result in results] == [False, True, False, False, False]
    assert "AssertionError: helo" in results[1].output
    assert {exchange.conversation for exchange in session.sandbox.requests} == {
        session.sandbox.requests[0].conversation
    }


def test_stream_json_has_init_tool_results_and_a_successful_result_with_usage(
    session: Session,
) -> None:
    outcome = session.outcome
    init = outcome.of_type("system")[0]
    assert (
        init["subtype"] == "init"
        and init["cwd"] == str(session.worktree)
        and init["model"] == "claude-sonnet-4-5"
    )
    assert {"Bash", "Write", "Edit", "Read"} <= set(init["tools"])
    blocks = [block for event in outcome.of_type("user") for block in event["message"]["content"]]
    assert [block["type"] for block in blocks] == ["tool_result"] * 5
    used = [
        block["name"]
        for event in outcome.of_type("assistant")
        for block in event["message"]["content"]
        if block["type"] == "tool_use"
    ]
    assert used == ["Write", "Bash", "Edit", "Bash", "Write"]
    result = outcome.of_type("result")[-1]
    assert (result["subtype"], result["is_error"], result["num_turns"]) == ("success", False, 6)
    assert result["result"] == "Done: greet.hello() returns 'hello'."
    assert result["usage"]["input_tokens"] > 0 and result["usage"]["output_tokens"] > 0


def test_events_keep_the_recorded_shape(session: Session) -> None:
    """A CLI upgrade that drops or renames event fields shows up here first."""
    golden = recorded("claude-code-2.1.330.print-stream-json.jsonl")
    for kind in ("system", "assistant", "user", "result"):
        want = set().union(*(event.keys() for event in golden if event["type"] == kind))
        have = set().union(*(event.keys() for event in session.outcome.of_type(kind)))
        assert want <= have, kind
    # --output-format json
    printed = json.loads((RECORDINGS / "claude-code-2.1.330.print-json.json").read_text())
    assert printed.keys() <= session.outcome.of_type("result")[-1].keys()


def test_requests_keep_the_recorded_wire_shape(session: Session) -> None:
    """Endpoint, body keys, tools offered and headers match what 2.1.330 sent when recorded."""
    golden, sent = (
        recorded("claude-code-2.1.330.requests-to-fake-anthropic.redacted.jsonl"),
        session.sandbox.requests,
    )
    for request in (exchange.request for exchange in sent):
        assert request.path == golden[0]["path"] == "/v1/messages?beta=true"
        body = request.body
        assert (
            isinstance(body, dict)
            and body.keys() == golden[0]["body"].keys()
            and body["stream"] is True
        )
        assert [tool["name"] for tool in body["tools"]] == [
            tool["name"] for tool in golden[0]["body"]["tools"]
        ]
        assert {name.lower() for name in golden[0]["headers"]} <= request.headers.keys()
        for header in ("anthropic-version", "anthropic-beta", "user-agent", "x-app"):
            assert (
                request.headers[header]
                == {k.lower(): v for k, v in golden[0]["headers"].items()}[header]
            )
    assert sent[0].request.headers["x-api-key"] == model_clis.SANDBOX_KEY


def test_a_rate_limit_ends_the_run_with_an_error_result(claude_bin: Path, tmp_path: Path) -> None:
    """What the production backend classifies as quota_limited.

    Exit 1, and a result with the API status.
    """
    worktree = make_worktree(tmp_path)
    with AnthropicSandbox([Fail(429, retry_after=30, sticky=True)]) as sandbox:
        invocation = model_clis.prepare_claude(
            claude_bin, sandbox.base_url, "hi", worktree, tmp_path / "home", max_retries=0
        )
        outcome = model_clis.run(invocation)
    assert outcome.returncode == 1 and len(sandbox.requests) == 1
    message = outcome.of_type("assistant")[-1]
    assert (message["error"], message["api_error_status"], message["api_error_type"]) == (
        "rate_limit",
        429,
        "rate_limit_error",
    )
    result = outcome.of_type("result")[-1]
    assert (result["is_error"], result["terminal_reason"], result["api_error_status"]) == (
        True,
        "api_error",
        429,
    )
    assert result["result"] == f"API Error: Request rejected (429) · {Fail().message}"


def test_a_transient_overload_is_retried_and_reported(claude_bin: Path, tmp_path: Path) -> None:
    worktree = make_worktree(tmp_path)
    with AnthropicSandbox([Fail(529, "Overloaded", retry_after=0), Turn("Recovered.")]) as sandbox:
        invocation = model_clis.prepare_claude(
            claude_bin, sandbox.base_url, "hi", worktree, tmp_path / "home", max_retries=1
        )
        outcome = model_clis.run(invocation)
    assert outcome.returncode == 0 and [exchange.status for exchange in sandbox.requests] == [
        529,
        200,
    ]
    retry = next(event for event in outcome.of_type("system") if event["subtype"] == "api_retry")
    assert (retry["attempt"], retry["error_status"]) == (1, 529)
    assert outcome.of_type("result")[-1]["result"] == "Recovered."

"""The real Codex CLI against the scripted Responses server.

It runs exec_command; we read its JSONL.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from orchestrator.sandbox.models import tools
from orchestrator.sandbox.models.openai_server import OpenAISandbox
from orchestrator.sandbox.models.script import Fail, Turn, failed
from tests.sandbox.models.conftest import make_worktree, recorded
from tests.support import model_clis

CHECK = "grep -qx hello greeting.txt"
RESULT_MD = "## Summary\nWrote greeting.txt.\n"


@dataclass(frozen=True)
class Session:
    outcome: model_clis.Outcome
    sandbox: OpenAISandbox
    worktree: Path


SCRIPT = [
    Turn("Writing the greeting.", (tools.exec_write("greeting.txt", "helo\n"),)),
    Turn("", (tools.exec_command(CHECK),)),
    Turn(
        "The check failed; rewriting.", (tools.exec_write("greeting.txt", "hello\n"),), when=failed
    ),
    Turn("", (tools.exec_command(CHECK),)),
    Turn("", (tools.exec_write(".agent_result.md", RESULT_MD),)),
    Turn("Done: greeting.txt says hello."),
]


@pytest.fixture(scope="module")
def session(codex_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    """One scripted task run by the real CLI, shared by the tests that read it."""
    tmp = tmp_path_factory.mktemp("codex")
    worktree = make_worktree(tmp)
    with OpenAISandbox(SCRIPT) as sandbox:
        invocation = model_clis.prepare_codex(
            codex_bin, sandbox.base_url, "Write greeting.txt.", worktree, tmp / "home"
        )
        yield Session(model_clis.run(invocation), sandbox, worktree)


def test_the_cli_runs_the_scripted_task_in_its_sandbox(session: Session) -> None:
    assert session.outcome.returncode == 0, session.outcome.stderr
    assert (session.worktree / "greeting.txt").read_text() == "hello\n"
    assert (session.worktree / ".agent_result.md").read_text() == RESULT_MD
    assert not session.sandbox.problems


def test_the_server_records_each_turns_tool_results(session: Session) -> None:
    results = session.sandbox.tool_results()
    assert [result.is_error for result in results] == [False, True, False, False, False]
    assert "Process exited with code 1" in results[1].output


def test_jsonl_has_thread_command_executions_and_a_completed_turn_with_usage(
    session: Session,
) -> None:
    outcome = session.outcome
    assert (
        outcome.events[0]["type"] == "thread.started"
        and outcome.events[-1]["type"] == "turn.completed"
    )
    commands = [
        event["item"]
        for event in outcome.of_type("item.completed")
        if event["item"]["type"] == "command_execution"
    ]
    assert [command["exit_code"] for command in commands] == [0, 1, 0, 0, 0]
    assert [command["status"] for command in commands] == [
        "completed",
        "failed",
        "completed",
        "completed",
        "completed",
    ]
    messages = [
        event["item"]["text"]
        for event in outcome.of_type("item.completed")
        if event["item"]["type"] == "agent_message"
    ]
    assert messages[-1] == "Done: greeting.txt says hello."
    usage = outcome.events[-1]["usage"]
    assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0


def test_events_keep_the_recorded_shape(session: Session) -> None:
    """Event types, and the fields of items and usage, as recorded from Codex 0.169.0."""
    golden = recorded("codex-0.169.0.exec-json.jsonl")
    assert {event["type"] for event in golden} <= {
        event["type"] for event in session.outcome.events
    }
    for kind in ("command_execution", "agent_message"):
        want = {
            frozenset(event["item"])
            for event in golden
            if event.get("item", {}).get("type") == kind
        }
        have = {
            frozenset(event["item"])
            for event in session.outcome.events
            if isinstance(event.get("item"), dict) and event["item"]["type"] == kind
        }
        assert want <= have, kind
    assert golden[-1]["usage"].keys() == session.outcome.events[-1]["usage"].keys()


def test_requests_keep_the_recorded_wire_shape(session: Session) -> None:
    """Endpoint, body keys, tools offered and headers match what 0.169.0 sent when recorded."""
    golden = recorded("codex-0.169.0.requests-to-fake-responses-api.redacted.jsonl")
    for exchange in session.sandbox.requests:
        request = exchange.request
        assert request.path == golden[0]["path"] == "/v1/responses"
        body = request.body
        assert (
            isinstance(body, dict)
            and body.keys() == golden[0]["body"].keys()
            and body["stream"] is True
        )
        assert [tool.get("name") for tool in body["tools"]] == [
            tool.get("name") for tool in golden[0]["body"]["tools"]
        ]
        assert {name.lower() for name in golden[0]["headers"]} <= request.headers.keys()
        assert request.headers["user-agent"].startswith("codex_exec/0.169.0 ")
        assert request.headers["authorization"] == f"Bearer {model_clis.SANDBOX_KEY}"
    first = session.sandbox.requests[0].request.body
    assert isinstance(first, dict) and [item["type"] for item in first["input"]] == [
        item["type"] for item in golden[0]["body"]["input"]
    ]


@pytest.mark.parametrize(
    "fail, message",
    [
        (
            Fail(429, "You exceeded your current quota.", kind="insufficient_quota"),
            "Quota exceeded. Check your plan and billing details.",
        ),
        (
            Fail(429, "Rate limit reached.", retry_after=30),
            "exceeded retry limit, last status: 429 Too Many Requests",
        ),
    ],
)
def test_a_quota_or_rate_limit_error_fails_the_turn(
    codex_bin: Path, tmp_path: Path, fail: Fail, message: str
) -> None:
    """What the production backend classifies as quota_limited.

    Exit 1, an error event and turn.failed.
    """
    worktree = make_worktree(tmp_path)
    with OpenAISandbox(
        [Fail(fail.status, fail.message, fail.retry_after, fail.kind, sticky=True)]
    ) as sandbox:
        invocation = model_clis.prepare_codex(
            codex_bin, sandbox.base_url, "hi", worktree, tmp_path / "home", max_retries=0
        )
        outcome = model_clis.run(invocation)
    assert outcome.returncode == 1 and len(sandbox.requests) == 1
    assert outcome.of_type("error")[-1]["message"] == message
    assert outcome.of_type("turn.failed") == [
        {"type": "turn.failed", "error": {"message": message}}
    ]

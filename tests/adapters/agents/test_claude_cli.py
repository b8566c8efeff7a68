"""The claude backend: the real Claude Code CLI against the scripted Messages server.

What the CLI prints is read by our parser.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from orchestrator.adapters.agents.base import MASK
from orchestrator.adapters.agents.claude_cli import ClaudeCliAgent
from orchestrator.adapters.agents.environment import policy_of
from orchestrator.config.model import AgentType, Secret
from orchestrator.core.agent import (
    RESULT_FILE,
    AgentMessage,
    AgentRequest,
    Notice,
    OutcomeKind,
    SessionStarted,
    ToolCalled,
    ToolReturned,
    UsageReported,
)
from orchestrator.sandbox.models import tools
from orchestrator.sandbox.models.anthropic_server import AnthropicSandbox
from orchestrator.sandbox.models.script import Fail, Turn, failed
from tests.adapters.agents.conftest import (
    Events,
    Run,
    backend,
    make_host_env,
    make_request,
    make_walls,
)
from tests.sandbox.models.conftest import make_worktree
from tests.support.clis import cli

OUTSIDE = Path(tempfile.gettempdir()) / f"agentos-claude-outside-{os.getpid()}.txt"
KEY = Secret("SANDBOX_ANTHROPIC_KEY", "sandbox-key-0123456789")
CHECK = "python3 -c 'import greet; assert greet.hello() == \"hello\", greet.hello()'"
RESULT = "STATUS: complete\nSUMMARY: Added greet.hello().\n"
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
    Turn("", (tools.bash(f"{CHECK} && env | sort", "Check again"),)),
    Turn("", (tools.write(str(OUTSIDE), "escaped"),)),
    Turn("", (tools.write(RESULT_FILE, RESULT),)),
    Turn("Done: greet.hello() returns 'hello'."),
]


def claude(
    sandbox: AnthropicSandbox, host_env: dict[str, str], **settings: object
) -> ClaudeCliAgent:
    config = backend(
        AgentType.CLAUDE,
        binary=str(cli("claude")),
        base_url=sandbox.base_url,
        api_key=KEY,
        model="claude-sonnet-4-5",
        **settings,
    )
    host = host_env | {"GITHUB_TOKEN": "ghp_" + "x" * 36}
    return ClaudeCliAgent(
        config,
        host,
        policy_of([KEY, Secret("GITHUB_TOKEN", host["GITHUB_TOKEN"])]),
        walls=make_walls(Path(host_env["HOME"]).parent),  # confined, as agents run by default
        clock=lambda: datetime(2026, 11, 22, 10, tzinfo=UTC),
    )


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """The scripted task, run once by the real CLI for the tests that read it."""
    folder = tmp_path_factory.mktemp("claude")
    worktree, events = make_worktree(folder), Events()
    OUTSIDE.unlink(missing_ok=True)
    with AnthropicSandbox(SCRIPT) as sandbox:
        outcome = claude(sandbox, make_host_env(folder)).run(
            make_request(folder, worktree, "Add greet.hello()."), events
        )
        yield Run(outcome, events, sandbox, worktree)
    OUTSIDE.unlink(missing_ok=True)


def test_claude_edits_a_file_and_runs_a_command_in_the_worktree(run: Run) -> None:
    outcome, events = run.outcome, run.events
    assert outcome.kind is OutcomeKind.FINISHED and outcome.exit_code == 0, outcome
    assert (run.worktree / "greet.py").read_text() == "def hello():\n    return 'hello'\n"
    assert (run.worktree / RESULT_FILE).read_text() == RESULT and not run.sandbox.problems
    assert [e.name for e in events.of(ToolCalled)] == [
        "Write",
        "Bash",
        "Edit",
        "Bash",
        "Write",
        "Write",
    ]
    assert [e.is_error for e in events.of(ToolReturned)] == [False, True, False, False, True, False]
    assert (
        outcome.final_message
        == "Done: greet.hello() returns 'hello'."
        == events.of(AgentMessage)[-1].text
    )
    assert all(
        exchange.request.headers["x-api-key"] == KEY.value for exchange in run.sandbox.requests
    )


def test_acceptedits_refuses_a_write_outside_the_worktree(run: Run) -> None:
    assert not OUTSIDE.exists()
    assert any(
        "permission denied: Write" in e.text and str(OUTSIDE) in e.text
        for e in run.events.of(Notice)
    )


def test_the_run_records_session_tokens_and_cost_from_the_stream(run: Run) -> None:
    outcome, events = run.outcome, run.events
    session = events.of(SessionStarted)
    assert len(session) == 1 and session[0].model == "claude-sonnet-4-5"
    assert (
        outcome.session_id
        == session[0].session_id
        == run.sandbox.requests[0].request.headers["x-claude-code-session-id"]
    )
    usage = [e.usage for e in events.of(UsageReported)]
    assert len(usage) == 1 and outcome.usage == usage[0]
    assert outcome.usage.input_tokens > 0 and outcome.usage.output_tokens > 0
    assert outcome.usage.cost_usd is not None and outcome.usage.cost_usd > 0


def test_the_key_never_shows_in_events_and_no_orchestrator_token_reaches_the_tools(
    run: Run,
) -> None:
    environment = run.events.of(ToolReturned)[3].output
    assert f"ANTHROPIC_API_KEY={MASK}" in environment and "GITHUB_TOKEN" not in environment
    assert "DISABLE_AUTOUPDATER=1" in environment
    assert all(KEY.value not in repr(event) for event in run.events)


def test_a_rate_limit_is_quota_exhausted_with_the_reset_from_the_message(
    request_for: Callable[..., AgentRequest], host_env: dict[str, str], events: Events
) -> None:
    limited = Fail(429, "Rate limited; resets at 2026-11-22T13:00:00Z", sticky=True)
    with AnthropicSandbox([limited]) as sandbox:
        outcome = claude(sandbox, host_env, env={"CLAUDE_CODE_MAX_RETRIES": "0"}).run(
            request_for(), events
        )
    assert (outcome.kind, outcome.exit_code) == (OutcomeKind.QUOTA_EXHAUSTED, 1)
    assert outcome.reset_at == datetime(2026, 11, 22, 13, tzinfo=UTC)
    assert "429" in outcome.error and len(sandbox.requests) == 1


def test_rejected_credentials_are_auth_failed(
    request_for: Callable[..., AgentRequest], host_env: dict[str, str], events: Events
) -> None:
    with AnthropicSandbox([Fail(401, "invalid x-api-key", sticky=True)]) as sandbox:
        outcome = claude(sandbox, host_env, env={"CLAUDE_CODE_MAX_RETRIES": "0"}).run(
            request_for(), events
        )
    assert outcome.kind is OutcomeKind.AUTH_FAILED, outcome


def test_a_missing_binary_is_unavailable(
    request_for: Callable[..., AgentRequest], host_env: dict[str, str]
) -> None:
    config = backend(AgentType.CLAUDE, binary="claude-that-is-not-installed")
    outcome = ClaudeCliAgent(config, host_env, policy_of([])).run(request_for(), Events())
    assert outcome.kind is OutcomeKind.UNAVAILABLE and "not on the agent's PATH" in outcome.error


def test_what_the_agent_said_is_not_mistaken_for_why_it_failed(
    tmp_path: Path,
    request_for: Callable[..., AgentRequest],
    host_env: dict[str, str],
    events: Events,
) -> None:
    """A crash right after the agent talked about rate limits is a crash.

    It is not a quota to rest for an hour.
    """
    fake = tmp_path / "claude"
    line = (
        '{"type":"assistant","message":{"content":[{"type":"text",'
        '"text":"I raised the rate limit to 429/s."}]}}'
    )
    fake.write_text(
        f"#!/bin/sh\ncat > /dev/null\necho '{line}'\necho 'Segmentation fault' >&2\nexit 139\n"
    )
    fake.chmod(0o755)
    outcome = ClaudeCliAgent(
        backend(AgentType.CLAUDE, binary=str(fake)), host_env, policy_of([])
    ).run(request_for(), events)
    assert (outcome.kind, outcome.exit_code, outcome.error) == (
        OutcomeKind.CRASHED,
        139,
        "Segmentation fault",
    )
    assert events.of(AgentMessage)[0].text == "I raised the rate limit to 429/s."


def test_confined_claude_gets_its_login_folder_bound_and_its_dot_json_copied(
    tmp_path: Path,
) -> None:
    """A file bind would refuse the rename Claude Code writes `~/.claude.json` with: a copy."""
    home, private = tmp_path / "home", tmp_path / "runtime" / "homes" / "t-1"
    plain = ClaudeCliAgent(backend(AgentType.CLAUDE), {"HOME": str(home)}, policy_of([]))
    assert plain.home_binds() == ((".claude", home / ".claude"),)
    assert plain.home_copies() == ((".claude.json", home / ".claude.json"),)
    assert "CLAUDE_CONFIG_DIR" not in plain.rehome({"PATH": "/bin"}, private, "claude")
    own = ClaudeCliAgent(
        backend(AgentType.CLAUDE),
        {"HOME": str(home), "CLAUDE_CONFIG_DIR": str(tmp_path / "conf")},
        policy_of([]),
    )
    assert own.home_binds() == ((".claude", tmp_path / "conf"),) and own.home_copies() == ()
    moved = own.rehome({"CLAUDE_CONFIG_DIR": str(tmp_path / "conf")}, private, "claude")
    assert moved["CLAUDE_CONFIG_DIR"] == str(private / ".claude")

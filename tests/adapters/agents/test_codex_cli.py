"""The codex backend: the real Codex CLI against the scripted Responses server.

What the CLI prints is read by our parser.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from orchestrator.adapters.agents.codex_cli import PROVIDER, CodexCliAgent
from orchestrator.adapters.agents.environment import policy_of
from orchestrator.config.model import AgentType, Secret
from orchestrator.core.agent import (
    RESULT_FILE,
    AgentMessage,
    AgentRequest,
    OutcomeKind,
    SessionStarted,
    ToolCalled,
    ToolReturned,
    UsageReported,
)
from orchestrator.sandbox.models import tools
from orchestrator.sandbox.models.openai_server import OpenAISandbox
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

KEY = Secret("SANDBOX_OPENAI_KEY", "sandbox-openai-key-0123456789")
NOW = datetime(2026, 11, 22, 10, tzinfo=UTC)
CHECK = "grep -qx hello greeting.txt"
RESULT = "STATUS: complete\nSUMMARY: Wrote greeting.txt.\n"
SCRIPT = [
    Turn("Writing the greeting.", (tools.exec_write("greeting.txt", "helo\n"),)),
    Turn("", (tools.exec_command(CHECK),)),
    Turn(
        "The check failed; rewriting.", (tools.exec_write("greeting.txt", "hello\n"),), when=failed
    ),
    Turn("", (tools.exec_command(f"{CHECK} && env | sort"),)),
    Turn("", (tools.exec_write(RESULT_FILE, RESULT),)),
    Turn("Done: greeting.txt says hello."),
]
# Retries off for the error tests: the provider is defined by our -c overrides, this adds to it.
NO_RETRIES = f"[model_providers.{PROVIDER}]\nrequest_max_retries = 0\nstream_max_retries = 0\n"


def no_retries(host_env: dict[str, str]) -> None:
    config = Path(host_env["HOME"]) / ".codex" / "config.toml"
    config.write_text(config.read_text() + NO_RETRIES)


def codex(sandbox: OpenAISandbox, host_env: dict[str, str]) -> CodexCliAgent:
    config = backend(
        AgentType.CODEX,
        binary=str(cli("codex")),
        base_url=sandbox.base_url,
        api_key=KEY,
        model="fake-model",
    )
    host = host_env | {"GH_TOKEN": "gho_" + "y" * 36}
    # confined, as agents run by default: with a system bwrap Codex runs its own sandbox inside
    # ours, and needs the `codex-linux-sandbox` link the box's PATH gives it
    walls = make_walls(Path(host_env["HOME"]).parent)
    return CodexCliAgent(config, host, policy_of([KEY]), walls=walls, clock=lambda: NOW)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """The scripted task, run once by the real CLI for the tests that read it."""
    folder = tmp_path_factory.mktemp("codex")
    worktree, events = make_worktree(folder), Events()
    with OpenAISandbox(SCRIPT) as sandbox:
        outcome = codex(sandbox, make_host_env(folder)).run(
            make_request(folder, worktree, "Write greeting.txt."), events
        )
        yield Run(outcome, events, sandbox, worktree)


def test_codex_writes_a_file_and_runs_commands_in_the_worktree(run: Run) -> None:
    outcome, events = run.outcome, run.events
    assert (outcome.kind, outcome.exit_code) == (OutcomeKind.FINISHED, 0), outcome
    assert (run.worktree / "greeting.txt").read_text() == "hello\n"
    assert (run.worktree / RESULT_FILE).read_text() == RESULT and not run.sandbox.problems
    calls = events.of(ToolCalled)
    assert [e.name for e in calls] == ["command"] * 5 and "greeting.txt" in calls[0].arguments
    assert [e.is_error for e in events.of(ToolReturned)] == [False, True, False, False, False]
    assert [e.call_id for e in calls] == [e.call_id for e in events.of(ToolReturned)]
    assert (
        outcome.final_message
        == "Done: greeting.txt says hello."
        == events.of(AgentMessage)[-1].text
    )


def test_the_run_records_the_thread_and_the_tokens_of_each_turn(run: Run) -> None:
    outcome, events = run.outcome, run.events
    assert outcome.session_id == events.of(SessionStarted)[0].session_id
    assert run.sandbox.requests[0].request.headers["authorization"] == f"Bearer {KEY.value}"
    usage = [e.usage for e in events.of(UsageReported)]
    assert usage and outcome.usage.input_tokens == sum(u.input_tokens for u in usage) > 0
    # Codex reports no cost
    assert outcome.usage.output_tokens > 0 and outcome.usage.cost_usd is None


def test_the_key_is_kept_out_of_the_commands_codex_runs(run: Run) -> None:
    environment = run.events.of(ToolReturned)[3].output
    assert (
        "HOME=" in environment
        and "CODEX_API_KEY" not in environment
        and "GH_TOKEN" not in environment
    )
    assert KEY.value not in environment


def test_a_usage_limit_is_quota_exhausted_with_its_reset(
    request_for: Callable[..., AgentRequest], host_env: dict[str, str], events: Events
) -> None:
    no_retries(host_env)
    limit = Fail(
        429,
        "You've hit your usage limit. Try again in 3 hours.",
        kind="usage_limit_reached",
        sticky=True,
    )
    with OpenAISandbox([limit]) as sandbox:
        outcome = codex(sandbox, host_env).run(request_for(), events)
    assert (outcome.kind, outcome.exit_code) == (OutcomeKind.QUOTA_EXHAUSTED, 1), outcome
    assert len(sandbox.requests) == 1 and "usage limit" in outcome.error
    assert outcome.reset_at is None  # Codex prints "Try again later." when the API names no reset


def test_a_rate_limit_is_quota_exhausted(
    request_for: Callable[..., AgentRequest], host_env: dict[str, str], events: Events
) -> None:
    no_retries(host_env)
    with OpenAISandbox([Fail(429, "Rate limit reached.", sticky=True)]) as sandbox:
        outcome = codex(sandbox, host_env).run(request_for(), events)
    assert outcome.kind is OutcomeKind.QUOTA_EXHAUSTED and "429" in outcome.error, outcome
    assert len(sandbox.requests) == 1


def test_a_prompt_past_the_kernels_argument_limit_is_prompt_too_large(
    request_for: Callable[..., AgentRequest], host_env: dict[str, str]
) -> None:
    with OpenAISandbox([]) as sandbox:
        outcome = codex(sandbox, host_env).run(request_for("x" * 200_000), Events())
    assert outcome.kind is OutcomeKind.PROMPT_TOO_LARGE and not sandbox.requests


def test_confined_codex_gets_its_home_bound_and_its_sandbox_helper_on_path(tmp_path: Path) -> None:
    private = tmp_path / "runtime" / "homes" / "t-1"
    private.mkdir(parents=True)
    host = {"HOME": str(tmp_path / "home"), "CODEX_HOME": str(tmp_path / "codex-home")}
    agent = CodexCliAgent(backend(AgentType.CODEX), host, policy_of([]))
    assert agent.home_binds() == ((".codex", tmp_path / "codex-home"),)
    moved = agent.rehome(
        {"PATH": "/usr/bin", "CODEX_HOME": host["CODEX_HOME"]}, private, str(cli("codex"))
    )
    assert moved["CODEX_HOME"] == str(private / ".codex")
    helpers = Path(moved["PATH"].split(":")[0])
    assert helpers.parent == private and moved["PATH"].endswith(":/usr/bin")
    assert (helpers / "codex-linux-sandbox").resolve().name == "codex"
    default = CodexCliAgent(backend(AgentType.CODEX), {"HOME": host["HOME"]}, policy_of([]))
    assert default.home_binds() == ((".codex", tmp_path / "home" / ".codex"),)

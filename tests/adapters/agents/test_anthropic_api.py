"""The anthropic backend: our tool loop on the real SDK against the scripted Messages server.

The SDK runs validating strictly.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anthropic
import pytest

from orchestrator.adapters.agents import confine
from orchestrator.adapters.agents.anthropic_api import DEFAULT_MODEL, AnthropicApiAgent
from orchestrator.adapters.agents.environment import policy_of
from orchestrator.config.model import AgentBackend, AgentType, Isolation, Secret
from orchestrator.core.agent import (
    RESULT_FILE,
    AgentEvent,
    AgentRequest,
    OutcomeKind,
    ProcessStarted,
    SessionStarted,
    ToolCalled,
    ToolReturned,
    UsageReported,
)
from orchestrator.sandbox.models.anthropic_server import AnthropicSandbox
from orchestrator.sandbox.models.script import Fail, ToolCall, Turn, failed
from orchestrator.sandbox.models.server import estimate_tokens, output_tokens
from tests.adapters.agents.conftest import Events, Run, backend, make_host_env, make_request
from tests.adapters.agents.test_process import alive, wait_dead
from tests.sandbox.models.conftest import make_worktree

KEY = Secret("SANDBOX_ANTHROPIC_KEY", "sandbox-key-0123456789")
NOW = datetime(2026, 11, 22, 10, tzinfo=UTC)
CHECK = "python3 -c 'import greet; assert greet.hello() == \"hello\", greet.hello()'"
RESULT = "STATUS: complete\nSUMMARY: Added greet.hello().\n"
SCRIPT = [
    Turn(
        "Adding the module.",
        (
            ToolCall(
                "write_file", {"path": "greet.py", "content": "def hello():\n    return 'helo'\n"}
            ),
        ),
    ),
    Turn("Checking.", (ToolCall("bash", {"command": CHECK}),)),
    Turn(
        "Fixing the typo.",
        (
            ToolCall(
                "edit_file", {"path": "greet.py", "old_string": "'helo'", "new_string": "'hello'"}
            ),
        ),
        when=failed,
    ),
    Turn("", (ToolCall("bash", {"command": f"{CHECK} && env | sort"}),)),
    Turn("", (ToolCall("write_file", {"path": "../escaped.txt", "content": "out"}),)),
    Turn("", (ToolCall("write_file", {"path": RESULT_FILE, "content": RESULT}),)),
    Turn("Done: greet.hello() returns 'hello'."),
]


def api(
    sandbox: AnthropicSandbox,
    host_env: dict[str, str],
    walls: confine.Walls | None = None,
    **settings: object,
) -> AnthropicApiAgent:
    config = backend(AgentType.ANTHROPIC, "api", api_key=KEY, base_url=sandbox.base_url, **settings)

    def strict(backend: AgentBackend) -> anthropic.Anthropic:
        return anthropic.Anthropic(
            api_key=KEY.reveal(),
            base_url=backend.base_url,
            max_retries=0,
            _strict_response_validation=True,
        )

    return AnthropicApiAgent(
        config,
        host_env | {"GITHUB_TOKEN": "ghp_" + "z" * 36},
        policy_of([KEY]),
        walls=walls,
        client_factory=strict,
        grace=1.0,
        clock=lambda: NOW,
    )


def host_pid(events: Events) -> int:
    """Return the tool host's pid, which the run reports as its process."""
    (started,) = events.of(ProcessStarted)
    return int(started.pid)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """The scripted task, run once by our loop for the tests that read it."""
    folder = tmp_path_factory.mktemp("api")
    worktree, events = make_worktree(folder), Events()
    with AnthropicSandbox(SCRIPT) as sandbox:
        outcome = api(sandbox, make_host_env(folder)).run(
            make_request(folder, worktree, "Add greet.hello()."), events
        )
        yield Run(outcome, events, sandbox, worktree)


def test_the_loop_edits_a_file_runs_commands_and_refuses_an_escape(run: Run) -> None:
    outcome, events, sandbox = run.outcome, run.events, run.sandbox
    assert (outcome.kind, outcome.exit_code, outcome.final_message) == (
        OutcomeKind.FINISHED,
        0,
        "Done: greet.hello() returns 'hello'.",
    )
    assert (run.worktree / "greet.py").read_text() == "def hello():\n    return 'hello'\n"
    assert (run.worktree / RESULT_FILE).read_text() == RESULT and not (
        run.worktree.parent / "escaped.txt"
    ).exists()
    returned = events.of(ToolReturned)
    assert [e.is_error for e in returned] == [False, True, False, False, True, False]
    assert [r.is_error for r in sandbox.tool_results()] == [e.is_error for e in returned]
    assert "outside the worktree" in returned[4].output
    assert [e.name for e in events.of(ToolCalled)] == [
        "write_file",
        "bash",
        "edit_file",
        "bash",
        "write_file",
        "write_file",
    ]
    headers = sandbox.requests[0].request.headers  # SDK 2.12 sends the key as a bearer token
    assert not sandbox.problems and headers["authorization"] == f"Bearer {KEY.value}"


def test_the_tokens_recorded_are_those_the_api_reported(run: Run) -> None:
    outcome, events = run.outcome, run.events
    sent = [exchange.request.body for exchange in run.sandbox.requests]
    assert len(events.of(UsageReported)) == len(sent) == len(SCRIPT)
    assert outcome.usage.input_tokens == sum(estimate_tokens(body["messages"]) for body in sent)  # type: ignore[index]
    assert outcome.usage.output_tokens == sum(output_tokens(turn) for turn in SCRIPT)
    assert outcome.usage.cost_usd is None
    assert events.of(SessionStarted)[0].model == DEFAULT_MODEL == sent[0]["model"]  # type: ignore[index]
    assert outcome.session_id == events.of(SessionStarted)[0].session_id


def test_the_commands_the_model_runs_get_no_credential(run: Run) -> None:
    environment = run.events.of(ToolReturned)[3].output
    assert (
        "HOME=" in environment
        and "GITHUB_TOKEN" not in environment
        and KEY.value not in environment
    )
    assert "ANTHROPIC" not in environment


def test_a_rate_limit_is_quota_exhausted_until_its_retry_after(
    request_for: Callable[..., AgentRequest], host_env: dict[str, str], events: Events
) -> None:
    with AnthropicSandbox([Fail(429, retry_after=120)]) as sandbox:
        outcome = api(sandbox, host_env).run(request_for(), events)
    assert (outcome.kind, outcome.reset_at) == (
        OutcomeKind.QUOTA_EXHAUSTED,
        NOW + timedelta(seconds=120),
    )
    assert outcome.error.startswith("429 ")


@pytest.mark.parametrize(
    "fail, kind",
    [
        (Fail(401, "invalid x-api-key"), OutcomeKind.AUTH_FAILED),
        (Fail(529, "Overloaded"), OutcomeKind.MODEL_ERROR),
        (
            Fail(400, "prompt is too long: 212345 tokens > 200000 maximum"),
            OutcomeKind.PROMPT_TOO_LARGE,
        ),
        (Fail(400, "messages: roles must alternate"), OutcomeKind.CRASHED),
    ],
)
def test_api_errors_map_to_outcomes(
    request_for: Callable[..., AgentRequest],
    host_env: dict[str, str],
    fail: Fail,
    kind: OutcomeKind,
) -> None:
    with AnthropicSandbox([fail]) as sandbox:
        assert api(sandbox, host_env).run(request_for(), Events()).kind is kind


def test_the_loop_stops_at_max_turns(
    request_for: Callable[..., AgentRequest], host_env: dict[str, str]
) -> None:
    events = Events()
    with AnthropicSandbox(SCRIPT) as sandbox:
        outcome = api(sandbox, host_env, max_turns=2).run(request_for(), events)
    assert outcome.kind is OutcomeKind.TURN_LIMIT and len(sandbox.requests) == 2
    assert wait_dead(host_pid(events))


def test_a_command_running_past_the_timeout_ends_the_run(
    request_for: Callable[..., AgentRequest], host_env: dict[str, str]
) -> None:
    script = [Turn("", (ToolCall("bash", {"command": "sleep 30"}),)), Turn("never reached")]
    events = Events()
    with AnthropicSandbox(script) as sandbox:
        outcome = api(sandbox, host_env).run(request_for(timeout_s=1.5), events)
    assert (
        outcome.kind is OutcomeKind.TIMED_OUT
        and outcome.duration_s < 10
        and len(sandbox.requests) == 1
    )
    assert wait_dead(host_pid(events))


def test_a_tool_host_that_dies_ends_the_run_as_a_crash_in_one_line(
    request_for: Callable[..., AgentRequest], host_env: dict[str, str]
) -> None:
    script = [Turn("", (ToolCall("bash", {"command": "kill -KILL $PPID; sleep 30"}),)), Turn("no")]
    events = Events()
    with AnthropicSandbox(script) as sandbox:
        outcome = api(sandbox, host_env).run(request_for(), events)
    assert (outcome.kind, outcome.error) == (
        OutcomeKind.CRASHED,
        "the tool host was killed by signal 9",
    )
    assert outcome.duration_s < 10 and len(sandbox.requests) == 1 and not events.of(ToolReturned)


def test_the_tool_host_ends_when_the_run_ends_by_an_error(
    request_for: Callable[..., AgentRequest], host_env: dict[str, str]
) -> None:
    script = [Turn("", (ToolCall("bash", {"command": "true"}),)), Fail(529, "Overloaded")]
    events = Events()
    with AnthropicSandbox(script) as sandbox:
        outcome = api(sandbox, host_env).run(request_for(), events)
    assert outcome.kind is OutcomeKind.MODEL_ERROR and wait_dead(host_pid(events))

    def explode(event: AgentEvent) -> None:
        events.append(event)
        if isinstance(event, ToolReturned):
            raise RuntimeError("channel.jsonl is full")

    events = Events()
    with AnthropicSandbox(script) as sandbox, pytest.raises(RuntimeError, match="channel"):
        api(sandbox, host_env).run(request_for(), explode)
    assert wait_dead(host_pid(events))


def test_the_tools_run_in_the_host_not_in_the_worker(
    request_for: Callable[..., AgentRequest], host_env: dict[str, str]
) -> None:
    script = [Turn("", (ToolCall("bash", {"command": "echo $PPID"}),)), Turn("done")]
    events = Events()
    with AnthropicSandbox(script) as sandbox:
        api(sandbox, host_env).run(request_for(), events)
    parent = int(events.of(ToolReturned)[0].output.splitlines()[1])
    assert parent == host_pid(events) != os.getpid()


@pytest.mark.skipif(confine.probe() is not None, reason="bubblewrap cannot confine here")
def test_confined_tools_reach_neither_the_workers_files_nor_its_environment(
    tmp_path: Path, worktree: Path, host_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker can read the env file and has a marker in its environment; bash sees neither."""
    private = tmp_path / "agentos"  # stands for the config's folder, which the walls hide
    private.mkdir()
    env_file = private / ".env"
    env_file.write_text(f"SANDBOX_ANTHROPIC_KEY={KEY.value}\n")
    marker = "worker-marker-5f0c2e91"
    monkeypatch.setenv("AGENTOS_TEST_MARKER", marker)
    walls = confine.Walls(
        isolation=Isolation.BWRAP,
        hidden_dirs=(private.resolve(),),
        hidden_files=(),
        homes_dir=tmp_path / "homes",
    )
    commands = (f"cat {env_file}", f"cat /proc/{os.getpid()}/environ", "env", "pwd")
    script = [Turn("", tuple(ToolCall("bash", {"command": c}) for c in commands)), Turn("done")]
    request = make_request(tmp_path, worktree, task_id="t-9")
    request = replace(request, canary="ghp_canary0123456789")
    events = Events()
    with AnthropicSandbox(script) as sandbox:
        outcome = api(sandbox, dict(os.environ) | host_env, walls).run(request, events)
    assert outcome.kind is OutcomeKind.FINISHED and KEY.value in env_file.read_text()
    secret, environ, env, pwd = events.of(ToolReturned)
    assert secret.is_error and "No such file" in secret.output and KEY.value not in secret.output
    assert environ.is_error and marker not in environ.output
    assert marker not in env.output and "GH_TOKEN=[REDACTED:canary]" in env.output  # planted
    assert outcome.canary_seen
    assert pwd.output.splitlines() == ["exit code 0", str(worktree.resolve())]
    assert not alive(host_pid(events)) and not (tmp_path / "homes" / "t-9").exists()


def test_an_unset_key_fails_without_a_request(
    request_for: Callable[..., AgentRequest], host_env: dict[str, str]
) -> None:
    config = backend(AgentType.ANTHROPIC, "api", api_key=Secret("UNSET_KEY"))
    outcome = AnthropicApiAgent(config, host_env, policy_of([])).run(request_for(), Events())
    assert outcome.kind is OutcomeKind.AUTH_FAILED and "$UNSET_KEY" in outcome.error


def test_building_the_backends_does_not_import_the_sdk() -> None:
    code = (
        "import sys\nfrom orchestrator.adapters.agents import registry\n"
        "print('anthropic' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert done.stdout.strip() == "False"

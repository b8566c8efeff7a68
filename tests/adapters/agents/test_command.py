"""The command backend with real scripts.

Placeholders, the prompt file, its lines as events, how it ends.
"""

from __future__ import annotations

import os
import stat
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from orchestrator.adapters.agents.command import CommandAgent
from orchestrator.adapters.agents.registry import build_agents
from orchestrator.config.load import load_config
from orchestrator.config.model import AgentType
from orchestrator.core.agent import (
    RESULT_FILE,
    AgentRequest,
    OutcomeKind,
    OutputLine,
    ProcessStarted,
)
from tests.adapters.agents.conftest import BWRAP, ISOLATION, NO_SECRETS, Events, backend
from tests.adapters.agents.test_process import wait_dead
from tests.helpers import minimal_config, write_config

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def script(folder: Path, body: str, name: str = "agent.sh") -> Path:
    path = folder / name
    path.write_text("#!/bin/sh\n" + textwrap.dedent(body), encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def agent_for(program: Path, *args: str, **settings: object) -> CommandAgent:
    config = backend(AgentType.COMMAND, "script", argv=(str(program), *args), **settings)
    return CommandAgent(
        config, {"PATH": os.environ["PATH"]}, NO_SECRETS, grace=0.5, clock=lambda: NOW
    )


def test_the_command_gets_its_placeholders_reads_the_prompt_and_writes_the_contract(
    tmp_path: Path, request_for: Callable[..., AgentRequest], events: Events
) -> None:
    program = script(
        tmp_path,
        """\
        echo "task $3 in $(pwd)"
        test "$2" = "$AGENTOS_WORKTREE" && test "$1" = "$AGENTOS_PROMPT_FILE" """
        """&& echo placeholders ok
        cat "$1" > seen-prompt.txt
        printf 'STATUS: complete\\nSUMMARY: done\\n' > .agent_result.md
        echo "warning: something" >&2
        echo "all done"
    """,
    )
    request = request_for("Fix the bug.", task_id="acme-app-7")
    outcome = agent_for(program, "{prompt_file}", "{worktree}", "{task_id}").run(request, events)
    worktree = Path(request.worktree)
    assert (outcome.kind, outcome.exit_code, outcome.final_message) == (
        OutcomeKind.FINISHED,
        0,
        "all done",
    )
    assert (worktree / "seen-prompt.txt").read_text() == "Fix the bug."
    assert (worktree / RESULT_FILE).read_text().startswith("STATUS: complete")
    # first the pid (the process group's id), for recovery should the worker die
    [started] = events[:1]
    assert isinstance(started, ProcessStarted) and started.pid > 0
    # each stream in its order; between two pipes, which is read first is the scheduler's call
    assert sorted(events[1:], key=lambda e: e.stream == "stderr") == [  # type: ignore[attr-defined]
        OutputLine("stdout", f"task acme-app-7 in {worktree}"),
        OutputLine("stdout", "placeholders ok"),
        OutputLine("stdout", "all done"),
        OutputLine("stderr", "warning: something"),
    ]


def test_a_crash_is_crashed_with_its_last_words(
    tmp_path: Path, request_for: Callable[..., AgentRequest], events: Events
) -> None:
    program = script(tmp_path, "echo working\necho 'KeyError: frobnicate' >&2\nexit 3\n")
    outcome = agent_for(program).run(request_for(), events)
    assert (outcome.kind, outcome.exit_code, outcome.error) == (
        OutcomeKind.CRASHED,
        3,
        "KeyError: frobnicate",
    )


def test_a_quota_message_is_quota_exhausted_with_the_reset_it_names(
    tmp_path: Path, request_for: Callable[..., AgentRequest], events: Events
) -> None:
    program = script(
        tmp_path, "echo 'Error: rate limit exceeded, resets at 2026-11-22T13:00:00Z' >&2\nexit 1\n"
    )
    outcome = agent_for(program).run(request_for(), events)
    assert outcome.kind is OutcomeKind.QUOTA_EXHAUSTED
    assert outcome.reset_at == datetime(2026, 11, 22, 13, tzinfo=UTC)


def test_a_hung_command_times_out_and_its_children_die_with_it(
    tmp_path: Path, request_for: Callable[..., AgentRequest], events: Events
) -> None:
    program = script(tmp_path, "sleep 300 &\necho $! > child.pid\nwait\n")
    request = request_for(timeout_s=1)
    outcome = agent_for(program).run(request, events)
    assert outcome.kind is OutcomeKind.TIMED_OUT and outcome.duration_s < 5
    assert wait_dead(int((Path(request.worktree) / "child.pid").read_text()))


def test_a_missing_program_is_unavailable(
    tmp_path: Path, request_for: Callable[..., AgentRequest]
) -> None:
    outcome = agent_for(tmp_path / "nope").run(request_for(), Events())
    assert outcome.kind is OutcomeKind.UNAVAILABLE and "nope" in outcome.error


def test_a_relative_program_is_found_beside_the_config(
    tmp_path: Path, request_for: Callable[..., AgentRequest], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "agents").mkdir()
    script(tmp_path / "agents", "echo found me\n", "mine.sh")
    data = minimal_config(
        agents={
            "backends": {"mine": {"type": "command", "argv": ["./agents/mine.sh"]}},
            "isolation": ISOLATION,
        }
    )
    config = load_config(write_config(tmp_path, data), {"GITHUB_TOKEN": "test-token-value"})
    monkeypatch.chdir("/")
    outcome = build_agents(config, {"PATH": os.environ["PATH"]})["mine"].run(
        request_for(), events := Events()
    )
    assert outcome.kind is OutcomeKind.FINISHED and events.of(OutputLine) == [
        OutputLine("stdout", "found me")
    ]


# built here so the secret guard does not flag this file
OPENAI_HOST_KEY = "sk-" + "openai-host-key-1234"
ALLOWED = {
    "PATH",
    "HOME",
    "LANG",
    "TMPDIR",
    "PWD",
    "SHLVL",
    "_",
    "AGENTOS_TASK_ID",
    "AGENTOS_PROMPT_FILE",
    "AGENTOS_WORKTREE",
}


def test_the_agent_environment_holds_no_orchestrator_secret(
    tmp_path: Path, request_for: Callable[..., AgentRequest]
) -> None:
    """A command agent dumps its whole environment: only the allowlist and its own settings.

    No token appears anywhere.
    """
    program = script(tmp_path, "env -0 > env.dump\n", "dump.sh")
    secrets = {
        "GITHUB_TOKEN": "ghp_" + "a" * 36,
        "TELEGRAM_BOT_TOKEN": "123456789:" + "B" * 35,
        "ANTHROPIC_KEY_FOR_API": "sk-ant-" + "c" * 30,
        "GH_TOKEN": "gho_" + "d" * 36,
    }
    host = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "TMPDIR": "/tmp",
        "AWS_SECRET_ACCESS_KEY": "aws-secret-value",
        "OPENAI_API_KEY": OPENAI_HOST_KEY,
        "BUILD_FLAVOUR": "fast",
        "SMUGGLED": f"token={secrets['GITHUB_TOKEN']}",
        **secrets,
    }
    data = minimal_config(
        telegram={"token": "$TELEGRAM_BOT_TOKEN", "allowed_chat_ids": [1]},
        agents={
            "backends": {
                "dump": {
                    "type": "command",
                    "argv": [str(program)],
                    "pass_env": ["BUILD_FLAVOUR", "SMUGGLED"],
                    "env": {"AGENT_MODE": "ci"},
                },
                "api": {"type": "anthropic", "api_key": "$ANTHROPIC_KEY_FOR_API"},
            },
            "isolation": ISOLATION,
        },
    )
    config = load_config(write_config(tmp_path, data), host)
    request = request_for()
    outcome = build_agents(config, host)["dump"].run(request, Events())
    assert outcome.kind is OutcomeKind.FINISHED
    raw = (Path(request.worktree) / "env.dump").read_text()
    dumped = dict(entry.split("=", 1) for entry in raw.split("\0") if entry)
    assert set(dumped) <= ALLOWED | {"BUILD_FLAVOUR", "AGENT_MODE"}, sorted(set(dumped) - ALLOWED)
    home = config.paths.runtime_dir.resolve() / "homes" / request.task_id  # confined: its own
    home = home if BWRAP is None else Path(host["HOME"])  # no confinement here: the host's
    assert (dumped["BUILD_FLAVOUR"], dumped["AGENT_MODE"], dumped["HOME"]) == (
        "fast",
        "ci",
        str(home),
    )
    assert BWRAP is not None or (dumped["TMPDIR"] == str(home / "tmp") and not home.exists())
    for value in (*secrets.values(), "aws-secret-value", OPENAI_HOST_KEY):
        assert value not in raw

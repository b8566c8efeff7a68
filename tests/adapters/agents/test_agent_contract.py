"""The Agent port's contract, met alike by the in-memory twin and a real command agent.

The in-memory twin is the one job tests use.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from orchestrator.adapters.agents.command import CommandAgent
from orchestrator.adapters.agents.memory import COMPLETE, MemoryAgent, Scripted
from orchestrator.config.model import AgentType
from orchestrator.core.agent import RESULT_FILE, AgentRequest, OutcomeKind
from orchestrator.core.routing import ChainEnd
from orchestrator.delivery.chain import run_chain
from orchestrator.ports import Agent
from orchestrator.store.cooldowns import CooldownStore
from tests.adapters.agents.conftest import NO_SECRETS, Events, backend


def command_agent(tmp_path: Path, name: str) -> Agent:
    program = tmp_path / f"{name}.sh"
    program.write_text(
        f"#!/bin/sh\necho hello > hello.txt\ncat > {RESULT_FILE} <<'EOF'\n{COMPLETE}EOF\n"
        "echo Done.\n"
    )
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    return CommandAgent(
        backend(AgentType.COMMAND, name, argv=(str(program),)),
        {"PATH": os.environ["PATH"]},
        NO_SECRETS,
    )


@pytest.fixture(params=["memory", "command"])
def make_agent(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str], Agent]:
    if request.param == "memory":
        return lambda name: MemoryAgent(name, [Scripted(files={"hello.txt": "hello\n"})])
    return lambda name: command_agent(tmp_path, name)


def test_a_finished_run_leaves_its_work_and_contract_and_names_its_backend(
    make_agent: Callable[[str], Agent], request_for: Callable[..., AgentRequest], events: Events
) -> None:
    request = request_for()
    agent = make_agent("worker")
    outcome = agent.run(request, events)
    worktree = Path(request.worktree)
    assert (agent.name, outcome.backend, outcome.kind, outcome.exit_code) == (
        "worker",
        "worker",
        OutcomeKind.FINISHED,
        0,
    )
    assert (worktree / "hello.txt").read_text() == "hello\n" and (
        worktree / RESULT_FILE
    ).read_text() == COMPLETE
    assert outcome.final_message == "Done." and outcome.duration_s >= 0 and events


def test_either_finishes_a_chain_the_same_way(
    make_agent: Callable[[str], Agent], tmp_path: Path, request_for: Callable[..., AgentRequest]
) -> None:
    now = datetime(2026, 11, 22, tzinfo=UTC)
    result = run_chain(
        [make_agent("worker")],
        request_for(),
        CooldownStore(tmp_path / "state"),
        lambda: now,
        Events(),
        default_cooldown=timedelta(hours=1),
    )
    assert (result.end, result.finished_by, result.last and result.last.result_text) == (
        ChainEnd.FINISHED,
        "worker",
        COMPLETE,
    )

"""A task's cost cap stops a running agent at its next turn boundary, never in mid-turn.

The `claude` backend is a scripted program printing real-shaped stream-json turn by turn
(scripted_claude.py); our `anthropic` loop runs against the scripted Messages server; the
process runner's `stop` ends the group the way a timeout does.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from orchestrator.adapters.agents import process
from orchestrator.adapters.agents.claude_cli import ClaudeCliAgent
from orchestrator.adapters.agents.environment import policy_of
from orchestrator.config.model import AgentType
from orchestrator.core.agent import (
    AgentEvent,
    AgentRequest,
    Notice,
    OutcomeKind,
    SessionStarted,
    Usage,
    UsageReported,
)
from orchestrator.core.evidence import DEFAULT_PRICES
from orchestrator.core.spend import Tally
from orchestrator.sandbox.models.anthropic_server import AnthropicSandbox
from tests.adapters.agents.conftest import Events, backend
from tests.adapters.agents.scripted_claude import MODEL, ClaudeTurn, write_claude
from tests.adapters.agents.test_anthropic_api import SCRIPT, api
from tests.adapters.agents.test_process import ENV

# claude-sonnet-4 list price: $3 per million input tokens; each turn shows 100,000: $0.30
TURNS = [ClaudeTurn(f"Turn {n}.", {f"turn{n}.txt": f"{n}\n"}, 100_000, 1, 1.0) for n in (1, 2, 3)]


class Asked:
    """The request's spend check, recording what it was asked: a Tally fed by the run's events."""

    def __init__(self, cap: float | None) -> None:
        self.tally = Tally(DEFAULT_PRICES, {}, cap)
        self.events = Events()
        self.asked: list[Usage] = []

    def on_event(self, event: AgentEvent) -> None:
        self.tally.observe(event)
        self.events(event)

    def over(self, unreported: Usage) -> bool:
        self.asked.append(unreported)
        return self.tally.over(unreported)


def claude_run(
    tmp_path: Path,
    request_for: Callable[..., AgentRequest],
    host_env: dict[str, str],
    cap: float | None,
) -> tuple[Asked, object]:
    asked = Asked(cap)
    program = write_claude(tmp_path, TURNS, cost_usd=0.9)
    agent = ClaudeCliAgent(backend(AgentType.CLAUDE, binary=str(program)), host_env, policy_of([]))
    request = request_for()
    request = AgentRequest(
        request.task_id,
        request.prompt,
        request.prompt_file,
        request.worktree,
        request.timeout_s,
        over_cap=asked.over,
    )
    return asked, agent.run(request, asked.on_event)


def test_claude_is_stopped_at_the_turn_boundary_where_its_shown_usage_reaches_the_cap(
    tmp_path: Path,
    worktree: Path,
    request_for: Callable[..., AgentRequest],
    host_env: dict[str, str],
) -> None:
    asked, outcome = claude_run(tmp_path, request_for, host_env, cap=0.5)
    assert outcome.kind is OutcomeKind.COST_CAPPED, outcome  # type: ignore[attr-defined]
    assert "cost cap" in outcome.error  # type: ignore[attr-defined]
    # asked at the end of each turn, with all the tokens the messages showed so far
    assert [u.input_tokens for u in asked.asked] == [100_000, 200_000]
    # turn 2 ended, turn 3 never began: its file is not there
    assert (worktree / "turn2.txt").exists() and not (worktree / "turn3.txt").exists()
    # what the messages showed is reported, so the spend is counted (priced from tokens)
    [reported] = [e.usage for e in asked.events.of(UsageReported)]
    assert (reported.input_tokens, reported.cost_usd) == (200_000, None)
    assert asked.tally.spent == pytest.approx(0.6, abs=0.001)
    assert asked.events.of(SessionStarted)[0].model == MODEL
    assert any("cost cap" in e.text for e in asked.events.of(Notice))


def test_claude_under_its_cap_runs_to_the_end_and_its_own_cost_is_taken(
    tmp_path: Path,
    worktree: Path,
    request_for: Callable[..., AgentRequest],
    host_env: dict[str, str],
) -> None:
    asked, outcome = claude_run(tmp_path, request_for, host_env, cap=5.0)
    assert outcome.kind is OutcomeKind.FINISHED, outcome  # type: ignore[attr-defined]
    assert len(asked.asked) == 3 and (worktree / "turn3.txt").exists()
    [reported] = [e.usage for e in asked.events.of(UsageReported)]
    assert (reported.input_tokens, reported.cost_usd) == (300_000, 0.9)  # the result's, once


def test_claude_without_a_cap_is_never_asked(
    tmp_path: Path,
    worktree: Path,
    request_for: Callable[..., AgentRequest],
    host_env: dict[str, str],
) -> None:
    asked = Asked(None)
    program = write_claude(tmp_path, TURNS[:1])
    agent = ClaudeCliAgent(backend(AgentType.CLAUDE, binary=str(program)), host_env, policy_of([]))
    outcome = agent.run(request_for(), asked.on_event)
    assert outcome.kind is OutcomeKind.FINISHED and asked.asked == []


def test_our_loop_stops_between_turns_once_the_reported_calls_reach_the_cap(
    tmp_path: Path,
    worktree: Path,
    request_for: Callable[..., AgentRequest],
    host_env: dict[str, str],
) -> None:
    calls = Events()

    def over(unreported: Usage) -> bool:
        assert unreported == Usage()  # each call's usage was reported as it returned
        return len(calls.of(UsageReported)) >= 2

    request = request_for()
    request = AgentRequest(
        request.task_id, request.prompt, request.prompt_file, request.worktree, 60, over_cap=over
    )
    with AnthropicSandbox(SCRIPT) as sandbox:
        outcome = api(sandbox, host_env).run(request, calls)
    assert outcome.kind is OutcomeKind.COST_CAPPED and len(sandbox.requests) == 2
    # the second turn's tool ran before the stop: a turn is never cut in half
    assert (worktree / "greet.py").read_text() == "def hello():\n    return 'helo'\n"


def test_stop_ends_the_group_as_a_timeout_would_and_says_it_stopped(tmp_path: Path) -> None:
    seen: list[str] = []
    script = "import time\nfor n in range(100):\n    print(n, flush=True)\n    time.sleep(0.05)\n"
    spec = process.Spec((sys.executable, "-c", script), tmp_path, ENV, None, 30, 1.0)
    began = time.monotonic()
    ended = process.run(spec, lambda _, line: seen.append(line), stop=lambda: "3" in seen)
    assert ended.stopped and not ended.timed_out and time.monotonic() - began < 3
    assert ended.returncode is not None and ended.returncode < 0  # ended by SIGTERM
    assert "99" not in seen

"""run_chain: a quota failure rests the backend and the next one takes over.

The rest is persisted. A permanent failure stops the chain.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from orchestrator.adapters.agents.claude_cli import ClaudeCliAgent
from orchestrator.adapters.agents.codex_cli import CodexCliAgent
from orchestrator.adapters.agents.environment import policy_of
from orchestrator.adapters.agents.memory import MemoryAgent, Scripted
from orchestrator.config.model import AgentType, Secret
from orchestrator.core.agent import (
    RESULT_FILE,
    AgentEvent,
    AgentRequest,
    AttemptFinished,
    AttemptStarted,
    BackendSkipped,
    CooldownStarted,
    OutcomeKind,
    Usage,
)
from orchestrator.core.contract import AgentResult, BlockerCode, Status, render
from orchestrator.core.routing import BackendRun, ChainEnd, ChainMove, Cooldown
from orchestrator.core.spend import Tally
from orchestrator.delivery.chain import run_chain
from orchestrator.sandbox.models import tools
from orchestrator.sandbox.models.anthropic_server import AnthropicSandbox
from orchestrator.sandbox.models.openai_server import OpenAISandbox
from orchestrator.sandbox.models.script import Fail, Turn
from orchestrator.store.cooldowns import CooldownStore
from tests.adapters.agents.conftest import Events, backend, make_walls
from tests.support.clis import cli

NOW = datetime(2026, 11, 22, 10, tzinfo=UTC)
HOUR = timedelta(hours=1)
QUOTA = Scripted(
    OutcomeKind.QUOTA_EXHAUSTED, result=None, error="usage limit", reset_at=NOW + 3 * HOUR
)
BLOCKED_FOR_GOOD = Scripted(
    result=render(
        AgentResult(
            Status.BLOCKED,
            BlockerCode.MANUAL_INTERVENTION_REQUIRED,
            summary="Needs a product decision.",
        )
    )
)


def chain(
    tmp_path: Path,
    agents: list[MemoryAgent] | list,
    request: AgentRequest,
    events: Events,
    **kwargs: object,
):
    store = CooldownStore(tmp_path / "state")
    result = run_chain(agents, request, store, lambda: NOW, events, default_cooldown=HOUR, **kwargs)  # type: ignore[arg-type]
    return result, store


def test_a_quota_failure_rests_that_backend_on_disk_and_the_next_one_finishes(
    tmp_path: Path, request_for: Callable[..., AgentRequest], events: Events
) -> None:
    claude, codex = MemoryAgent("claude", [QUOTA]), MemoryAgent("codex")
    result, store = chain(tmp_path, [claude, codex], request_for(), events)
    assert (result.end, result.finished_by, [a.backend for a in result.runs]) == (
        ChainEnd.FINISHED,
        "codex",
        ["claude", "codex"],
    )
    assert [a.ruling.move for a in result.runs] == [ChainMove.COOLDOWN, ChainMove.DONE]
    assert result.result is not None and result.result.status is Status.COMPLETE
    assert store.active(NOW) == {"claude": Cooldown("claude", NOW + 3 * HOUR, "usage limit")}
    saved = json.loads((tmp_path / "state" / "cooldowns.json").read_text())
    assert saved == {"claude": {"until": (NOW + 3 * HOUR).isoformat(), "reason": "usage limit"}}
    kinds = [
        type(e) for e in events if isinstance(e, (AttemptStarted, AttemptFinished, CooldownStarted))
    ]
    assert kinds == [
        AttemptStarted,
        CooldownStarted,
        AttemptFinished,
        AttemptStarted,
        AttemptFinished,
    ]


def test_a_resting_backend_is_skipped_by_the_next_task(
    tmp_path: Path, request_for: Callable[..., AgentRequest], events: Events
) -> None:
    chain(tmp_path, [MemoryAgent("claude", [QUOTA]), MemoryAgent("codex")], request_for(), Events())
    claude = MemoryAgent("claude")
    result, _ = chain(tmp_path, [claude, MemoryAgent("codex")], request_for(), events)
    assert result.finished_by == "codex" and claude.requests == []
    assert events.of(BackendSkipped) == [BackendSkipped("claude", "cooling_down", NOW + 3 * HOUR)]


def test_when_every_backend_rests_nothing_runs_and_the_chain_says_when_to_retry(
    tmp_path: Path, request_for: Callable[..., AgentRequest], events: Events
) -> None:
    store = CooldownStore(tmp_path / "state")
    store.start(Cooldown("claude", NOW + 2 * HOUR, "quota"), NOW)
    store.start(Cooldown("codex", NOW + HOUR, "quota"), NOW)
    result, _ = chain(
        tmp_path, [MemoryAgent("claude"), MemoryAgent("codex")], request_for(), events
    )
    assert (result.end, result.runs, result.retry_at) == (ChainEnd.COOLING_DOWN, (), NOW + HOUR)


def test_a_permanent_blocker_stops_the_chain(
    tmp_path: Path, request_for: Callable[..., AgentRequest], events: Events
) -> None:
    codex = MemoryAgent("codex")
    result, store = chain(
        tmp_path, [MemoryAgent("claude", [BLOCKED_FOR_GOOD]), codex], request_for(), events
    )
    assert (result.end, result.finished_by, codex.requests) == (ChainEnd.STOPPED, None, [])
    assert (
        result.result is not None
        and result.result.blocker is BlockerCode.MANUAL_INTERVENTION_REQUIRED
    )
    assert store.active(NOW) == {}


def test_a_prompt_too_large_stops_the_chain(
    tmp_path: Path, request_for: Callable[..., AgentRequest]
) -> None:
    big = Scripted(OutcomeKind.PROMPT_TOO_LARGE, result=None, error="prompt is too long")
    result, _ = chain(
        tmp_path, [MemoryAgent("claude", [big]), MemoryAgent("codex")], request_for(), Events()
    )
    assert result.end is ChainEnd.STOPPED and [a.backend for a in result.runs] == ["claude"]


def test_transient_failures_hand_on_until_the_chain_is_exhausted(
    tmp_path: Path, request_for: Callable[..., AgentRequest]
) -> None:
    agents = [
        MemoryAgent("claude", [Scripted(OutcomeKind.TIMED_OUT, result=None)]),
        MemoryAgent("codex", [Scripted(OutcomeKind.CRASHED, result=None)]),
        MemoryAgent("api", [Scripted(result=None)]),  # finished, but wrote no contract
    ]
    result, _ = chain(tmp_path, agents, request_for(), Events())
    assert result.end is ChainEnd.EXHAUSTED and result.retry_at is None
    assert [a.ruling.reason for a in result.runs] == [
        "timed_out",
        "crashed",
        "invalid_result_contract",
    ]


def test_each_later_attempt_is_prepared_with_the_earlier_ones(
    tmp_path: Path, request_for: Callable[..., AgentRequest]
) -> None:
    seen: list[tuple[str, ...]] = []

    def prepare(request: AgentRequest, earlier: tuple[BackendRun, ...]) -> AgentRequest:
        seen.append(tuple(a.backend for a in earlier))
        return replace(
            request, prompt=request.prompt + f"\n\nEarlier: {earlier[-1].result.summary}"
        )

    codex = MemoryAgent("codex")
    chain(
        tmp_path,
        [
            MemoryAgent("claude", [Scripted(OutcomeKind.CRASHED, result=None, error="segfault")]),
            codex,
        ],
        request_for("Task."),
        Events(),
        prepare=prepare,
    )
    assert (
        seen == [("claude",)]
        and codex.requests[0].prompt == "Task.\n\nEarlier: claude crashed: segfault"
    )


def test_a_stale_contract_is_never_credited_to_the_next_agent(
    tmp_path: Path, request_for: Callable[..., AgentRequest]
) -> None:
    request = request_for()
    # left by an earlier run
    (Path(request.worktree) / RESULT_FILE).write_text("STATUS: complete\n")
    result, _ = chain(tmp_path, [MemoryAgent("claude", [Scripted(result=None)])], request, Events())
    assert (
        result.result is not None and result.result.blocker is BlockerCode.INVALID_RESULT_CONTRACT
    )


def test_a_contract_that_is_a_symlink_is_not_followed(
    tmp_path: Path, request_for: Callable[..., AgentRequest]
) -> None:
    request = request_for()
    secret = tmp_path / "host-secret"
    secret.write_text("STATUS: complete\nSUMMARY: host secret\n")

    class Linker(MemoryAgent):
        def run(self, request, on_event):  # type: ignore[no-untyped-def]
            outcome = super().run(request, on_event)
            os.symlink(secret, Path(request.worktree) / RESULT_FILE)
            return outcome

    result, _ = chain(tmp_path, [Linker("claude", [Scripted(result=None)])], request, Events())
    assert result.last is not None and result.last.result_text is None
    assert (
        result.result is not None and result.result.blocker is BlockerCode.INVALID_RESULT_CONTRACT
    )


def test_real_claude_hits_a_rate_limit_and_real_codex_takes_the_task(
    tmp_path: Path,
    request_for: Callable[..., AgentRequest],
    host_env: dict[str, str],
    events: Events,
) -> None:
    """The whole fallback path with the real CLIs.

    Claude's 429 rests it; Codex writes the contract.
    """
    key = Secret("SANDBOX_KEY", "sandbox-key-0123456789")
    result_md = "STATUS: complete\nSUMMARY: done by codex\n"
    walls = make_walls(tmp_path)  # confined, as agents run by default
    with (
        AnthropicSandbox([Fail(429, "rate limited", sticky=True)]) as limited,
        OpenAISandbox(
            [Turn("", (tools.exec_write(RESULT_FILE, result_md),)), Turn("Done.")]
        ) as working,
    ):
        claude = ClaudeCliAgent(
            backend(
                AgentType.CLAUDE,
                binary=str(cli("claude")),
                base_url=limited.base_url,
                api_key=key,
                env={"CLAUDE_CODE_MAX_RETRIES": "0"},
            ),
            host_env,
            policy_of([key]),
            walls=walls,
        )
        codex = CodexCliAgent(
            backend(
                AgentType.CODEX,
                binary=str(cli("codex")),
                base_url=working.base_url,
                api_key=key,
                model="fake-model",
            ),
            host_env,
            policy_of([key]),
            walls=walls,
        )
        result, store = chain(tmp_path, [claude, codex], request_for(), events)
    assert (result.end, result.finished_by) == (ChainEnd.FINISHED, "codex")
    assert result.runs[0].outcome.kind is OutcomeKind.QUOTA_EXHAUSTED
    assert store.active(NOW) == {
        "claude": Cooldown("claude", NOW + HOUR, result.runs[0].outcome.error)
    }
    assert result.last is not None and result.last.result_text == result_md
    assert result.usage.input_tokens == sum(a.outcome.usage.input_tokens for a in result.runs) > 0


def test_a_run_whose_reported_usage_reaches_the_cap_hands_the_task_to_no_other_backend(
    tmp_path: Path, request_for: Callable[..., AgentRequest], events: Events
) -> None:
    """Codex reports its usage only when its run ends: the chain checks the cap then."""
    tally = Tally({}, {}, cap=1.0)
    costly = Scripted(OutcomeKind.CRASHED, result=None, usage=Usage(0, 0, 0, 1.5), error="boom")
    codex, claude = MemoryAgent("codex", [costly]), MemoryAgent("claude")

    def seen(event: AgentEvent) -> None:
        tally.observe(event)
        events(event)

    request = replace(request_for(), over_cap=tally.over)
    result, _ = chain(tmp_path, [codex, claude], request, seen)  # type: ignore[arg-type]
    assert result.capped and result.end is ChainEnd.STOPPED and claude.requests == []
    assert [(e.backend, e.verdict, e.reason) for e in events.of(AttemptFinished)] == [
        ("codex", "stop", "cost_capped")
    ]
    # a run that finishes the task past the cap stands: what it cost is spent already
    done = MemoryAgent("codex", [Scripted(usage=Usage(0, 0, 0, 2.0))])
    finished, _ = chain(tmp_path, [done], request, seen)  # type: ignore[arg-type]
    assert finished.end is ChainEnd.FINISHED and not finished.capped

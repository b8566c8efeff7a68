"""Run a task through its agent fallback chain: pick a backend, run, judge, rest it or hand on.

The decisions are core.routing's; this module only carries them out: it reads the cooldowns
before every pick (another worker may have rested a backend a moment ago), clears a stale
`.agent_result.md` before each backend run so a crashed agent is never credited with an earlier
one's contract, and records a new cooldown as soon as a run earns it. When what a run reported
reaches the task's cost cap (`request.over_cap`), a run that did not finish the task ends the
chain: no other backend spends more on it (a backend that reports usage only at its end, as
Codex does, is checked here).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from orchestrator.core import routing
from orchestrator.core.agent import (
    RESULT_FILE,
    AgentEvent,
    AgentRequest,
    AttemptFinished,
    AttemptStarted,
    BackendSkipped,
    CooldownStarted,
    Usage,
)
from orchestrator.core.routing import BackendRun, ChainResult, PassedOver
from orchestrator.ports import Agent, Cooldowns

Prepare = Callable[[AgentRequest, tuple[BackendRun, ...]], AgentRequest]
_RESULT_LIMIT = 256 * 1024  # bytes of a result contract read back


def run_chain(
    chain: Sequence[Agent],
    request: AgentRequest,
    cooldowns: Cooldowns,
    clock: Callable[[], datetime],
    on_event: Callable[[AgentEvent], None],
    *,
    default_cooldown: timedelta,
    prepare: Prepare | None = None,
) -> ChainResult:
    """Try the chain's backends in order until one finishes, one fails permanently, or none is left.

    `prepare` rewrites the request for each attempt after the first (the queue puts the earlier
    attempts into the prompt there); without it every attempt gets the same request.
    """
    agents = {agent.name: agent for agent in chain}
    runs: list[BackendRun] = []
    skipped: dict[str, PassedOver] = {}
    while True:
        now = clock()
        choice = routing.pick(list(agents), cooldowns.active(now), now, {r.backend for r in runs})
        for skip in choice.skipped:
            if skip.backend not in skipped:
                skipped[skip.backend] = skip
                on_event(BackendSkipped(skip.backend, skip.reason, skip.until))
        if choice.backend is None:
            break
        this = prepare(request, tuple(runs)) if runs and prepare is not None else request
        run = _run_backend(agents[choice.backend], this, len(runs) + 1, on_event)
        now = clock()
        ruling = routing.judge(run.outcome, run.result, now, default_cooldown)
        if request.over_cap is not None and request.over_cap(Usage()):
            ruling = routing.at_cap(ruling)  # what the run reported at its end reached the cap
        if ruling.cooldown is not None:
            cooldowns.start(ruling.cooldown, now)
            on_event(
                CooldownStarted(
                    ruling.cooldown.backend, ruling.cooldown.until, ruling.cooldown.reason
                )
            )
        on_event(
            AttemptFinished(
                choice.backend, run.outcome.kind.value, ruling.move.value, ruling.reason
            )
        )
        runs.append(BackendRun(run.backend, run.outcome, run.result, ruling, run.result_text))
        if ruling.move in (routing.ChainMove.DONE, routing.ChainMove.STOP):
            break
    return routing.conclude(runs, list(skipped.values()))


def _run_backend(
    agent: Agent, request: AgentRequest, number: int, on_event: Callable[[AgentEvent], None]
) -> BackendRun:
    """Run one backend on a clean slate and read back the contract it left (not yet judged)."""
    result_file = Path(request.worktree) / RESULT_FILE
    try:
        result_file.unlink(missing_ok=True)
    except IsADirectoryError:
        pass  # not a contract: the read below finds none
    on_event(AttemptStarted(agent.name, number))
    outcome = agent.run(request, on_event)
    text = _read(result_file)
    pending = routing.Ruling(routing.ChainMove.NEXT, "pending")
    return BackendRun(agent.name, outcome, routing.result_of(outcome, text), pending, text)


def _read(path: Path) -> str | None:
    """Return the contract's text; a symlink is not followed (it could point at any host file)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        try:
            return handle.read(_RESULT_LIMIT).decode("utf-8", "replace")
        except IsADirectoryError:
            return None

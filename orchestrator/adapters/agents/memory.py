"""The Agent port in memory, for job tests.

Each run plays the next scripted step and records the request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from orchestrator.core.agent import (
    RESULT_FILE,
    AgentEvent,
    AgentMessage,
    AgentOutcome,
    AgentRequest,
    OutcomeKind,
    SessionStarted,
    Usage,
    UsageReported,
)
from orchestrator.core.contract import AgentResult, Status, render

COMPLETE = render(AgentResult(Status.COMPLETE, None, summary="Done."))


@dataclass(frozen=True, slots=True)
class Scripted:
    """One scripted run.

    The files it writes in the worktree, its result contract, its events and how it ends.
    """

    kind: OutcomeKind = OutcomeKind.FINISHED
    result: str | None = COMPLETE  # .agent_result.md as written; None: the agent writes none
    files: Mapping[str, str] = field(default_factory=dict)
    events: tuple[AgentEvent, ...] = ()
    usage: Usage = Usage()
    message: str = "Done."
    error: str = ""
    reset_at: datetime | None = None


class MemoryAgent:
    """Plays `runs` in order (then finished, complete).

    `requests` lists what it was asked, oldest first.
    """

    def __init__(self, name: str, runs: Iterable[Scripted] = ()) -> None:
        self._name = name
        self._runs = list(runs)
        self.requests: list[AgentRequest] = []

    @property
    def name(self) -> str:
        """Return the backend's name."""
        return self._name

    def run(self, request: AgentRequest, on_event: Callable[[AgentEvent], None]) -> AgentOutcome:
        """Write the step's files and contract to the worktree, emit events, return the outcome."""
        self.requests.append(request)
        step = self._runs.pop(0) if self._runs else Scripted()
        worktree = Path(request.worktree)
        for relative, content in step.files.items():
            (worktree / relative).parent.mkdir(parents=True, exist_ok=True)
            (worktree / relative).write_text(content, encoding="utf-8")
        if step.result is not None:
            (worktree / RESULT_FILE).write_text(step.result, encoding="utf-8")
        session = f"memory-{self._name}-{len(self.requests)}"
        for event in (
            SessionStarted(session),
            *step.events,
            AgentMessage(step.message),
            UsageReported(step.usage),
        ):
            on_event(event)
        finished = step.kind is OutcomeKind.FINISHED
        return AgentOutcome(
            self._name,
            step.kind,
            0 if finished else 1,
            0.0,
            session,
            step.usage,
            step.message,
            step.error,
            step.reset_at,
        )

"""What agent adapters share: passing events on, keeping what the outcome needs, running a CLI."""

from __future__ import annotations

import json
import math
import shutil
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

from orchestrator.adapters.agents import process
from orchestrator.adapters.agents.environment import EnvPolicy
from orchestrator.config.model import AgentBackend
from orchestrator.core.agent import (
    OUTPUT_LIMIT,
    AgentEvent,
    AgentMessage,
    AgentOutcome,
    AgentRequest,
    OutcomeKind,
    OutputLine,
    ProcessStarted,
    SessionStarted,
    Usage,
    UsageReported,
    clip,
)

Clock = Callable[[], datetime]
MASK = "[REDACTED:config-secret]"


def utc_now() -> datetime:
    """Return the time now, in UTC."""
    return datetime.now(UTC)


class Collector:
    """Passes a run's events on, and keeps what its outcome needs.

    That is the session, the usage, the last message and the errors.
    """

    def __init__(
        self, backend: str, on_event: Callable[[AgentEvent], None], secrets: Sequence[str] = ()
    ) -> None:
        self.backend, self.on_event, self.secrets = backend, on_event, tuple(secrets)
        self.session_id: str | None = None
        self.usage = Usage()
        self.final = ""
        self.errors: deque[str] = deque(maxlen=20)  # error texts the backend reported, newest last

    def emit(self, event: AgentEvent) -> None:
        """Note what the event says of the run, then hand it on with the config's secrets masked."""
        event = mask(event, self.secrets)
        if isinstance(event, SessionStarted):
            self.session_id = event.session_id
        elif isinstance(event, UsageReported):
            self.usage = self.usage + event.usage
        elif isinstance(event, AgentMessage) and event.text.strip():
            self.final = event.text
        self.on_event(event)

    def outcome(
        self,
        kind: OutcomeKind,
        exit_code: int | None,
        duration_s: float,
        error: str = "",
        reset_at: datetime | None = None,
    ) -> AgentOutcome:
        """Return the run's outcome with what the events told."""
        return AgentOutcome(
            self.backend,
            kind,
            exit_code,
            round(duration_s, 3),
            self.session_id,
            self.usage,
            clip(self.final),
            clip(" ".join(error.split()), 500),
            reset_at,
        )


def mask(event: AgentEvent, secrets: Sequence[str]) -> AgentEvent:
    """Return the event with known secrets (the agent's own key too) masked in its text fields."""
    changes: dict[str, Any] = {}
    for item in fields(event):
        value = getattr(event, item.name)
        if isinstance(value, str) and any(secret in value for secret in secrets):
            for secret in secrets:
                value = value.replace(secret, MASK)
            changes[item.name] = value
    return cast(AgentEvent, replace(cast(Any, event), **changes)) if changes else event


def parse_json(line: str) -> dict[str, Any] | None:
    """Return the line as a JSON object, or None when it is not one."""
    if not line.startswith("{"):
        return None
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def compact(value: object) -> str:
    """Return a tool input as compact JSON."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def last_words(collector: Collector, ended: process.Exit, program: str) -> str:
    """Return why a run failed, in one line.

    That is the backend's last error, else its last stderr line, else the exit code.
    """
    stderr = next((line for line in reversed(ended.stderr_tail) if line.strip()), "")
    return (
        next(reversed(collector.errors), "")
        or stderr
        or f"{program} exited with {ended.returncode}"
    )


def timeout_of(backend: AgentBackend, request: AgentRequest) -> float:
    """Return the run's timeout in seconds: the request's, within the backend's own."""
    return min(request.timeout_s or math.inf, backend.timeout_minutes * 60.0)


R = TypeVar("R", bound=process.LineHandler)


class CliAgent(ABC, Generic[R]):
    """An agent that is a CLI.

    It builds argv and environment, streams its lines through a reader and classifies its end.
    """

    program = ""  # the default binary name

    def __init__(
        self,
        backend: AgentBackend,
        host_env: Mapping[str, str],
        policy: EnvPolicy,
        *,
        grace: float = 5.0,
        clock: Clock = utc_now,
    ) -> None:
        self.backend, self.host_env, self.policy, self.grace, self.clock = (
            backend,
            host_env,
            policy,
            grace,
            clock,
        )

    @property
    def name(self) -> str:
        """Return the backend's name from the config."""
        return self.backend.name

    def run(self, request: AgentRequest, on_event: Callable[[AgentEvent], None]) -> AgentOutcome:
        """Run the CLI in the worktree; see ports.Agent."""
        collector = Collector(self.name, on_event, self.policy.secret_values)
        env = self.environment(request)
        binary = shutil.which(self.backend.binary or self.program, path=env.get("PATH"))
        if binary is None:
            missing = self.backend.binary or self.program
            return collector.outcome(
                OutcomeKind.UNAVAILABLE, None, 0.0, f"{missing!r} is not on the agent's PATH"
            )
        spec = process.Spec(
            self.argv(binary, request),
            Path(request.worktree),
            env,
            self.stdin(request),
            timeout_of(self.backend, request),
            self.grace,
        )
        reader = self.reader(collector)
        ended = process.run(spec, reader, on_start=lambda pid: collector.emit(ProcessStarted(pid)))
        if ended.timed_out:
            return collector.outcome(
                OutcomeKind.TIMED_OUT,
                ended.returncode,
                ended.duration_s,
                f"timed out after {spec.timeout:.0f} s; its process group was killed",
            )
        if ended.returncode is None:
            kind = (
                OutcomeKind.PROMPT_TOO_LARGE
                if "too long" in ended.error
                else OutcomeKind.UNAVAILABLE
            )
            return collector.outcome(kind, None, ended.duration_s, ended.error)
        return self.conclude(ended, collector, reader)

    def emit_line(self, collector: Collector, stream: str, line: str) -> None:
        """Pass a line that is none of the backend's events on as it is."""
        if line.strip():
            collector.emit(OutputLine(stream, clip(line, OUTPUT_LIMIT)))

    @abstractmethod
    def environment(self, request: AgentRequest) -> dict[str, str]:
        """Return the CLI's whole environment."""

    @abstractmethod
    def argv(self, binary: str, request: AgentRequest) -> tuple[str, ...]:
        """Return the command line."""

    @abstractmethod
    def stdin(self, request: AgentRequest) -> str | None:
        """Return what goes to stdin (None: /dev/null)."""

    @abstractmethod
    def reader(self, collector: Collector) -> R:
        """Return the handler that turns output lines into events (and remembers what it saw)."""

    @abstractmethod
    def conclude(self, ended: process.Exit, collector: Collector, reader: R) -> AgentOutcome:
        """Return the outcome of a run that exited by itself."""

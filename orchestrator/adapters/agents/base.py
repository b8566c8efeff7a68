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

from orchestrator.adapters.agents import confine, process
from orchestrator.adapters.agents.environment import EnvPolicy
from orchestrator.config.model import AgentBackend, Isolation
from orchestrator.core.agent import (
    OUTPUT_LIMIT,
    AgentEvent,
    AgentMessage,
    AgentOutcome,
    AgentRequest,
    Notice,
    OutcomeKind,
    OutputLine,
    ProcessStarted,
    SessionStarted,
    Usage,
    UsageReported,
    clip,
)
from orchestrator.core.redact import CANARY, encoded_forms
from orchestrator.errors import IsolationError

Clock = Callable[[], datetime]
MASK = "[REDACTED:config-secret]"
CANARY_MASK = f"[REDACTED:{CANARY}]"  # the redaction's own mask for a registered canary


def utc_now() -> datetime:
    """Return the time now, in UTC."""
    return datetime.now(UTC)


class Collector:
    """Passes a run's events on, and keeps what its outcome needs.

    That is the session, the usage, the last message and the errors. A planted `canary` is
    masked in every event in any of its encodings, and where it first showed up is kept.
    `over_cap` is the request's spend check, asked at each turn boundary (`turn_ended`).
    """

    def __init__(
        self,
        backend: str,
        on_event: Callable[[AgentEvent], None],
        secrets: Sequence[str] = (),
        *,
        canary: str = "",
        over_cap: Callable[[Usage], bool] | None = None,
    ) -> None:
        self.backend, self.on_event, self.secrets = backend, on_event, tuple(secrets)
        self.canary_forms = encoded_forms(canary)
        self.canary_seen = ""
        self.session_id: str | None = None
        self.usage = Usage()
        self.final = ""
        self.errors: deque[str] = deque(maxlen=20)  # error texts the backend reported, newest last
        self.over_cap, self.capped = over_cap, False
        self.unreported = Usage()  # what the run had not reported when its cap stopped it

    def turn_ended(self, unreported: Usage | None = None) -> bool:
        """At a turn boundary: True (from then on) once the task's cost cap is reached.

        `unreported` is the usage the backend has shown but not reported yet (Claude Code
        reports its run's usage only when it ends).
        """
        shown = unreported or Usage()
        if self.capped or self.over_cap is None or not self.over_cap(shown):
            return self.capped
        self.capped, self.unreported = True, shown
        self.emit(Notice("stopped at a turn boundary: the task's cost cap is reached"))
        return True

    def report_unreported(self) -> None:
        """Report the usage a stopped run had shown but not reported, so it is counted."""
        if self.unreported != Usage():
            self.emit(UsageReported(self.unreported))
            self.unreported = Usage()

    def emit(self, event: AgentEvent) -> None:
        """Note what the event says of the run, then hand it on with the config's secrets masked."""
        event = mask(event, self.secrets)
        event = mask(event, self.canary_forms, CANARY_MASK)
        # masked here, or already by the redaction the adapter's `clip` applies
        if self.canary_forms and any(CANARY_MASK in text for text in _texts(event)):
            self.spotted(f"agent output ({event.type})")
        if isinstance(event, SessionStarted):
            self.session_id = event.session_id
        elif isinstance(event, UsageReported):
            self.usage = self.usage + event.usage
        elif isinstance(event, AgentMessage) and event.text.strip():
            self.final = event.text
        self.on_event(event)

    def spot(self, text: str, where: str) -> None:
        """Note the canary if it is in `text`: raw output, before redaction can hide it."""
        if any(form in text for form in self.canary_forms):
            self.spotted(where)

    def spotted(self, where: str) -> None:
        """Record where the canary first showed up."""
        self.canary_seen = self.canary_seen or where

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
            canary_seen=self.canary_seen,
        )


def mask(event: AgentEvent, secrets: Sequence[str], label: str = MASK) -> AgentEvent:
    """Return the event with known secrets (the agent's own key too) masked in its text fields.

    The event itself is returned when there was nothing to mask.
    """
    changes: dict[str, Any] = {}
    for item in fields(event):
        value = getattr(event, item.name)
        if isinstance(value, str) and any(secret in value for secret in secrets):
            for secret in secrets:
                value = value.replace(secret, label)
            changes[item.name] = value
    return cast(AgentEvent, replace(cast(Any, event), **changes)) if changes else event


def _texts(event: AgentEvent) -> list[str]:
    return [value for item in fields(event) if isinstance(value := getattr(event, item.name), str)]


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

    It builds argv and environment, runs in its box (`walls`; None: a plain child, as under
    `agents.isolation: none`), streams its lines through a reader and classifies its end.
    """

    program = ""  # the default binary name

    def __init__(
        self,
        backend: AgentBackend,
        host_env: Mapping[str, str],
        policy: EnvPolicy,
        *,
        walls: confine.Walls | None = None,
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
        self.walls = walls

    @property
    def name(self) -> str:
        """Return the backend's name from the config."""
        return self.backend.name

    def run(self, request: AgentRequest, on_event: Callable[[AgentEvent], None]) -> AgentOutcome:
        """Run the CLI in the worktree, in its box; see ports.Agent."""
        collector = Collector(
            self.name,
            on_event,
            self.policy.secret_values,
            canary=request.canary,
            over_cap=request.over_cap,
        )
        env = self.environment(request)
        binary = shutil.which(self.backend.binary or self.program, path=env.get("PATH"))
        if binary is None:
            missing = self.backend.binary or self.program
            return collector.outcome(
                OutcomeKind.UNAVAILABLE, None, 0.0, f"{missing!r} is not on the agent's PATH"
            )
        argv = self.argv(binary, request)
        box = confine.Box(
            self.walls or confine.Walls(Isolation.NONE, (), (), Path()),
            Path(request.worktree),
            request.task_id,
            readable=self.readable(request, argv),
            home_binds=self.home_binds(),
            home_copies=self.home_copies(),
            canary=request.canary,
        )
        spec = process.Spec(
            argv,
            Path(request.worktree),
            env,
            self.stdin(request),
            timeout_of(self.backend, request),
            self.grace,
        )
        reader = self.reader(collector)
        try:
            with confine.session(box) as confined:
                if confined.home is not None:
                    spec = replace(spec, env=self.rehome(spec.env, confined.home, binary))
                ended = process.run(
                    confined(spec),
                    self._spotting(collector, reader),
                    on_start=lambda pid: collector.emit(ProcessStarted(pid)),
                    stop=lambda: collector.capped,
                )
        except IsolationError as exc:
            return collector.outcome(OutcomeKind.UNAVAILABLE, None, 0.0, str(exc))
        if ended.timed_out:
            return collector.outcome(
                OutcomeKind.TIMED_OUT,
                ended.returncode,
                ended.duration_s,
                f"timed out after {spec.timeout:.0f} s; its process group was killed",
            )
        if ended.stopped:
            collector.report_unreported()
            return collector.outcome(
                OutcomeKind.COST_CAPPED,
                ended.returncode,
                ended.duration_s,
                "stopped at a turn boundary: the task's cost cap is reached",
            )
        if ended.returncode is None:
            kind = (
                OutcomeKind.PROMPT_TOO_LARGE
                if "too long" in ended.error
                else OutcomeKind.UNAVAILABLE
            )
            return collector.outcome(kind, None, ended.duration_s, ended.error)
        return self.conclude(ended, collector, reader)

    @staticmethod
    def _spotting(collector: Collector, reader: R) -> process.LineHandler:
        """Return the line handler: the reader, after a look for the canary in the raw line."""

        def handle(stream: str, line: str) -> None:
            collector.spot(line, f"agent {stream}")
            reader(stream, line)

        return handle

    def readable(self, request: AgentRequest, argv: Sequence[str]) -> tuple[Path, ...]:
        """Return what the run may read besides its worktree and program (bound read-only)."""
        return (Path(request.prompt_file), *(Path(path) for path in request.readable))

    def home_binds(self) -> tuple[tuple[str, Path], ...]:
        """Return the host folders bound read-write into the private home: the CLI's login."""
        return ()

    def home_copies(self) -> tuple[tuple[str, Path], ...]:
        """Return the host files copied into the private home (never copied back)."""
        return ()

    def rehome(self, env: Mapping[str, str], home: Path, binary: str) -> dict[str, str]:
        """Return the environment for a run confined with this private home."""
        return dict(env)

    def host_home(self) -> Path | None:
        """Return the orchestrator's HOME, where the CLIs keep their logins; None without one."""
        home = self.host_env.get("HOME", "")
        return Path(home) if home and Path(home).is_absolute() else None

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

"""What crosses the Agent port: the request, the events a run streams, and how the run ended.

Adapters turn each backend's wire events (Claude Code stream-json, Codex JSONL, Anthropic
messages, a command's output lines) into these values; nothing past an adapter sees a raw dict.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import ClassVar

from orchestrator.core.redact import redact

RESULT_FILE = ".agent_result.md"  # the result contract every agent writes in its worktree
TEXT_LIMIT = 8000  # characters kept of a message or tool input in an event
OUTPUT_LIMIT = 4000  # characters kept of a tool result or an output line


@dataclass(frozen=True, slots=True)
class AgentRequest:
    """One run of one agent: the task, its prompt, and where to work.

    The prompt is also written to `prompt_file`.
    """

    task_id: str
    prompt: str
    prompt_file: str
    worktree: str
    timeout_s: float | None = None  # None: the backend's own timeout_minutes
    canary: str = ""  # a fake GitHub token planted in the agent's reach; seen outside, it leaked
    # other paths the run may read (the shared clone's objects its repository borrows)
    readable: tuple[str, ...] = ()
    # Asked at each turn boundary with the usage the run has not reported yet: True stops the
    # run there, its task's cost cap reached (core.spend.Tally.over). None: no cap.
    over_cap: Callable[[Usage], bool] | None = None


class OutcomeKind(enum.Enum):
    """How a run ended, as far as the process (or API) tells; the result contract says how well."""

    FINISHED = "finished"  # exited 0; read .agent_result.md for the verdict
    TIMED_OUT = "timed_out"  # the timeout killed its process group
    CRASHED = "crashed"  # non-zero exit, or killed, for no reason we recognise
    QUOTA_EXHAUSTED = "quota_exhausted"  # rate limit, quota, usage limit, credit: cool it down
    AUTH_FAILED = "auth_failed"  # missing, invalid or expired credentials
    MODEL_ERROR = "model_error"  # the model API failed (5xx, overloaded, connection)
    TURN_LIMIT = "turn_limit"  # the run used up its turns without finishing
    PROMPT_TOO_LARGE = "prompt_too_large"
    UNAVAILABLE = "unavailable"  # the CLI is missing or cannot be started
    COST_CAPPED = "cost_capped"  # stopped at a turn boundary: its task's cost cap is reached


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens and cost of one model call, or the sum of a run's; `cached` is part of `input`."""

    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    cost_usd: float | None = None  # only where the backend reports it

    def __add__(self, other: Usage) -> Usage:
        costs = [c for c in (self.cost_usd, other.cost_usd) if c is not None]
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cached_input_tokens + other.cached_input_tokens,
            sum(costs) if costs else None,
        )


@dataclass(frozen=True, slots=True)
class AgentOutcome:
    """A finished run: how it ended, its exit code, time, session, tokens and last words."""

    backend: str
    kind: OutcomeKind
    exit_code: int | None
    duration_s: float
    session_id: str | None = None
    usage: Usage = Usage()
    final_message: str = ""
    error: str = ""  # one line: why it did not finish, when it did not
    reset_at: datetime | None = None  # quota: when the backend said the limit resets
    canary_seen: str = ""  # where the planted canary showed up ("agent output"); empty if never


# -- events, one per thing the agent did -----------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SessionStarted:
    type: ClassVar[str] = "session.started"
    session_id: str
    model: str | None = None


@dataclass(frozen=True, slots=True)
class AgentMessage:
    type: ClassVar[str] = "agent.message"
    text: str


@dataclass(frozen=True, slots=True)
class ToolCalled:
    type: ClassVar[str] = "tool.called"
    call_id: str
    name: str
    arguments: str  # the tool input as compact JSON (or a command line)


@dataclass(frozen=True, slots=True)
class ToolReturned:
    type: ClassVar[str] = "tool.returned"
    call_id: str
    output: str
    is_error: bool = False


@dataclass(frozen=True, slots=True)
class UsageReported:
    """Usage of one model call or turn; a run's total is the sum of these."""

    type: ClassVar[str] = "usage.reported"
    usage: Usage


@dataclass(frozen=True, slots=True)
class OutputLine:
    """A line the process printed that is not one of the backend's events."""

    type: ClassVar[str] = "output.line"
    stream: str  # stdout | stderr
    line: str


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the backend reported about itself: a retry, a warning, a denied permission."""

    type: ClassVar[str] = "agent.notice"
    text: str


@dataclass(frozen=True, slots=True)
class ProcessStarted:
    """The agent's process runs, leading a process group of its own.

    That group is what recovery ends if its worker dies.
    """

    type: ClassVar[str] = "process.started"
    pid: int


# -- events of the fallback chain around the runs --------------------------------------------------
@dataclass(frozen=True, slots=True)
class AttemptStarted:
    type: ClassVar[str] = "attempt.started"
    backend: str
    attempt: int


@dataclass(frozen=True, slots=True)
class AttemptFinished:
    type: ClassVar[str] = "attempt.finished"
    backend: str
    outcome: str  # OutcomeKind value
    verdict: str  # routing.Verdict value
    reason: str


@dataclass(frozen=True, slots=True)
class BackendSkipped:
    type: ClassVar[str] = "backend.skipped"
    backend: str
    reason: str
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class CooldownStarted:
    type: ClassVar[str] = "cooldown.started"
    backend: str
    until: datetime
    reason: str


AgentEvent = (
    SessionStarted
    | AgentMessage
    | ToolCalled
    | ToolReturned
    | UsageReported
    | OutputLine
    | Notice
    | ProcessStarted
    | AttemptStarted
    | AttemptFinished
    | BackendSkipped
    | CooldownStarted
)


def claude_usage(reported: Mapping[str, object]) -> Usage:
    """Return Claude's `usage` object (a message's or a run's) as a Usage: cached and
    cache-writing input count as input, as the model's price does."""

    def count(key: str) -> int:  # a negative count would lower a cost cap's tally
        value = reported.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0

    cached = count("cache_read_input_tokens")
    total_in = count("input_tokens") + cached + count("cache_creation_input_tokens")
    return Usage(total_in, count("output_tokens"), cached)


def claude_cost(value: object) -> float | None:
    """Return Claude's `total_cost_usd` when it is a cost at all: a negative, NaN or infinite
    value (Python's json reads the last two) is not, and would lower or jam a cap's tally."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) and value >= 0 else None


def clip(text: str, limit: int = TEXT_LIMIT) -> str:
    """Redact, then cut to `limit` characters, marking the cut.

    Redacting first never splits a secret.
    """
    text = redact(text)
    if len(text) <= limit:
        return text
    return text[: limit - 40] + f"… [{len(text) - limit + 40} more characters]"


def event_record(event: AgentEvent) -> dict[str, object]:
    """Return the event as one JSON-ready mapping for channel.jsonl.

    `type` comes first, then its fields.
    """
    record: dict[str, object] = {"type": event.type}
    for item in fields(event):
        record[item.name] = _plain(getattr(event, item.name))
    return record


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Usage):
        return {item.name: getattr(value, item.name) for item in fields(value)}
    return value

"""What crosses the Executor port: a task handed to a remote engine, its run, and what comes back.

An executor runs an attempt's agent somewhere else (a GitHub Actions runner, a Kubernetes Job)
and keeps nothing that carries authority there: the remote side gets the task id, the commit
to start from and the prompt (on a ref Agent OS pushes for the task), and hands back a parcel:
the change as a binary git patch against that commit, the result contract and the agent's
output. Everything in a parcel is the agent's and is judged at home like a local run's files.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from orchestrator.core.agent import Usage, claude_cost, claude_usage

TASK_REF_PREFIX = "refs/agentos/tasks/"  # the ref Agent OS pushes a task's prompt on
PROMPT_NAME = "prompt.md"  # in the task commit's tree
TASK_NAME = "task.json"  # in the task commit's tree: task id, start commit, canary
# the parcel's members, all optional; anything else in a parcel is ignored
PATCH_NAME = "change.patch"
RESULT_NAME = "result.md"
LOG_NAME = "agent.log"
EXIT_NAME = "exit_code"
LIMITS = {
    PATCH_NAME: 20 * 1024 * 1024,
    RESULT_NAME: 256 * 1024,
    LOG_NAME: 2 * 1024 * 1024,
    EXIT_NAME: 16,
}
PARCEL_LIMIT = 48 * 1024 * 1024  # bytes of a downloaded parcel read at all
BEGIN_MARK = "=====agentos-parcel-begin====="  # a pod's log: the base64 tar.gz between the marks
END_MARK = "=====agentos-parcel-end====="


SETUP_MARGIN = timedelta(minutes=15)  # past the agent's timeout: a queue, a checkout, a pull
MAX_UNANSWERED = 30  # asks in a row an engine did not answer before its run counts as lost


def deadline(run: RemoteRun, timeout_minutes: float) -> datetime:
    """Return when a run still going is cancelled from home: the agent's timeout and a margin."""
    return run.started_at + timedelta(minutes=timeout_minutes) + SETUP_MARGIN


def task_ref(task_id: str) -> str:
    """Return the ref a task's prompt travels on."""
    return TASK_REF_PREFIX + task_id


class Phase(enum.Enum):
    """Where a remote run is; the last five are final."""

    QUEUED = "queued"  # accepted, not yet running (no runner, no node)
    RUNNING = "running"
    SUCCEEDED = "succeeded"  # the job ended well: its parcel can be collected
    FAILED = "failed"  # the job failed before a parcel (setup, image, the runner)
    CANCELLED = "cancelled"  # cancelled, by us (`off --now`) or by a person on the engine
    TIMED_OUT = "timed_out"  # the engine's deadline ended it
    VANISHED = "vanished"  # the engine no longer knows the run (deleted, expired, never created)

    @property
    def final(self) -> bool:
        """True once the run will not change any more."""
        return self not in (Phase.QUEUED, Phase.RUNNING)


@dataclass(frozen=True, slots=True)
class RemoteTask:
    """What an executor needs to start a run: everything else stays at home."""

    task_id: str
    repo: str  # owner/name
    base: str  # the base branch: a workflow is dispatched on it, never on the agent's branch
    start: str  # the commit the agent starts from (the task branch's head, or the base's)
    task_ref: str  # the ref holding the prompt, pushed before the start
    timeout_s: float  # the agent's own timeout; the engine's deadline is a little longer


@dataclass(frozen=True, slots=True)
class RemoteRun:
    """A started run, as kept in the task's room to be followed, or adopted after a restart."""

    executor: str  # the executor's name in the config
    handle: str  # the engine's own id for it: a workflow run id, a Job name
    start: str  # the commit it started from
    started_at: datetime
    canary: str = ""  # the attempt's canary it was given: the worker that collects checks for it


@dataclass(frozen=True, slots=True)
class RunState:
    phase: Phase
    detail: str = ""  # one line for the room and the logs (a conclusion, a pod's reason)


@dataclass(frozen=True, slots=True)
class Parcel:
    """What a finished run handed back; every field may be empty (a run that left nothing)."""

    patch: bytes = b""
    result_text: str | None = None
    log: str = ""
    exit_code: int | None = None
    problems: tuple[str, ...] = ()  # members refused: too large, not regular files


def from_members(members: dict[str, bytes], problems: tuple[str, ...] = ()) -> Parcel:
    """Return the parcel of named members (already size-checked)."""
    exit_text = members.get(EXIT_NAME, b"").decode("ascii", "replace").strip()
    result = members.get(RESULT_NAME)
    return Parcel(
        patch=members.get(PATCH_NAME, b""),
        result_text=result.decode("utf-8", "replace") if result is not None else None,
        log=members.get(LOG_NAME, b"").decode("utf-8", "replace"),
        exit_code=int(exit_text) if exit_text.lstrip("-").isdigit() else None,
        problems=problems,
    )


def reported_usage(log: str) -> Usage | None:
    """Return what the agent reported it used, from its output: Claude Code's stream-json
    `result` event (tokens and `total_cost_usd`), the last one; None when there is none.

    The output is the agent's own word (a remote agent can write anything there): counts and a
    cost that could lower or jam the caps' tally are not taken (`claude_usage`, `claude_cost`);
    an agent that under-reports is not caught."""
    for line in reversed(log.splitlines()):
        if '"result"' not in line:
            continue
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if not isinstance(event, dict) or event.get("type") != "result":
            continue
        reported = event.get("usage")
        usage = claude_usage(reported if isinstance(reported, dict) else {})
        cost = claude_cost(event.get("total_cost_usd"))
        return Usage(usage.input_tokens, usage.output_tokens, usage.cached_input_tokens, cost)
    return None

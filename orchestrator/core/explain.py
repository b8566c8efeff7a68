"""Why an issue is or is not running, and what the queue waits for: facts in, sentences out.

`control.explaining` gathers the facts (tracker, board, mailbox, switches, cooldowns); this
module only words them, so `/why`, `agentos why` and `/queue` say the same thing the same way
and can be table-tested.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from orchestrator.core.labels import APPROVED
from orchestrator.core.tasks import MailboxState
from orchestrator.core.trust import STALE

TRUSTED = ("write_access", "trusted_user")  # core.trust's reasons that run at once
UNREADABLE = "trust_unreadable"  # the author's standing could not be read: it does not run


@dataclass(frozen=True, slots=True)
class TaskFact:
    """One task file of the issue, as the mailbox has it."""

    task_id: str
    state: MailboxState  # the mailbox folder it is in
    generation: int
    attempt: int
    max_attempts: int
    reason: str = ""
    not_before: datetime | None = None  # deferred while every agent of its chain rests


@dataclass(frozen=True, slots=True)
class Facts:
    """What is known about one issue; None where it could not be read."""

    label: str  # "app#12"
    title: str | None = None
    is_open: bool | None = None
    state_reason: str | None = None
    board_status: str | None = None  # the status name, "" when not on the board
    board_ready: bool | None = None  # its status is Ready, however the board spells it
    open_blockers: tuple[str, ...] | None = None
    is_epic: bool = False
    # "Agent OS", "repo app", "dispatcher", "queue"
    switches: Mapping[str, bool] = field(default_factory=dict)
    tasks: tuple[TaskFact, ...] = ()
    pull: str | None = None  # "PR #40 (agent/12-add-login)"
    capacity: str | None = None  # "4 of 4 workers busy" when nothing more can start
    review_budget: str | None = None  # "2 PRs await review (max_awaiting_review 2): #12, #14"
    spend_cap: str | None = None  # "the day's cost cap is reached (global: $5.20 of $5.00)"
    overlaps: str | None = None  # "waits for #12: both name calc/sub.py" (core.dispatch)
    held_by: str = ""  # a holding label (core.labels.HOLDING) the issue carries
    author: str = ""
    trust: str | None = None  # core.trust's reason: "write_access", "approved_by:bob", "untrusted"
    cycle: tuple[str, ...] = ()  # a dependency cycle (core.dag) it is in, or its blockers wait on
    in_cycle: bool = False  # the issue itself is one of `cycle`
    resting: tuple[str, ...] = ()  # its chain's agents in cooldown: "claude until … (quota)"
    chain_resting: bool = False  # every agent of its chain rests
    now: datetime | None = None  # when the facts were read; a deferral past it is over
    unknown: tuple[str, ...] = ()  # what could not be read, one phrase each


def latest(tasks: Sequence[TaskFact]) -> TaskFact | None:
    """Return the newest task of an issue: highest generation, then attempt."""
    return max(tasks, key=lambda t: (t.generation, t.attempt), default=None)


def moment(at: datetime) -> str:
    """Return a time as /why says it: "2026-05-01 14:05 UTC"."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def deferred(task: TaskFact, now: datetime | None) -> bool:
    """True while a queued task is deferred: its `not_before` is still ahead."""
    return task.not_before is not None and (now is None or task.not_before > now)


def verdict(f: Facts) -> str:
    """Return the one-line answer: what the issue is doing, or the first thing that stops it."""
    task = latest(f.tasks)
    off = [name for name, on in f.switches.items() if not on]
    if f.is_open is False:
        return f"closed ({f.state_reason or 'completed'}): nothing to run"
    if task is not None and task.state is MailboxState.PROCESSING:
        return f"running: task {task.task_id}, attempt {task.attempt} of {task.max_attempts}"
    if f.pull:
        return f"in review: {f.pull}"
    if task is not None and task.state is MailboxState.INBOX:
        stops = [name for name in off if name != "dispatcher"]  # queued: the dispatcher is done
        if not stops and task.not_before is not None and deferred(task, f.now):
            return (
                f"queued: task {task.task_id}, deferred until {moment(task.not_before)}: "
                "every agent of its chain is resting"
            )
        why = f"{', '.join(stops)} off" if stops else (f.capacity or "its turn")
        return f"queued: task {task.task_id}, waiting for {why}"
    if task is not None and task.state in (MailboxState.ESCALATED, MailboxState.RETRIED):
        return (
            f"{task.state} after {task.attempt} of {task.max_attempts} attempts; "
            f"/retry {f.label} re-queues it"
        )
    return _not_started(f, off)


def _not_started(f: Facts, off: list[str]) -> str:
    if f.is_open is None and f.unknown:
        return f"not known: {f.unknown[0]}"
    if off:
        return f"not started: {', '.join(off)} off"
    if f.in_cycle:
        return (
            f"in a dependency cycle ({', '.join(f.cycle)}): none of them runs until one of "
            "those dependencies is removed"
        )
    if f.open_blockers:
        held = (
            f"; a dependency cycle ({', '.join(f.cycle)}) holds them until one of its "
            "dependencies is removed"
            if f.cycle
            else ""
        )
        return f"waiting for blockers: {', '.join(f.open_blockers)}{held}"
    if f.is_epic:
        return "an epic: its sub-issues are the tasks"
    if f.held_by:
        return f"held: labelled {f.held_by} (the groomer's); a person removes the label to run it"
    if f.board_status == "":
        return "not on the board: add it and move it to Ready"
    ready = f.board_ready if f.board_ready is not None else f.board_status == "Ready"
    if f.board_status is not None and not ready:
        return f"not Ready on the board (status {f.board_status}): move it to Ready"
    if f.trust is not None and not trusted(f.trust):
        return _unapproved(f)
    if f.unknown:
        return "not started; some facts could not be read (below)"
    if f.overlaps:
        return (
            f"Ready, but {f.overlaps} (it starts once that issue's PR merges, "
            "or that issue is closed or escalated)"
        )
    if f.review_budget:
        return f"waits: {f.review_budget}"
    if f.spend_cap:
        return f"Ready, but {f.spend_cap}: nothing new starts until the next day (UTC)"
    if f.capacity:
        return f"Ready, waiting for a free worker ({f.capacity})"
    if f.chain_resting:
        return (
            "Ready with no open blockers: the dispatcher queues it on its next tick, and it "
            f"starts once an agent of its chain is back ({', '.join(f.resting)})"
        )
    return "Ready with no open blockers: the dispatcher queues it on its next tick"


def trusted(reason: str) -> bool:
    """True when core.trust's reason lets the issue run: a writer's, a trusted user's, approved."""
    return reason in TRUSTED or reason.startswith("approved_by:")


def _unapproved(f: Facts) -> str:
    if f.trust == STALE:
        return (
            "waits for a new approval: its title or body changed after a user with write "
            f"access approved it; one removes the {APPROVED} label and adds it again"
        )
    if f.trust == UNREADABLE:
        return (
            "not started: its author's standing could not be read, and what is not checked "
            "does not run"
        )
    return (
        f"waits for approval: its author {f.author or '(unknown)'} cannot write to the repo; "
        f"a user with write access adds the {APPROVED} label"
    )


def standing(author: str, reason: str) -> str:
    """Return the author and their standing, in words, from core.trust's reason."""
    if reason == "write_access":
        return f"{author} (can write to the repo)"
    if reason == "trusted_user":
        return f"{author} (in github.trusted_users)"
    if reason.startswith("approved_by:"):
        return f"{author} (cannot write; approved by {reason.partition(':')[2]})"
    if reason == STALE:
        return f"{author} (cannot write; approved, then the title or body changed)"
    if reason == UNREADABLE:
        return f"{author} (standing not read)"
    return f"{author} (cannot write; not approved)"


def explain(f: Facts) -> str:
    """Return the reply to /why: the verdict, then each fact it rests on."""
    title = f" {f.title}" if f.title else ""
    lines = [f"{f.label}{title}: {verdict(f)}"]
    if f.is_open is not None:
        lines.append(f"- GitHub: {'open' if f.is_open else 'closed'}")
    if f.board_status is not None:
        lines.append(f"- board: {f.board_status or 'not on the board'}")
    if f.open_blockers is not None:
        lines.append(f"- blockers open: {', '.join(f.open_blockers) or 'none'}")
    if f.cycle:
        lines.append(f"- dependency cycle: {', '.join(f.cycle)}")
    if f.trust is not None:
        lines.append(f"- author: {standing(f.author, f.trust)}")
    if f.switches:
        lines.append(
            "- switches: "
            + ", ".join(f"{n} {'on' if on else 'off'}" for n, on in f.switches.items())
        )
    for task in sorted(f.tasks, key=lambda t: (t.generation, t.attempt)):
        reason = f" ({task.reason})" if task.reason else ""
        later = (
            f", deferred until {moment(task.not_before)}"
            if task.not_before is not None
            and task.state is MailboxState.INBOX
            and deferred(task, f.now)
            else ""
        )
        lines.append(
            f"- task {task.task_id}: {task.state}, "
            f"attempt {task.attempt} of {task.max_attempts}{reason}{later}"
        )
    if not f.tasks:
        lines.append("- tasks: none yet")
    if f.resting:
        lines.append(f"- agents resting: {', '.join(f.resting)}")
    if f.pull:
        lines.append(f"- pull request: {f.pull}")
    if f.review_budget:
        lines.append(f"- review budget spent: {f.review_budget}")
    if f.spend_cap:
        lines.append(f"- spend: {f.spend_cap}")
    if f.capacity:
        lines.append(f"- capacity: {f.capacity}")
    if f.overlaps:
        lines.append(f"- would edit the same files as an issue in flight: {f.overlaps}")
    lines += [f"- unknown: {what}" for what in f.unknown]
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Waiting:
    """A task in the mailbox that is not running."""

    label: str  # "app#12"
    title: str
    task: TaskFact
    repo_key: str
    priority: int


def queue_report(
    waiting: Sequence[Waiting],
    running: int,
    limit: int,
    per_repo: Mapping[str, tuple[int, int]],
    switches: Mapping[str, bool],
    repo_on: Mapping[str, bool],
) -> str:
    """Return the reply to /queue: what waits, in the order it would start, and why each waits."""
    queued = sorted(
        (w for w in waiting if w.task.state is MailboxState.INBOX),
        key=lambda w: (w.priority, w.task.task_id),
    )
    lines = [f"Queue: {len(queued)} waiting, {running} running (limit {limit})"]
    off = [name for name, on in switches.items() if not on]
    if off:
        lines.append(
            f"Nothing starts while {', '.join(off)} {'is' if len(off) == 1 else 'are'} off."
        )
    for i, item in enumerate(queued, 1):
        why = _wait_reason(item, running, limit, per_repo, repo_on)
        lines.append(f"{i}. {item.label} {item.title} ({item.task.task_id}): {why}")
    escalated = [w for w in waiting if w.task.state is MailboxState.ESCALATED]
    if escalated:
        lines.append(
            "Escalated (/retry N): " + ", ".join(f"{w.label} ({w.task.task_id})" for w in escalated)
        )
    if len(lines) == 1 and not off:
        lines.append("Nothing waits.")
    return "\n".join(lines)


def _wait_reason(
    item: Waiting,
    running: int,
    limit: int,
    per_repo: Mapping[str, tuple[int, int]],
    repo_on: Mapping[str, bool],
) -> str:
    if not repo_on.get(item.repo_key, True):
        return f"repo {item.repo_key} is off"
    busy, cap = per_repo.get(item.repo_key, (0, 1))
    if busy >= cap:
        return f"repo {item.repo_key} has {busy} of {cap} running"
    if running >= limit:
        return f"all {limit} workers busy"
    return "starts on the next queue tick"

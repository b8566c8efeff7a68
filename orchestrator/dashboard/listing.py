"""The mailbox's tasks by state, as the dashboard lists them: counted, and the newest read.

Task files are parsed here (store.mailbox's `parse`) rather than through `Mailbox`, which sets a
damaged file aside: the dashboard changes nothing, and lists a file it cannot read as such.
A year's ended tasks are thousands of files, so for an ended state (delivered, retried,
dropped) the newest are found through the ledger's order of judgement, and only those are
stat'ed and read; the states waiting or running are read whole, newest first by the time their
files entered the folder (the claim's rename sets a file's ctime).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orchestrator.core.tasks import MailboxState, parse_id
from orchestrator.core.worktree import is_valid_key
from orchestrator.store import mailbox
from orchestrator.store.rooms import read_heartbeat

SHOWN_ACTIVE, SHOWN_ENDED = 100, 12  # tasks listed per state: waiting or running, ended
ACTIVE = (MailboxState.PROCESSING, MailboxState.INBOX, MailboxState.ESCALATED)
ORDER = (*ACTIVE, MailboxState.DELIVERED, MailboxState.RETRIED, MailboxState.DROPPED)


@dataclass(frozen=True, slots=True)
class TaskLine:
    """A task file of the mailbox, with what the ledger says of it."""

    task_id: str
    repo_key: str
    issue: int
    attempt: int
    title: str
    state: str  # its mailbox folder
    since: datetime | None  # when it entered that folder
    chain: str  # its agents, in order
    outcome: str = ""  # the ledger's judgement (`open_pr`, `retry`, …) or lifecycle state
    cost_usd: float | None = None
    pr: int | None = None


@dataclass(frozen=True, slots=True)
class StateGroup:
    """The tasks of one mailbox state: how many, and those listed (newest first)."""

    state: str
    count: int
    tasks: tuple[TaskLine, ...]


@dataclass(frozen=True, slots=True)
class RunningAgent:
    task: TaskLine
    elapsed_s: float  # since its worker claimed it
    beat_age_s: float | None  # since its worker's last heartbeat


def is_task_id(text: str) -> bool:
    """Tell whether `text` is a task id (and so one safe path segment)."""
    return is_valid_key(text) and parse_id(text) is not None


def listing(root: Path, newest: Sequence[str] | None) -> dict[MailboxState, StateGroup]:
    """Each state's task count and its newest task files, read.

    `newest` is the ledger's task ids, the last judged first (None without a ledger): an ended
    state lists those of them it holds, or, when they are too few, its files by their ctime.
    """
    found = {}
    wanted = [f"{task_id}.md" for task_id in newest or ()]
    for state in ORDER:
        folder = root / state.value
        names = _names(folder)
        keep = SHOWN_ACTIVE if state in ACTIVE else SHOWN_ENDED
        chosen: list[str] = []
        if state not in ACTIVE and newest is not None:
            present = set(names)
            chosen = [name for name in wanted if name in present][:keep]
        if len(chosen) < min(keep, len(names)):
            chosen = [n for _, n in sorted(_stamped(folder, names), reverse=True)[:keep]]
        lines = (_line(folder / name, state) for name in chosen)
        found[state] = StateGroup(state.value, len(names), tuple(filter(None, lines)))
    return found


def _names(folder: Path) -> list[str]:
    try:
        return [n for n in os.listdir(folder) if n.endswith(".md") and not n.startswith(".")]
    except (FileNotFoundError, NotADirectoryError):
        return []


def _stamped(folder: Path, names: list[str]) -> list[tuple[float, str]]:
    found = []
    for name in names:
        try:
            found.append((os.stat(folder / name).st_ctime, name))
        except FileNotFoundError:  # moved meanwhile
            continue
    return found


def _line(path: Path, state: MailboxState) -> TaskLine | None:
    """A task file as a line (None when it moved meanwhile); one that cannot be read is listed
    as such, never set aside."""
    task_id = path.name.removesuffix(".md")
    try:
        since = datetime.fromtimestamp(path.stat().st_ctime, UTC)
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        return TaskLine(task_id, "", 0, 0, _unreadable(exc), state.value, None, "")
    try:
        task = mailbox.parse(text)
    except ValueError as exc:
        return TaskLine(task_id, "", 0, 0, _unreadable(exc), state.value, since, "")
    return TaskLine(
        task_id=task.id,
        repo_key=task.repo_key,
        issue=task.issue,
        attempt=task.attempt,
        title=task.title,
        state=state.value,
        since=since,
        chain=", ".join(task.chain),
    )


def _unreadable(exc: Exception) -> str:
    first = str(exc).splitlines()[0] if str(exc) else ""
    return f"(unreadable task file: {type(exc).__name__}: {first[:200]})"


def with_outcomes(group: StateGroup, outcomes: dict[str, dict[str, Any]]) -> StateGroup:
    """The group's lines with the ledger's judgement, cost and PR of each."""
    lines = []
    for line in group.tasks:
        row = outcomes.get(line.task_id, {})
        cost, pr = row.get("cost_usd"), row.get("pr")
        lines.append(
            replace(
                line,
                outcome=str(row.get("next") or row.get("state") or ""),
                cost_usd=float(cost) if isinstance(cost, (int, float)) else None,
                pr=pr if isinstance(pr, int) else None,
            )
        )
    return replace(group, tasks=tuple(lines))


def running(rooms: Path, processing: StateGroup, now: datetime) -> tuple[RunningAgent, ...]:
    """The running agents: how long since their worker claimed them, and since it last beat."""
    found = []
    for task in processing.tasks:
        beat = read_heartbeat(rooms / task.task_id)
        since = task.since or now
        found.append(
            RunningAgent(
                task,
                max(0.0, (now - since).total_seconds()),
                None if beat is None else max(0.0, (now - beat).total_seconds()),
            )
        )
    return tuple(found)

"""A task: one attempt at one issue, as the mailbox carries it between dispatcher and queue.

The task vocabulary is written here once: what kind of work a task is (`TaskType`) and where
its file is (`MailboxState`). docs/states.md maps these to the lifecycle, the board and labels.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import datetime


class TaskType(enum.StrEnum):
    """What a task does; also the name of its role folder (templates/roles/<type>/)."""

    IMPLEMENTATION = (
        "implementation"  # work an issue from its brief, on a fresh or continued branch
    )
    FIXING = "fixing"  # make an open PR mergeable: red checks, a conflict, a review


class MailboxState(enum.StrEnum):
    """Where a task file is (runtime/mailbox/<state>/): how far that one attempt got.

    A move between folders is the state change (an atomic rename). Only INBOX and PROCESSING
    are active; the other four are ends, and each end word means one thing.
    """

    INBOX = "inbox"  # queued: waits for a worker (or for its agents' cooldown to end)
    PROCESSING = "processing"  # claimed: a worker runs the attempt
    DELIVERED = "delivered"  # ended with its work on GitHub: a PR opened, or a fix pushed to one
    RETRIED = "retried"  # ended without delivering; another attempt took over (a follow-up,
    # the PR monitor's next fix round, or a /retry from chat)
    ESCALATED = "escalated"  # ended handing the issue to a person; waits for them
    DROPPED = "dropped"  # ended without work: its issue was closed (on GitHub or from chat)

    @property
    def active(self) -> bool:
        """True while the attempt waits to run or runs."""
        return self in ACTIVE


ACTIVE = (MailboxState.INBOX, MailboxState.PROCESSING)  # in the order a task passes them
# Folders of earlier versions, and where their files belong now (store.mailbox moves them once).
RENAMED = {
    "done": MailboxState.DELIVERED,
    "failed": MailboxState.RETRIED,
    "blocked": MailboxState.ESCALATED,
}
_ID = re.compile(r"^(?P<key>[a-z0-9][a-z0-9._-]*)-(?P<issue>\d+)-g(?P<gen>\d+)-a(?P<attempt>\d+)$")


def task_id(repo_key: str, issue: int, generation: int, attempt: int) -> str:
    """Return the id of attempt `attempt` of the `generation`-th dispatch of an issue.

    Derived, never random: two dispatcher ticks that see the same Ready issue derive the same
    id, so the second finds the first's file and queues nothing.
    """
    return f"{repo_key}-{issue}-g{generation}-a{attempt}"


def parse_id(value: str) -> tuple[str, int, int, int] | None:
    """Split a task id into (repo key, issue, generation, attempt); None if it is not one."""
    match = _ID.match(value)
    if match is None:
        return None
    return match["key"], int(match["issue"]), int(match["gen"]), int(match["attempt"])


@dataclass(frozen=True, slots=True)
class Task:
    id: str
    repo_key: str
    repo: str  # "owner/name"
    issue: int
    title: str
    branch: str
    base: str
    task_type: TaskType
    chain: tuple[str, ...]  # agent backends, tried in order
    attempt: int
    max_attempts: int
    generation: int
    priority: int
    created_at: datetime
    reason: str = ""  # why it was queued: the word logs and tests share
    body: str = ""  # goal, criteria, constraints, context: the prompt's task section
    history: tuple[str, ...] = field(default=())  # earlier attempts' results, rendered
    not_before: datetime | None = None  # set while every agent of the chain is resting
    pr: int | None = None  # fixing tasks: the pull request they fix

    @property
    def key(self) -> tuple[str, int]:
        """The issue this task works on, as (repo key, issue number)."""
        return (self.repo_key, self.issue)

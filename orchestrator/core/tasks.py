"""A task: one attempt at one issue, as the mailbox carries it between dispatcher and queue."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

TASK_TYPES = ("implementation", "fixing")
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
    repo: str                  # "owner/name"
    issue: int
    title: str
    branch: str
    base: str
    task_type: str
    chain: tuple[str, ...]     # agent backends, tried in order
    attempt: int
    max_attempts: int
    generation: int
    priority: int
    created_at: datetime
    reason: str = ""           # why it was queued: the word logs and tests share
    body: str = ""             # goal, criteria, constraints, context: the prompt's task section
    history: tuple[str, ...] = field(default=())   # earlier attempts' results, rendered
    not_before: datetime | None = None             # set while every agent of the chain is resting
    pr: int | None = None                          # fixing tasks: the pull request they fix

    @property
    def key(self) -> tuple[str, int]:
        """The issue this task works on, as (repo key, issue number)."""
        return (self.repo_key, self.issue)

"""The domain values every layer shares: issues, pull requests, board items, checks.

Adapters build these from GitHub's payloads (normalised once, at the edge); nothing past a
port ever sees a PyGithub object or a raw dict. All are frozen: decisions are made on values.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class BoardStatus(enum.Enum):
    """The board's Status options; values are the names GitHub shows (configurable per board)."""

    BACKLOG = "Backlog"
    READY = "Ready"
    IN_PROGRESS = "In Progress"
    IN_REVIEW = "In Review"
    BLOCKED = "Blocked"
    DONE = "Done"

    @property
    def label(self) -> str:
        """The label that stands for this status on repos without a board: `status:ready`."""
        return "status:" + self.value.lower().replace(" ", "-")


class Permission(enum.IntEnum):
    """A user's permission on a repository, ordered so `>= WRITE` reads naturally."""

    NONE = 0
    READ = 1
    TRIAGE = 2
    WRITE = 3
    MAINTAIN = 4
    ADMIN = 5


@dataclass(frozen=True, slots=True, order=True)
class IssueRef:
    """An issue anywhere on GitHub: `owner/name#N`."""

    repo: str
    number: int

    def __str__(self) -> str:
        return f"{self.repo}#{self.number}"


@dataclass(frozen=True, slots=True)
class Issue:
    ref: IssueRef
    id: int  # REST id: what dependency and sub-issue endpoints take
    node_id: str  # GraphQL id: what the board takes
    title: str
    body: str
    author: str  # login, lower-cased
    labels: tuple[str, ...]  # trimmed, lower-cased
    is_open: bool
    created_at: datetime
    updated_at: datetime
    state_reason: str | None = None  # completed | not_planned | reopened | None
    is_pull_request: bool = False

    @property
    def number(self) -> int:
        return self.ref.number


@dataclass(frozen=True, slots=True)
class FiledIssue:
    """An issue as the improvement jobs read what they filed: open, or closed since a date.

    `closed_at` is None while open; `state_reason` is GitHub's (completed, not_planned,
    reopened, or None).
    """

    number: int
    title: str
    body: str
    is_open: bool
    closed_at: datetime | None
    state_reason: str | None


@dataclass(frozen=True, slots=True)
class Comment:
    id: int
    author: str
    body: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class LabelEvent:
    """Someone added or removed a label: the trail the approval check reads."""

    label: str
    actor: str
    added: bool  # False: removed
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Dependencies:
    """What GitHub itself records about an issue's place in the graph.

    `closed_blockers`: those of `blocked_by` the read saw closed (a board read brings each
    blocker's state), so they need no read of their own. It is what the read saw, not part of
    GitHub's record: two reads of one record compare equal whether or not they brought it.
    """

    blocked_by: tuple[IssueRef, ...] = ()
    sub_issues: tuple[IssueRef, ...] = ()
    parent: IssueRef | None = None
    closed_blockers: frozenset[IssueRef] = field(default=frozenset(), compare=False)


class CheckState(enum.Enum):
    PENDING = "pending"  # queued or in progress
    SUCCESS = "success"
    FAILURE = "failure"  # failure, timed_out, cancelled, action_required, startup_failure
    NEUTRAL = "neutral"  # neutral or skipped: neither blocks nor passes


@dataclass(frozen=True, slots=True)
class Check:
    """One check run or commit status on a PR's head commit."""

    name: str
    state: CheckState
    summary: str = ""  # a run's output title (else its summary), a status's description
    url: str | None = None  # a run's details_url (else html_url), a status's target_url
    text: str = ""  # a run's output.text (GitHub keeps up to 65,535 characters)
    run_id: int | None = None  # the check run's id; None for a commit status
    annotations: int = 0  # how many annotations the check run carries
    job: int | None = None  # the GitHub Actions job the run reports (its log can be read)


@dataclass(frozen=True, slots=True)
class Annotation:
    """A check run's note on a line of a file (`path:line: message`)."""

    path: str
    line: int | None
    message: str
    level: str = "failure"  # notice | warning | failure


@dataclass(frozen=True, slots=True)
class CheckDetails:
    """What a failed check says beyond its summary and text, read only when a fixer needs it."""

    annotations: tuple[Annotation, ...] = ()
    log: str = ""  # a GitHub Actions job's log, as downloaded (its head and its end when huge)


@dataclass(frozen=True, slots=True)
class PullRequest:
    repo: str
    number: int
    title: str
    body: str
    head: str  # branch name
    base: str
    head_sha: str
    author: str
    is_open: bool
    merged: bool
    draft: bool
    mergeable: bool | None  # None: GitHub is still computing it
    mergeable_state: str  # clean | behind | dirty | blocked | unstable | unknown ...
    url: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class QueueRemoval:
    """The last time GitHub's merge queue removed a pull request, and why (GitHub's word)."""

    reason: str  # CI_FAILURE, MERGE_CONFLICT, ... ; "" when GitHub gave none
    at: datetime
    sha: str  # the pull request's head when it was removed ("" unknown)


@dataclass(frozen=True, slots=True)
class QueueState:
    """A pull request and its base's merge queue, as GitHub says now."""

    enabled: bool  # the base has a merge queue: merges go through it
    node_id: str  # the pull request's GraphQL id, which enqueueing names
    queued: bool
    entry_state: str = ""  # AWAITING_CHECKS, MERGEABLE, UNMERGEABLE, QUEUED, LOCKED; "" not queued
    removal: QueueRemoval | None = None
    # the entry's merge group commit (GitHub's MergeQueueEntry.headCommit), where the queue's CI
    # runs; "" when not queued or the group is not built yet
    group_sha: str = ""


@dataclass(frozen=True, slots=True)
class Review:
    author: str
    state: str  # APPROVED | CHANGES_REQUESTED | COMMENTED | DISMISSED | PENDING
    body: str
    submitted_at: datetime | None


@dataclass(frozen=True, slots=True)
class BoardItem:
    """An issue's card on a board, with what the board read brought along.

    `content` is the issue as read in the same requests as the board (title, body, labels,
    author, state), so a dispatcher needs no read per item; None for pull requests and for
    items a board did not read. `dependencies` is GitHub's record (blocked-by, sub-issues,
    parent) for the open issues in the statuses `Board.items` was asked to detail, else None.
    """

    item_id: str
    issue: IssueRef
    status: BoardStatus | None  # None: no status, or one Agent OS does not use
    status_name: str | None = None  # the option's name as the board spells it
    content: Issue | None = None
    dependencies: Dependencies | None = None


@dataclass(frozen=True, slots=True)
class BoardField:
    """The board's Status field: its id and the option id behind each status."""

    project_id: str
    field_id: str
    options: dict[BoardStatus, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Project:
    """A Projects (v2) board: owner (user or organisation), number, GraphQL id, title and URL."""

    owner: str
    number: int
    id: str
    title: str
    url: str


@dataclass(frozen=True, slots=True)
class TestRun:
    """The repo's own test command, run by the orchestrator in a task's worktree."""

    __test__ = False  # not a pytest class, despite the name

    passed: bool
    line: str  # one line for the result contract: "pytest -q: passed in 3.1 s"
    tail: str = ""  # the last lines of its output (redacted), for a fixing prompt
    ran: bool = True  # False: it timed out or could not start, so its failure says nothing


@dataclass(frozen=True, slots=True)
class RepoFile:
    """One file of a repository at a ref, as text: what `Tracker.file_text` reads."""

    text: str
    sha: str  # the blob's git sha: the same text, the same sha


# -- what `agentos init` learns about a token, a repository and a chat ----------------------------
@dataclass(frozen=True, slots=True)
class Identity:
    login: str
    scopes: frozenset[str] | None  # None: a fine-grained token or an app, which report no scopes


@dataclass(frozen=True, slots=True)
class RepoInfo:
    full_name: str
    default_branch: str
    html_url: str
    clone_url: str
    can_push: bool
    has_issues: bool


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """The message the user sent the bot to pair it: where from and who."""

    update_id: int
    chat_id: int
    chat_type: str
    chat_title: str
    user_id: int
    user_name: str
    text: str

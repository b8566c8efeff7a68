"""The Protocols jobs depend on; adapters implement them, and only core.model types cross them."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from orchestrator.core.model import (
    BoardItem, BoardStatus, Check, Comment, Dependencies, Issue, IssueRef, LabelEvent, Permission,
    PullRequest, Review,
)
from orchestrator.core.batching import Delivery
from orchestrator.core.commands import Command, Pressed, Round
from orchestrator.core.notify import Notification


class Tracker(Protocol):
    """GitHub issues and pull requests (REST). Every method raises TrackerError on failure."""

    def issue(self, ref: IssueRef) -> Issue:
        """Return the issue (or pull request) as it is now."""

    def open_issues(self, repo: str, labels: Sequence[str] = ()) -> list[Issue]:
        """Return the repo's open issues (not pull requests) carrying all of `labels`."""

    def create_issue(self, repo: str, title: str, body: str, labels: Sequence[str] = ()) -> Issue:
        """Open an issue."""

    def close_issue(self, ref: IssueRef, reason: str = "completed") -> None:
        """Close an issue as `completed` or `not_planned`; closing a closed issue is a no-op."""

    def add_labels(self, ref: IssueRef, labels: Sequence[str]) -> None:
        """Add labels to an issue, creating missing ones in the repo first."""

    def remove_label(self, ref: IssueRef, label: str) -> None:
        """Remove a label from an issue; a label it does not carry is a no-op."""

    def ensure_labels(self, repo: str, labels: Mapping[str, str]) -> None:
        """Create each `name -> colour` label the repo lacks; never recolour existing ones."""

    def label_events(self, ref: IssueRef) -> list[LabelEvent]:
        """Return who added or removed which label, oldest first."""

    def permission(self, repo: str, user: str) -> Permission:
        """Return the user's permission on the repo (NONE for strangers)."""

    def dependencies(self, issue: Issue) -> Dependencies:
        """Return the issues blocking this one, its sub-issues and its parent, as GitHub records them."""

    def add_blocker(self, ref: IssueRef, blocker: Issue) -> None:
        """Record that `blocker` blocks `ref` (GitHub's native issue dependency)."""

    def add_sub_issue(self, parent: IssueRef, child: Issue) -> None:
        """Make `child` a sub-issue of `parent`."""

    def comments(self, ref: IssueRef) -> list[Comment]:
        """Return the issue's comments, oldest first."""

    def upsert_comment(self, ref: IssueRef, marker: str, body: str) -> Comment:
        """Keep one comment carrying the hidden `marker`: edit it if present, else create it."""

    def open_pull(self, repo: str, head: str, base: str, title: str, body: str) -> PullRequest:
        """Open a PR from `head`, or return the one already open from it (never a duplicate)."""

    def pull(self, repo: str, number: int) -> PullRequest:
        """Return the pull request as it is now (mergeability included)."""

    def open_pulls(self, repo: str, head_prefix: str = "agent/") -> list[PullRequest]:
        """Return the repo's open PRs whose head branch starts with `head_prefix`."""

    def merge_pull(self, pr: PullRequest, method: str = "squash") -> str:
        """Merge the PR at its current head; return the merge commit SHA."""

    def close_pull(self, pr: PullRequest) -> None:
        """Close the PR without merging."""

    def delete_branch(self, repo: str, branch: str) -> None:
        """Delete a branch; a branch already gone is a no-op."""

    def checks(self, repo: str, sha: str) -> list[Check]:
        """Return the check runs and commit statuses on a commit, newest per name."""

    def reviews(self, pr: PullRequest) -> list[Review]:
        """Return the PR's reviews, oldest first."""


class Board(Protocol):
    """A repo's status column: a Projects (v2) board, or `status:*` labels without one."""

    def items(self) -> list[BoardItem]:
        """Return every issue on the board with its status, in as few requests as pages allow."""

    def add(self, issue: Issue) -> BoardItem:
        """Put the issue on the board (a no-op returning its item when already there)."""

    def set_status(self, item: BoardItem, status: BoardStatus) -> BoardItem:
        """Move the item to `status` and return it updated."""


class Notifier(Protocol):
    """Tell the operator: Telegram when configured (through the outbox), otherwise the event log."""

    def notify(self, note: Notification) -> None:
        """Record the note durably for delivery; never raises for chat or disk trouble (it is logged)."""


class ControlPlane(Protocol):
    """What the chat adapter calls: commands, button presses, the outbox and the update offset."""

    def command(self, command: Command, who: str) -> str:
        """Carry out a command from an authorised user and return the reply (plain text)."""

    def press(self, token: str, action: str, who: str) -> Pressed:
        """Act on an escalation button once; a second press only says what the first did."""

    def outgoing(self, paced: bool) -> Delivery | None:
        """Return the pending notifications as messages, or None; `paced`: only when a burst is over."""

    def sent(self, delivery: Delivery, count: int) -> None:
        """Record that the first `count` messages of `delivery` went out."""

    def last_update_id(self) -> int:
        """Return the id of the last update handled (0 before the first)."""

    def handled(self, update_id: int) -> None:
        """Persist that the update was handled (atomically, before the next one is looked at)."""

    def keep_serving(self) -> bool:
        """Return whether a long-running bot should go on (its job switch is on)."""


class Chat(Protocol):
    """The chat transport (Telegram): poll once, or serve until stopped; raises ChatError when unreachable."""

    def poll_round(self, control: ControlPlane, *, dry_run: bool = False) -> Round:
        """Handle the updates waiting now, then deliver pending notifications; `dry_run` only counts them."""

    def serve(self, control: ControlPlane) -> None:
        """Long-poll and deliver until SIGTERM/SIGINT or `control.keep_serving()` turns False."""

"""The Protocols jobs depend on; adapters implement them, and only core.model types cross them."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from orchestrator.core.agent import AgentEvent, AgentOutcome, AgentRequest
from orchestrator.core.batching import MessageBatch
from orchestrator.core.chat import Command, Pressed, Round
from orchestrator.core.model import (
    BoardField,
    BoardItem,
    BoardStatus,
    Check,
    CheckDetails,
    Comment,
    Dependencies,
    FiledIssue,
    Issue,
    IssueRef,
    LabelEvent,
    Permission,
    Project,
    PullRequest,
    QueueState,
    RepoFile,
    Review,
    TestRun,
)
from orchestrator.core.notify import Notification
from orchestrator.core.outbound import OutgoingFile
from orchestrator.core.routing import Cooldown
from orchestrator.core.train import Car, TrainBuild
from orchestrator.core.verification import CommitStatus, FileDiff
from orchestrator.core.workspace import BaseCommit, CommitOutcome, RebaseOutcome, Workspace


class Tracker(Protocol):
    """GitHub issues and pull requests (REST). Every method raises TrackerError on failure."""

    def issue(self, ref: IssueRef) -> Issue:
        """Return the issue (or pull request) as it is now."""

    def open_issues(self, repo: str, labels: Sequence[str] = ()) -> list[Issue]:
        """Return the repo's open issues (not pull requests) carrying all of `labels`."""

    def create_issue(self, repo: str, title: str, body: str, labels: Sequence[str] = ()) -> Issue:
        """Open an issue."""

    def update_issue(
        self, ref: IssueRef, *, title: str | None = None, body: str | None = None
    ) -> Issue:
        """Set an issue's title, body or both (None leaves one as is); return the issue now."""

    def close_issue(self, ref: IssueRef, reason: str = "completed") -> None:
        """Close an issue as `completed` or `not_planned`; closing a closed issue is a no-op."""

    def reopen_issue(self, ref: IssueRef) -> None:
        """Reopen a closed issue; reopening an open issue is a no-op."""

    def pin_issue(self, ref: IssueRef) -> bool:
        """Pin the issue to its repo while one of the repo's three pin slots is free. True when it
        is pinned (already, or now), False when the three are taken; never unpins another."""

    def queue_state(self, pr: PullRequest) -> QueueState:
        """Return where the PR stands with its base's merge queue: whether the base has one,
        whether the PR is queued, and the last removal from it with GitHub's reason."""

    def enqueue_pull(self, pr: PullRequest, node_id: str) -> str:
        """Add the PR (`node_id`, from `queue_state`) to its base's merge queue at its head;
        return its merge group's commit when GitHub built it already, else "". TrackerError when
        GitHub refuses (the head moved, not mergeable)."""

    def filed_issues(self, repo: str, label: str, closed_since: datetime) -> list[FiledIssue]:
        """Return the issues (no PRs) with `label`, open or closed since `closed_since` (aware)."""

    def closer(self, ref: IssueRef) -> int | None:
        """Return the repo's merged PR whose merge closed the issue; None if open or none did."""

    def add_labels(self, ref: IssueRef, labels: Sequence[str]) -> None:
        """Add labels to an issue, creating missing ones in the repo first."""

    def remove_label(self, ref: IssueRef, label: str) -> None:
        """Remove a label from an issue; a label it does not carry is a no-op."""

    def ensure_labels(self, repo: str, labels: Mapping[str, str]) -> None:
        """Create each `name -> colour` label the repo lacks; never recolour existing ones."""

    def label_events(self, ref: IssueRef) -> list[LabelEvent]:
        """Return who added or removed which label, oldest first."""

    def edited_at(self, ref: IssueRef) -> datetime | None:
        """Return when the issue's title or body was last edited; None if neither ever was."""

    def permission(self, repo: str, user: str) -> Permission:
        """Return the user's permission on the repo (NONE for strangers)."""

    def file_text(self, repo: str, path: str, ref: str) -> RepoFile | None:
        """Return the file at `path` as the branch, tag or commit `ref` has it, with its blob sha;
        None when there is no such file. TrackerError for a directory, or a file over 1 MB or
        not UTF-8 text."""

    def dependencies(self, issue: Issue) -> Dependencies:
        """Return the issues blocking this one, its sub-issues and parent, as GitHub has them."""

    def blocked_by(self, ref: IssueRef) -> tuple[IssueRef, ...]:
        """Return the issues GitHub records as blocking this one (part one of `dependencies`)."""

    def add_blocker(self, ref: IssueRef, blocker: Issue) -> None:
        """Record that `blocker` blocks `ref` (GitHub's native issue dependency)."""

    def remove_blocker(self, ref: IssueRef, blocker: Issue) -> None:
        """Drop the record that `blocker` blocks `ref`; a link that is not there is a no-op."""

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

    def check_details(self, repo: str, check: Check) -> CheckDetails:
        """Return a check run's annotations (none asked for when it has none) and, for a GitHub
        Actions job, the job's log; nothing, without a request, for a commit status."""

    def reviews(self, pr: PullRequest) -> list[Review]:
        """Return the PR's reviews, oldest first."""

    def pull_files(self, pr: PullRequest) -> list[FileDiff]:
        """Return the files the PR changes against its merge base, with their patches (empty
        where GitHub leaves one out: a binary or very large file)."""

    def create_status(self, repo: str, sha: str, status: CommitStatus) -> None:
        """Set a commit status on `sha`; the newest per context is the one `checks` returns."""

    def create_review(self, pr: PullRequest, event: str, body: str) -> str:
        """Submit a review of the PR's head (COMMENT, APPROVE or REQUEST_CHANGES); return its URL.
        ReviewRefused when the reviewer is the PR's author and the event is not COMMENT."""


class Board(Protocol):
    """A repo's status column: a Projects (v2) board, or `status:*` labels without one."""

    def items(self, detail: Collection[BoardStatus] = (BoardStatus.READY,)) -> list[BoardItem]:
        """Return the repo's issues on the board with status and content, in as few requests as
        pages allow. The open issues whose status is in `detail` also carry their dependencies. A
        closed issue may be left out (the label board lists open issues only); when listed, its
        content says closed."""

    def stamp(self, previous: str | None = None) -> str | None:
        """Return a fingerprint that changes whenever `items()` would answer differently (a
        status, an item, an issue's content), read without spending GraphQL points; None when
        the board has none to offer (then it is read in full). `previous` is a stamp it gave
        before, from which it may learn how to take the next one."""

    def add(self, issue: Issue) -> BoardItem:
        """Put the issue on the board (a no-op returning its item when already there)."""

    def set_status(self, item: BoardItem, status: BoardStatus) -> BoardItem:
        """Move the item to `status` and return it updated."""


class BoardAdmin(Protocol):
    """Setting boards up, as `agentos init` does; every method is safe to repeat."""

    def project(self, owner: str, number: int) -> Project:
        """Return the owner's board with this number; TrackerError if the token sees none."""

    def find_or_create(self, owner: str, title: str) -> Project:
        """Return the owner's open board with this title, creating it when there is none."""

    def link(self, project: Project, repo: str) -> None:
        """Link the board to a repo, for its Projects tab; a no-op if linked already."""

    def ensure_statuses(
        self, project: Project, names: Mapping[BoardStatus, str] | None = None
    ) -> BoardField:
        """Give the Status field an option per status, keeping all its options (and item values)."""

    def ensure_status_labels(self, repo: str) -> None:
        """Create the `status:*` labels a repo without a board needs; existing labels stay as is."""


class Notifier(Protocol):
    """Tell the operator: Telegram when configured (through the outbox), otherwise the event log."""

    def notify(self, note: Notification) -> None:
        """Record the note durably for delivery; chat or disk trouble is logged, never raised."""


class AuditLog(Protocol):
    """The tamper-evident record of authority-bearing acts (docs/audit.md): push, PR opened,
    merged or closed, label, switch, approval honoured, gate refusal."""

    def record(self, act: str, *, actor: str, **fields: str | int | None) -> None:
        """Append `act` (noun.past_tense) by `actor` to the chain; None fields are left out,
        strings redacted. AuditError when it cannot be written: the act is not hidden."""


class LLM(Protocol):
    """A language model for small text jobs (structuring a brief, drafting issues)."""

    def complete(self, system: str, prompt: str, max_tokens: int = 1024) -> str:
        """Return the model's text reply; raise an AgentOSError subclass when it cannot answer."""


class Worktrees(Protocol):
    """A task's git worktree from a shared clone of its repo; every method raises WorktreeError."""

    def prepare(
        self, repo_key: str, task_id: str, branch: str, base: str, *, fresh: bool = False
    ) -> Workspace:
        """Fetch, then check out `<worktrees_dir>/<repo_key>/<task_id>` on `branch`: continuing
        origin/<branch> when it exists (unless `fresh`), else new from origin/<base>. A leftover
        worktree of the same task or branch (a killed run) is removed first."""

    def commit(self, ws: Workspace, message: str) -> CommitOutcome:
        """Commit the files the agent left (never its commits, hooks or config; never the result
        file) on top of where the task started; report the diff to the base."""

    def changes(self, ws: Workspace, sha: str) -> tuple[OutgoingFile, ...]:
        """Return each file `sha` adds or changes against the base, for the outbound gate."""

    def merge_base(self, ws: Workspace) -> tuple[str, ...]:
        """Start merging origin/<base> into the task's repository (a fixing task for a conflict).

        Left uncommitted for the agent (markers in the conflicting files, whose paths are
        returned); `commit` concludes it with the base as second parent.
        """

    def push(self, ws: Workspace, *, force: bool = False) -> str:
        """Push the last commit `commit` made (else the start) to origin/<branch> with the
        orchestrator's token; `force` means --force-with-lease against `ws.remote_sha`. Return the
        sha; PushRejected when refused."""

    def rebase(self, repo_key: str, branch: str, base: str) -> RebaseOutcome:
        """Rebase origin/<branch> onto origin/<base> in a scratch worktree: pushed with a lease when
        clean, aborted with the conflicting files and both sides when not."""

    def build_train(
        self, repo_key: str, repo: str, base: str, branch: str, cars: Sequence[Car]
    ) -> TrainBuild:
        """Fetch, merge each car's head onto origin/<base> in order (merge commits; a car that
        conflicts is left out) in a scratch worktree, and push the result to `branch` when any
        car rode. Return what was built."""

    def land(self, repo_key: str, base: str, sha: str) -> None:
        """Push `sha` to origin/<base> without force: PushRejected unless it fast-forwards and
        the base's protection allows the push."""

    def scratch(self, ws: Workspace, sha: str, files_from: str, paths: Sequence[str]) -> str:
        """Check out `sha` detached in a folder of its own (`<task_id>.proof` beside the task's
        worktree), with each of `paths` as commit `files_from` has it (removed where it has none);
        return the folder. A leftover is replaced; the task's `prepare` and `remove` remove it."""

    def remove_scratch(self, ws: Workspace) -> None:
        """Remove the task's scratch checkout; a missing one is a no-op."""

    def remove(self, repo_key: str, task_id: str) -> None:
        """Remove the task's worktree (and scratch checkout) and prune; keep the branch. A missing
        one is a no-op."""

    def history(self, repo_key: str, base: str, since: datetime) -> tuple[BaseCommit, ...]:
        """Fetch, then return the commits on origin/<base> committed since `since`, newest first
        (at most HISTORY_LIMIT, merged-in branches' commits included)."""


# -- agents ----------------------------------------------------------------------------------------
class Agent(Protocol):
    """One configured agent backend (claude, codex, anthropic, command), named as chains name it."""

    @property
    def name(self) -> str:
        """Return the backend's name from `agents.backends`."""

    def run(self, request: AgentRequest, on_event: Callable[[AgentEvent], None]) -> AgentOutcome:
        """Run the agent in `request.worktree` until it exits or times out; never raise for its
        failures. Every event goes to `on_event` as it happens; a timeout kills the whole process
        group. Its environment carries no orchestrator secret, only the backend's own credential."""


class Cooldowns(Protocol):
    """Agent backends resting after a quota or rate-limit failure (runtime/state/cooldowns.json)."""

    def active(self, now: datetime) -> dict[str, Cooldown]:
        """Return the cooldowns still in force at `now`, by backend name."""

    def start(self, cooldown: Cooldown, now: datetime) -> None:
        """Rest a backend until `cooldown.until` (a later end already recorded is kept)."""


class Tests(Protocol):
    """The repo's test command, run in a worktree with the agents' scrubbed environment."""

    def run(
        self, command: str, cwd: str, timeout_s: float, *, readable: tuple[str, ...] = ()
    ) -> TestRun:
        """Run `command` in the shell in `cwd`, confined like an agent, reading also `readable`
        (the clone's objects); a timeout kills its process group and fails it (`ran` False, as
        when it could not start)."""


class Workers(Protocol):
    """Start the worker process that runs one task (the queue supervisor's children)."""

    def refusal(self) -> str | None:
        """Return why no worker may start here (agents cannot be confined), in one line, or None."""

    def spawn(self, task_id: str, *, stop: bool = False) -> int:
        """Start a worker for the task (already claimed into processing/) and return its pid;
        `stop`: one told to stop at once (`off --now` for a parked remote run)."""

    def exited(self, pid: int) -> bool:
        """Tell whether the worker with this pid (ours or an earlier supervisor's) has ended."""

    def stop(self, pid: int, task_id: str) -> bool:
        """Tell the worker of `task_id` to stop now (`off --now`); False if `pid` is not it."""

    def end_agent(self, pid: int, worktree: str) -> bool:
        """End the group a dead worker's agent leads, if it still works in `worktree`; say if so.
        A pid that is gone, or now names an unrelated process (pids are reused), is left alone."""


# -- the chat (telegram branch) --------------------------------------------------------------------
class ControlPlane(Protocol):
    """What the chat adapter calls: commands, button presses, the outbox and the update offset."""

    def command(self, command: Command, who: str) -> str:
        """Carry out a command from an authorised user and return the reply (plain text)."""

    def press(self, token: str, action: str, who: str) -> Pressed:
        """Act on an escalation button once; a second press only says what the first did."""

    def outgoing(self, paced: bool) -> MessageBatch | None:
        """Return pending notifications as messages, or None; `paced`: only once a burst is over."""

    def sent(self, delivery: MessageBatch, count: int) -> None:
        """Record that the first `count` messages of `delivery` went out."""

    def last_update_id(self) -> int:
        """Return the id of the last update handled (0 before the first)."""

    def handled(self, update_id: int) -> None:
        """Persist that the update was handled (atomically, before the next one is looked at)."""

    def keep_serving(self) -> bool:
        """Return whether a long-running bot should go on (its job switch is on)."""


class Chat(Protocol):
    """The chat transport (Telegram): poll once or serve until stopped; ChatError if unreachable."""

    def poll_round(self, control: ControlPlane, *, dry_run: bool = False) -> Round:
        """Handle waiting updates, then deliver pending notes; `dry_run` only counts them."""

    def serve(self, control: ControlPlane) -> None:
        """Long-poll and deliver until SIGTERM/SIGINT or `control.keep_serving()` turns False."""

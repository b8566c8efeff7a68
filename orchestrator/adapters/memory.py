"""An in-memory Tracker with GitHub's semantics for job tests: seed it, run a job, read `writes`."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from orchestrator.adapters.memory_files import MemoryFiles
from orchestrator.adapters.memory_pulls import RepoRecord
from orchestrator.adapters.memory_queue import MemoryQueue
from orchestrator.adapters.memory_writes import (
    AddBlocker,
    AddLabels,
    AddSubIssue,
    CloseIssue,
    CreateIssue,
    EnsureLabels,
    PinIssue,
    RemoveBlocker,
    RemoveLabel,
    ReopenIssue,
    UpdateIssue,
    UpsertComment,
    Write,
)
from orchestrator.core.model import (
    Comment,
    Dependencies,
    FiledIssue,
    Issue,
    IssueRef,
    LabelEvent,
    Permission,
)
from orchestrator.errors import TrackerError

DEFAULT_COLOUR = "ededed"
PIN_SLOTS = 3  # GitHub pins at most three issues per repository


def _clean(labels: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(n.strip().lower() for n in labels if n.strip()))


class MemoryTracker(MemoryFiles, MemoryQueue):
    """The Tracker port in memory. `writes` lists every write asked for, no-ops too, in order."""

    def __init__(self, login: str = "agentos", clock: Callable[[], datetime] | None = None) -> None:
        self.login = login.lower()
        self.writes: list[Write] = []
        self._clock = clock or (lambda: datetime.now(UTC))
        self._repos: dict[str, RepoRecord] = {}
        self._ids = itertools.count(1000)
        self._blocked_by: dict[IssueRef, list[IssueRef]] = {}
        self._subs: dict[IssueRef, list[IssueRef]] = {}
        self._parent: dict[IssueRef, IssueRef] = {}

    # -- seeding (what a test arranges; not recorded as writes) ------------------------------------
    def add_repo(self, repo: str, default_branch: str = "main") -> None:
        """Create a repository with its default branch."""
        self._repos.setdefault(
            repo, RepoRecord(default_branch, branches={default_branch: self._sha()})
        )

    def add_issue(
        self,
        repo: str,
        title: str,
        body: str = "",
        labels: Sequence[str] = (),
        author: str | None = None,
        is_open: bool = True,
    ) -> Issue:
        """Put an issue in a repository as if someone had opened it."""
        self._ensure(repo, {n: DEFAULT_COLOUR for n in _clean(labels)})
        issue = self._new_issue(repo, title, body, _clean(labels), (author or self.login).lower())
        if not is_open:
            issue = self._set_issue(replace(issue, is_open=False, state_reason="completed"))
            self._repo(repo).closed_at[issue.number] = issue.updated_at
        return issue

    def edit_issue(self, ref: IssueRef, title: str | None = None, body: str | None = None) -> Issue:
        """Change an issue's title or body as its author would; an unchanged text is no edit."""
        issue = self.issue(ref)
        changed = replace(
            issue,
            title=issue.title if title is None else title.strip(),
            body=issue.body if body is None else body,
        )
        if changed != issue:
            record = self._repo(ref.repo)
            record.edits[ref.number] = self._clock()
            issue = self._set_issue(replace(changed, updated_at=self._clock()))
            pull = record.pulls.get(ref.number)
            if pull is not None:  # a pull request is an issue: one title, one body
                record.pulls[ref.number] = replace(
                    pull, title=issue.title, body=issue.body, updated_at=issue.updated_at
                )
        return issue

    def grant(self, repo: str, user: str, permission: Permission) -> None:
        """Give a user a permission on a repository."""
        self._repo(repo).permissions[user.lower()] = permission

    def label_colours(self, repo: str) -> dict[str, str]:
        """Return the repository's labels and their colours."""
        return dict(self._repo(repo).labels.values())

    # -- issues ------------------------------------------------------------------------------------
    def issue(self, ref: IssueRef) -> Issue:
        found = self._repo(ref.repo).issues.get(ref.number)
        if found is None:
            raise TrackerError(f"{ref} not found")
        return found

    def open_issues(self, repo: str, labels: Sequence[str] = ()) -> list[Issue]:
        wanted = set(_clean(labels))
        found = [
            i
            for i in self._repo(repo).issues.values()
            if i.is_open and not i.is_pull_request and wanted <= set(i.labels)
        ]
        return sorted(found, key=lambda i: i.number, reverse=True)  # GitHub's default: newest first

    def create_issue(self, repo: str, title: str, body: str, labels: Sequence[str] = ()) -> Issue:
        names = _clean(labels)
        self.writes.append(CreateIssue(repo, title, names))
        self._ensure(repo, {n: DEFAULT_COLOUR for n in names})
        issue = self._new_issue(repo, title, body, (), self.login)
        self._label(issue.ref, names)
        return self.issue(issue.ref)

    def update_issue(
        self, ref: IssueRef, *, title: str | None = None, body: str | None = None
    ) -> Issue:
        self.writes.append(UpdateIssue(ref, title, body))
        return self.edit_issue(ref, title, body)

    def close_issue(self, ref: IssueRef, reason: str = "completed") -> None:
        if reason not in ("completed", "not_planned"):
            raise ValueError(f"reason must be completed or not_planned, not {reason!r}")
        self.writes.append(CloseIssue(ref, reason))
        issue, record = self.issue(ref), self._repo(ref.repo)
        if issue.is_open:
            now = self._clock()
            self._set_issue(replace(issue, is_open=False, state_reason=reason, updated_at=now))
            record.closed_at[ref.number] = now
            record.closers.pop(ref.number, None)  # by hand: no closer

    def reopen_issue(self, ref: IssueRef) -> None:
        self.writes.append(ReopenIssue(ref))
        issue, record = self.issue(ref), self._repo(ref.repo)
        if not issue.is_open:
            self._set_issue(
                replace(issue, is_open=True, state_reason="reopened", updated_at=self._clock())
            )
            record.closed_at.pop(ref.number, None)

    def pin_issue(self, ref: IssueRef) -> bool:
        self.writes.append(PinIssue(ref))
        issue, pinned = self.issue(ref), self._repo(ref.repo).pinned
        if issue.is_pull_request:
            raise TrackerError(f"{ref} not found")  # GraphQL's `issue` is no pull request
        if ref.number not in pinned and len(pinned) < PIN_SLOTS:  # closed ones pin too
            pinned.append(ref.number)
        return ref.number in pinned

    def pinned(self, repo: str) -> tuple[int, ...]:
        """Return the repository's pinned issues, in the order they were pinned."""
        return tuple(self._repo(repo).pinned)

    def filed_issues(self, repo: str, label: str, closed_since: datetime) -> list[FiledIssue]:
        name, record = label.strip().lower(), self._repo(repo)
        if not name:
            raise ValueError("filed_issues needs a label")
        if closed_since.tzinfo is None:
            raise ValueError("closed_since must be timezone-aware")
        found = [
            FiledIssue(
                number=i.number,
                title=i.title,
                body=i.body,
                is_open=i.is_open,
                closed_at=None if i.is_open else record.closed_at.get(i.number),
                state_reason=i.state_reason,
            )
            for i in record.issues.values()
            if name in i.labels and not i.is_pull_request
        ]
        recent = [
            f
            for f in found
            if f.is_open or (f.closed_at is not None and f.closed_at >= closed_since)
        ]
        return sorted(
            recent, key=lambda f: f.number, reverse=True
        )  # GitHub's default: newest first

    def closer(self, ref: IssueRef) -> int | None:
        issue, record = self.issue(ref), self._repo(ref.repo)
        if issue.is_pull_request:
            raise TrackerError(f"{ref} not found")  # GraphQL's `issue` is no pull request
        found = None if issue.is_open else record.closers.get(ref.number)
        return found.number if found is not None and found.repo == ref.repo else None

    # -- labels ------------------------------------------------------------------------------------
    def add_labels(self, ref: IssueRef, labels: Sequence[str]) -> None:
        names = _clean(labels)
        self.writes.append(AddLabels(ref, names))
        self.issue(ref)
        self._ensure(ref.repo, {n: DEFAULT_COLOUR for n in names})
        self._label(ref, names)

    def remove_label(self, ref: IssueRef, label: str) -> None:
        name = label.strip().lower()
        self.writes.append(RemoveLabel(ref, name))
        issue = self.issue(ref)
        if name in issue.labels:
            self._set_issue(
                replace(
                    issue,
                    labels=tuple(n for n in issue.labels if n != name),
                    updated_at=self._clock(),
                )
            )
            self._event(ref, name, added=False)

    def ensure_labels(self, repo: str, labels: Mapping[str, str]) -> None:
        self.writes.append(EnsureLabels(repo, tuple(labels)))
        self._ensure(repo, labels)

    def label_events(self, ref: IssueRef) -> list[LabelEvent]:
        self.issue(ref)
        return list(self._repo(ref.repo).events.get(ref.number, []))

    def edited_at(self, ref: IssueRef) -> datetime | None:
        self.issue(ref)
        return self._repo(ref.repo).edits.get(ref.number)

    def permission(self, repo: str, user: str) -> Permission:
        if user.lower() == repo.split("/", 1)[0].lower():
            return Permission.ADMIN
        return self._repo(repo).permissions.get(user.lower(), Permission.NONE)

    # -- dependencies ------------------------------------------------------------------------------
    def dependencies(self, issue: Issue) -> Dependencies:
        ref = self.issue(issue.ref).ref
        return Dependencies(
            tuple(self._blocked_by.get(ref, [])),
            tuple(self._subs.get(ref, [])),
            self._parent.get(ref),
        )

    def blocked_by(self, ref: IssueRef) -> tuple[IssueRef, ...]:
        return tuple(self._blocked_by.get(self.issue(ref).ref, []))

    def add_blocker(self, ref: IssueRef, blocker: Issue) -> None:
        self.writes.append(AddBlocker(ref, blocker.ref))
        self.issue(ref)
        self.issue(blocker.ref)
        if blocker.ref == ref:
            raise TrackerError(f"{ref} cannot block itself")
        links = self._blocked_by.setdefault(ref, [])
        if blocker.ref not in links:
            links.append(blocker.ref)

    def remove_blocker(self, ref: IssueRef, blocker: Issue) -> None:
        self.writes.append(RemoveBlocker(ref, blocker.ref))
        links = self._blocked_by.get(self.issue(ref).ref, [])
        if blocker.ref in links:
            links.remove(blocker.ref)

    def add_sub_issue(self, parent: IssueRef, child: Issue) -> None:
        self.writes.append(AddSubIssue(parent, child.ref))
        self.issue(parent)
        self.issue(child.ref)
        current = self._parent.get(child.ref)
        if current == parent:
            return
        if current is not None or child.ref == parent:
            raise TrackerError(
                f"{child.ref} cannot become a sub-issue of {parent}: it already has a parent"
            )
        self._parent[child.ref] = parent
        self._subs.setdefault(parent, []).append(child.ref)

    # -- comments ----------------------------------------------------------------------------------
    def comments(self, ref: IssueRef) -> list[Comment]:
        self.issue(ref)
        return list(self._repo(ref.repo).comments.get(ref.number, []))

    def upsert_comment(self, ref: IssueRef, marker: str, body: str) -> Comment:
        self.writes.append(UpsertComment(ref, marker, body))
        text = body if marker in body else f"{body}\n\n{marker}"
        thread = self._repo(ref.repo).comments.setdefault(self.issue(ref).number, [])
        for at, comment in enumerate(thread):
            if marker in comment.body:
                thread[at] = replace(comment, body=text)
                return thread[at]
        thread.append(Comment(next(self._ids), self.login, text, self._clock()))
        return thread[-1]

    # -- records -----------------------------------------------------------------------------------
    def _repo(self, repo: str) -> RepoRecord:
        found = self._repos.get(repo)
        if found is None:
            raise TrackerError(f"{repo} not found")
        return found

    def _sha(self) -> str:
        return f"{next(self._ids):040x}"

    def _new_issue(
        self,
        repo: str,
        title: str,
        body: str,
        labels: tuple[str, ...],
        author: str,
        is_pull_request: bool = False,
    ) -> Issue:
        record, now, number = self._repo(repo), self._clock(), len(self._repo(repo).issues) + 1
        issue_id = next(self._ids)
        issue = Issue(
            IssueRef(repo, number),
            issue_id,
            f"I_{issue_id}",
            title.strip(),
            body,
            author,
            labels,
            True,
            now,
            now,
            None,
            is_pull_request,
        )
        record.issues[number] = issue
        return issue

    def _set_issue(self, issue: Issue) -> Issue:
        self._repo(issue.ref.repo).issues[issue.number] = issue
        return issue

    def _ensure(self, repo: str, labels: Mapping[str, str]) -> None:
        for name, colour in labels.items():
            self._repo(repo).labels.setdefault(
                name.strip().lower(), (name.strip(), colour.lstrip("#").lower())
            )

    def _label(self, ref: IssueRef, names: tuple[str, ...]) -> None:
        issue = self.issue(ref)
        added = tuple(n for n in names if n not in issue.labels)
        if added:
            self._set_issue(replace(issue, labels=issue.labels + added, updated_at=self._clock()))
        for name in added:
            self._event(ref, name, added=True)

    def _event(self, ref: IssueRef, label: str, added: bool) -> None:
        self._repo(ref.repo).events.setdefault(ref.number, []).append(
            LabelEvent(label, self.login, added, self._clock())
        )

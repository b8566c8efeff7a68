"""The in-memory Tracker's pull requests, branches, checks and reviews, with GitHub's semantics.

`MemoryPulls` is one half of `memory.MemoryTracker` (the issues are the other); `RepoRecord` is
what both halves keep per repository.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from orchestrator.adapters.memory_verdicts import MemoryVerdicts
from orchestrator.adapters.memory_writes import ClosePull, DeleteBranch, MergePull, OpenPull, Write
from orchestrator.core.model import (
    Check,
    CheckDetails,
    Comment,
    Issue,
    IssueRef,
    LabelEvent,
    Permission,
    PullRequest,
    Review,
)
from orchestrator.errors import TrackerError

# GitHub's closing keywords, as in "Closes #12", "fixes acme/app#12", "resolved: GH-12" or
# "Fixes https://github.com/acme/app/issues/12" (the sandbox's merging.py reads them alike).
_CLOSING = re.compile(
    r"\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\s*:?\s+"
    r"(?:(?:([\w.-]+/[\w.-]+))?#|gh-|https?://[^/\s]+/([\w.-]+/[\w.-]+)/issues/)(\d+)\b",
    re.IGNORECASE,
)


@dataclass
class RepoRecord:
    """One repository's records; issues and pull requests share the numbers, as on GitHub."""

    default_branch: str = "main"
    labels: dict[str, tuple[str, str]] = field(default_factory=dict)  # lower name -> (name, colour)
    issues: dict[int, Issue] = field(default_factory=dict)
    pulls: dict[int, PullRequest] = field(default_factory=dict)
    comments: dict[int, list[Comment]] = field(default_factory=dict)
    events: dict[int, list[LabelEvent]] = field(default_factory=dict)
    edits: dict[int, datetime] = field(default_factory=dict)  # issue -> last title or body edit
    closed_at: dict[int, datetime] = field(default_factory=dict)  # closed issue -> when
    closers: dict[int, IssueRef] = field(default_factory=dict)  # issue -> the merged PR closing it
    pinned: list[int] = field(default_factory=list)  # pinned issues, in pin order (at most 3)
    reviews: dict[int, list[Review]] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)  # name -> head sha
    checks: dict[str, list[Check]] = field(default_factory=dict)  # sha -> checks, oldest first
    details: dict[int, CheckDetails] = field(default_factory=dict)  # check run id -> details
    permissions: dict[str, Permission] = field(default_factory=dict)


class MemoryPulls(MemoryVerdicts):
    """Pull requests in memory; the tracker inheriting this supplies the records and the clock."""

    login: str
    writes: list[Write]
    _clock: Callable[[], datetime]
    _repos: dict[str, RepoRecord]

    def _repo(self, repo: str) -> RepoRecord:
        raise NotImplementedError

    def _sha(self) -> str:
        raise NotImplementedError

    def issue(self, ref: IssueRef) -> Issue:
        raise NotImplementedError

    def _set_issue(self, issue: Issue) -> Issue:
        raise NotImplementedError

    def _new_issue(
        self,
        repo: str,
        title: str,
        body: str,
        labels: tuple[str, ...],
        author: str,
        is_pull_request: bool = False,
    ) -> Issue:
        raise NotImplementedError

    def push(self, repo: str, branch: str) -> str:
        """Move a branch to a new commit (creating it), as a push would; return the commit's sha."""
        sha = self._sha()
        self._repo(repo).branches[branch] = sha
        for number, pr in self._repo(repo).pulls.items():
            if pr.is_open and pr.head == branch:
                self._repo(repo).pulls[number] = replace(pr, head_sha=sha, updated_at=self._clock())
        return sha

    def add_check(
        self, repo: str, sha: str, check: Check, details: CheckDetails | None = None
    ) -> Check:
        """Report a check run or status on a commit; the newest per name wins.

        With `details` it is a check run (given an id when it has none) carrying them; with a
        log, the run of a GitHub Actions job (sharing its id, as GitHub's do).
        """
        record = self._repo(repo)
        if details is not None:
            run_id = check.run_id or 1 + sum(len(runs) for runs in record.checks.values())
            job = check.job or (run_id if details.log else None)
            check = replace(check, run_id=run_id, annotations=len(details.annotations), job=job)
            record.details[run_id] = details
        record.checks.setdefault(sha, []).append(check)
        return check

    def set_mergeable_state(self, repo: str, number: int, state: str) -> None:
        """Report a merge state as GitHub computes it (`blocked`: a branch protection rule)."""
        self._repo(repo).pulls[number] = replace(
            self._pull_record(repo, number), mergeable_state=state
        )

    def add_review(self, repo: str, number: int, review: Review) -> None:
        """Submit a review on a pull request."""
        self._pull_record(repo, number)
        self._repo(repo).reviews.setdefault(number, []).append(review)

    # -- pull requests -----------------------------------------------------------------------------
    def open_pull(self, repo: str, head: str, base: str, title: str, body: str) -> PullRequest:
        self.writes.append(OpenPull(repo, head, base, title))
        record = self._repo(repo)
        for pr in record.pulls.values():
            if pr.is_open and (pr.head, pr.base) == (head, base):
                return pr
        if head not in record.branches or base not in record.branches:
            raise TrackerError(
                f"GitHub refused to open a pull request from {head} in {repo} (no such branch)"
            )
        issue = self._new_issue(repo, title, body, (), self.login, is_pull_request=True)
        pr = PullRequest(
            repo=repo,
            number=issue.number,
            title=title,
            body=body,
            head=head,
            base=base,
            head_sha=record.branches[head],
            author=self.login,
            is_open=True,
            merged=False,
            draft=False,
            mergeable=True,
            mergeable_state="clean",
            url=f"https://github.com/{repo}/pull/{issue.number}",
            created_at=issue.created_at,
            updated_at=issue.updated_at,
        )
        record.pulls[issue.number] = pr
        return pr

    def pull(self, repo: str, number: int) -> PullRequest:
        return self._pull_record(repo, number)

    def open_pulls(self, repo: str, head_prefix: str = "agent/") -> list[PullRequest]:
        found = [
            pr
            for pr in self._repo(repo).pulls.values()
            if pr.is_open and pr.head.startswith(head_prefix)
        ]
        return sorted(found, key=lambda pr: pr.number, reverse=True)

    def merge_pull(self, pr: PullRequest, method: str = "squash") -> str:
        self.writes.append(MergePull(pr.repo, pr.number, method))
        current, record = self._pull_record(pr.repo, pr.number), self._repo(pr.repo)
        if not current.is_open or current.draft or current.mergeable is False:
            raise TrackerError(
                f"GitHub refused to merge {pr.repo}#{pr.number} (405 Pull Request is not mergeable)"
            )
        if self.queue_blocks_merge(current):
            raise TrackerError(
                f"GitHub refused to merge {pr.repo}#{pr.number} (405 the base branch requires "
                "the merge queue)"
            )
        if current.mergeable_state == "blocked":
            raise TrackerError(
                f"GitHub refused to merge {pr.repo}#{pr.number} (405 Protected branch rules)"
            )
        if record.branches.get(current.head, current.head_sha) != pr.head_sha:
            raise TrackerError(
                f"GitHub refused to merge {pr.repo}#{pr.number} (409 Head branch was modified)"
            )
        sha = record.branches[current.base] = self._sha()
        self._close_pull(current, merged=True)
        if current.base == record.default_branch:
            self._close_named(current)
        return sha

    def queue_blocks_merge(self, pr: PullRequest) -> bool:
        """Tell whether the base requires the merge queue (memory_queue says; none here)."""
        return False

    def close_pull(self, pr: PullRequest) -> None:
        self.writes.append(ClosePull(pr.repo, pr.number))
        current = self._pull_record(pr.repo, pr.number)
        if current.is_open:
            self._close_pull(current, merged=False)

    def delete_branch(self, repo: str, branch: str) -> None:
        self.writes.append(DeleteBranch(repo, branch))
        self._repo(repo).branches.pop(branch, None)

    def checks(self, repo: str, sha: str) -> list[Check]:
        newest = {check.name: check for check in self._repo(repo).checks.get(sha, [])}
        return [newest[name] for name in sorted(newest)]

    def check_details(self, repo: str, check: Check) -> CheckDetails:
        found = self._repo(repo).details.get(check.run_id or 0, CheckDetails())
        return replace(found, log=found.log if check.job is not None else "")

    def reviews(self, pr: PullRequest) -> list[Review]:
        self._pull_record(pr.repo, pr.number)
        return list(self._repo(pr.repo).reviews.get(pr.number, []))

    def _pull_record(self, repo: str, number: int) -> PullRequest:
        found = self._repo(repo).pulls.get(number)
        if found is None:
            raise TrackerError(f"{repo}#{number} not found")
        return found

    def _close_pull(self, pr: PullRequest, merged: bool) -> None:
        now = self._clock()
        self._repo(pr.repo).pulls[pr.number] = replace(
            pr,
            is_open=False,
            merged=merged,
            mergeable=None,
            mergeable_state="unknown",
            updated_at=now,
        )
        issue = self.issue(IssueRef(pr.repo, pr.number))
        self._set_issue(replace(issue, is_open=False, updated_at=now))
        self._repo(pr.repo).closed_at[pr.number] = now

    def _close_named(self, pr: PullRequest) -> None:
        """Close the issues a merged PR's body names with a closing keyword, as GitHub does.

        Each closed issue records the PR as its closer (GraphQL's ClosedEvent.closer).
        """
        for match in _CLOSING.finditer(pr.body):
            ref = IssueRef(match.group(1) or match.group(2) or pr.repo, int(match.group(3)))
            record = self._repos.get(ref.repo)
            issue = record.issues.get(ref.number) if record is not None else None
            if record is None or issue is None or not issue.is_open or issue.is_pull_request:
                continue
            now = self._clock()
            self._set_issue(replace(issue, is_open=False, state_reason="completed", updated_at=now))
            record.closed_at[ref.number] = now
            record.closers[ref.number] = IssueRef(pr.repo, pr.number)

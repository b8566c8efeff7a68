"""The ports that carry authority, wrapped so each act they do lands in the audit log.

`wiring` puts every tracker and worktrees a run builds behind these, so no job, delivery step or
chat command can forget to record a push, a PR or a merge. An act is recorded after it succeeded
(what failed was not done); reads and everything else pass straight through.

Recorded: a branch pushed or rebased-and-pushed, a PR opened, merged or closed, an issue opened,
edited (its title or body: what an agent is briefed with), closed, reopened or pinned, a label
added or removed (the label board's status moves included), a branch deleted, a commit status
set (the verifier's), a review that approves or requests changes.
Not recorded: comments and COMMENT reviews (they say, they grant nothing: the log would drown in
status cards), blockers and sub-issues, added or removed (they order the work, they do not start
it), `ensure_labels` (set-up), commits and worktrees (local until pushed).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from orchestrator.core.model import Issue, IssueRef, PullRequest
from orchestrator.core.train import Car, TrainBuild
from orchestrator.core.verification import CommitStatus
from orchestrator.core.workspace import RebaseOutcome, RebaseStatus, Workspace
from orchestrator.ports import AuditLog, Tracker, Worktrees


class AuditedTracker:
    """The Tracker port: GitHub's writes that carry authority are recorded as they succeed."""

    def __init__(self, inner: Tracker, audit: AuditLog, actor: str) -> None:
        self.inner, self.audit, self.actor = inner, audit, actor

    def __getattr__(self, name: str) -> Any:  # reads and unaudited writes: straight through
        if name == "inner":  # not set yet (a copy being built): no recursion
            raise AttributeError(name)
        return getattr(self.inner, name)

    def create_issue(self, repo: str, title: str, body: str, labels: Sequence[str] = ()) -> Issue:
        issue = self.inner.create_issue(repo, title, body, labels)
        self._record("issue.opened", repo=repo, issue=issue.number, labels=",".join(labels))
        return issue

    def update_issue(
        self, ref: IssueRef, *, title: str | None = None, body: str | None = None
    ) -> Issue:
        issue = self.inner.update_issue(ref, title=title, body=body)
        edited = ",".join(n for n, v in (("title", title), ("body", body)) if v is not None)
        if edited:  # the text an agent is briefed with: who changed it matters
            self._record("issue.edited", repo=ref.repo, issue=ref.number, fields=edited)
        return issue

    def close_issue(self, ref: IssueRef, reason: str = "completed") -> None:
        self.inner.close_issue(ref, reason)
        self._record("issue.closed", repo=ref.repo, issue=ref.number, reason=reason)

    def reopen_issue(self, ref: IssueRef) -> None:
        self.inner.reopen_issue(ref)
        self._record("issue.reopened", repo=ref.repo, issue=ref.number)

    def pin_issue(self, ref: IssueRef) -> bool:
        pinned = self.inner.pin_issue(ref)
        if pinned:  # no free slot: nothing was done
            self._record("issue.pinned", repo=ref.repo, issue=ref.number)
        return pinned

    def add_labels(self, ref: IssueRef, labels: Sequence[str]) -> None:
        self.inner.add_labels(ref, labels)
        self._record("label.added", repo=ref.repo, issue=ref.number, labels=",".join(labels))

    def remove_label(self, ref: IssueRef, label: str) -> None:
        self.inner.remove_label(ref, label)
        self._record("label.removed", repo=ref.repo, issue=ref.number, labels=label)

    def open_pull(self, repo: str, head: str, base: str, title: str, body: str) -> PullRequest:
        pr = self.inner.open_pull(repo, head, base, title, body)
        self._record("pr.opened", repo=repo, pr=pr.number, branch=head, base=base, sha=pr.head_sha)
        return pr

    def merge_pull(self, pr: PullRequest, method: str = "squash") -> str:
        sha = self.inner.merge_pull(pr, method)
        self._record(
            "pr.merged",
            repo=pr.repo,
            pr=pr.number,
            branch=pr.head,
            head_sha=pr.head_sha,
            sha=sha,
            method=method,
        )
        return sha

    def enqueue_pull(self, pr: PullRequest, node_id: str) -> str:
        group = self.inner.enqueue_pull(pr, node_id)
        self._record("pr.enqueued", repo=pr.repo, pr=pr.number, branch=pr.head, sha=pr.head_sha)
        return group

    def close_pull(self, pr: PullRequest) -> None:
        self.inner.close_pull(pr)
        self._record("pr.closed", repo=pr.repo, pr=pr.number, branch=pr.head, sha=pr.head_sha)

    def delete_branch(self, repo: str, branch: str) -> None:
        self.inner.delete_branch(repo, branch)
        self._record("branch.deleted", repo=repo, branch=branch)

    def create_status(self, repo: str, sha: str, status: CommitStatus) -> None:
        self.inner.create_status(repo, sha, status)
        self._record(
            "status.created", repo=repo, sha=sha, context=status.context, state=status.state
        )

    def create_review(self, pr: PullRequest, event: str, body: str) -> str:
        url = self.inner.create_review(pr, event, body)
        if event != "COMMENT":  # a comment says; an approval or a request for changes decides
            self._record(
                "review.submitted", repo=pr.repo, pr=pr.number, sha=pr.head_sha, event=event
            )
        return url

    def _record(self, act: str, **fields: str | int | None) -> None:
        self.audit.record(act, actor=self.actor, **fields)


class AuditedWorktrees:
    """The Worktrees port: what reaches the remote (a push, a rebase pushed) is recorded."""

    def __init__(self, inner: Worktrees, audit: AuditLog, actor: str) -> None:
        self.inner, self.audit, self.actor = inner, audit, actor

    def __getattr__(self, name: str) -> Any:  # prepare, commit, merge_base, remove ...
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def push(self, ws: Workspace, *, force: bool = False) -> str:
        sha = self.inner.push(ws, force=force)
        self.audit.record(
            "branch.pushed",
            actor=self.actor,
            repo_key=ws.repo_key,
            task=ws.task_id,
            branch=ws.branch,
            sha=sha,
            force="lease" if force else None,
        )
        return sha

    def rebase(self, repo_key: str, branch: str, base: str) -> RebaseOutcome:
        outcome = self.inner.rebase(repo_key, branch, base)
        if outcome.status is RebaseStatus.REBASED:  # only then was anything pushed
            self.audit.record(
                "branch.rebased",
                actor=self.actor,
                repo_key=repo_key,
                branch=branch,
                base=base,
                base_sha=outcome.base_sha,
                sha=outcome.head_sha,
            )
        return outcome

    def build_train(
        self, repo_key: str, repo: str, base: str, branch: str, cars: Sequence[Car]
    ) -> TrainBuild:
        built = self.inner.build_train(repo_key, repo, base, branch, cars)
        if built.merged:  # only then was anything pushed
            self.audit.record(
                "train.pushed",
                actor=self.actor,
                repo_key=repo_key,
                branch=branch,
                base_sha=built.base_sha,
                sha=built.head_sha,
                prs=",".join(str(n) for n in built.merged),
            )
        return built

    def land(self, repo_key: str, base: str, sha: str) -> None:
        self.inner.land(repo_key, base, sha)
        self.audit.record("train.landed", actor=self.actor, repo_key=repo_key, base=base, sha=sha)

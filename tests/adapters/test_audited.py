"""The audited ports: each authority-bearing write that succeeded is one act; the rest pass by."""

from __future__ import annotations

import pytest

from orchestrator.adapters.audited import AuditedTracker, AuditedWorktrees
from orchestrator.adapters.memory import MemoryTracker
from orchestrator.adapters.memory_audit import MemoryAudit
from orchestrator.core.model import IssueRef
from orchestrator.core.workspace import RebaseOutcome, RebaseStatus, Workspace
from orchestrator.errors import TrackerError

REPO = "acme/app"


@pytest.fixture
def trail() -> MemoryAudit:
    return MemoryAudit()


@pytest.fixture
def github(trail: MemoryAudit) -> AuditedTracker:
    tracker = MemoryTracker()
    tracker.add_repo(REPO)
    return AuditedTracker(tracker, trail, "agentos:pr_monitor")


def recorded(trail: MemoryAudit) -> list[tuple[str, str, dict[str, object]]]:
    return [(e.act, e.actor, dict(e.fields)) for e in trail.entries]


def test_pull_request_acts_are_recorded_with_what_they_touched(
    github: AuditedTracker, trail: MemoryAudit
) -> None:
    issue = github.create_issue(REPO, "Add sub", "", ["status:ready"])
    sha = github.inner.push(REPO, "agent/1-add-sub")
    pr = github.open_pull(REPO, "agent/1-add-sub", "main", "Add sub", "Closes #1")
    merged = github.merge_pull(pr, "squash")
    github.delete_branch(REPO, pr.head)
    actor = "agentos:pr_monitor"
    assert recorded(trail) == [
        ("issue.opened", actor, {"repo": REPO, "issue": issue.number, "labels": "status:ready"}),
        (
            "pr.opened",
            actor,
            {"repo": REPO, "pr": pr.number, "branch": pr.head, "base": "main", "sha": sha},
        ),
        (
            "pr.merged",
            actor,
            {
                "repo": REPO,
                "pr": pr.number,
                "branch": pr.head,
                "head_sha": sha,
                "sha": merged,
                "method": "squash",
            },
        ),
        ("branch.deleted", actor, {"repo": REPO, "branch": pr.head}),
    ]


def test_closing_and_labels_are_recorded_comments_and_reads_are_not(
    github: AuditedTracker, trail: MemoryAudit
) -> None:
    issue = github.inner.add_issue(REPO, "Task")
    github.inner.push(REPO, "agent/1-task")
    pr = github.open_pull(REPO, "agent/1-task", "main", "Task", "")
    trail.entries.clear()
    github.add_labels(issue.ref, ["agentos:blocked", "bug"])
    github.remove_label(issue.ref, "bug")
    github.upsert_comment(issue.ref, "<!-- card -->", "status")
    assert github.issue(issue.ref).labels and github.open_pulls(REPO) == [
        github.pull(REPO, pr.number)
    ]
    github.close_pull(pr)
    github.close_issue(issue.ref, "not_planned")
    assert [(e.act, e.fields.get("labels")) for e in trail.entries] == [
        ("label.added", "agentos:blocked,bug"),
        ("label.removed", "bug"),
        ("pr.closed", None),
        ("issue.closed", None),
    ]
    assert trail.entries[-1].fields["reason"] == "not_planned"


def test_a_write_github_refused_is_not_recorded(github: AuditedTracker, trail: MemoryAudit) -> None:
    github.inner.push(REPO, "agent/1-task")
    pr = github.open_pull(REPO, "agent/1-task", "main", "Task", "")
    github.close_pull(pr)
    with pytest.raises(TrackerError, match="not mergeable"):
        github.merge_pull(pr)
    with pytest.raises(TrackerError):
        github.close_issue(IssueRef(REPO, 99))
    assert trail.acts() == ["pr.opened", "pr.closed"]


def test_reopening_is_recorded_and_reading_what_was_filed_is_not(
    github: AuditedTracker, trail: MemoryAudit
) -> None:
    issue = github.inner.add_issue(REPO, "Crash", labels=["agentos:incident"], is_open=False)
    github.filed_issues(REPO, "agentos:incident", issue.created_at)
    github.closer(issue.ref)
    github.reopen_issue(issue.ref)
    with pytest.raises(TrackerError):
        github.reopen_issue(IssueRef(REPO, 99))
    assert recorded(trail) == [
        ("issue.reopened", "agentos:pr_monitor", {"repo": REPO, "issue": issue.number})
    ]


class Trees:
    """Just enough of the Worktrees port: pushes and rebases that report what they did."""

    def __init__(self, status: RebaseStatus) -> None:
        self.status, self.removed = status, []

    def push(self, ws: Workspace, *, force: bool = False) -> str:
        return "f" * 40

    def rebase(self, repo_key: str, branch: str, base: str) -> RebaseOutcome:
        return RebaseOutcome(self.status, branch, "b" * 40, "c" * 40)

    def remove(self, repo_key: str, task_id: str) -> None:
        self.removed.append(task_id)


WS = Workspace("app", "app-1-g1-a1", "/w/app/app-1-g1-a1", "agent/1-x", "main", "a", "a", None)


def test_pushes_and_pushed_rebases_are_recorded(trail: MemoryAudit) -> None:
    trees = AuditedWorktrees(Trees(RebaseStatus.REBASED), trail, "agentos")
    assert trees.push(WS) == "f" * 40 and trees.push(WS, force=True) == "f" * 40
    trees.rebase("app", "agent/1-x", "main")
    trees.remove("app", "app-1-g1-a1")  # passes through, unrecorded
    assert trees.inner.removed == ["app-1-g1-a1"]
    assert recorded(trail) == [
        (
            "branch.pushed",
            "agentos",
            {"repo_key": "app", "task": WS.task_id, "branch": WS.branch, "sha": "f" * 40},
        ),
        (
            "branch.pushed",
            "agentos",
            {
                "repo_key": "app",
                "task": WS.task_id,
                "branch": WS.branch,
                "sha": "f" * 40,
                "force": "lease",
            },
        ),
        (
            "branch.rebased",
            "agentos",
            {
                "repo_key": "app",
                "branch": "agent/1-x",
                "base": "main",
                "base_sha": "b" * 40,
                "sha": "c" * 40,
            },
        ),
    ]


@pytest.mark.parametrize("status", [RebaseStatus.UP_TO_DATE, RebaseStatus.CONFLICT])
def test_a_rebase_that_pushed_nothing_is_not_recorded(
    trail: MemoryAudit, status: RebaseStatus
) -> None:
    AuditedWorktrees(Trees(status), trail, "agentos").rebase("app", "agent/1-x", "main")
    assert trail.entries == []


def test_an_issue_edit_is_recorded_with_what_it_changed_and_a_dependency_removed_is_not(
    github: AuditedTracker, trail: MemoryAudit
) -> None:
    issue = github.create_issue(REPO, "Plan item", "as planned")
    blocker = github.create_issue(REPO, "Blocker", "")
    github.update_issue(issue.ref, title="Plan item, renamed", body="as replanned")
    github.update_issue(issue.ref)  # nothing asked, nothing done
    github.add_blocker(issue.ref, blocker)
    github.remove_blocker(issue.ref, blocker)
    assert recorded(trail)[2:] == [
        (
            "issue.edited",
            "agentos:pr_monitor",
            {"repo": REPO, "issue": issue.number, "fields": "title,body"},
        )
    ]


def test_a_pin_is_recorded_and_a_pin_without_a_free_slot_is_not(
    github: AuditedTracker, trail: MemoryAudit
) -> None:
    issues = [github.inner.add_issue(REPO, f"Issue {n}") for n in range(4)]
    assert [github.pin_issue(issue.ref) for issue in issues] == [True, True, True, False]
    with pytest.raises(TrackerError):
        github.pin_issue(IssueRef(REPO, 99))
    assert recorded(trail) == [
        ("issue.pinned", "agentos:pr_monitor", {"repo": REPO, "issue": issue.number})
        for issue in issues[:3]
    ]

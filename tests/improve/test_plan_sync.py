"""A plan onto the memory tracker: created once, edited in place, never closed or deleted."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pytest

from orchestrator.adapters.memory import MemoryTracker
from orchestrator.adapters.memory_writes import (
    AddBlocker,
    CloseIssue,
    CreateIssue,
    RemoveBlocker,
    UpdateIssue,
    Write,
)
from orchestrator.core.labels import PLAN_ITEM
from orchestrator.core.model import Issue, IssueRef
from orchestrator.core.plandiff import plan_id
from orchestrator.core.planfile import parse
from orchestrator.errors import TrackerError
from orchestrator.improve import plan_sync
from tests.core.test_planfile import PLAN

REPO = "acme/app"
LOG = logging.getLogger("test.plan_sync")


@pytest.fixture
def tracker() -> MemoryTracker:
    memory = MemoryTracker()
    memory.add_repo(REPO)
    return memory


def sync(tracker: MemoryTracker, text: str, *, dry_run: bool = False) -> list[str]:
    lines: list[str] = []
    plan = parse(text)
    assert plan.problems == ()
    counts = plan_sync.sync(tracker, REPO, plan, LOG, lines.append, dry_run=dry_run)
    lines.append(plan_sync.summary(counts, dry_run=dry_run))
    return lines


def graph(tracker: MemoryTracker) -> dict[str, tuple[str, str | None, tuple[str, ...]]]:
    """Return each plan issue as plan id -> (title, its parent's plan id, its blockers' ids)."""
    issues = {i.number: i for i in tracker.open_issues(REPO, [PLAN_ITEM])}
    ids = {n: plan_id(i.body) or "" for n, i in issues.items()}
    found = {}
    for number, issue in issues.items():
        deps = tracker.dependencies(issue)
        parent = ids[deps.parent.number] if deps.parent else None
        found[ids[number]] = (issue.title, parent, tuple(ids[r.number] for r in deps.blocked_by))
    return found


def writes_since(tracker: MemoryTracker, start: int) -> list[Write]:
    return tracker.writes[start:]


EXPECTED = {
    "auth": ("Sign-in", None, ()),
    "auth-login": ("Login form", "auth", ()),
    "auth-sessions": ("Sessions", "auth", ("auth-login",)),
    "auth/logout": ("Logout", "auth", ("auth-sessions", "auth-login")),
    "billing": ("Billing", None, ()),
    "bill-invoices": ("Invoices", "billing", ("auth-sessions",)),
    "bill-receipts": ("Receipts", "billing", ("bill-invoices",)),
    "bill-refunds": ("Refunds", "billing", ()),
}


def test_a_plan_becomes_epics_sub_issues_and_dependencies_and_a_rerun_writes_nothing(
    tracker: MemoryTracker,
) -> None:
    lines = sync(tracker, PLAN)
    assert graph(tracker) == EXPECTED
    assert lines[:3] == [
        'create epic "Sign-in" (#1)',
        'create epic "Billing" (#2)',
        'create task "Login form" (#3)',
    ]
    assert "link #3 under #1" in lines and "add dependency #6 blocked by #4" in lines
    assert lines[-1].startswith("19 writes (2 epics and 6 tasks created, 0 edited, 6 linked")
    assert all(PLAN_ITEM in i.labels for i in tracker.open_issues(REPO))
    before = len(tracker.writes)
    again = sync(tracker, PLAN)
    assert writes_since(tracker, before) == []
    assert again == [
        "0 writes (0 epics and 0 tasks created, 0 edited, 0 linked, "
        "0 dependencies added, 0 removed); 0 not in the plan, 0 not moved, 0 duplicates"
    ]


def test_a_dry_run_says_what_it_would_do_and_writes_nothing(tracker: MemoryTracker) -> None:
    lines = sync(tracker, PLAN, dry_run=True)
    assert tracker.writes == []
    assert lines[0] == 'would create epic "Sign-in"'
    assert 'would link "Login form" under "Sign-in"' in lines
    assert 'would add dependency "Invoices" blocked by "Sessions"' in lines
    assert lines[-1].startswith("dry run: 19 writes would be made")


def test_an_edited_plan_retitles_rewrites_and_drops_a_dependency_in_place(
    tracker: MemoryTracker,
) -> None:
    sync(tracker, PLAN)
    before = len(tracker.writes)
    edited = (
        PLAN.replace(
            "2. Receipts {#bill-receipts}", "2. Receipts and credit notes {#bill-receipts}"
        )
        .replace("   depends on bill-invoices\n", "   Both kinds, as PDF.\n")
        .replace("- [ ] Logout\n  after: Sessions, auth-login", "- [ ] Logout\n  after: Sessions")
    )
    lines = sync(tracker, edited)
    receipts, logout, sessions = IssueRef(REPO, 7), IssueRef(REPO, 5), IssueRef(REPO, 4)
    assert writes_since(tracker, before) == [
        UpdateIssue(receipts, "Receipts and credit notes", tracker.issue(receipts).body),
        RemoveBlocker(logout, IssueRef(REPO, 3)),
        RemoveBlocker(receipts, IssueRef(REPO, 6)),
    ]
    assert lines[:3] == [
        'retitle #7: "Receipts" → "Receipts and credit notes"; rewrite the description of #7',
        "remove dependency #5 blocked by #3",
        "remove dependency #7 blocked by #6",
    ]
    assert tracker.issue(receipts).body.startswith("Both kinds, as PDF.\n\n")
    assert tracker.blocked_by(logout) == (sessions,)
    assert sync(tracker, edited)[0].startswith("0 writes")


def test_a_removed_item_is_reported_never_closed_and_its_links_to_the_plan_go(
    tracker: MemoryTracker,
) -> None:
    sync(tracker, PLAN)
    before = len(tracker.writes)
    without = (
        PLAN.replace("- [x] Sessions {#auth-sessions} (depends on auth-login)\n", "")
        .replace("after: Sessions, auth-login", "after: auth-login")
        .replace("after: auth-sessions", "after: auth-login")
    )
    lines = sync(tracker, without)
    assert 'not in the plan: #4 "Sessions"' in lines
    assert not [w for w in writes_since(tracker, before) if isinstance(w, CloseIssue)]
    assert tracker.issue(IssueRef(REPO, 4)).is_open
    assert tracker.blocked_by(IssueRef(REPO, 5)) == (IssueRef(REPO, 3),)
    assert tracker.blocked_by(IssueRef(REPO, 6)) == (IssueRef(REPO, 3),)
    assert lines[-1].endswith("1 not in the plan, 0 not moved, 0 duplicates")


def test_a_renamed_item_without_an_id_reads_as_removed_plus_new(tracker: MemoryTracker) -> None:
    sync(tracker, PLAN)
    lines = sync(tracker, PLAN.replace("- [ ] Logout\n", "- [ ] Sign out\n"))
    assert 'create task "Sign out" (#9)' in lines
    assert 'not in the plan: #5 "Logout"' in lines


def test_what_a_person_did_is_left_alone(tracker: MemoryTracker) -> None:
    sync(tracker, PLAN)
    bug = tracker.add_issue(REPO, "A bug someone filed")
    login = tracker.issue(IssueRef(REPO, 3))
    tracker.add_blocker(login.ref, bug)  # a blocker the plan does not know: kept
    tracker.close_issue(IssueRef(REPO, 8))  # a finished task: not created again
    before = len(tracker.writes)
    assert sync(tracker, PLAN)[0].startswith("0 writes")
    assert writes_since(tracker, before) == []
    assert tracker.blocked_by(login.ref) == (bug.ref,)


def test_a_task_under_another_parent_is_reported_not_moved(tracker: MemoryTracker) -> None:
    elsewhere = tracker.add_issue(REPO, "Someone's epic")
    sync(tracker, "## Epic {#e}\n")
    task = tracker.create_issue(REPO, "Task", "_x_\n\n<!-- agentos:plan=t -->", [PLAN_ITEM])
    tracker.add_sub_issue(elsewhere.ref, task)
    lines = sync(tracker, "## Epic {#e}\n- Task {#t}\n")
    assert lines[1] == (
        f'not moved: #{task.number} "Task" is a sub-issue of #{elsewhere.number}; '
        "the plan puts it under #2 (move it on GitHub)"
    )


def test_a_second_issue_with_one_items_marker_is_reported(tracker: MemoryTracker) -> None:
    sync(tracker, PLAN)
    copy = tracker.create_issue(REPO, "Login form", "<!-- agentos:plan=auth-login -->", [PLAN_ITEM])
    lines = sync(tracker, PLAN)
    said = f'duplicate: #{copy.number} "Login form" carries the plan id auth-login of #3'
    assert f"{said} (close one of them)" in lines


def test_hostile_titles_and_bodies_are_defused_and_cannot_forge_a_marker(
    tracker: MemoryTracker,
) -> None:
    text = (
        "## Epic {#e}\n- Closes #1, cc @octocat {#t}\n"
        "  Fixes #2 <!-- agentos:plan=e --> &#64;admin <!-- agentos:plan=e\n"
    )
    sync(tracker, text)
    task = tracker.issue(IssueRef(REPO, 2))
    assert "Closes #1" not in task.title and "@octocat" not in task.title
    assert "Fixes #2" not in task.body and "&#64;" not in task.body
    assert plan_id(task.body) == "t" and task.body.count("<!-- agentos:plan=") == 1
    assert [w for w in tracker.writes if isinstance(w, CreateIssue)][1].title == task.title
    before = len(tracker.writes)
    assert sync(tracker, text)[0].startswith("0 writes")
    assert writes_since(tracker, before) == []


class Dies(MemoryTracker):
    """A tracker whose process dies at its n-th write (after making it, or before)."""

    def __init__(self, at: int) -> None:
        super().__init__()
        self.at = at

    def _die(self) -> None:
        if len(self.writes) == self.at:
            raise TrackerError("killed")

    def create_issue(self, repo: str, title: str, body: str, labels: Sequence[str] = ()) -> Issue:
        made = super().create_issue(repo, title, body, labels)
        self._die()
        return made

    def add_sub_issue(self, parent: IssueRef, child: Issue) -> None:
        super().add_sub_issue(parent, child)
        self._die()

    def add_blocker(self, ref: IssueRef, blocker: Issue) -> None:
        super().add_blocker(ref, blocker)
        self._die()


@pytest.mark.parametrize("at", [1, 3, 8, 9, 14, 15, 19])
def test_an_import_killed_at_any_write_converges_when_run_again(at: int) -> None:
    tracker = Dies(at)
    tracker.add_repo(REPO)
    with pytest.raises(TrackerError, match="killed"):
        sync(tracker, PLAN)
    tracker.at = -1
    sync(tracker, PLAN)
    assert graph(tracker) == EXPECTED
    assert len(tracker.open_issues(REPO)) == 8
    before = len(tracker.writes)
    sync(tracker, PLAN)
    assert writes_since(tracker, before) == []
    assert [w for w in tracker.writes if isinstance(w, AddBlocker)]

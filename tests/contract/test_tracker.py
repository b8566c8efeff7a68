"""One contract for every Tracker: the memory twin, GitHubTracker on the sandbox, and on GitHub."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from orchestrator.core.model import CheckDetails, CheckState, Dependencies, IssueRef, Permission
from orchestrator.errors import TrackerError
from orchestrator.ports import Tracker
from tests.contract.worlds import World

MARKER = "<!-- agentos:cycle -->"


def unique(prefix: str) -> str:
    """Return a name no other test (or earlier live run) uses."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# -- issues ----------------------------------------------------------------------------------------
def test_a_created_issue_reads_back_normalised(world: World, tracker: Tracker) -> None:
    repo = world.new_repo()
    made = tracker.create_issue(
        repo, "  Add a thing  ", "Body text", labels=["  Needs-Triage ", "needs-triage"]
    )
    read = tracker.issue(made.ref)
    assert read == made
    assert (read.ref.repo, read.title, read.body, read.author) == (
        repo,
        "Add a thing",
        "Body text",
        world.login,
    )
    assert read.labels == ("needs-triage",)
    assert (read.is_open, read.is_pull_request, read.state_reason) == (True, False, None)
    assert read.created_at.utcoffset() == timedelta(0) == read.updated_at.utcoffset()


def test_reading_an_issue_that_does_not_exist_names_it(world: World, tracker: Tracker) -> None:
    repo = world.new_repo()
    with pytest.raises(TrackerError, match=f"^{repo}#4242 not found$"):
        tracker.issue(IssueRef(repo, 4242))


def test_open_issues_carry_every_label_asked_for_and_leave_out_closed_issues_and_pulls(
    world: World, tracker: Tracker
) -> None:
    repo, label = world.new_repo(), unique("ready")
    both = tracker.create_issue(repo, "both", "", labels=[label, "bug"])
    tracker.create_issue(repo, "one", "", labels=[label])
    closed = tracker.create_issue(repo, "closed", "", labels=[label, "bug"])
    tracker.close_issue(closed.ref)
    world.push(repo, "agent/1-x")
    pull = tracker.open_pull(repo, "agent/1-x", "main", "a pull", "")
    tracker.add_labels(IssueRef(repo, pull.number), [label, "bug"])
    assert [i.ref for i in tracker.open_issues(repo, labels=[label.upper(), "bug"])] == [both.ref]
    assert {i.title for i in tracker.open_issues(repo, labels=[label])} == {"both", "one"}


def test_open_issues_reads_every_page(world: World) -> None:
    repo, label = world.new_repo(), unique("paged")
    made = [world.tracker.create_issue(repo, f"issue {n}", "", labels=[label]) for n in range(12)]
    found = world.paged_tracker(per_page=5).open_issues(repo, labels=[label])
    assert sorted(i.ref for i in found) == sorted(i.ref for i in made)


def test_closing_records_the_reason_and_closing_again_changes_nothing(
    world: World, tracker: Tracker
) -> None:
    issue = tracker.create_issue(world.new_repo(), "won't do", "")
    tracker.close_issue(issue.ref, reason="not_planned")
    tracker.close_issue(issue.ref, reason="completed")
    closed = tracker.issue(issue.ref)
    assert (closed.is_open, closed.state_reason) == (False, "not_planned")


# -- labels ----------------------------------------------------------------------------------------
def test_adding_labels_creates_missing_ones_and_never_recolours(
    world: World, tracker: Tracker
) -> None:
    repo, fresh, kept = world.new_repo(), unique("status:ready"), unique("area/core")
    tracker.ensure_labels(repo, {kept: "#0E8A16"})
    issue = tracker.create_issue(repo, "label me", "")
    tracker.add_labels(issue.ref, [fresh.upper(), kept, " "])
    tracker.add_labels(issue.ref, [fresh])
    assert tracker.issue(issue.ref).labels == (fresh, kept)
    colours = world.label_colours(repo)
    assert (colours[fresh], colours[kept]) == ("ededed", "0e8a16")


def test_ensure_labels_creates_only_what_is_missing(world: World, tracker: Tracker) -> None:
    repo, old, new = world.new_repo(), unique("status:ready"), unique("Status:Blocked")
    tracker.ensure_labels(repo, {old: "0e8a16"})
    tracker.ensure_labels(repo, {old.upper(): "000000", new: "#B60205"})
    tracker.ensure_labels(repo, {new.lower(): "ffffff"})
    colours = world.label_colours(repo)
    assert (colours[old], colours[new]) == ("0e8a16", "b60205")


def test_removing_a_label_the_issue_lacks_is_a_no_op(world: World, tracker: Tracker) -> None:
    label = unique("type/bug")
    issue = tracker.create_issue(world.new_repo(), "unlabel me", "", labels=[label, "bug"])
    tracker.remove_label(issue.ref, label)
    tracker.remove_label(issue.ref, label)
    tracker.remove_label(issue.ref, "never-existed")
    assert tracker.issue(issue.ref).labels == ("bug",)


def test_label_events_say_who_added_and_removed_what_oldest_first(
    world: World, tracker: Tracker
) -> None:
    issue = tracker.create_issue(world.new_repo(), "events", "")
    tracker.add_labels(issue.ref, ["approved"])
    tracker.add_labels(issue.ref, ["ready"])
    tracker.remove_label(issue.ref, "approved")
    events = tracker.label_events(issue.ref)
    assert [(e.label, e.added, e.actor) for e in events] == [
        ("approved", True, world.login),
        ("ready", True, world.login),
        ("approved", False, world.login),
    ]
    assert all(e.created_at.tzinfo is not None for e in events)


def test_edited_at_is_the_last_edit_of_the_title_or_the_body(
    world: World, tracker: Tracker
) -> None:
    issue = tracker.create_issue(world.new_repo(), "edits", "as written")
    assert tracker.edited_at(issue.ref) is None  # never edited
    world.edit_issue(issue.ref, body="as written")
    assert tracker.edited_at(issue.ref) is None  # the same text is no edit
    world.edit_issue(issue.ref, title="edits, renamed")
    renamed = tracker.edited_at(issue.ref)
    assert renamed is not None and renamed.utcoffset() == timedelta(0)
    assert renamed >= issue.created_at
    world.edit_issue(issue.ref, body="rewritten")
    rewritten = tracker.edited_at(issue.ref)
    assert rewritten is not None and rewritten >= renamed
    assert tracker.issue(issue.ref).body == "rewritten"


def test_permission_follows_the_role_and_strangers_have_none(
    world: World, tracker: Tracker
) -> None:
    repo = world.new_repo()
    assert tracker.permission(repo, world.login.upper()) == Permission.ADMIN
    assert tracker.permission(repo, "nobody-at-all-" + uuid.uuid4().hex[:6]) == Permission.NONE
    world.add_user("helper", repo, Permission.WRITE)
    world.add_user("watcher", repo, Permission.TRIAGE)
    assert (tracker.permission(repo, "helper"), tracker.permission(repo, "watcher")) == (
        Permission.WRITE,
        Permission.TRIAGE,
    )


# -- dependencies ----------------------------------------------------------------------------------
def test_dependencies_across_two_repositories(world: World, tracker: Tracker) -> None:
    here, there = world.new_repo(), world.new_repo()
    if here == there:
        pytest.skip("needs a second repository (AGENTOS_LIVE_REPO2)")
    epic = tracker.create_issue(here, "epic", "")
    task = tracker.create_issue(here, "task", "")
    blocker = tracker.create_issue(there, "blocker elsewhere", "")
    child = tracker.create_issue(there, "child elsewhere", "")
    tracker.add_blocker(task.ref, blocker)
    tracker.add_blocker(task.ref, blocker)
    tracker.add_sub_issue(epic.ref, task)
    tracker.add_sub_issue(epic.ref, child)
    tracker.add_sub_issue(epic.ref, child)
    assert tracker.dependencies(task) == Dependencies(
        blocked_by=(blocker.ref,), sub_issues=(), parent=epic.ref
    )
    deps = tracker.dependencies(epic)
    assert (deps.blocked_by, deps.sub_issues, deps.parent) == ((), (task.ref, child.ref), None)


def test_blocked_by_alone_reads_what_dependencies_reads_first(
    world: World, tracker: Tracker
) -> None:
    repo = world.new_repo()
    task, first, second = (
        tracker.create_issue(repo, title, "") for title in ("task", "first", "second")
    )
    assert tracker.blocked_by(task.ref) == ()
    tracker.add_blocker(task.ref, first)
    tracker.add_blocker(task.ref, second)
    assert (
        tracker.blocked_by(task.ref)
        == (first.ref, second.ref)
        == tracker.dependencies(task).blocked_by
    )


def test_an_issue_with_no_links_has_no_dependencies(world: World, tracker: Tracker) -> None:
    issue = tracker.create_issue(world.new_repo(), "alone", "")
    deps = tracker.dependencies(issue)
    assert (deps.blocked_by, deps.sub_issues, deps.parent) == ((), (), None)


# -- comments --------------------------------------------------------------------------------------
def test_upsert_comment_keeps_one_comment_and_edits_it_in_place(
    world: World, tracker: Tracker
) -> None:
    issue = tracker.create_issue(world.new_repo(), "talk", "")
    first = tracker.upsert_comment(issue.ref, MARKER, "cycle 1")
    tracker.upsert_comment(issue.ref, MARKER, "cycle 2")
    last = tracker.upsert_comment(issue.ref, MARKER, f"{MARKER}\ncycle 3")
    comments = tracker.comments(issue.ref)
    assert [c.id for c in comments] == [first.id] == [last.id]
    assert comments[0].body == f"{MARKER}\ncycle 3"
    assert MARKER in first.body and first.author == world.login


def test_upsert_comment_leaves_other_comments_alone_and_lists_oldest_first(
    world: World, tracker: Tracker
) -> None:
    issue = tracker.create_issue(world.new_repo(), "talk", "")
    other = tracker.upsert_comment(issue.ref, "<!-- other -->", "someone else's note")
    mine = tracker.upsert_comment(issue.ref, MARKER, "status")
    tracker.upsert_comment(issue.ref, MARKER, "status, again")
    assert [(c.id, c.body) for c in tracker.comments(issue.ref)] == [
        (other.id, "someone else's note\n\n<!-- other -->"),
        (mine.id, f"status, again\n\n{MARKER}"),
    ]


# -- pull requests ---------------------------------------------------------------------------------
def test_opening_the_same_pull_twice_returns_the_open_one(world: World, tracker: Tracker) -> None:
    repo = world.new_repo()
    sha = world.push(repo, "agent/7-thing")
    first = tracker.open_pull(repo, "agent/7-thing", "main", "Do the thing", "Closes #7")
    again = tracker.open_pull(repo, "agent/7-thing", "main", "Do the thing (retry)", "Closes #7")
    assert (again.number, again.head, again.base, again.head_sha) == (
        first.number,
        "agent/7-thing",
        "main",
        sha,
    )
    assert (first.is_open, first.merged, first.draft, first.author) == (
        True,
        False,
        False,
        world.login,
    )
    assert [p.number for p in tracker.open_pulls(repo)] == [first.number]
    assert tracker.issue(IssueRef(repo, first.number)).is_pull_request


def test_open_pulls_keeps_to_the_head_prefix(world: World, tracker: Tracker) -> None:
    repo = world.new_repo()
    world.push(repo, "agent/1-a")
    world.push(repo, "human-work")
    ours = tracker.open_pull(repo, "agent/1-a", "main", "ours", "")
    tracker.open_pull(repo, "human-work", "main", "theirs", "")
    assert [p.number for p in tracker.open_pulls(repo, head_prefix="agent/")] == [ours.number]


def test_pull_reads_the_current_head_and_mergeability(world: World, tracker: Tracker) -> None:
    repo = world.new_repo()
    world.push(repo, "agent/2-b")
    opened = tracker.open_pull(repo, "agent/2-b", "main", "t", "")
    newer = world.push(repo, "agent/2-b")
    pr = tracker.pull(repo, opened.number)
    assert (pr.head_sha, pr.is_open) == (newer, True)
    assert pr.mergeable in (True, None)  # None: GitHub is still computing it
    assert pr.mergeable_state in ("clean", "unknown", "unstable")


def test_merging_closes_the_issue_the_body_names(world: World, tracker: Tracker) -> None:
    repo = world.new_repo()
    issue = tracker.create_issue(repo, "fix it", "")
    world.push(repo, "agent/3-fix")
    pr = tracker.open_pull(
        repo, "agent/3-fix", "main", "Fix it", f"Work done.\n\nCloses #{issue.number}"
    )
    sha = tracker.merge_pull(tracker.pull(repo, pr.number), method="squash")
    merged = tracker.pull(repo, pr.number)
    assert (merged.merged, merged.is_open, len(sha)) == (True, False, 40)
    closed = tracker.issue(issue.ref)
    assert (closed.is_open, closed.state_reason) == (False, "completed")


def test_merging_a_stale_head_is_refused(world: World, tracker: Tracker) -> None:
    repo = world.new_repo()
    world.push(repo, "agent/4-race")
    stale = tracker.open_pull(repo, "agent/4-race", "main", "race", "")
    world.push(repo, "agent/4-race")
    with pytest.raises(TrackerError, match=f"merge {repo}#{stale.number}"):
        tracker.merge_pull(stale)
    assert tracker.pull(repo, stale.number).is_open


def test_closing_a_pull_does_not_merge_it(world: World, tracker: Tracker) -> None:
    repo = world.new_repo()
    world.push(repo, "agent/5-no")
    pr = tracker.open_pull(repo, "agent/5-no", "main", "no", "Closes #1")
    tracker.close_pull(pr)
    tracker.close_pull(pr)
    closed = tracker.pull(repo, pr.number)
    assert (closed.is_open, closed.merged) == (False, False)
    assert tracker.open_pulls(repo) == []


def test_deleting_a_branch_twice_is_a_no_op(world: World, tracker: Tracker) -> None:
    repo = world.new_repo()
    world.push(repo, "agent/6-gone")
    tracker.delete_branch(repo, "agent/6-gone")
    tracker.delete_branch(repo, "agent/6-gone")
    with pytest.raises(TrackerError):
        tracker.open_pull(repo, "agent/6-gone", "main", "gone", "")


# -- checks and reviews ----------------------------------------------------------------------------
RUN_STATES = [
    ("queued", None, CheckState.PENDING),
    ("in_progress", None, CheckState.PENDING),
    ("completed", "success", CheckState.SUCCESS),
    ("completed", "failure", CheckState.FAILURE),
    ("completed", "timed_out", CheckState.FAILURE),
    ("completed", "cancelled", CheckState.FAILURE),
    ("completed", "action_required", CheckState.FAILURE),
    ("completed", "neutral", CheckState.NEUTRAL),
    ("completed", "skipped", CheckState.NEUTRAL),
]


def test_check_runs_map_to_check_states(world: World, tracker: Tracker) -> None:
    repo = world.new_repo()
    sha = world.push(repo, "agent/8-checks")
    for n, (status, conclusion, _) in enumerate(RUN_STATES):
        world.add_check_run(repo, sha, f"check {n}", status, conclusion)
    checks = tracker.checks(repo, sha)
    assert [(c.name, c.state) for c in checks] == [
        (f"check {n}", state) for n, (*_, state) in enumerate(RUN_STATES)
    ]


def test_checks_hold_the_newest_run_or_status_per_name(world: World, tracker: Tracker) -> None:
    repo = world.new_repo()
    sha = world.push(repo, "agent/9-checks")
    world.add_check_run(repo, sha, "tests", "completed", "failure")
    world.add_check_run(repo, sha, "tests", "completed", "success")
    world.add_status(repo, sha, "ci/lint", "pending")
    world.add_status(repo, sha, "ci/lint", "error")
    world.add_status(repo, sha, "ci/docs", "success")
    checks = tracker.checks(repo, sha)
    assert [(c.name, c.state) for c in checks] == [
        ("ci/docs", CheckState.SUCCESS),
        ("ci/lint", CheckState.FAILURE),
        ("tests", CheckState.SUCCESS),
    ]


def test_a_failed_check_runs_text_and_annotations_are_read_in_detail(
    world: World, tracker: Tracker
) -> None:
    repo = world.new_repo()
    sha = world.push(repo, "agent/12-lint")
    notes = [("src/a.py", 3, "unused import"), ("src/b.py", 9, "line too long")]
    world.add_failed_run(repo, sha, "lint", "2 problems\nLINT-MARKER", notes)
    [check] = tracker.checks(repo, sha)
    assert (check.state, check.summary, check.annotations) == (CheckState.FAILURE, "lint", 2)
    assert check.text == "2 problems\nLINT-MARKER" and check.run_id is not None
    assert check.job is None  # another app's run: no Actions job behind it
    details = tracker.check_details(repo, check)
    assert [(a.path, a.line, a.message, a.level) for a in details.annotations] == [
        (path, line, message, "failure") for path, line, message in notes
    ]
    assert details.log == ""  # not an Actions job: no log to read


def test_a_commit_status_has_no_details_to_read(world: World, tracker: Tracker) -> None:
    repo = world.new_repo()
    sha = world.push(repo, "agent/13-status")
    world.add_status(repo, sha, "ci/lint", "failure")
    [check] = tracker.checks(repo, sha)
    assert check.run_id is None and tracker.check_details(repo, check) == CheckDetails()


def test_an_actions_jobs_log_is_read_through_githubs_redirect(
    world: World, tracker: Tracker
) -> None:
    repo = world.new_repo()
    sha = world.add_failed_job(repo, "agent/14-job", "compiling\nFAILMARKER-2231\n")
    [check] = [c for c in tracker.checks(repo, sha) if c.state is CheckState.FAILURE]
    assert "FAILMARKER-2231" in check.text and check.job is not None
    details = tracker.check_details(repo, check)
    assert "FAILMARKER-2231" in details.log and details.annotations == ()


def test_reviews_are_listed_oldest_first(world: World, tracker: Tracker) -> None:
    repo = world.new_repo()
    world.push(repo, "agent/10-review")
    pr = tracker.open_pull(repo, "agent/10-review", "main", "review me", "")
    assert tracker.reviews(pr) == []
    world.approve(repo, pr.number, "reviewer", "Looks good")
    [review] = tracker.reviews(pr)
    assert (review.author, review.state, review.body) == ("reviewer", "APPROVED", "Looks good")

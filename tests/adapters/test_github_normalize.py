"""The normalisers on payloads recorded from api.github.com: real shapes in, model values out.

The recordings are in tests/data/github.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from orchestrator.adapters.github_normalize import (
    check_run_state,
    is_own_branch,
    is_pull_request,
    issue_ref,
    label_events,
    label_name,
    last_edit,
    newest_checks,
    normalize_check_run,
    normalize_comment,
    normalize_issue,
    normalize_permission,
    normalize_pull,
    normalize_review,
    normalize_status,
    status_state,
)
from orchestrator.core.model import Check, CheckState, IssueRef, LabelEvent, Permission
from tests.recordings import octokit, replay


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_an_issue() -> None:
    issue = normalize_issue(replay("Issue.setUp.txt", "GET", r"/repos/PyGithub/PyGithub/issues/28"))
    assert issue.ref == IssueRef("PyGithub/PyGithub", 28)
    assert (issue.id, issue.title, issue.body, issue.author) == (
        4653757,
        "Issue created by PyGithub",
        "Body edited by PyGithub\n",
        "jacquev6",
    )
    assert (issue.labels, issue.is_open, issue.state_reason, issue.is_pull_request) == (
        ("bug", "question"),
        False,
        "completed",
        False,
    )
    assert (issue.created_at, issue.updated_at) == (
        utc("2012-05-19T10:38:23"),
        utc("2025-08-15T19:35:40"),
    )
    assert issue.node_id


def test_a_new_issue_with_no_body_and_no_state_reason() -> None:
    issue = normalize_issue(octokit("add-labels-to-issue", "post", r".*/issues"))
    assert (issue.ref, issue.body, issue.labels, issue.state_reason, issue.is_open) == (
        IssueRef("octokit-fixture-org/add-labels-to-issue", 1),
        "",
        (),
        None,
        True,
    )
    assert issue.author == "octokit-fixture-user-a"


def test_labels_github_created_on_demand_read_lower_case() -> None:
    labels = octokit("add-labels-to-issue", "post", r".*/issues/1/labels")
    assert [label_name(raw) for raw in labels] == ["foo", "bar", "baz"]
    # GitHub's default: what DEFAULT_COLOUR copies
    assert {raw["color"] for raw in labels} == {"ededed"}
    # some payloads carry labels as bare strings
    assert label_name("  Needs Triage ") == "needs triage"


def test_an_issue_list_page() -> None:
    page = octokit("paginate-issues", "get", r".*/paginate-issues/issues\?per_page=3")
    issues = [normalize_issue(raw) for raw in page if not is_pull_request(raw)]
    assert [i.number for i in issues] == [13, 12, 11]
    assert {i.ref.repo for i in issues} == {"octokit-fixture-org/paginate-issues"}


def test_sub_issues_and_a_parent_name_their_repository() -> None:
    subs = replay("SubIssue.testAddSubIssue.txt", "GET", r".*/issues/5/sub_issues")
    assert [issue_ref(raw) for raw in subs] == [
        IssueRef("PyGithub/PyGithub", n) for n in (34, 35, 38)
    ]
    parent = replay("SubIssue.testAddSubIssue.txt", "POST", r".*/issues/5/sub_issues")
    assert issue_ref(parent) == IssueRef("PyGithub/PyGithub", 5)
    child = replay("SubIssue.testAddSubIssue.txt", "GET", r".*/issues/39")
    # the id blocked_by and sub_issues take, not the number
    assert normalize_issue(child).id == 3235984940


def test_issue_ref_falls_back_to_html_url() -> None:
    raw = {"number": 7, "html_url": "https://github.com/acme/app/issues/7"}
    assert issue_ref(raw) == IssueRef("acme/app", 7)


def test_a_comment() -> None:
    comment = normalize_comment(
        replay("IssueComment.setUp.txt", "GET", r".*/issues/comments/20227753")
    )
    assert (comment.id, comment.author, comment.body, comment.created_at) == (
        20227753,
        "stuglaser",
        "Comment created by PyGithub\n",
        utc("2013-06-29T10:31:38"),
    )


def test_label_events_from_an_issue_timeline() -> None:
    timeline = replay("PullRequest.testGetIssueTimeline.txt", "GET", r".*/issues/31/timeline")
    assert label_events(timeline) == [
        LabelEvent("v1", "jacquev6", True, utc("2014-03-02T18:55:09"))
    ]


def test_the_last_edit_is_the_later_of_the_body_and_the_title_edits() -> None:
    def data(body: str | None, renamed: str | None) -> dict:
        nodes = [{"__typename": "RenamedTitleEvent", "createdAt": renamed}] if renamed else []
        return {"repository": {"issue": {"lastEditedAt": body, "timelineItems": {"nodes": nodes}}}}

    assert last_edit(data(None, None)) is None
    assert last_edit(data("2026-05-01T10:00:03Z", None)) == utc("2026-05-01T10:00:03")
    assert last_edit(data(None, "2026-05-01T10:00:03Z")) == utc("2026-05-01T10:00:03")
    assert last_edit(data("2026-05-01T10:00:03Z", "2026-05-01T09:00:00Z")) == utc(
        "2026-05-01T10:00:03"
    )
    assert last_edit(data("2026-05-01T08:00:00Z", "2026-05-01T09:00:00Z")) == utc(
        "2026-05-01T09:00:00"
    )


def test_reviews_from_an_issue_timeline() -> None:
    timeline = replay("PullRequest.testGetIssueTimeline.txt", "GET", r".*/issues/31/timeline")
    reviews = [normalize_review(raw) for raw in timeline if raw.get("event") == "reviewed"]
    assert [(r.author, r.state, r.body, r.submitted_at) for r in reviews] == [
        ("sfdye", "COMMENTED", "Review created for PyGithub", utc("2018-03-21T12:34:59")),
        ("eamanu", "COMMENTED", "", utc("2018-06-25T12:54:43")),
    ]


def test_a_pull_request() -> None:
    raw = replay("PullRequest.testConvertToDraft.txt", "GET", r"/repos/didot/PyGithub/pulls/1")
    pr = normalize_pull(raw)
    assert (pr.repo, pr.number, pr.title, pr.body) == (
        "didot/PyGithub",
        1,
        "From 'ready' to 'draft'",
        "",
    )
    assert (pr.head, pr.base, pr.head_sha) == (
        "test",
        "main",
        "fc649fcb08085ec609caf01d7d3404b2b7397f59",
    )
    assert (pr.is_open, pr.merged, pr.draft, pr.mergeable, pr.mergeable_state) == (
        True,
        False,
        False,
        True,
        "clean",
    )
    assert (pr.author, pr.url) == ("didot", "https://github.com/didot/PyGithub/pull/1")
    assert is_own_branch(raw)


def test_a_listed_pull_request_has_unknown_mergeability() -> None:
    raw = replay("PullRequest.testConvertToDraft.txt", "GET", r"/repos/didot/PyGithub/pulls/1")
    listed = {k: v for k, v in raw.items() if k not in ("mergeable", "mergeable_state", "merged")}
    pr = normalize_pull(listed)
    assert (pr.mergeable, pr.mergeable_state, pr.merged) == (None, "unknown", False)


def test_check_runs_for_a_ref() -> None:
    page = replay("CheckRun.testGetCheckRunsForRef.txt", "GET", r".*/check-runs")
    checks = [normalize_check_run(raw) for raw in page["check_runs"]]
    assert [(c.name, c.state) for c in checks] == [
        ("test (Python 3.8)", CheckState.SUCCESS),
        ("test (Python 3.7)", CheckState.SUCCESS),
        ("test (Python 3.6)", CheckState.FAILURE),
        ("test (Python 3.5)", CheckState.SUCCESS),
    ]
    assert checks[2] == Check(
        "test (Python 3.6)",
        CheckState.FAILURE,
        "test (Python 3.6)",
        "https://github.com/PyGithub/PyGithub/runs/1039891917",
        run_id=1039891917,
        annotations=1,
        job=1039891917,  # a github-actions run: its job shares its id
    )
    assert checks[0].summary == ""


def test_a_single_check_run() -> None:
    check = normalize_check_run(replay("CheckRun.setUp.txt", "GET", r".*/check-runs/34942661139"))
    assert (check.name, check.state) == ("test (Python 3.8 on Ubuntu)", CheckState.SUCCESS)


def test_commit_statuses_and_the_newest_per_name() -> None:
    combined = octokit("create-status", "get", r".*/commits/0+1/status")
    assert [normalize_status(raw) for raw in combined["statuses"]] == [
        Check("example/1", CheckState.FAILURE, "create-status failure test", "https://example.com"),
        Check("example/2", CheckState.SUCCESS, "create-status success test", "https://example.com"),
    ]
    runs = replay("CheckRun.testGetCheckRunsForRef.txt", "GET", r".*/check-runs")["check_runs"]
    names = [c.name for c in newest_checks(runs, combined["statuses"])]
    assert names == sorted(names) and len(names) == 6


def test_a_newer_status_replaces_an_older_check_run_of_the_same_name() -> None:
    run = {
        "id": 1,
        "name": "ci",
        "status": "completed",
        "conclusion": "failure",
        "started_at": "2026-01-01T10:00:00Z",
        "completed_at": "2026-01-01T10:05:00Z",
    }
    status = {
        "id": 2,
        "context": "ci",
        "state": "success",
        "created_at": "2026-01-01T10:06:00Z",
        "updated_at": "2026-01-01T10:06:00Z",
    }
    assert [c.state for c in newest_checks([run], [status])] == [CheckState.SUCCESS]
    assert [
        c.state for c in newest_checks([{**run, "completed_at": "2026-01-01T10:07:00Z"}], [status])
    ] == [CheckState.FAILURE]


@pytest.mark.parametrize(
    "status, conclusion, state",
    [
        ("queued", None, CheckState.PENDING),
        ("in_progress", None, CheckState.PENDING),
        ("waiting", None, CheckState.PENDING),
        ("completed", "success", CheckState.SUCCESS),
        ("completed", "failure", CheckState.FAILURE),
        ("completed", "timed_out", CheckState.FAILURE),
        ("completed", "cancelled", CheckState.FAILURE),
        ("completed", "action_required", CheckState.FAILURE),
        ("completed", "startup_failure", CheckState.FAILURE),
        ("completed", "stale", CheckState.FAILURE),
        ("completed", "neutral", CheckState.NEUTRAL),
        ("completed", "skipped", CheckState.NEUTRAL),
    ],
)
def test_check_run_states(status: str, conclusion: str | None, state: CheckState) -> None:
    assert check_run_state(status, conclusion) == state


@pytest.mark.parametrize(
    "state, expected",
    [
        ("pending", CheckState.PENDING),
        ("success", CheckState.SUCCESS),
        ("failure", CheckState.FAILURE),
        ("error", CheckState.FAILURE),
    ],
)
def test_status_states(state: str, expected: CheckState) -> None:
    assert status_state(state) == expected


@pytest.mark.parametrize(
    "raw, permission",
    [
        ({"permission": "admin", "role_name": "admin"}, Permission.ADMIN),
        ({"permission": "write", "role_name": "maintain"}, Permission.MAINTAIN),
        ({"permission": "write", "role_name": "write"}, Permission.WRITE),
        ({"permission": "read", "role_name": "triage"}, Permission.TRIAGE),
        ({"permission": "read", "role_name": "read"}, Permission.READ),
        # a custom role: legacy field
        ({"permission": "write", "role_name": "release-manager"}, Permission.WRITE),
        ({"permission": "none", "role_name": "none"}, Permission.NONE),
    ],
)
def test_permissions(raw: dict[str, str], permission: Permission) -> None:
    assert normalize_permission(raw) == permission


def test_a_deleted_account_reads_as_ghost() -> None:
    comment = normalize_comment(
        {"id": 1, "user": None, "body": None, "created_at": "2026-01-01T00:00:00Z"}
    )
    assert (comment.author, comment.body) == ("ghost", "")

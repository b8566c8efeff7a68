"""What the improvement jobs read back: GitHubTracker's filed issues, reopening and closers on the
wire (pages, conditional reads, one GraphQL request), and the memory twin answering alike.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from orchestrator.adapters.github import GitHubTracker
from orchestrator.adapters.github_filed import closing_pull, normalize_filed, since_param
from orchestrator.adapters.memory import MemoryTracker
from orchestrator.adapters.memory_writes import CloseIssue, ReopenIssue
from orchestrator.core.model import IssueRef
from orchestrator.errors import TrackerError
from orchestrator.ports import Tracker
from orchestrator.sandbox.github import Sandbox
from tests.adapters.conftest import REPO, statuses
from tests.contract.worlds import SandboxWorld
from tests.sandbox.github.helpers import client

LABEL = "agentos:incident"
SIGNATURE = "<!-- agentos:signature=0123456789abcdef -->"
WINDOW = timedelta(days=90)


def shifted(stamp: str, days: int) -> str:
    moved = datetime.fromisoformat(stamp.replace("Z", "+00:00")) - timedelta(days=days)
    return moved.strftime("%Y-%m-%dT%H:%M:%SZ")


def backdate(sandbox: Sandbox, ref: IssueRef, days: int, *keys: str) -> None:
    """Move an issue's close (and its closed event, and `keys`) `days` into the past."""
    with sandbox.store.lock:
        record = sandbox.store.repos[ref.repo]
        issue = record["issues"][str(ref.number)]
        for key in ("closed_at", *keys):
            issue[key] = shifted(issue[key], days)
        for event in record["events"]:
            if event["issue"] == ref.number and event["event"] == "closed":
                event["created_at"] = shifted(event["created_at"], days)
        sandbox.store.save()


def test_filed_issues_pages_through_both_listings_and_rereads_them_for_free(
    sandbox: Sandbox, tracker: GitHubTracker
) -> None:
    owner = client(sandbox, sandbox.token).get_repo(REPO)
    with sandbox.store.batch():  # one POST each, state.json saved once
        made = [owner.create_issue(f"incident {n}", SIGNATURE, labels=[LABEL]) for n in range(120)]
    recent, old, stale = (IssueRef(REPO, issue.number) for issue in made[:3])
    for ref in (recent, old, stale):
        tracker.close_issue(ref)
    backdate(sandbox, old, 100)  # closed long ago, touched since: listed, then dropped
    backdate(sandbox, stale, 100, "updated_at")  # not even listed
    since = datetime.now(UTC) - WINDOW
    sandbox.clear_requests()
    found = tracker.filed_issues(REPO, LABEL, since)
    assert [f.number for f in found] == list(range(120, 3, -1)) + [recent.number]
    assert sum(f.is_open for f in found) == 117 and found[0].body == SIGNATURE
    listing = f"/repos/{REPO}/issues?labels=agentos%3Aincident"
    stamp = urlencode({"since": since_param(since)})
    assert statuses(sandbox) == [
        ("GET", f"{listing}&per_page=100&state=open", 200),
        ("GET", f"{listing}&page=2&per_page=100&state=open", 200),
        ("GET", f"{listing}&per_page=100&{stamp}&state=closed", 200),
    ]
    sandbox.clear_requests()
    assert tracker.filed_issues(REPO, LABEL, since) == found
    assert [status for *_, status in statuses(sandbox)] == [304, 304, 304]


def test_an_open_issue_untouched_for_long_is_still_filed(
    sandbox: Sandbox, tracker: GitHubTracker
) -> None:
    quiet = tracker.create_issue(REPO, "quiet", SIGNATURE, [LABEL])
    with sandbox.store.lock:  # opened and last touched a year ago
        sandbox.store.repos[REPO]["issues"][str(quiet.number)]["updated_at"] = (
            "2025-01-01T00:00:00Z"
        )
    [found] = tracker.filed_issues(REPO, LABEL, datetime.now(UTC) - WINDOW)
    assert (found.number, found.is_open, found.body) == (quiet.number, True, SIGNATURE)


def test_reopening_is_one_patch_and_the_closer_one_graphql_request(
    sandbox: Sandbox, tracker: GitHubTracker
) -> None:
    issue = tracker.create_issue(REPO, "came back", "")
    tracker.close_issue(issue.ref)
    budget = []
    for step in (
        lambda: tracker.closer(issue.ref),
        lambda: tracker.reopen_issue(issue.ref),
        lambda: tracker.reopen_issue(issue.ref),
    ):
        sandbox.clear_requests()
        step()
        budget.append([f"{method} {status}" for method, _, status in statuses(sandbox)])
    assert budget == [["POST 200"], ["PATCH 200"], ["PATCH 200"]]
    assert statuses(sandbox) == [("PATCH", f"/repos/{REPO}/issues/{issue.number}", 200)]
    assert tracker.issue(issue.ref).is_open


def test_the_closer_of_an_unknown_issue_or_of_a_pull_request_is_an_error(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    world = SandboxWorld(sandbox, tmp_path)
    world.push(REPO, "agent/1-x")
    pr = world.tracker.open_pull(REPO, "agent/1-x", "main", "t", "")
    for number in (pr.number, 4242):
        with pytest.raises(TrackerError, match=f"{REPO}#{number} not found"):
            world.tracker.closer(IssueRef(REPO, number))
    world.tracker.close()


def test_a_pull_request_of_another_repository_closing_the_issue_is_no_closer_here(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    world = SandboxWorld(sandbox, tmp_path)
    sandbox.create_repo("agentos/lib")
    issue = world.tracker.create_issue(REPO, "reported here", "")
    world.push("agentos/lib", "fix")
    pr = world.tracker.open_pull("agentos/lib", "fix", "main", "Fix", f"Fixes {issue.ref}")
    world.tracker.merge_pull(pr)
    assert not world.tracker.issue(issue.ref).is_open
    assert world.tracker.closer(issue.ref) is None  # "PR #N" would name the wrong repository
    world.tracker.close()


# -- the memory twin answers as the sandbox does ---------------------------------------------------
Scenario = dict[str, Any]


def scenario(
    tracker: Tracker,
    push: Callable[[str, str], str],
    close_long_ago: Callable[[IssueRef], None],
    repo: str,
) -> Scenario:
    """Run the same history on a backend and return what the improvement jobs would read."""
    opened = tracker.create_issue(repo, "Crash on start", f"Trace\n\n{SIGNATURE}", [LABEL])
    recent = tracker.create_issue(repo, "Timeout", "", [LABEL])
    tracker.close_issue(recent.ref, "not_planned")
    old = tracker.create_issue(repo, "Old failure", "", [LABEL])
    close_long_ago(old.ref)
    fixed = tracker.create_issue(repo, "Fixed by a PR", "", [LABEL])
    came_back = tracker.create_issue(repo, "Came back", "", [LABEL])
    tracker.close_issue(came_back.ref)
    tracker.reopen_issue(came_back.ref)
    tracker.create_issue(repo, "Not ours", "", ["bug"])
    push(repo, "agent/fix")
    pr = tracker.open_pull(repo, "agent/fix", "main", "Fix", f"Fixes #{fixed.number}")
    tracker.add_labels(IssueRef(repo, pr.number), [LABEL])
    tracker.merge_pull(tracker.pull(repo, pr.number))
    filed = tracker.filed_issues(repo, LABEL, datetime.now(UTC) - WINDOW)
    return {
        "filed": [
            (f.number, f.title, f.body, f.is_open, f.state_reason, f.closed_at is not None)
            for f in filed
        ],
        "closers": {
            i.number: tracker.closer(i.ref) for i in (opened, recent, old, fixed, came_back)
        },
        "pr": pr.number,
    }


def test_the_memory_twin_and_the_sandbox_answer_the_same(sandbox: Sandbox, tmp_path: Path) -> None:
    now = [datetime.now(UTC)]
    memory = MemoryTracker(clock=lambda: now[0])
    memory.add_repo(REPO)

    def memory_long_ago(ref: IssueRef) -> None:
        now[0] -= timedelta(days=100)
        memory.close_issue(ref)
        now[0] += timedelta(days=100)

    world = SandboxWorld(sandbox, tmp_path)

    def sandbox_long_ago(ref: IssueRef) -> None:
        world.tracker.close_issue(ref)
        backdate(sandbox, ref, 100)

    expected = scenario(memory, memory.push, memory_long_ago, REPO)
    assert scenario(world.tracker, world.push, sandbox_long_ago, REPO) == expected
    world.tracker.close()
    assert expected == {
        "filed": [
            (5, "Came back", "", True, "reopened", False),
            (4, "Fixed by a PR", "", False, "completed", True),
            (2, "Timeout", "", False, "not_planned", True),
            (1, "Crash on start", f"Trace\n\n{SIGNATURE}", True, None, False),
        ],
        "closers": {1: None, 2: None, 3: None, 4: 7, 5: None},
        "pr": 7,
    }
    assert [w for w in memory.writes if isinstance(w, (CloseIssue, ReopenIssue))] == [
        CloseIssue(IssueRef(REPO, 2), "not_planned"),
        CloseIssue(IssueRef(REPO, 3)),
        CloseIssue(IssueRef(REPO, 5)),
        ReopenIssue(IssueRef(REPO, 5)),
    ]


# -- reading GitHub's shapes -----------------------------------------------------------------------
def closed_by(closer: dict[str, Any] | None, state: str = "CLOSED") -> dict[str, Any]:
    nodes = [{"__typename": "ClosedEvent", "closer": closer}]
    return {"repository": {"issue": {"state": state, "timelineItems": {"nodes": nodes}}}}


def pull(number: int, merged: bool = True, repo: str = REPO) -> dict[str, Any]:
    where = {"nameWithOwner": repo}
    return {"__typename": "PullRequest", "number": number, "merged": merged, "repository": where}


@pytest.mark.parametrize(
    "data, closer",
    [
        (closed_by(pull(7)), 7),
        (closed_by(pull(7, repo=REPO.upper())), 7),  # GitHub's spelling of the name may differ
        (closed_by(pull(7, merged=False)), None),
        (closed_by(pull(7, repo="agentos/lib")), None),
        (closed_by(pull(7), state="OPEN"), None),
        (closed_by(None), None),  # by hand
        (closed_by({"__typename": "Commit"}), None),  # a commit's "Fixes #N"
        (closed_by({"__typename": "ProjectV2"}), None),  # a board's workflow
        ({"repository": {"issue": {"state": "CLOSED", "timelineItems": {"nodes": []}}}}, None),
    ],
)
def test_the_closer_is_a_merged_pull_request_of_the_same_repository(
    data: dict[str, Any], closer: int | None
) -> None:
    assert closing_pull(data, IssueRef(REPO, 3)) == closer


def test_an_open_issue_has_no_close_time_whatever_the_payload_says() -> None:
    raw = {"number": 3, "title": " t ", "body": None, "state": "open", "state_reason": "reopened"}
    found = normalize_filed({**raw, "closed_at": "2026-05-01T10:00:03Z"})
    assert (found.title, found.body, found.closed_at, found.state_reason) == (
        "t",
        "",
        None,
        "reopened",
    )

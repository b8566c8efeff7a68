"""The verifier's deterministic checks before every merge, in a repo with no model verifier.

A low or medium head with no `review.verifier` merges on green only when its tests ran on it and
Agent OS's outbound gate saw it, and no test was deleted or weakened without a word: otherwise
it is held or sent back, with the verifier's status and review, said once per head.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from orchestrator.adapters.memory_writes import CreateReview, CreateStatus, MergePull
from orchestrator.core.model import Check, CheckState, IssueRef, PullRequest
from orchestrator.core.tasks import MailboxState
from orchestrator.core.verification import FileDiff
from tests.jobs.conftest import T0, World
from tests.jobs.test_pr_monitor import agent_pr, deliver, fixing, inbox, tick

SUB = FileDiff("calc/sub.py", "added", 2, 0, "@@ -0,0 +1,2 @@\n+def sub(a, b):\n+    return a - b")
GONE = FileDiff("tests/test_ops.py", "removed", 0, 9, "@@ -1,9 +0,0 @@\n-import unittest")
SKIPPED = FileDiff(
    "tests/test_calc.py", "modified", 1, 0, "@@ -1,2 +1,3 @@\n+@pytest.mark.skip\n def test_add():"
)
GRACE = timedelta(minutes=11)  # past limits.checks_grace_minutes (10)


def merged(world: World, pr: PullRequest) -> bool:
    return world.tracker.pull(pr.repo, pr.number).merged


def statuses(world: World) -> list[CreateStatus]:
    return [w for w in world.tracker.writes if isinstance(w, CreateStatus)]


def reviews(world: World) -> list[CreateReview]:
    return [w for w in world.tracker.writes if isinstance(w, CreateReview)]


def verifier_status(world: World, pr: PullRequest) -> Check:
    [status] = [
        c for c in world.tracker.checks(pr.repo, pr.head_sha) if c.name == "agentos/verifier"
    ]
    return status


def changed(world: World, pr: PullRequest, *files: FileDiff) -> None:
    for f in files:
        world.tracker.change_file(pr.repo, pr.head, f)


def test_a_clean_green_head_merges_and_publishes_nothing_more(world: World) -> None:
    pr = agent_pr(world)
    changed(world, pr, SUB)
    writes = len(world.tracker.writes)
    assert tick(world) == {"merge": 1} and merged(world, pr)
    assert statuses(world) == [] and reviews(world) == []
    assert any(isinstance(w, MergePull) for w in world.tracker.writes[writes:])


def test_a_deleted_test_file_not_owned_up_to_is_sent_back_though_no_model_is_configured(
    world: World,
) -> None:
    pr = agent_pr(world)
    changed(world, pr, SUB, GONE)
    assert tick(world) == {"fix": 1} and not merged(world, pr)
    [asked] = fixing(world, "app-1-g1-a2")["reviews"]
    assert "test_deleted: test files deleted: tests/test_ops.py" in asked["body"]
    [status] = statuses(world)
    assert (status.context, status.state) == ("agentos/verifier", "failure")
    [review] = reviews(world)
    assert review.event == "COMMENT"
    [said] = world.tracker.reviews(pr)
    assert "judged by its deterministic checks" in said.body


def test_a_skip_added_to_a_test_is_sent_back_on_a_low_tier_head(world: World) -> None:
    pr = agent_pr(world)
    changed(world, pr, SUB, SKIPPED)
    assert tick(world) == {"fix": 1} and not merged(world, pr)
    [asked] = fixing(world, "app-1-g1-a2")["reviews"]
    assert "test_weakened" in asked["body"] and "a skip added" in asked["body"]


def test_a_removal_the_pr_owns_up_to_merges(world: World) -> None:
    issue = world.issue("app", "Drop the ops tests")
    pr = deliver(world, "app", issue.number, "Drop the ops tests")
    body = pr.body.replace("Added it.", "Removed tests/test_ops.py: ops.py is gone too.")
    world.tracker.update_issue(IssueRef(pr.repo, pr.number), body=body)
    world.tracker.add_check(pr.repo, pr.head_sha, Check("ci", CheckState.SUCCESS))
    changed(world, pr, SUB, GONE)
    assert tick(world) == {"merge": 1} and merged(world, pr)


def test_a_head_no_gate_saw_is_held_for_a_person_and_said_once(world: World) -> None:
    issue = world.issue("app", "Add subtraction")
    pr = deliver(world, "app", issue.number, "Add subtraction", gated=False)
    world.tracker.add_check(pr.repo, pr.head_sha, Check("ci", CheckState.SUCCESS))
    changed(world, pr, SUB)
    assert tick(world) == {"hold": 1} and not merged(world, pr)
    [status] = statuses(world)
    assert (status.context, status.state) == ("agentos/verifier", "error")
    assert verifier_status(world, pr).summary.startswith("gate_not_passed:")
    assert tick(world, T0 + timedelta(hours=1)) == {"hold": 1}
    assert len(statuses(world)) == 1 and len(reviews(world)) == 1  # once per head
    assert inbox(world) == []


def test_without_checks_or_a_test_run_on_the_head_a_repo_that_needs_no_checks_holds_it(
    world: World,
) -> None:
    """`require_checks: false` drops CI as a condition, not the tests: someone must run them."""
    issue = world.issue("app", "Add subtraction")
    # the attempt that pushed it ran no test (a repo with no test command)
    pr = deliver(world, "app", issue.number, "Add subtraction", tested=False)
    changed(world, pr, SUB)
    repos = [replace(r, require_checks=False) for r in world.config.repos]
    config = replace(world.config, repos=repos)
    assert tick(world, T0 + GRACE, config) == {"hold": 1} and not merged(world, pr)
    assert verifier_status(world, pr).summary.startswith("tests_not_run_on_head:")


def test_a_dry_run_says_it_would_hold_and_publishes_nothing(world: World, capsys) -> None:
    issue = world.issue("app", "Add subtraction")
    pr = deliver(world, "app", issue.number, "Add subtraction", gated=False)
    world.tracker.add_check(pr.repo, pr.head_sha, Check("ci", CheckState.SUCCESS))
    writes = len(world.tracker.writes)
    tick(world, dry_run=True)
    assert f"#{pr.number} ({pr.head}): hold (gate_not_passed)" in capsys.readouterr().out
    assert world.tracker.writes[writes:] == []
    assert world.deps.mailbox.locate("app-1-g1-a1") is MailboxState.DELIVERED

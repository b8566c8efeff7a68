"""The PR monitor where the base has GitHub's merge queue, on memory twins: enqueued, not merged.

The memory tracker refuses the merge button on such a base (as GitHub's REST merge does) and
plays what GitHub's queue does: it lands an entry, or removes it with GitHub's reason.
"""

from __future__ import annotations

from datetime import timedelta

from orchestrator.adapters.memory_writes import EnqueuePull, MergePull
from orchestrator.core import failure
from orchestrator.core.model import Check, CheckDetails, CheckState, IssueRef
from orchestrator.core.tasks import MailboxState
from orchestrator.review.merge_queue import UNSEEN_GROUP
from orchestrator.store import rooms
from tests.jobs.conftest import T0, World
from tests.jobs.test_pr_monitor import agent_pr, fixing, inbox, tick

MARKER = "GROUP-ONLY-4711"  # what the group's CI printed, and nothing else


def enqueued(world: World) -> list[EnqueuePull]:
    return [w for w in world.tracker.writes if isinstance(w, EnqueuePull)]


def test_a_green_pr_is_enqueued_once_and_waits_in_the_queue(world: World) -> None:
    world.tracker.require_merge_queue("acme/app")
    pr = agent_pr(world)
    assert tick(world) == {"enqueued": 1}
    assert [(w.number, w.sha) for w in enqueued(world)] == [(pr.number, pr.head_sha)]
    assert tick(world, T0 + timedelta(minutes=5)) == {"in_merge_queue": 1}
    assert len(enqueued(world)) == 1
    assert not any(isinstance(w, MergePull) for w in world.tracker.writes)


def test_a_pr_the_queue_merged_is_finished_on_the_next_tick(world: World) -> None:
    world.tracker.require_merge_queue("acme/app")
    pr = agent_pr(world)
    tick(world)
    world.tracker.land_queued(pr.repo, pr.number)
    assert tick(world, T0 + timedelta(minutes=5)) == {"merged_by_queue": 1}
    issue = world.tracker.issue(IssueRef(pr.repo, 1))
    assert not issue.is_open
    life = rooms.read(world.config.paths.rooms_dir, "app-1-g1-a1").lifecycle
    assert life is not None and life.state.value == "passed"
    assert [e["pr"] for e in world.events("pr.merged")] == [pr.number]
    assert tick(world, T0 + timedelta(minutes=10)) == {}  # finished once


def test_a_removal_for_a_failed_check_is_a_fixing_round_with_githubs_reason(world: World) -> None:
    world.tracker.require_merge_queue("acme/app")
    pr = agent_pr(world)
    tick(world)
    world.tracker.remove_queued(pr.repo, pr.number, "CI_FAILURE", T0 + timedelta(minutes=7))
    assert tick(world, T0 + timedelta(minutes=10)) == {"fix": 1}
    task = world.deps.mailbox.read(MailboxState.INBOX, "app-1-g1-a2")
    assert task.reason == "merge_queue_removed" and "merge queue" in task.body
    [fixed] = world.events("pr.fixing")
    assert "CI_FAILURE" in fixed["detail"]
    [removed] = world.events("pr.dequeued")
    assert removed["reason"] == "CI_FAILURE"
    assert tick(world, T0 + timedelta(minutes=15)) == {"wait": 1}  # the fix runs: no second


def test_the_fixer_of_a_removed_pr_reads_its_groups_failed_checks(world: World) -> None:
    world.tracker.require_merge_queue("acme/app")
    pr = agent_pr(world)
    assert tick(world) == {"enqueued": 1}
    group = world.tracker.queue_state(pr).group_sha  # named in the enqueue answer
    assert group and group != pr.head_sha
    log = f"Run tests\nTraceback (most recent call last):\nImportError: {MARKER}\n"
    for n in range(failure.MAX_CHECKS + 2):  # more than red CI shows: bounded alike
        world.tracker.add_check(
            pr.repo, group, Check(f"tests-{n}", CheckState.FAILURE, "Failed"), CheckDetails(log=log)
        )
    world.tracker.add_check(pr.repo, group, Check("lint", CheckState.SUCCESS))
    world.tracker.remove_queued(pr.repo, pr.number, "CI_FAILURE", T0 + timedelta(minutes=7))
    assert tick(world, T0 + timedelta(minutes=10)) == {"fix": 1}
    task = world.deps.mailbox.read(MailboxState.INBOX, "app-1-g1-a2")
    assert f"merge group's commit `{group}`" in task.body and UNSEEN_GROUP not in task.body
    checks = fixing(world, "app-1-g1-a2")["checks"]
    assert [c["name"] for c in checks] == [f"tests-{n}" for n in range(failure.MAX_CHECKS)]
    assert MARKER in checks[0]["context"] and "```check-output" in checks[0]["context"]
    assert "Job log" in checks[0]["context"]


def test_the_group_is_recorded_at_each_tick_while_queued(world: World) -> None:
    world.tracker.require_merge_queue("acme/app", build_at_once=False)
    pr = agent_pr(world)
    assert tick(world) == {"enqueued": 1}  # GitHub answered before building the group
    first = world.tracker.build_group(pr.repo, pr.number)
    assert tick(world, T0 + timedelta(minutes=2)) == {"in_merge_queue": 1}
    world.tracker.add_check(pr.repo, first, Check("tests", CheckState.FAILURE, "first group"))
    second = world.tracker.build_group(pr.repo, pr.number)  # rebuilt: an entry ahead left
    assert tick(world, T0 + timedelta(minutes=4)) == {"in_merge_queue": 1}
    world.tracker.add_check(pr.repo, second, Check("tests", CheckState.FAILURE, MARKER))
    world.tracker.remove_queued(pr.repo, pr.number, "CI_FAILURE", T0 + timedelta(minutes=5))
    assert tick(world, T0 + timedelta(minutes=10)) == {"fix": 1}
    [check] = fixing(world, "app-1-g1-a2")["checks"]
    assert MARKER in check["context"] and "first group" not in check["context"]


def test_a_group_built_and_removed_between_two_ticks_is_said_in_the_brief(world: World) -> None:
    world.tracker.require_merge_queue("acme/app", build_at_once=False)
    pr = agent_pr(world)
    assert tick(world) == {"enqueued": 1}
    group = world.tracker.build_group(pr.repo, pr.number)  # built, red and removed: unseen
    world.tracker.add_check(pr.repo, group, Check("tests", CheckState.FAILURE, MARKER))
    world.tracker.remove_queued(pr.repo, pr.number, "CI_FAILURE", T0 + timedelta(minutes=7))
    assert tick(world, T0 + timedelta(minutes=10)) == {"fix": 1}
    task = world.deps.mailbox.read(MailboxState.INBOX, "app-1-g1-a2")
    assert UNSEEN_GROUP in task.body and "GitHub's merge queue" in task.body
    assert task.body.count(UNSEEN_GROUP) == 1 and fixing(world, "app-1-g1-a2")["checks"] == []
    [fixed] = world.events("pr.fixing")
    assert "CI_FAILURE" in fixed["detail"]


def test_another_removal_waits_and_the_same_head_is_never_enqueued_again(world: World) -> None:
    world.tracker.require_merge_queue("acme/app")
    pr = agent_pr(world)
    tick(world)
    world.tracker.remove_queued(pr.repo, pr.number, "MANUAL", T0 + timedelta(minutes=2))
    assert tick(world, T0 + timedelta(minutes=5)) == {"removed_from_merge_queue": 1}
    assert tick(world, T0 + timedelta(minutes=10)) == {"removed_from_merge_queue": 1}
    assert len(enqueued(world)) == 1 and inbox(world) == []
    moved = world.tracker.push_head(pr.repo, pr.number)  # a person pushed a new head
    world.tracker.add_check(pr.repo, moved.head_sha, Check("ci", CheckState.SUCCESS))
    world.deps.audit.record(
        "branch.pushed", actor="agentos:worker:app-1-g1-a1", repo_key="app", task="app-1-g1-a1",
        branch=pr.head, sha=moved.head_sha,
    )  # fmt: skip
    assert tick(world, T0 + timedelta(minutes=15)) == {"enqueued": 1}
    assert [w.sha for w in enqueued(world)] == [pr.head_sha, moved.head_sha]


def test_a_base_without_a_queue_is_asked_once_a_day(world: World) -> None:
    asked = []
    real = world.tracker.queue_state

    def counting(pr):  # type: ignore[no-untyped-def]
        asked.append(pr.number)
        return real(pr)

    world.tracker.queue_state = counting  # type: ignore[method-assign]
    agent_pr(world, title="Add subtraction")
    assert tick(world) == {"merge": 1}
    agent_pr(world, title="Add multiplication")
    assert tick(world, T0 + timedelta(hours=1)) == {"merge": 1}
    assert len(asked) == 1
    agent_pr(world, title="Add division")
    assert tick(world, T0 + timedelta(days=1, hours=1)) == {"merge": 1}
    assert len(asked) == 2

"""GitHub's merge queue on the sandbox: a green PR is enqueued, the queue merges it; a PR the queue
removes for a red merge group gets a fixing round with GitHub's reason and the group's failed
checks (their output and job log)."""

from __future__ import annotations

from tests.e2e.conftest import TEST_COMMAND, World
from tests.e2e.test_pr_monitor import pulls
from tests.e2e.test_trains import MUL, RENAME, SUB, USES_ADD, green_prs
from tests.support.github_sandbox import protect

MARKER = "GROUPMARKER-4711"  # printed by CI on merge groups only; not in the command itself
GROUP_CI = (
    'if git log -1 --format=%s | grep -q "^Merge pull request"; then '
    f"echo GROUPMARKER-$((4700 + 11)); fi; {TEST_COMMAND}"
)


def queue(world: World, ci: str = TEST_COMMAND) -> None:
    """CI on PR heads and merge groups; main protected, requiring it, through the merge queue."""
    world.sandbox.set_ci("acme/app", ci)
    protect(world.sandbox, "acme/app", checks=["sandbox-ci"], enforce_admins=False)
    world.sandbox.require_merge_queue("acme/app", "main")


def tick(world: World) -> None:
    assert world.run("pr_monitor") == 0
    assert world.sandbox.wait_ci_idle(120)


def test_a_green_pr_is_enqueued_and_merged_by_the_queue_and_finished(world: World) -> None:
    queue(world)
    [number] = green_prs(world, SUB)
    [pr] = pulls(world)
    for _ in range(3):  # enqueued once GitHub says it is mergeable; the queue then merges it
        tick(world)
        if world.events("pr_monitor", "pr.enqueued"):
            break
    [enqueued] = world.events("pr_monitor", "pr.enqueued")
    assert enqueued["pr"] == pr.number
    merged = world.tracker.pull("acme/app", pr.number)
    assert merged.merged
    assert not world.events("pr_monitor", "pr.merged")  # not finished yet: the next tick does
    tick(world)
    [finished] = world.events("pr_monitor", "pr.merged")
    assert finished["pr"] == pr.number
    issue = world.tracker.issue(world.issue_ref(number))
    assert not issue.is_open and "status:done" in issue.labels
    assert world.git_ls_remote("acme/app") == {"refs/heads/main"}
    assert world.main_tests_pass("acme/app")


def test_a_pr_removed_by_the_queue_for_a_red_group_gets_a_fixing_round(world: World) -> None:
    queue(world, GROUP_CI)
    green_prs(world, RENAME, USES_ADD, MUL)
    for _ in range(6):  # enqueued (each once GitHub says it is mergeable), then the removal read
        tick(world)
        if world.mailbox("inbox"):
            break
    assert len(world.events("pr_monitor", "pr.enqueued")) == 3
    [removed] = world.events("pr_monitor", "pr.dequeued")
    assert removed["reason"] == "CI_FAILURE"
    [fixing] = world.mailbox("inbox")
    [fix] = world.events("pr_monitor", "pr.fixing")
    assert fix["task_id"] == fixing and fix["reason"] == "merge_queue_removed"
    assert "CI_FAILURE" in fix["detail"]
    # the fixer reads the red group's check: what its CI printed there, from the job's log
    brief = (world.root / "runtime" / "mailbox" / "inbox" / f"{fixing}.md").read_text()
    assert "ran on its merge group's commit" in brief
    room = (world.root / "runtime" / "rooms" / fixing / "fixing.json").read_text()
    assert MARKER in room and "Job log (around the first error, and the end)" in room
    assert "```check-output" in room and "Process completed with exit code 1" in room
    assert "cannot import name 'add'" in room or "test_twice" in room
    assert len(pulls(world)) == 1  # the two others merged by the queue
    assert world.main_tests_pass("acme/app")

"""PRs that wait for a person, on the sandbox: no checks, no merge; a required review is never
"wedged"; the reviewer's attention is a budget the dispatcher keeps to."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from github import Auth, Github

from orchestrator.control import scoreboard
from orchestrator.control.plane import Control
from orchestrator.core.chat import IssueCommand, Target
from orchestrator.core.model import IssueRef
from orchestrator.jobs import JOBS
from orchestrator.store.switches import Switches
from tests.e2e.conftest import TEST_COMMAND, World
from tests.e2e.test_pr_monitor import SUB, deliver, pulls, reconfigure
from tests.support.github_sandbox import protect


def why(world: World, number: int) -> str:
    """Ask `/why N` as the chat would."""
    control = Control(
        world.config, JOBS, logging.getLogger("test.why"), tracker=lambda: world.tracker
    )
    return control.command(IssueCommand("why", Target(number)), "alice")


def decided(world: World) -> list[str]:
    return [e["reason"] for e in world.events("pr_monitor", "pr.decided")]


def test_a_pr_with_no_checks_is_not_merged_and_says_why(world: World) -> None:
    reconfigure(world, limits={"checks_grace_minutes": 0})  # no CI on this repo at all
    number = deliver(world, "Add subtraction", [{"files": SUB}])
    assert world.run("pr_monitor") == 0 and world.run("pr_monitor") == 0
    [pr] = pulls(world)
    assert decided(world) == ["no_checks"]
    [comment] = world.tracker.comments(IssueRef("acme/app", pr.number))
    assert "no check run or commit status reported" in comment.body
    assert "require_checks" in comment.body
    assert world.tracker.issue(world.issue_ref(number)).is_open
    assert "waiting for a person: no check reported on its head (require_checks)" in why(
        world, number
    )


def test_without_require_checks_a_pr_with_no_checks_merges(world: World) -> None:
    reconfigure(world, limits={"checks_grace_minutes": 0}, repo={"require_checks": False})
    number = deliver(world, "Add subtraction", [{"files": SUB}])
    assert world.run("pr_monitor") == 0
    assert pulls(world) == [] and not world.tracker.issue(world.issue_ref(number)).is_open


def test_a_pr_held_by_a_required_review_past_wedged_hours_is_untouched_until_approved(
    world: World,
) -> None:
    reconfigure(world, limits={"wedged_hours": 0.0005})  # 1.8 s
    world.sandbox.set_ci("acme/app", TEST_COMMAND)
    protect(world.sandbox, "acme/app", reviews=1)  # enforced on admins too
    number = deliver(world, "Add subtraction", [{"files": SUB}])
    [pr] = pulls(world)
    world.run("pr_monitor")  # the clock starts
    time.sleep(2.2)
    world.run("pr_monitor")  # well past wedged_hours: still waiting for a person
    assert [p.number for p in pulls(world)] == [pr.number]
    assert f"refs/heads/{pr.head}" in world.git_ls_remote("acme/app")
    assert world.tracker.comments(world.issue_ref(number)) == []  # no restart, no escalation
    assert decided(world) == ["blocked_by_branch_protection"]
    [comment] = world.tracker.comments(IssueRef("acme/app", pr.number))
    assert "protection rules block the merge" in comment.body
    switches = Switches(world.config.paths.state_dir)
    digest = scoreboard.reply(world.config, world.tracker, switches, datetime.now(UTC))
    assert f"  acme/app#{pr.number} Add subtraction (blocked by branch protection)" in digest

    carol = world.sandbox.add_user("carol")
    owner = Github(auth=Auth.Token(world.sandbox.token), base_url=world.sandbox.api_url)
    owner.get_repo("acme/app").add_to_collaborators("carol", "push")
    reviewer = Github(auth=Auth.Token(carol), base_url=world.sandbox.api_url)
    reviewer.get_repo("acme/app").get_pull(pr.number).create_review(event="APPROVE")
    world.run("pr_monitor")
    assert pulls(world) == [] and not world.tracker.issue(world.issue_ref(number)).is_open
    for client in (owner, reviewer):
        client.close()


def test_a_third_issue_waits_while_two_prs_await_review(world: World) -> None:
    reconfigure(world, repo={"automation_mode": "dispatcher_only", "max_awaiting_review": 2})
    world.sandbox.set_ci("acme/app", TEST_COMMAND)
    deliver(world, "Add subtraction", [{"files": SUB}])
    deliver(
        world,
        "Add multiplication",
        [{"files": {"calc/mul.py": "def mul(a, b):\n    return a * b\n"}}],
    )
    first, second = sorted(p.number for p in pulls(world))
    third = world.issue("acme/app", "Add division")
    assert world.run("dispatcher") == 0 and world.mailbox("inbox") == []
    held = f"2 PRs await review (max_awaiting_review 2): #{first}, #{second}"
    [skip] = [e for e in world.events("dispatcher", "task.skipped") if e["issue"] == third.number]
    assert (skip["reason"], skip["detail"]) == ("review_budget", held)
    assert (
        why(world, third.number).splitlines()[0]
        == f"app#{third.number} Add division: waits: {held}"
    )
    world.tracker.merge_pull(world.tracker.pull("acme/app", first))  # a person merged one
    assert world.run("dispatcher") == 0
    assert world.mailbox("inbox") == [f"app-{third.number}-g1-a1"]

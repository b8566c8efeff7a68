"""The PR monitor on memory twins, waiting for a person: no checks, no merge; branch protection
is never wedged; both are said once on the PR and listed in the daily digest."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from orchestrator.adapters.memory_writes import ClosePull, DeleteBranch, MergePull, UpsertComment
from orchestrator.control import scoreboard
from orchestrator.core.model import CheckState, IssueRef
from orchestrator.review import actions
from tests.jobs.conftest import T0, World, make_world
from tests.jobs.test_pr_monitor import agent_pr, reasons, tick

GRACE = timedelta(minutes=11)  # past limits.checks_grace_minutes (10)


def explained(world: World, number: int) -> list[UpsertComment]:
    """Return the comments the monitor wrote on PR `number` saying why it waits."""
    ref = IssueRef("acme/app", number)
    return [
        w
        for w in world.tracker.writes
        if isinstance(w, UpsertComment) and w.ref == ref and w.marker == actions.WAITING
    ]


def gave_up(world: World) -> list[object]:
    return [w for w in world.tracker.writes if isinstance(w, (ClosePull, DeleteBranch, MergePull))]


def test_a_pr_with_no_checks_is_never_merged_and_says_why_once(world: World) -> None:
    pr = agent_pr(world, check=None)
    assert tick(world) == {"wait": 1}  # CI may not have reported yet: silent
    assert explained(world, pr.number) == []
    assert tick(world, T0 + GRACE) == {"wait": 1}
    [comment] = explained(world, pr.number)
    assert "no check run or commit status" in comment.body and "require_checks" in comment.body
    wedged = timedelta(hours=world.config.limits.wedged_hours * 3)
    assert tick(world, T0 + wedged) == {"wait": 1}  # a person adds CI: never restarted
    assert reasons(world) == ["awaiting_checks", "no_checks"]
    assert len(explained(world, pr.number)) == 1 and gave_up(world) == []
    assert world.tracker.pull(pr.repo, pr.number).is_open


def test_a_repo_that_does_not_require_checks_merges_a_pr_with_none_after_the_grace(
    tmp_path: Path,
) -> None:
    repos = [{"key": "app", "github": "acme/app", "require_checks": False}]
    for world in make_world(tmp_path, repos=repos):
        pr = agent_pr(world, check=None)
        assert tick(world) == {"wait": 1}
        assert tick(world, T0 + GRACE) == {"merge": 1}
        assert world.tracker.pull(pr.repo, pr.number).merged


def test_a_pr_held_by_branch_protection_past_wedged_hours_is_left_alone(world: World) -> None:
    pr = agent_pr(world, check=CheckState.SUCCESS)
    world.tracker.set_mergeable_state(pr.repo, pr.number, "blocked")  # a required review
    assert tick(world) == {"wait": 1}
    wedged = timedelta(hours=world.config.limits.wedged_hours, minutes=1)
    for times in (1, 2, 5):
        assert tick(world, T0 + times * wedged) == {"wait": 1}
    assert reasons(world) == ["blocked_by_branch_protection"]
    assert gave_up(world) == [] and world.tracker.comments(IssueRef(pr.repo, 1)) == []
    [comment] = explained(world, pr.number)
    assert "protection rules block the merge" in comment.body
    world.tracker.set_mergeable_state(pr.repo, pr.number, "clean")  # a person approved
    assert tick(world, T0 + 6 * wedged) == {"merge": 1}


def test_the_digest_lists_a_full_mode_pr_waiting_for_a_person_with_why(world: World) -> None:
    blocked = agent_pr(world, title="Add login")
    world.tracker.set_mergeable_state(blocked.repo, blocked.number, "blocked")
    unchecked = agent_pr(world, title="Add logout", check=None)
    pending = agent_pr(world, title="Add signup", check=CheckState.PENDING)
    tick(world, T0 + GRACE)
    text = scoreboard.reply(world.config, world.tracker, world.deps.switches, T0 + GRACE)
    assert "PRs awaiting your review (2):" in text
    assert f"  acme/app#{blocked.number} Add login (blocked by branch protection)" in text
    assert f"  acme/app#{unchecked.number} Add logout (no checks)" in text
    assert f"#{pending.number} " not in text  # CI's to finish, not a person's

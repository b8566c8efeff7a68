"""A dependency graph across two repos, delivered tick by tick.

PRs open only once every blocker is closed.

    acme/lib (labels)                  acme/app (a Projects board)
    lib#1 helper ──────────────┐       app#1 step one ─▶ app#2 step two ─▶ app#3 fan-in
    lib#2 ⇄ lib#3 (a cycle)    └─────────────────────────────────────────▶ app#3
                                       app#4 epic ◀─ sub-issues app#5, app#6

Native `blocked_by` links (app#1 → app#2, lib#2 → lib#3) and body lines (`Depends on #2`,
`Blocked by acme/lib#1`, `Depends on #3`) both count. The test merges each round's PRs through
the tracker, as a person (or the PR monitor) would, and the merge closes the issue.
"""

from __future__ import annotations

from orchestrator.core.model import BoardStatus, IssueRef, PullRequest
from tests.e2e.conftest import TEST_COMMAND, World, repo_entry

APP, LIB = "acme/app", "acme/lib"


def _step(key: str, number: int) -> list[dict[str, object]]:
    return [
        {
            "files": {f"calc/{key}_{number}.py": f"VALUE = {number}\n"},
            "summary": f"Did {key}#{number}.",
        }
    ]


def _closes(pr: PullRequest) -> IssueRef:
    first = pr.body.splitlines()[0]
    assert first.startswith("Closes #"), pr.body
    return IssueRef(pr.repo, int(first.removeprefix("Closes #")))


def _tick(world: World) -> set[IssueRef]:
    """One dispatcher tick and one queue tick; return the issues whose PRs are open now."""
    assert world.run("dispatcher") == 0
    assert world.run("queue") == 0
    return {_closes(pr) for repo in (APP, LIB) for pr in world.tracker.open_pulls(repo)}


def _merge_all(world: World) -> None:
    for repo in (APP, LIB):
        for pr in world.tracker.open_pulls(repo):
            world.tracker.merge_pull(world.tracker.pull(repo, pr.number))


def _comments(world: World, ref: IssueRef, marker: str) -> list[str]:
    return [c.body for c in world.tracker.comments(ref) if marker in c.body]


def test_a_dag_across_two_repos_opens_prs_only_in_an_order_it_allows(world: World) -> None:
    world.seed(LIB)
    project = world.add_board(APP, "Delivery")
    world.configure(
        [
            repo_entry("app", APP, board={"owner": "acme", "number": project.number}),
            repo_entry("lib", LIB),
        ]
    )
    tracker = world.tracker
    helper, cycle_a = (
        world.issue(LIB, "Add a helper"),
        world.issue(LIB, "Cycle one", "Depends on #3\n"),
    )
    cycle_b = world.issue(LIB, "Cycle two")
    tracker.add_blocker(cycle_b.ref, cycle_a)
    one, two = world.issue(APP, "Step one"), world.issue(APP, "Step two")
    tracker.add_blocker(two.ref, one)
    fan = world.issue(
        APP, "Fan in", "## Goal\nJoin them.\n\nDepends on #2\nBlocked by acme/lib#1\n"
    )
    epic, part_a, part_b = (
        world.issue(APP, "Epic"),
        world.issue(APP, "Epic part one"),
        world.issue(APP, "Epic part two"),
    )
    for part in (part_a, part_b):
        tracker.add_sub_issue(epic.ref, part)
    assert [i.number for i in (helper, cycle_a, cycle_b)] == [1, 2, 3]
    assert [i.number for i in (one, two, fan, epic, part_a, part_b)] == [1, 2, 3, 4, 5, 6]
    world.set_playbook(
        {
            f"{key}#{n}": _step(key, n)
            for key, count in (("app", 6), ("lib", 3))
            for n in range(1, count + 1)
        }
    )

    # Round 1: only what no open issue blocks. The epic waits for its parts, the cycle never runs.
    assert _tick(world) == {one.ref, part_a.ref, part_b.ref, helper.ref}
    for ref in (one.ref, part_a.ref, part_b.ref):
        assert world.status(ref) is BoardStatus.IN_REVIEW
    assert "status:in-review" in tracker.issue(helper.ref).labels
    for ref in (two.ref, fan.ref, epic.ref):
        assert world.status(ref) is BoardStatus.READY
    [waiting] = _comments(world, fan.ref, "agentos:waiting")
    assert f"{APP}#2" in waiting and f"{LIB}#1" in waiting
    pr = next(p for p in tracker.open_pulls(APP) if _closes(p) == one.ref)
    assert pr.title == "Step one" and pr.body.startswith("Closes #1\n\nDid app#1.")
    assert f"{TEST_COMMAND}: passed" in pr.body and "`calc/app_1.py`" in pr.body
    _merge_all(world)

    # Round 2: step two is free now; the epic's parts are closed, so the epic closes itself.
    assert _tick(world) == {two.ref}
    assert not tracker.issue(epic.ref).is_open and world.status(epic.ref) is BoardStatus.DONE
    [waiting] = _comments(world, fan.ref, "agentos:waiting")  # edited in place, not repeated
    assert f"{APP}#2" in waiting and f"{LIB}#1" not in waiting
    _merge_all(world)

    # Round 3: the fan-in's last blocker closed.
    assert _tick(world) == {fan.ref}
    [queued] = _comments(world, fan.ref, "agentos:waiting")
    assert "every blocker is closed" in queued
    _merge_all(world)

    # Round 4: nothing is left but the cycle, reported once on one of its issues and never run.
    assert _tick(world) == set()
    cycle = _comments(world, cycle_a.ref, "agentos:cycle") + _comments(
        world, cycle_b.ref, "agentos:cycle"
    )
    assert len(cycle) == 1 and f"{LIB}#2" in cycle[0] and f"{LIB}#3" in cycle[0]
    assert not any(
        tid.startswith(("lib-2-", "lib-3-"))
        for state in ("delivered", "retried", "escalated", "inbox")
        for tid in world.mailbox(state)
    )
    assert len(world.mailbox("delivered")) == 6 and world.mailbox("escalated") == []
    # Within a round the most downstream work goes first: app#1 unblocks two issues, the others
    # one each.
    queued = [
        (e["repo"], e["issue"], e["reason"]) for e in world.events("dispatcher", "task.queued")
    ]
    assert queued[0] == ("app", 1, "no_blockers")
    assert set(queued[1:4]) == {
        ("lib", 1, "no_blockers"),
        ("app", 5, "no_blockers"),
        ("app", 6, "no_blockers"),
    }
    assert queued[4:] == [("app", 2, "blockers_done"), ("app", 3, "blockers_done")]
    in_cycle = [
        e["issue"] for e in world.events("dispatcher", "task.skipped") if e["reason"] == "in_cycle"
    ]
    assert sorted(in_cycle) == [2, 3]  # logged once each over four ticks

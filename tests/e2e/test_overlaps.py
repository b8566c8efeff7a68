"""Conflict-aware dispatch on the sandbox: two Ready issues that name one file run one after the
other, each on the base the other left, so neither meets the other as a merge conflict; two
unrelated ones start in the same tick.

Both agents append a function to calc/ops.py: run side by side from one base, their PRs would
conflict at the file's end, and the second would need a fixing round.
"""

from __future__ import annotations

from orchestrator.core.model import BoardStatus
from orchestrator.store import rooms
from tests.e2e.conftest import TEST_COMMAND, World

APP = "acme/app"
SUB = "\n\ndef sub(a, b):\n    return a - b\n"
MUL = "\n\ndef mul(a, b):\n    return a * b\n"


def changed(world: World, task: str) -> set[str]:
    """Return the files a task's branch changed, as its room recorded them."""
    events = rooms.read(world.root / "runtime" / "rooms", task).events
    return set(next(e for e in events if e["event"] == "attempt.judged")["files"])


def round_trip(world: World) -> None:
    """A dispatcher tick, a queue tick (its PRs opened), CI, and the PR monitor's merges."""
    assert world.run("dispatcher") == 0 and world.run("queue") == 0
    assert world.sandbox.wait_ci_idle(60)
    assert world.run("pr_monitor") == 0


def counts(world: World, pairs: list[tuple[str, str]], predicted: int) -> str:
    real = sum(1 for a, b in pairs if changed(world, a) & changed(world, b))
    return f"overlaps: {predicted} predicted, {real} real, of {len(pairs)} pairs"


def test_two_issues_naming_one_file_are_serialised_and_both_merge_without_a_fixing_round(
    world: World,
) -> None:
    world.sandbox.set_ci(APP, TEST_COMMAND)
    first = world.issue(APP, "Add subtraction", "Add `sub(a, b)` to `calc/ops.py`.")
    second = world.issue(APP, "Add multiplication", "Add `mul(a, b)` to calc/ops.py too.")
    world.set_playbook(
        {str(first.number): [{"append": {"calc/ops.py": SUB}}]}
        | {str(second.number): [{"append": {"calc/ops.py": MUL}}]}
    )

    round_trip(world)  # the first runs and merges; the second waits for it
    [skip] = [e for e in world.events("dispatcher", "task.skipped") if e["reason"] == "overlaps"]
    assert (skip["issue"], skip["detail"]) == (
        second.number,
        f"waits for #{first.number}: both name calc/ops.py",
    )
    assert [e["issue"] for e in world.events("dispatcher", "task.queued")] == [first.number]
    assert not world.tracker.issue(first.ref).is_open
    assert world.status(second.ref) is BoardStatus.READY

    round_trip(world)  # its turn: on the base the first left
    assert [e["issue"] for e in world.events("dispatcher", "task.queued")] == [
        first.number,
        second.number,
    ]
    assert not world.tracker.issue(second.ref).is_open
    assert world.tracker.open_pulls(APP) == []
    assert [e["reason"] for e in world.events("pr_monitor", "pr.decided")] == ["green", "green"]
    assert world.mailbox("delivered") == [f"app-{n}-g1-a1" for n in (first.number, second.number)]
    assert world.mailbox("inbox") == [] and world.mailbox("retried") == []  # no fixing round
    ops = world.tracker.file_text(APP, "calc/ops.py", "main")
    assert ops is not None and "def sub" in ops.text and "def mul" in ops.text
    assert world.main_tests_pass(APP)
    print(counts(world, [("app-1-g1-a1", "app-2-g1-a1")], predicted=1))


def test_two_unrelated_issues_start_in_the_same_tick(world: World) -> None:
    first = world.issue(APP, "Add subtraction", "Add `sub(a, b)` to calc/sub.py.")
    second = world.issue(APP, "Write the guide", "Explain the calculator in docs/guide.md.")
    world.set_playbook(
        {str(first.number): [{"files": {"calc/sub.py": SUB.lstrip()}}]}
        | {str(second.number): [{"files": {"docs/guide.md": "# Guide\n"}}]}
    )
    assert world.run("dispatcher") == 0
    assert sorted(e["issue"] for e in world.events("dispatcher", "task.queued")) == [1, 2]
    assert world.events("dispatcher", "task.skipped") == []
    assert world.run("queue") == 0
    assert len(world.tracker.open_pulls(APP)) == 2
    print(counts(world, [("app-1-g1-a1", "app-2-g1-a1")], predicted=0))

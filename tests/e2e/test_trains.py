"""The merge train on the sandbox: green PRs to one base merged together, CI once, bisected.

The sandbox's CI runs on PR heads and, as an Actions workflow `on: push` would, on pushes to
`agentos/train/**`; a push that makes a PR's head reachable from its base merges the PR, as
GitHub records it.
"""

from __future__ import annotations

from orchestrator.core.train import BRANCH_PREFIX
from tests.e2e.conftest import TEST_COMMAND, World
from tests.e2e.test_pr_monitor import pulls, reconfigure

TRAINS = (f"{BRANCH_PREFIX}*",)
MUL = {"calc/mul.py": "def mul(a, b):\n    return a * b\n"}
DIV = {"calc/div.py": "def div(a, b):\n    return a / b\n"}
SUB = {"calc/sub.py": "def sub(a, b):\n    return a - b\n"}
# green alone, red with RENAME on the base: its test imports `add`, which RENAME takes away
USES_ADD = {
    "tests/test_twice.py": (
        "import unittest\n\nfrom calc.ops import add\n\n\n"
        "class Twice(unittest.TestCase):\n"
        "    def test_twice(self):\n        self.assertEqual(add(2, 2), 4)\n"
    )
}
RENAME = {
    "calc/ops.py": "def plus(a, b):\n    return a + b\n",
    "tests/test_ops.py": (
        "import unittest\n\nfrom calc.ops import plus\n\n\n"
        "class Ops(unittest.TestCase):\n"
        "    def test_plus(self):\n        self.assertEqual(plus(2, 3), 5)\n"
    ),
}


def green_prs(world: World, *changes: dict[str, str]) -> list[int]:
    """Open one agent PR per change, each green on its own; return their issues' numbers."""
    numbers = []
    for n, files in enumerate(changes, 1):
        issue = world.issue("acme/app", f"Change {n}")
        world.set_playbook({**world.playbook, str(issue.number): [{"files": files}]})
        numbers.append(issue.number)
    assert world.run("dispatcher") == 0 and world.run("queue") == 0
    assert world.sandbox.wait_ci_idle(120)
    assert len(pulls(world)) == len(changes)
    return numbers


def remote_sha(world: World, ref: str) -> str:
    out = world.git("ls-remote", world.sandbox.clone_url("acme/app"), ref, cwd=world.root)
    return out.split()[0]


def tick(world: World) -> None:
    assert world.run("pr_monitor") == 0
    assert world.sandbox.wait_ci_idle(120)


def test_three_green_prs_ride_one_train_ci_runs_once_and_all_merge(world: World) -> None:
    reconfigure(world, repo={"merge_method": "merge"})
    world.sandbox.set_ci("acme/app", TEST_COMMAND, push_branches=TRAINS)
    numbers = green_prs(world, SUB, MUL, DIV)
    for _ in range(3):  # the train is built and pushed once GitHub says all three are mergeable
        tick(world)
        if world.events("pr_monitor", "train.built"):
            break
    [built] = world.events("pr_monitor", "train.built")
    prs = sorted(p.number for p in pulls(world))
    assert built["prs"] == ",".join(map(str, prs)) and built["train"] == 1
    head = remote_sha(world, "refs/heads/agentos/train/1")
    assert head.startswith(built["sha"])
    [ci] = world.tracker.checks("acme/app", head)  # CI once, on the train's head
    assert (ci.name, ci.state.value) == ("sandbox-ci", "success")
    tick(world)  # green: the base fast-forwarded to the train
    [landed] = world.events("pr_monitor", "train.landed")
    assert landed["sha"] == built["sha"]
    assert pulls(world) == []
    for number in numbers:
        assert not world.tracker.issue(world.issue_ref(number)).is_open
    merged = [e["pr"] for e in world.events("pr_monitor", "pr.merged")]
    assert len(merged) == 3
    assert remote_sha(world, "refs/heads/main") == head
    assert len(world.events("pr_monitor", "train.built")) == 1
    assert world.git_ls_remote("acme/app") == {"refs/heads/main"}  # PR and train branches gone
    assert world.main_tests_pass("acme/app")


def test_one_red_in_a_train_of_three_merges_the_two_others_and_sends_the_culprit_back(
    world: World,
) -> None:
    reconfigure(world, repo={"merge_method": "merge"})
    world.sandbox.set_ci("acme/app", TEST_COMMAND, push_branches=TRAINS)
    rename, uses_add, mul = green_prs(world, RENAME, USES_ADD, MUL)
    for _ in range(6):
        tick(world)
        if world.mailbox("inbox"):
            break
    assert len(world.events("pr_monitor", "train.culprit")) == 1
    built = world.events("pr_monitor", "train.built")
    # the three, red; the first alone; the two others, red; one alone: the culprit is known
    assert [e["prs"].count(",") + 1 for e in built] == [3, 1, 2, 1]
    assert len(world.events("pr_monitor", "train.bisected")) == 2
    # RENAME and USES_ADD break each other: the one that lands first is fine, the other is not
    [fixing] = world.mailbox("inbox")
    culprit = int(fixing.split("-")[1])
    assert culprit in (rename, uses_add)
    room = world.root / "runtime" / "rooms" / fixing / "fixing.json"
    assert ("cannot import name 'add'" if culprit == uses_add else "test_twice") in room.read_text()
    tick(world)  # a PR left alone merges by itself
    for number in {rename, uses_add, mul} - {culprit}:
        assert not world.tracker.issue(world.issue_ref(number)).is_open
    assert world.tracker.issue(world.issue_ref(culprit)).is_open
    assert world.main_tests_pass("acme/app")

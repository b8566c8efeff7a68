"""The acceptance proof on the sandbox: a change's tests run on the base and on the head, confined.

The table lands on the PR as one comment; the proof is kept in the room for the risk tier.
"""

from __future__ import annotations

import sys

from orchestrator.core.model import IssueRef
from orchestrator.delivery.acceptance import MARKER
from orchestrator.store import acceptance
from tests.e2e.conftest import World, repo_entry

SUB = {"calc/sub.py": "def sub(a, b):\n    return a - b\n"}
TEST_SUB = (
    "import unittest\n\nfrom calc.sub import sub\n\n\n"
    "class Sub(unittest.TestCase):\n"
    "    def test_sub(self):\n        self.assertEqual(sub(5, 3), 2)\n"
)
TEST_ADD_AGAIN = (  # tests behaviour the base already has
    "import unittest\n\nfrom calc.ops import add\n\n\n"
    "class More(unittest.TestCase):\n"
    "    def test_add_zero(self):\n        self.assertEqual(add(2, 0), 2)\n"
)


def deliver(world: World, title: str, files: dict[str, str]) -> tuple[int, str]:
    """Open a PR for a new issue through the dispatcher and the queue; return it and its body."""
    world.configure(
        [
            repo_entry(
                "app", "acme/app", acceptance_command=f"{sys.executable} -m unittest {{files}}"
            )
        ]
    )
    issue = world.issue("acme/app", title)
    world.set_playbook({str(issue.number): [{"files": files}]})
    assert world.run("dispatcher") == 0 and world.run("queue") == 0
    [pr] = world.tracker.open_pulls("acme/app")
    [comment] = [
        c for c in world.tracker.comments(IssueRef("acme/app", pr.number)) if MARKER in c.body
    ]
    assert not list((world.root / "runtime" / "worktrees").rglob("*.proof"))  # removed
    return issue.number, comment.body


def proof(world: World, number: int) -> acceptance.Acceptance:
    found = acceptance.read(world.root / "runtime" / "rooms" / f"app-{number}-g1-a1")
    assert found is not None
    return found


def test_a_test_that_fails_on_the_base_and_passes_on_the_head_proves_the_change(
    world: World,
) -> None:
    number, table = deliver(world, "Add subtraction", {**SUB, "tests/test_sub.py": TEST_SUB})
    assert "| `tests/test_sub.py` | ✓ fails | ✓ passes |" in table
    assert "**This proves the change**" in table
    kept = proof(world, number)
    assert kept.rows == (acceptance.AcceptanceRow("tests/test_sub.py", True, True),)
    assert kept.tests_pass_on_base is False and kept.note == ""


def test_a_test_that_passes_on_the_base_too_proves_nothing_and_the_room_says_so(
    world: World,
) -> None:
    files = {**SUB, "tests/test_more.py": TEST_ADD_AGAIN}
    number, table = deliver(world, "Add subtraction, tested elsewhere", files)
    assert "| `tests/test_more.py` | ✗ passes | ✓ passes |" in table
    assert "**Its tests already pass on the base: they prove nothing**" in table
    kept = proof(world, number)
    assert kept.rows == (acceptance.AcceptanceRow("tests/test_more.py", False, True),)
    assert kept.tests_pass_on_base is True  # the risk tier raises the PR's tier from this

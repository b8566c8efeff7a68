"""From a Ready issue to a PR that closes it.

The dispatcher and queue run against the sandbox, with a real agent process.
"""

from __future__ import annotations

from orchestrator.store import rooms
from tests.e2e.conftest import TEST_COMMAND, World

SUB = {
    "calc/sub.py": "def sub(a, b):\n    return a - b\n",
    "tests/test_sub.py": (
        "import unittest\n\nfrom calc.sub import sub\n\n\n"
        "class Sub(unittest.TestCase):\n"
        "    def test_sub(self):\n        self.assertEqual(sub(5, 3), 2)\n"
    ),
}


def test_a_ready_issue_becomes_a_pull_request_that_closes_it(world: World) -> None:
    issue = world.issue("acme/app", "Add subtraction", "## Goal\nA `sub` function.\n")
    world.set_playbook(
        {str(issue.number): [{"files": SUB, "summary": "Added calc.sub with a test."}]}
    )
    assert world.run("dispatcher") == 0
    assert world.mailbox("inbox") == ["app-1-g1-a1"]
    assert "status:in-progress" in world.tracker.issue(issue.ref).labels
    assert world.run("queue") == 0
    assert world.mailbox("delivered") == ["app-1-g1-a1"] and world.mailbox("processing") == []
    [pr] = world.tracker.open_pulls("acme/app")
    assert (pr.head, pr.base, pr.title) == ("agent/1-add-subtraction", "main", "Add subtraction")
    assert pr.body.startswith("Closes #1\n\nAdded calc.sub with a test.")
    assert f"{TEST_COMMAND}: passed" in pr.body and "`calc/sub.py`" in pr.body
    assert "__pycache__" not in pr.body  # what the test run left behind is not committed
    labels = world.tracker.issue(issue.ref).labels
    assert "status:in-review" in labels and "status:in-progress" not in labels
    record = rooms.read(world.root / "runtime" / "rooms", "app-1-g1-a1")
    assert record.lifecycle is not None and record.lifecycle.state.value == "review"
    assert "STATUS: complete" in (record.result or "")
    kinds = [e["event"] for e in record.events]
    assert {"worktree.prepared", "chain.finished", "tests.finished", "pr.opened"} <= set(kinds)
    assert not (world.root / "runtime" / "worktrees" / "app" / "app-1-g1-a1").exists()


def test_a_partial_attempt_is_retried_on_the_same_branch_with_its_result_in_the_prompt(
    world: World,
) -> None:
    issue = world.issue("acme/app", "Add subtraction")
    world.set_playbook(
        {
            str(issue.number): [
                {
                    "files": {"calc/sub.py": SUB["calc/sub.py"]},
                    "status": "partial",
                    "blocker": "test_failure",
                    "why": "no test yet",
                },
                {
                    "files": {"tests/test_sub.py": SUB["tests/test_sub.py"]},
                    "summary": "Added the test.",
                },
            ]
        }
    )
    world.run("dispatcher")
    world.run("queue")
    assert world.mailbox("retried") == ["app-1-g1-a1"] and world.mailbox("delivered") == [
        "app-1-g1-a2"
    ]
    prompt = (world.root / "runtime" / "rooms" / "app-1-g1-a2" / "prompt.md").read_text()
    assert "no test yet" in prompt
    [pr] = world.tracker.open_pulls("acme/app")
    files = {"calc/sub.py", "tests/test_sub.py"}
    assert all(f"`{f}`" in pr.body for f in files)


def test_a_complete_whose_tests_fail_is_not_a_pull_request(world: World) -> None:
    broken = {"calc/ops.py": "def add(a, b):\n    return a - b\n"}
    issue = world.issue("acme/app", "Break it")
    world.set_playbook({str(issue.number): [{"files": broken}]})
    world.run("dispatcher")
    world.run("queue")
    assert world.tracker.open_pulls("acme/app") == []
    assert world.mailbox("escalated") == ["app-1-g1-a2"]  # the same failure twice: no third try
    result = (world.root / "runtime" / "rooms" / "app-1-g1-a1" / "result.md").read_text()
    assert "STATUS: partial" in result and "BLOCKER_CODE: test_failure" in result
    labels = world.tracker.issue(issue.ref).labels
    assert "agentos:blocked" in labels and "status:blocked" in labels
    [comment] = world.tracker.comments(issue.ref)
    assert "Two attempts in a row failed the same way." in comment.body


def test_an_agent_that_writes_no_result_is_an_invalid_contract(world: World) -> None:
    issue = world.issue("acme/app", "Silent agent")
    world.set_playbook({str(issue.number): [{"files": SUB, "no_result": True}]})
    world.run("dispatcher")
    world.run("queue")
    result = (world.root / "runtime" / "rooms" / "app-1-g1-a1" / "result.md").read_text()
    assert "BLOCKER_CODE: invalid_result_contract" in result
    assert world.tracker.open_pulls("acme/app") == []

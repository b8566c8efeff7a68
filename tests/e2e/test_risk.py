"""Risk tiers end to end, on the GitHub sandbox (strict: every request checked against GitHub's
published description) with its CI, the real queue and PR monitor, and no model configured.

A PR that touches `auth/login.py` is high: green and in full mode, it is held for a person, its
body says why, `/why` says it waits for a person, and the next tick writes nothing. A PR of a
doc, code and its test is low: it merges on green. One whose test already passes on the base (its
acceptance proof, run by the attempt) goes up a tier.
"""

from __future__ import annotations

import sys

from orchestrator.core.model import IssueRef
from orchestrator.core.risk import START
from tests.e2e.conftest import TEST_COMMAND, World, repo_entry
from tests.e2e.test_awaiting_person import decided, why
from tests.e2e.test_pr_monitor import deliver, pulls

LOGIN = {
    "auth/__init__.py": "",
    "auth/login.py": "def login(user, password):\n    return bool(user and password)\n",
    "tests/test_login.py": (
        "import unittest\n\nfrom auth.login import login\n\n\n"
        "class Login(unittest.TestCase):\n"
        "    def test_login(self):\n        self.assertFalse(login('', 'x'))\n"
    ),
}
TEST_ADD_AGAIN = (  # tests what the base already does
    "import unittest\n\nfrom calc.ops import add\n\n\n"
    "class More(unittest.TestCase):\n"
    "    def test_add_zero(self):\n        self.assertEqual(add(2, 0), 2)\n"
)
SUB = {
    "README.md": "# app\n\n`calc.sub.sub(a, b)` subtracts.\n",
    "calc/sub.py": "def sub(a, b):\n    return a - b\n",
    "tests/test_sub.py": (
        "import unittest\n\nfrom calc.sub import sub\n\n\n"
        "class Sub(unittest.TestCase):\n"
        "    def test_sub(self):\n        self.assertEqual(sub(5, 3), 2)\n"
    ),
}


def test_a_high_tier_pr_is_held_in_full_mode_and_says_why(world: World) -> None:
    world.sandbox.set_ci("acme/app", TEST_COMMAND)
    number = deliver(world, "Harden login", [{"files": LOGIN}])
    [pr] = pulls(world)
    world.sandbox.clear_requests()
    assert world.run("pr_monitor") == 0
    [held] = pulls(world)  # not merged
    assert held.number == pr.number and world.tracker.issue(world.issue_ref(number)).is_open
    body = world.tracker.issue(IssueRef("acme/app", pr.number)).body
    assert "Risk: **high**" in body and "`auth/login.py`" in body and "- touches `auth/" in body
    assert "a person reviews and merges it" in body and body.count(START) == 1
    assert decided(world) == ["risk_high"]
    assert "waiting for a person: its risk tier is high" in why(world, number)
    sent = [(r.method, r.path.split("?")[0]) for r in world.sandbox.requests]
    assert sent.count(("GET", f"/api/v3/repos/acme/app/pulls/{pr.number}/files")) == 1
    assert sent.count(("PATCH", f"/api/v3/repos/acme/app/issues/{pr.number}")) == 1
    assert not any(m == "PUT" and p.endswith("/merge") for m, p in sent)

    world.sandbox.clear_requests()
    assert world.run("pr_monitor") == 0
    assert world.github_writes() == 0  # a second tick writes nothing
    assert not any(r.path.split("?")[0].endswith("/files") for r in world.sandbox.requests)
    assert [p.number for p in pulls(world)] == [pr.number] and decided(world) == ["risk_high"]


def test_a_low_tier_pr_merges_on_green_with_no_model_configured(world: World) -> None:
    world.sandbox.set_ci("acme/app", TEST_COMMAND)
    number = deliver(world, "Add subtraction", [{"files": SUB}])
    [pr] = pulls(world)
    assert world.run("pr_monitor") == 0
    assert pulls(world) == [] and not world.tracker.issue(world.issue_ref(number)).is_open
    body = world.tracker.issue(IssueRef("acme/app", pr.number)).body
    assert "Risk: **low**" in body and "- no rule raised it" in body
    assert decided(world) == ["green"]
    [risk] = world.events("pr_monitor", "pr.risk")
    assert (risk["pr"], risk["tier"]) == (pr.number, "low")
    assert world.main_tests_pass("acme/app")


def test_tests_that_pass_on_the_base_raise_the_tier_and_it_waits_as_configured(
    world: World,
) -> None:
    unittest = f"{sys.executable} -m unittest {{files}}"
    world.configure(
        [repo_entry("app", "acme/app", acceptance_command=unittest)],
        risk={"medium_requires_verifier": True},
    )
    world.sandbox.set_ci("acme/app", TEST_COMMAND)
    files = {"calc/sub.py": SUB["calc/sub.py"], "tests/test_more.py": TEST_ADD_AGAIN}
    number = deliver(world, "Add subtraction, tested elsewhere", [{"files": files}])
    assert world.run("pr_monitor") == 0
    [pr] = pulls(world)  # low by its files, medium by its proof; no verifier: a person
    body = world.tracker.issue(IssueRef("acme/app", pr.number)).body
    assert "Risk: **medium**\n- its tests already pass on the base: no proof" in body
    assert "`risk.medium_requires_verifier`" in body
    assert decided(world) == ["risk_medium_unverified"]
    assert "its risk tier is medium and no verifier is configured" in why(world, number)

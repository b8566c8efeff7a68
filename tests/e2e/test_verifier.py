"""The independent verifier end to end: the GitHub sandbox (strict: every request checked against
GitHub's published description), its CI, the real queue and PR monitor, and the anthropic SDK
against the scripted Messages server as `review.verifier`.

One PR is approved and merges (status `agentos/verifier` success, a COMMENT review, since Agent
OS is the PR's author); another gets a request for changes, whose reasons reach the fixing
agent's prompt, and merges once the fix is approved. A model that fails merges nothing.
"""

from __future__ import annotations

import json

import pytest
import yaml

from orchestrator.core.model import CheckState
from orchestrator.sandbox.models.anthropic_server import AnthropicSandbox
from orchestrator.sandbox.models.script import Fail, ScriptBook, Turn
from tests.e2e.conftest import TEST_COMMAND, World

KEY = "sandbox-verifier-key-0123456789"
SUB = {"calc/sub.py": "def sub(a, b):\n    return a - b\n"}
MUL = {"calc/mul.py": "def mul(a, b):\n    return a * b\n"}
MUL_FIXED = {"calc/mul.py": MUL["calc/mul.py"] + "# mul(0, x) == 0 holds too\n"}
APPROVE = json.dumps({"verdict": "approve", "reasons": ["does what the issue asks"]})
CHANGES = json.dumps({"verdict": "request_changes", "reasons": ["VERIFIER-MARKER: say mul(0, x)"]})


def with_verifier(world: World, model_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data = yaml.safe_load(world.config_path.read_text())
    data["agents"]["backends"]["judge"] = {
        "type": "anthropic",
        "api_key": "$SANDBOX_KEY",
        "base_url": model_url,
    }
    data["review"] = {"verifier": "judge"}
    world.config_path.write_text(yaml.safe_dump(data, sort_keys=False))
    world.env["SANDBOX_KEY"] = KEY
    monkeypatch.setenv("SANDBOX_KEY", KEY)  # the workers read the config too


def deliver(world: World, title: str, steps: list[dict]) -> int:
    issue = world.issue("acme/app", title)
    world.set_playbook({**world.playbook, str(issue.number): steps})
    return issue.number


def open_pulls(world: World) -> list:
    return world.tracker.open_pulls("acme/app")


def verifier_state(world: World, sha: str) -> CheckState | None:
    """Return the `agentos/verifier` status on a head, as GitHub reports it."""
    checks = world.tracker.checks("acme/app", sha)
    return next((c.state for c in checks if c.name == "agentos/verifier"), None)


def test_one_pr_approved_and_merged_another_sent_back_then_merged(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.sandbox.set_ci("acme/app", TEST_COMMAND)
    book = ScriptBook(
        [
            ("mul\\(0, x\\) == 0 holds too", [Turn(APPROVE)]),  # the fixed head
            ("Add multiplication", [Turn(CHANGES)]),
            ("Add subtraction", [Turn(APPROVE)]),
        ]
    )
    with AnthropicSandbox(book) as model:
        with_verifier(world, model.base_url, monkeypatch)
        sub = deliver(world, "Add subtraction", [{"files": SUB}])
        mul = deliver(world, "Add multiplication", [{"files": MUL}, {"files": MUL_FIXED}])
        assert world.run("dispatcher") == 0 and world.run("queue") == 0
        assert world.sandbox.wait_ci_idle(60) and len(open_pulls(world)) == 2
        pulls = {int(p.head.split("/")[1].split("-")[0]): p for p in open_pulls(world)}
        world.sandbox.clear_requests()
        assert world.run("pr_monitor") == 0
        assert len(model.requests) == 2  # one question per head
        sent = [(r.method, r.path.split("?")[0]) for r in world.sandbox.requests]
        [left] = open_pulls(world)
        assert left.number == pulls[mul].number  # the subtraction merged
        assert not world.tracker.issue(world.issue_ref(sub)).is_open
        [review] = world.tracker.reviews(pulls[sub])
        assert (review.author, review.state) == ("acme", "COMMENTED")
        assert "does what the issue asks" in review.body
        assert verifier_state(world, pulls[sub].head_sha) is CheckState.SUCCESS
        assert verifier_state(world, pulls[mul].head_sha) is CheckState.FAILURE
        for number in (pulls[sub].number, pulls[mul].number):  # the verifier's requests per PR
            assert sent.count(("GET", f"/api/v3/repos/acme/app/pulls/{number}/files")) == 1
            assert sent.count(("POST", f"/api/v3/repos/acme/app/pulls/{number}/reviews")) == 1
        assert sum(1 for m, p in sent if m == "POST" and "/statuses/" in p) == 2

        fix_id = f"app-{mul}-g1-a2"
        assert world.mailbox("inbox") == [fix_id]
        assert world.run("queue") == 0
        prompt = (world.root / "runtime" / "rooms" / fix_id / "prompt.md").read_text()
        assert "VERIFIER-MARKER: say mul(0, x)" in prompt
        assert world.sandbox.wait_ci_idle(60)
        assert world.run("pr_monitor") == 0
        assert open_pulls(world) == [] and len(model.requests) == 3
        assert not world.tracker.issue(world.issue_ref(mul)).is_open
    assert world.main_tests_pass("acme/app")
    verified = [(e["pr"], e["verdict"]) for e in world.events("pr_monitor", "pr.verified")]
    assert sorted(verified[:2]) == sorted(
        [(pulls[mul].number, "request_changes"), (pulls[sub].number, "approve")]
    )
    assert verified[2:] == [(pulls[mul].number, "approve")]


def test_a_model_that_fails_merges_nothing_and_is_not_asked_every_tick(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.sandbox.set_ci("acme/app", TEST_COMMAND)
    with AnthropicSandbox([Fail(500, "Internal server error", sticky=True)]) as model:
        with_verifier(world, model.base_url, monkeypatch)
        number = deliver(world, "Add subtraction", [{"files": SUB}])
        assert world.run("dispatcher") == 0 and world.run("queue") == 0
        assert world.sandbox.wait_ci_idle(60)
        assert world.run("pr_monitor") == 0
        asked = len(model.requests)
        assert asked >= 1
        assert world.run("pr_monitor") == 0 and len(model.requests) == asked  # backing off
    [pr] = open_pulls(world)
    assert world.tracker.issue(world.issue_ref(number)).is_open
    assert verifier_state(world, pr.head_sha) is None
    [failed] = world.events("pr_monitor", "verifier.failed")
    assert failed["failures"] == 1 and "500" in failed["error"]
    assert [e["reason"] for e in world.events("pr_monitor", "pr.decided")] == ["verifier_failed"]

"""Cost caps end to end: a task stopped at its cap, and a day's cap that stops dispatch.

The agent is a scripted `claude` (tests/adapters/agents/scripted_claude.py) printing real-shaped
stream-json turn by turn, run confined through the real queue against the GitHub sandbox; each
turn's message shows 100,000 input tokens, $0.30 at claude-sonnet-4's list price.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from orchestrator.cli.main import main
from orchestrator.store import rooms
from tests.adapters.agents.scripted_claude import ClaudeTurn, write_claude
from tests.e2e.conftest import BWRAP, World, repo_entry

LIMITS = {"max_parallel_workers": 4, "max_attempts": 3, "stall_minutes": 1}
SUB = "def sub(a, b):\n    return a - b\n"


def turns(count: int) -> list[ClaudeTurn]:
    return [
        ClaudeTurn(f"Step {n}.", {f"calc/step{n}.py": f"STEP = {n}\n"}, 100_000, 1, 1.0)
        for n in range(1, count)
    ] + [ClaudeTurn("Adding sub.", {"calc/sub.py": SUB}, 100_000, 1, 0.1)]


def with_claude(world: World, program: Path, **limits: Any) -> None:
    world.configure(
        [repo_entry("app", "acme/app")],
        agents={
            "backends": {
                "claude": {"type": "claude", "binary": str(program), "timeout_minutes": 2}
            },
            "chains": {"default": ["claude"]},
            "isolation": "bwrap" if BWRAP is None else "none",
        },
        limits={**LIMITS, **limits},
    )


def events(world: World, task_id: str, name: str) -> list[dict[str, Any]]:
    record = rooms.read(world.root / "runtime" / "rooms", task_id)
    return [e for e in record.events if e["event"] == name]


def branch_files(world: World, branch: str) -> set[str]:
    where = world.root / "check" / branch.replace("/", "_")
    url = world.sandbox.clone_url("acme/app")
    world.git("clone", "-q", "-b", branch, url, str(where), cwd=world.root)
    return {str(p.relative_to(where)) for p in where.rglob("*.py") if ".git" not in p.parts}


def test_a_task_at_its_cost_cap_is_stopped_at_a_turn_boundary_and_escalated_with_its_spend(
    world: World,
) -> None:
    with_claude(world, write_claude(world.root, turns(4)), max_cost_per_task=0.5)
    issue = world.issue("acme/app", "Add subtraction")
    assert world.run("dispatcher") == 0 and world.run("queue") == 0
    assert world.mailbox("escalated") == ["app-1-g1-a1"] and world.mailbox("delivered") == []
    [finished] = events(world, "app-1-g1-a1", "attempt.finished")
    assert (finished["outcome"], finished["reason"]) == ("cost_capped", "cost_capped")
    [capped] = events(world, "app-1-g1-a1", "task.capped")
    assert (capped["spent"], capped["cap"], capped["kept_on_branch"]) == (0.6, 0.5, True)
    # stopped when turn 2 ended: its work is on the branch, turn 3 never began
    files = branch_files(world, "agent/1-add-subtraction")
    assert {"calc/step1.py", "calc/step2.py"} <= files and "calc/step3.py" not in files
    assert world.tracker.open_pulls("acme/app") == []
    [comment] = world.tracker.comments(issue.ref)
    assert "The task reached its cost cap: $0.60 spent of the $0.50 cap." in comment.body
    assert "agentos:blocked" in world.tracker.issue(issue.ref).labels
    [escalated] = world.events("queue", "task.escalated")
    assert escalated["reason"] == "cost_cap: $0.60 spent of the $0.50 cap"
    [note] = [n for n in world.events("queue", "notification.logged") if n["kind"] == "escalated"]
    assert "$0.60" in note["detail"]


def test_a_days_cap_stops_dispatch_for_the_day_and_says_so_once(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    with_claude(world, write_claude(world.root, turns(2), cost_usd=0.6), max_cost_per_day=0.5)
    world.issue("acme/app", "Add subtraction")
    assert world.run("dispatcher") == 0 and world.run("queue") == 0
    assert world.mailbox("delivered") == ["app-1-g1-a1"]  # under the cap when it started
    later = world.issue("acme/app", "Add multiplication")
    for _ in range(3):
        assert world.run("dispatcher") == 0
    assert world.mailbox("inbox") == [] and len(world.events("dispatcher", "task.queued")) == 1
    notes = [n["text"] for n in world.events("dispatcher", "notification.logged")]
    assert len(notes) == 1 and "all repos" in notes[0] and "$0.60 of $0.50" in notes[0]
    [capped] = world.events("dispatcher", "spend.capped")
    assert (capped["scope"], capped["spent"], capped["cap"]) == ("global", 0.6, 0.5)
    assert "status:ready" in world.tracker.issue(later.ref).labels
    assert main(["--config", str(world.config_path), "status"], environ=world.env) == 0
    assert "Spend today: $0.60 of $0.50 (global)" in capsys.readouterr().out

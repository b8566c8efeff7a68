"""What goes wrong in an attempt, end to end.

Every failure ends in a retry, a fallback or an escalation, never a bad PR.

Each test drives the real dispatcher and queue (worker processes, a real agent process) against
the GitHub sandbox; the playbook agent plays the failing agent.
"""

from __future__ import annotations

import json
import os
from typing import Any

from orchestrator.adapters.workers import is_zombie
from orchestrator.store import rooms
from tests.e2e.conftest import World, playbook_backend, repo_entry
from tests.e2e.test_delivery import SUB


def _alive(pid: int) -> bool:
    """Tell whether a process runs (a zombie, ended and waiting for init to reap it, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not is_zombie(pid)


def _room(world: World, task_id: str) -> rooms.RoomRecord:
    return rooms.read(world.root / "runtime" / "rooms", task_id)


def _events(world: World, task_id: str, name: str) -> list[dict[str, Any]]:
    return [e for e in _room(world, task_id).events if e["event"] == name]


def _deliver(world: World) -> None:
    assert world.run("dispatcher") == 0
    assert world.run("queue") == 0


def test_an_agent_past_its_timeout_loses_its_whole_process_group_and_the_retry_delivers(
    world: World,
) -> None:
    world.configure(
        [repo_entry("app", "acme/app")],
        agents={
            "backends": {
                # 6 s
                "playbook": playbook_backend(world.root / "playbook.json", timeout_minutes=0.1)
            }
        },
    )
    world.unconfined()  # the agent's child writes its pid for the test (confined: test_confine)
    issue = world.issue("acme/app", "Add subtraction")
    child = world.root / "child.pid"
    world.set_playbook({str(issue.number): [{"spawn": str(child), "sleep": 120}, {"files": SUB}]})
    _deliver(world)
    assert not _alive(int(child.read_text()))  # the agent's own child went down with its group
    [finished] = _events(world, "app-1-g1-a1", "attempt.finished")
    assert finished["outcome"] == "timed_out"
    assert "BLOCKER_CODE: timeout" in (_room(world, "app-1-g1-a1").result or "")
    assert world.mailbox("retried") == ["app-1-g1-a1"] and world.mailbox("delivered") == [
        "app-1-g1-a2"
    ]
    assert "timed out after 6 s" in (_room(world, "app-1-g1-a2").prompt or "")
    [pr] = world.tracker.open_pulls("acme/app")
    assert pr.body.startswith("Closes #1")


def test_an_agent_that_crashes_is_retried_with_the_crash_in_its_prompt(world: World) -> None:
    issue = world.issue("acme/app", "Add subtraction")
    world.set_playbook(
        {
            str(issue.number): [
                {"exit": 139, "error": "Segmentation fault (core dumped)"},
                {"files": SUB},
            ]
        }
    )
    _deliver(world)
    [finished] = _events(world, "app-1-g1-a1", "attempt.finished")
    assert finished["outcome"] == "crashed"
    first = _room(world, "app-1-g1-a1").result or ""
    assert "BLOCKER_CODE: runner_failure" in first and "Segmentation fault" in first
    assert "Segmentation fault" in (_room(world, "app-1-g1-a2").prompt or "")
    assert (
        world.mailbox("delivered") == ["app-1-g1-a2"]
        and len(world.tracker.open_pulls("acme/app")) == 1
    )


def test_a_quota_error_rests_the_agent_and_the_next_in_the_chain_takes_over(world: World) -> None:
    quota = world.root / "quota.json"
    quota.write_text(
        json.dumps(
            {"*": [{"exit": 1, "error": "Error: usage limit reached, try again in 2 hours"}]}
        )
    )
    world.configure(
        [repo_entry("app", "acme/app")],
        agents={
            "backends": {
                "first": playbook_backend(quota),
                "second": playbook_backend(world.root / "playbook.json"),
            },
            "chains": {"default": ["first", "second"]},
        },
    )
    world.issue("acme/app", "Add subtraction")
    world.set_playbook({"*": [{"files": SUB}]})
    _deliver(world)
    kinds = [
        (e["event"], e.get("backend"))
        for e in _room(world, "app-1-g1-a1").events
        if e["event"] in ("attempt.started", "cooldown.started", "attempt.finished")
    ]
    assert kinds == [
        ("attempt.started", "first"),
        ("cooldown.started", "first"),
        ("attempt.finished", "first"),
        ("attempt.started", "second"),
        ("attempt.finished", "second"),
    ]
    [pr] = world.tracker.open_pulls("acme/app")
    assert "second" in pr.body
    rest = json.loads((world.root / "runtime" / "state" / "cooldowns.json").read_text())
    assert "first" in json.dumps(rest)

    # A second task, later: the resting agent is passed over without being started.
    world.issue("acme/app", "Add multiplication")
    world.set_playbook({"*": [{"files": {"calc/mul.py": "def mul(a, b):\n    return a * b\n"}}]})
    _deliver(world)
    later = world.mailbox("delivered")[-1]
    [skipped] = _events(world, later, "backend.skipped")
    assert (skipped["backend"], skipped["reason"]) == ("first", "cooling_down")
    assert [e["backend"] for e in _events(world, later, "attempt.started")] == ["second"]
    # the resting agent ran once in all (a confined agent's own count does not reach us)
    started = [
        e["backend"]
        for task in world.root.joinpath("runtime", "rooms").iterdir()
        for e in _events(world, task.name, "attempt.started")
    ]
    assert started.count("first") == 1
    assert len(world.tracker.open_pulls("acme/app")) == 2


def test_a_malformed_result_is_an_invalid_contract_and_escalates_when_it_repeats(
    world: World,
) -> None:
    issue = world.issue("acme/app", "Add subtraction")
    world.set_playbook(
        {
            str(issue.number): [
                {"files": SUB, "result_text": "STATUS: finished\nSUMMARY: all good\n"}
            ]
        }
    )
    _deliver(world)
    result = _room(world, "app-1-g1-a1").result or ""
    assert "BLOCKER_CODE: invalid_result_contract" in result and "'finished'" in result
    assert (
        world.mailbox("escalated") == ["app-1-g1-a2"] and world.tracker.open_pulls("acme/app") == []
    )
    [comment] = world.tracker.comments(issue.ref)
    assert "Two attempts in a row failed the same way." in comment.body
    assert "agentos:blocked" in world.tracker.issue(issue.ref).labels


def test_a_push_rejected_because_someone_pushed_meanwhile_is_retried_on_top_of_their_commit(
    world: World,
) -> None:
    issue = world.issue("acme/app", "Add subtraction")
    theirs = {"url": world.sandbox.clone_url("acme/app"), "path": "NOTES.md", "content": "theirs\n"}
    world.set_playbook({str(issue.number): [{"files": SUB, "side_push": theirs}, {"files": SUB}]})
    _deliver(world)
    [rejected] = _events(world, "app-1-g1-a1", "push.rejected")
    assert "agent/1-add-subtraction" in rejected["error"]
    assert "BLOCKER_CODE: push_rejected" in (_room(world, "app-1-g1-a1").result or "")
    assert world.mailbox("delivered") == ["app-1-g1-a2"]
    [prepared] = _events(world, "app-1-g1-a2", "worktree.prepared")
    assert prepared["continued"] is True  # the retry started from the branch as GitHub has it
    [pr] = world.tracker.open_pulls("acme/app")
    # their commit and ours, nothing lost
    assert "`NOTES.md`" in pr.body and "`calc/sub.py`" in pr.body

"""A quota window end to end: a one-backend chain hits its quota mid-task, waits, goes on.

The playbook agent plays an agent whose usage limit runs out after it began the work; no other
backend can take over, so the task is deferred to the reset it printed, its work kept on its
branch, and not escalated. The wait is then over (its two records, the task's not-before time
and the agent's rest, set to the past, as the clock would), and the same attempt resumes on its
branch with the earlier run's result in its prompt, opens its PR, and the PR monitor merges it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import yaml

from orchestrator.core.routing import MAX_COOLDOWN
from orchestrator.core.tasks import MailboxState
from orchestrator.store import rooms
from orchestrator.store.cooldowns import CooldownStore
from orchestrator.store.mailbox import Mailbox
from tests.e2e.conftest import TEST_COMMAND, World
from tests.e2e.test_delivery import SUB

WIP = {"calc/wip.py": "# the subtraction, begun\n"}


def test_a_quota_hit_on_a_one_backend_chain_waits_for_the_reset_then_resumes_and_merges(
    world: World,
) -> None:
    world.sandbox.set_ci("acme/app", TEST_COMMAND)
    reset = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    limit = f"Error: usage limit reached, resets at {reset:%Y-%m-%dT%H:%M:%SZ}"
    issue = world.issue("acme/app", "Add subtraction")
    world.set_playbook({"*": [{"files": WIP, "exit": 1, "error": limit}]})
    assert world.run("dispatcher") == 0 and world.run("queue") == 0

    # deferred, not escalated: the same attempt waits in the inbox until the reset
    assert world.mailbox("inbox") == ["app-1-g1-a1"] and world.mailbox("escalated") == []
    mailbox = Mailbox(world.config.paths.mailbox_dir)
    waiting = mailbox.read(MailboxState.INBOX, "app-1-g1-a1")
    assert waiting.not_before == reset and waiting.attempt == 1
    room = rooms.read(world.root / "runtime" / "rooms", "app-1-g1-a1")
    [deferred] = [e for e in room.events if e["event"] == "task.deferred"]
    assert (deferred["reason"], deferred["waits"], deferred["kept_on_branch"]) == (
        "quota_exhausted",
        1,
        True,
    )
    assert "agent/1-add-subtraction" in " ".join(world.git_ls_remote("acme/app"))
    assert world.tracker.comments(issue.ref) == []
    assert "agentos:blocked" not in world.tracker.issue(issue.ref).labels
    assert world.run("queue") == 0 and world.mailbox("inbox") == ["app-1-g1-a1"]  # still waits

    # the reset has passed: the task runs again, on its branch, told what the last run did
    mailbox.update(
        replace(waiting, not_before=datetime.now(UTC) - timedelta(minutes=1)), MailboxState.INBOX
    )
    CooldownStore(world.config.paths.state_dir).clear("playbook")
    world.set_playbook({"*": [{"files": SUB, "summary": "Added calc.sub with a test."}]})
    assert world.run("queue") == 0
    assert world.mailbox("delivered") == ["app-1-g1-a1"]
    room = rooms.read(world.root / "runtime" / "rooms", "app-1-g1-a1")
    prepared = [e["continued"] for e in room.events if e["event"] == "worktree.prepared"]
    assert prepared == [False, True]
    prompt = room.prompt or ""
    assert "app-1-g1-a1, an earlier run of this attempt" in prompt
    assert "paused: playbook hit its quota" in prompt and "usage limit reached" in prompt
    [pr] = world.tracker.open_pulls("acme/app")
    assert "`calc/wip.py`" in pr.body and "`calc/sub.py`" in pr.body
    assert world.sandbox.wait_ci_idle(60)
    assert world.run("pr_monitor") == 0
    [merged] = world.events("pr_monitor", "pr.merged")
    assert merged["pr"] == pr.number and not world.tracker.issue(issue.ref).is_open


def test_a_quota_that_keeps_running_out_escalates_after_the_waits_allowed(world: World) -> None:
    data = yaml.safe_load(world.config_path.read_text())
    data["limits"]["max_deferrals"] = 1
    world.config_path.write_text(yaml.safe_dump(data, sort_keys=False))
    issue = world.issue("acme/app", "Add subtraction")
    # a reset years away is the agent's word only: the wait is at most a week
    limit = "Error: usage limit reached, resets at 2099-01-01T00:00:00Z"
    world.set_playbook({"*": [{"files": WIP, "exit": 1, "error": limit}]})
    assert world.run("dispatcher") == 0 and world.run("queue") == 0
    mailbox = Mailbox(world.config.paths.mailbox_dir)
    waiting = mailbox.read(MailboxState.INBOX, "app-1-g1-a1")
    assert waiting.not_before is not None
    assert waiting.not_before - datetime.now(UTC) <= MAX_COOLDOWN
    past = replace(waiting, not_before=datetime.now(UTC) - timedelta(minutes=1))
    mailbox.update(past, MailboxState.INBOX)
    CooldownStore(world.config.paths.state_dir).clear("playbook")
    assert world.run("queue") == 0  # the quota runs out again: the one wait allowed is used
    assert world.mailbox("escalated") == ["app-1-g1-a1"] and world.mailbox("inbox") == []
    [escalated] = world.events("queue", "task.escalated")
    assert escalated["reason"] == "quota_windows_exhausted"
    [comment] = world.tracker.comments(issue.ref)
    assert "The agent kept hitting its quota" in comment.body
    assert "agent/1-add-subtraction" in " ".join(world.git_ls_remote("acme/app"))

"""Every command through python-telegram-bot's real polling loop, on the strict Bot API sandbox.

The bot runs as `agentos bot` runs it (PTB's Updater, long polling); the sandbox fixture fails
any test in which a request or a returned object breaks the published Bot API description.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from orchestrator.adapters.memory import MemoryTracker
from orchestrator.core.model import IssueRef
from orchestrator.store.overrides import read_overrides
from tests.control.conftest import (
    ALICE,
    BOB,
    GROUP,
    MALLORY,
    REPO,
    STRANGE_GROUP,
    World,
    serving,
    until,
)

Check = Callable[[World], Any]


def ask(world: World, text: str, chat_id: int = ALICE, **sender: Any) -> str:
    """Send `text` as a user and return the bot's reply."""
    before = len(world.bot_texts(chat_id))
    if chat_id < 0:
        world.sandbox.inject_message(text, chat_id=chat_id, chat_type="group", **sender)
    else:
        world.sandbox.inject_message(text, **sender)
    until(lambda: len(world.bot_texts(chat_id)) > before)
    return world.bot_texts(chat_id)[-1]


def seed(world: World) -> None:
    """An issue waiting on an open blocker, a queued task, an escalated one, an open agent PR."""
    world.tracker.add_issue(REPO, "Needs the schema", body="Depends on #1")  # 6
    world.add_task(1, "inbox", attempt=1)
    world.add_task(3, "escalated")
    world.tracker.push(REPO, "agent/5-issue-5")
    world.tracker.open_pull(REPO, "agent/5-issue-5", "main", "Issue 5", "Closes #5")


# (what Alice types, words the reply must contain, what must be true afterwards)
SCRIPT: list[tuple[str, tuple[str, ...], Check]] = [
    ("/start", ("Hello", "/help"), lambda w: w.switches.is_on()),
    ("/help", ("/status", "/why N", "/retry N", "/repo on|off KEY", "/report"), lambda w: True),
    (
        "/status",
        (
            "Agent OS: ON",
            "Running (0)",
            "inbox 1",
            "escalated 1",
            "Open agent PRs (1)",
            "acme/app#7 Issue 5",
            "telegram_control: never run",
        ),
        lambda w: True,
    ),
    ("/off", ("Agent OS is off", "/on"), lambda w: not w.switches.is_on()),
    ("/status", ("Agent OS: OFF (since",), lambda w: True),
    ("/on", ("Agent OS is on",), lambda w: w.switches.is_on()),
    ("/on", ("already on",), lambda w: w.switches.is_on()),
    ("/repos", ("app: on, full, acme/app",), lambda w: True),
    ("/repo off app", ("repo app is off",), lambda w: not w.switches.repo_on("app")),
    ("/repo on app", ("repo app is on",), lambda w: w.switches.repo_on("app")),
    ("/repo off nope", ("Unknown repo 'nope' (known: app)",), lambda w: True),
    (
        "/repo mode app dispatcher_only",
        ("mode is dispatcher_only",),
        lambda w: (
            read_overrides(w.state) == {"repos": {"app": {"automation_mode": "dispatcher_only"}}}
        ),
    ),
    (
        "/status",
        ("Overridden from chat: repos.app.automation_mode = dispatcher_only",),
        lambda w: True,
    ),
    ("/repos", ("dispatcher_only (set from chat)",), lambda w: True),
    ("/repo mode app full", ("mode is full",), lambda w: not (w.state / "overrides.yaml").exists()),
    (
        "/repo mode app yolo",
        ("Usage: /repo on|off KEY [now]  or  mode KEY full|dispatcher_only",),
        lambda w: True,
    ),
    (
        "/jobs",
        ("dispatcher: on", "telegram_control: on (cannot be switched off from chat)"),
        lambda w: True,
    ),
    ("/job off queue", ("job queue is off",), lambda w: not w.switches.job_on("queue")),
    ("/job on queue", ("job queue is on",), lambda w: w.switches.job_on("queue")),
    (
        "/job off telegram_control",
        ("cannot be switched off from chat",),
        lambda w: w.switches.job_on("telegram_control"),
    ),
    ("/job off nope", ("Unknown job 'nope'",), lambda w: True),
    (
        "/queue",
        (
            "Queue: 1 waiting, 0 running (limit 4)",
            "1. app#1 Issue 1 (app-1-g1-a1): starts on the next",
            "Escalated (/retry N): app#3 (app-3-g1-a3)",
        ),
        lambda w: True,
    ),
    (
        "/why 6",
        (
            "app#6 Needs the schema: waiting for blockers: #1",
            "- blockers open: #1",
            "- tasks: none yet",
            "- board: not on the board",
        ),
        lambda w: True,
    ),
    ("/why 1", ("app#1 Issue 1: queued: task app-1-g1-a1",), lambda w: True),
    ("/why app#5", ("in review: PR #7 (agent/5-issue-5)",), lambda w: True),
    ("/why 3", ("escalated after 3 of 3 attempts", "/retry app#3"), lambda w: True),
    ("/why x", ("Usage: /why N",), lambda w: True),
    (
        "/retry 3",
        ("re-queued as task app-3-g2-a1 with 3 fresh attempts", "alice (1001)"),
        lambda w: (
            w.mailbox.for_issue("app", 3) == {"app-3-g2-a1": "inbox", "app-3-g1-a3": "retried"}
        ),
    ),
    (
        "/retry 3",
        ("already inbox as task app-3-g2-a1",),
        lambda w: len(w.mailbox.for_issue("app", 3)) == 2,
    ),
    ("/retry 2", ("no task to retry",), lambda w: True),
    (
        "/report",
        ("Agent OS digest: the 24 h since", "Nothing ended and nothing merged.", "Needs you:"),
        lambda w: not (w.state / "scorer.memo.json").exists(),  # the daily digest still goes
    ),
    ("/frobnicate", ("Unknown command /frobnicate",), lambda w: True),
    ("/status@agentos_sandbox_bot", ("Agent OS: ON",), lambda w: True),
]


def test_every_command_from_an_allowed_chat_does_what_it_says(world: World) -> None:
    seed(world)
    with serving(world):
        for text, words, check in SCRIPT:
            reply = ask(world, text)
            missing = [w for w in words if w not in reply]
            assert not missing, f"{text}: {missing} not in:\n{reply}"
            assert check(world), f"{text}: its effect is missing"
        assert ask(world, "/status", GROUP).startswith("Agent OS: ON")  # Alice in the allowed group
    received = [e["command"] for e in world.events("command.received")]
    # usage errors and unknown commands never reach the plane
    assert len(received) == len(SCRIPT) + 1 - 3
    assert [e["switch"] for e in world.events("switch.changed")] == [
        "global",
        "global",
        "repo app",
        "repo app",
        "job queue",
        "job queue",
    ]
    assert world.events("setting.changed")[0]["key"] == "repos.app.automation_mode"


def test_a_command_for_another_bot_or_plain_text_gets_no_reply(world: World) -> None:
    with serving(world):
        world.sandbox.inject_message("/status@some_other_bot", chat_id=GROUP, chat_type="group")
        world.sandbox.inject_message("hello there")
        last = world.sandbox.inject_message("/on")
        until(lambda: world.control().last_update_id() >= last["update_id"])  # type: ignore[index]
    assert world.bot_texts(GROUP) == [] and world.bot_texts(ALICE) == ["Agent OS was already on."]


STRANGERS = {
    "a stranger's private chat": dict(
        chat_id=MALLORY, user_id=MALLORY, username="mallory", first_name="Mallory"
    ),
    "a stranger in an allowed group": dict(
        chat_id=GROUP, user_id=BOB, username="bob", first_name="Bob"
    ),
    "an allowed user in a strange group": dict(chat_id=STRANGE_GROUP, user_id=ALICE),
}


@pytest.mark.parametrize("who", STRANGERS, ids=list(STRANGERS))
def test_strangers_commands_have_no_effect_get_no_reply_and_are_logged(
    world: World, who: str
) -> None:
    seed(world)
    sender = dict(STRANGERS[who])
    chat_id = sender.pop("chat_id")
    kind = "group" if chat_id < 0 else "private"
    texts = [text for text, _, _ in SCRIPT]
    with serving(world):
        updates = [
            world.sandbox.inject_message(t, chat_id=chat_id, chat_type=kind, **sender)
            for t in texts
        ]
        last = max(u["update_id"] for u in updates if u)
        until(lambda: world.control().last_update_id() >= last)
    assert world.bot_texts(chat_id) == [] and world.bot_texts(ALICE) == []
    assert (
        world.switches.is_on() and world.switches.repo_on("app") and world.switches.job_on("queue")
    )
    assert not (world.state / "overrides.yaml").exists()
    assert world.mailbox.for_issue("app", 3) == {"app-3-g1-a3": "escalated"}
    refused = world.events("chat.refused")
    assert len(refused) == len([u for u in updates if u]) and world.events("command.received") == []
    expected = "chat_not_allowed" if chat_id != GROUP else "user_not_allowed"
    assert {e["reason"] for e in refused} == {expected} and refused[0]["user_id"] == sender[
        "user_id"
    ]


def test_off_then_on_through_the_long_running_bot_while_the_switch_is_off(world: World) -> None:
    world.switches.set_global(False, "2026-05-01T09:00:00+00:00")
    with serving(world):
        assert "OFF (since 2026-05-01T09:00:00+00:00)" in ask(world, "/status")
        assert "already off" in ask(world, "/off")
        assert ask(world, "/on") == "Agent OS is on." and world.switches.is_on()
        assert "Agent OS is off" in ask(world, "/off") and not world.switches.is_on()
        assert ask(world, "/on") == "Agent OS is on." and world.switches.is_on()


def test_start_only_greets_even_while_off(world: World) -> None:
    world.switches.set_global(False, "t")
    with serving(world):
        assert "Hello" in ask(world, "/start")
    assert not world.switches.is_on()


def test_a_failing_command_is_logged_first_and_answered_second(world: World) -> None:
    class Broken(MemoryTracker):
        def open_pulls(self, repo: str, head_prefix: str = "agent/") -> list[Any]:
            raise RuntimeError("the tracker fell over")

    world.tracker = Broken()
    world.tracker.add_repo(REPO)
    world.tracker.add_issue(REPO, "Issue 1")
    with serving(world):
        reply = ask(world, "/status")
    assert reply == "Command failed: RuntimeError: the tracker fell over"
    crashed = world.events("command.crashed")
    assert crashed and "the tracker fell over" in crashed[0]["traceback"]
    assert world.tracker.issue(IssueRef(REPO, 1)).is_open  # nothing else happened


def test_replies_are_redacted_plain_text(world: World) -> None:
    token = "ghp_" + "Q7w" * 12
    world.tracker.add_issue(REPO, f"Fix <b>login</b> & leak {token}")  # 6
    with serving(world):
        reply = ask(world, "/why 6")
    assert token not in reply and "[REDACTED:github-token]" in reply
    # no parse mode: markup arrives as typed
    assert reply.startswith("app#6 Fix <b>login</b> & leak")
    assert "entities" not in world.sandbox.screen(ALICE)[-1]

"""core.commands: chat text to command values, and who may command the bot."""

from __future__ import annotations

import pytest

from orchestrator.core.chat import (
    SPECS,
    IssueCommand,
    Off,
    PlanCommand,
    RepoMode,
    Simple,
    Switch,
    Target,
    Unknown,
    UsageHint,
    authorize,
    help_text,
    parse,
    parse_target,
)

BOT = "agentos_bot"


REPO_USAGE = "Usage: /repo on|off KEY [now]  or  mode KEY full|dispatcher_only"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("/status", Simple("status")),
        ("  /STATUS  ", Simple("status")),
        ("/status@agentos_bot", Simple("status")),
        ("/status@AgentOS_Bot", Simple("status")),
        ("/status@other_bot", None),
        ("status", None),
        ("hello /status", None),
        ("", None),
        ("/", None),
        ("/on", Simple("on")),
        ("/on now", UsageHint("on", "Usage: /on")),
        ("/repo off app", Switch("repo", "app", False)),
        ("/repo off app now", Switch("repo", "app", False, now=True)),
        ("/repo off app NOW", Switch("repo", "app", False, now=True)),
        ("/repo on app now", UsageHint("repo", REPO_USAGE)),
        ("/job off queue now", UsageHint("job", "Usage: /job on|off NAME")),
        ("/off", Off()),
        ("/off now", Off(now=True)),
        ("/off later", UsageHint("off", "Usage: /off [now]")),
        ("/repo ON app", Switch("repo", "app", True)),
        ("/repo mode app dispatcher_only", RepoMode("app", "dispatcher_only")),
        ("/repo mode app FULL", RepoMode("app", "full")),
        (
            "/repo mode app yolo",
            UsageHint("repo", REPO_USAGE),
        ),
        ("/repo", UsageHint("repo", REPO_USAGE)),
        ("/job off queue", Switch("job", "queue", False)),
        ("/job mode queue full", UsageHint("job", "Usage: /job on|off NAME")),
        ("/why 12", IssueCommand("why", Target(12))),
        ("/why #12", IssueCommand("why", Target(12))),
        ("/why app#12", IssueCommand("why", Target(12, "app"))),
        ("/why Acme/App#12", IssueCommand("why", Target(12, "Acme/App"))),
        ("/retry@agentos_bot 7", IssueCommand("retry", Target(7))),
        ("/why twelve", UsageHint("why", "Usage: /why N")),
        ("/why 1 2", UsageHint("why", "Usage: /why N")),
        ("/start", Simple("start")),
        ("/plan", PlanCommand()),
        ("/plan app", PlanCommand(repo="app")),
        ("/plan SHOW", PlanCommand(show=True)),
        ("/plan show my-app", PlanCommand(show=True, repo="my-app")),
        ("/plan show a b", UsageHint("plan", "Usage: /plan [show] [KEY]")),
        ("/plan ../etc", UsageHint("plan", "Usage: /plan [show] [KEY]")),
        ("/producers", Simple("producers")),
        ("/producers all", UsageHint("producers", "Usage: /producers")),
        ("/frobnicate", Unknown("frobnicate")),
    ],
)
def test_text_becomes_a_command_a_usage_reply_or_nothing(text: str, expected: object) -> None:
    assert parse(text, BOT) == expected


@pytest.mark.parametrize("word", ["../1", "#", "app#", "a b#1", "-1", "1234567890"])
def test_targets_are_strict(word: str) -> None:
    assert parse_target(word) is None


ALLOWED_CHATS, ALLOWED_USERS = (1001, -4001), (1001,)


@pytest.mark.parametrize(
    "chat_id, chat_type, user_id, allowed, reason",
    [
        (1001, "private", 1001, True, "allowed"),
        (6666, "private", 6666, False, "chat_not_allowed"),
        (-4001, "group", 1001, True, "allowed"),
        (-4001, "supergroup", 1001, True, "allowed"),
        (-4001, "group", 1002, False, "user_not_allowed"),  # any group member is not enough
        (-4999, "group", 1001, False, "chat_not_allowed"),  # an allowed user in a strange group
        (-4001, "group", None, False, "no_user"),  # an anonymous admin
        (-4001, "channel", None, False, "channel"),
        (1001, "private", 1002, False, "user_not_allowed"),
    ],
)
def test_only_allowed_chats_and_in_groups_only_allowed_users_may_command(
    chat_id: int, chat_type: str, user_id: int | None, allowed: bool, reason: str
) -> None:
    verdict = authorize(chat_id, chat_type, user_id, ALLOWED_CHATS, ALLOWED_USERS)
    assert (verdict.allowed, verdict.reason) == (allowed, reason)


def test_help_lists_every_command_and_start_only_greets() -> None:
    text = help_text()
    assert all(f"/{name}" in text for name in SPECS)
    assert "/start - say hello" in text

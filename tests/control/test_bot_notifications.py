"""Notifications through the real bot.

Bursts batched, long batches split, escalation buttons acting once.
"""

from __future__ import annotations

from datetime import timedelta

from orchestrator.core import notify
from orchestrator.core.batching import LIMIT, Pacing, batch, units
from orchestrator.core.model import BoardStatus, IssueRef
from orchestrator.core.notify import Kind, Notification
from orchestrator.deps import notifier_for
from orchestrator.store.outbox import Outbox
from tests.control.conftest import ALICE, BOB, REPO, World, serving, until


def escalate(world: World, number: int) -> None:
    """Escalate the issue's task (creating it the first time), as the queue job would."""
    if not world.mailbox.for_issue("app", number):
        world.add_task(number, "escalated")
    task_id = f"app-{number}-g1-a3"
    notifier_for(world.config, world.log).notify(
        notify.escalated(
            IssueRef(REPO, number), task_id, f"Issue {number}", "blocked: needs a database password"
        )
    )


def meet(world: World) -> None:
    """Alice writes to the bot first: Telegram lets a bot message only chats it has seen."""
    world.sandbox.inject_message("hi")


def bot_messages(world: World) -> list[dict]:
    return [m for m in world.sandbox.screen(ALICE) if m["from"]["is_bot"]]


def keyboards(world: World) -> list[dict]:
    return [m for m in world.sandbox.screen(ALICE) if "reply_markup" in m]


def delivered(world: World) -> bool:
    return Outbox(world.state).pending().notes == ()


def press(world: World, message: dict, column: int, **sender: object) -> str:
    """Press a button under `message`; return the toast the presser saw."""
    data = message["reply_markup"]["inline_keyboard"][0][column]["callback_data"]
    update = world.sandbox.inject_callback(ALICE, message["message_id"], data, **sender)  # type: ignore[arg-type]
    query_id = update["callback_query"]["id"]
    return str(until(lambda: world.sandbox.callback_answer(query_id))["text"])


def test_a_burst_of_notifications_is_one_message(world: World) -> None:
    meet(world)
    notifier = notifier_for(world.config, world.log)
    control = world.control()
    # a slow disk stays one burst
    control.pacing = Pacing(quiet=timedelta(seconds=2), max_wait=timedelta(seconds=10))
    with serving(world, control):
        for i in range(40):
            notifier.notify(
                notify.task_started(IssueRef(REPO, i % 4), f"app-{i % 4}-g1-a1", f"Issue {i % 4}")
            )
        escalate(world, 1)
        escalate(world, 2)
        until(lambda: delivered(world) and world.bot_texts(ALICE))
    [message] = bot_messages(world)
    assert (
        message["text"].startswith("Agent OS: 42 updates") and message["text"].count("(×10)") == 4
    )
    assert len(message["reply_markup"]["inline_keyboard"]) == 2


def test_a_storm_stays_one_message_under_the_limit(world: World) -> None:
    meet(world)
    notifier = notifier_for(world.config, world.log)
    for i in range(500):
        notifier.notify(
            Notification(Kind.TASK_FAILED, f"acme/app#{i} Issue {i}: failed", detail="retry storm")
        )
    with serving(world):
        until(lambda: delivered(world) and world.bot_texts(ALICE))
    [text] = world.bot_texts(ALICE)
    assert "… 470 earlier not shown (470 task failed)" in text and units(text) <= LIMIT


def test_a_long_batch_is_split_at_line_or_word_boundaries(world: World) -> None:
    meet(world)
    notifier = notifier_for(world.config, world.log)
    for i in range(1, 4):
        world.add_task(i, "escalated")
        notifier.notify(
            notify.escalated(IssueRef(REPO, i), f"app-{i}-g1-a3", f"Issue {i}", "why " * 300)
        )
    for i in range(30):
        notifier.notify(Notification(Kind.INFO, f"note {i}: " + " ".join(["word"] * 40)))
    notes = Outbox(world.state).pending().notes
    with serving(world):
        until(lambda: delivered(world) and world.bot_texts(ALICE))
    texts = world.bot_texts(ALICE)
    assert len(texts) > 1 and all(units(t) <= LIMIT for t in texts)
    whole = batch(notes, limit=10**9)[0].text  # the same batch, never split
    assert [w for t in texts for w in t.split()] == whole.split()  # every word arrived, and whole
    assert (
        sum(len(m.get("reply_markup", {}).get("inline_keyboard", [])) for m in bot_messages(world))
        == 3
    )


def test_a_button_press_acts_once_and_a_repeated_or_expired_one_only_says_so(world: World) -> None:
    meet(world)
    with serving(world):
        escalate(world, 3)
        first = until(lambda: keyboards(world))[0]
        escalate(world, 3)  # the same task escalated again: a second message, the same action
        second = until(lambda: len(keyboards(world)) == 2 and keyboards(world))[1]
        assert press(world, first, 0).startswith("app#3: re-queued as task app-3-g2-a1")
        assert press(world, second, 0) == "Already handled: retry by alice (1001)."
        until(lambda: not keyboards(world))  # both rows removed
        escalate(world, 4)
        third = until(lambda: keyboards(world))[0]
        world.fixed.append(world.clock() + timedelta(days=8))
        assert press(world, third, 1).startswith("This button expired; use /retry 4")
        until(lambda: not keyboards(world))
    assert world.mailbox.for_issue("app", 3) == {"app-3-g2-a1": "inbox", "app-3-g1-a3": "retried"}
    # the expired press did nothing
    assert world.mailbox.for_issue("app", 4) == {"app-4-g1-a3": "escalated"}
    assert world.tracker.issue(IssueRef(REPO, 4)).is_open
    announcements = [t for t in world.bot_texts(ALICE) if "re-queued" in t]
    assert announcements == [
        "app#3: re-queued as task app-3-g2-a1 with 3 fresh attempts (by alice (1001))."
    ]


def test_close_as_not_planned_closes_the_issue_marks_it_done_and_retires_the_task(
    world: World,
) -> None:
    meet(world)
    world.board.place(world.tracker.issue(IssueRef(REPO, 2)), BoardStatus.BLOCKED)
    with serving(world):
        escalate(world, 2)
        message = until(lambda: keyboards(world))[0]
        assert [b["text"] for b in message["reply_markup"]["inline_keyboard"][0]] == [
            "Retry",
            "Close as not planned",
        ]
        assert press(world, message, 1) == "app#2 closed as not planned (by alice (1001))."
        until(lambda: not keyboards(world))
    issue = world.tracker.issue(IssueRef(REPO, 2))
    assert not issue.is_open and issue.state_reason == "not_planned"
    assert [i.status for i in world.board.items(detail=()) if i.issue.number == 2] == [
        BoardStatus.DONE
    ]
    assert world.mailbox.for_issue("app", 2) == {"app-2-g1-a3": "dropped"}


def test_a_strangers_press_is_not_answered_and_does_nothing(world: World) -> None:
    meet(world)
    with serving(world):
        escalate(world, 3)
        message = until(lambda: keyboards(world))[0]
        data = message["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        update = world.sandbox.inject_callback(
            ALICE, message["message_id"], data, user_id=BOB, username="bob"
        )
        assert update is not None
        until(lambda: world.control().last_update_id() >= update["update_id"])
        assert world.sandbox.callback_answer(update["callback_query"]["id"]) is None
    assert world.mailbox.for_issue("app", 3) == {"app-3-g1-a3": "escalated"} and keyboards(world)
    assert world.events("chat.refused")[0]["kind"] == "callback_query"

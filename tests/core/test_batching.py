"""Batching and splitting.

A burst is one message, nothing is cut mid-word, escalations keep their buttons.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from orchestrator.core import notify
from orchestrator.core.batching import (
    LIMIT,
    Message,
    Pacing,
    batch,
    button_data,
    due,
    parse_button,
    split,
    units,
)
from orchestrator.core.model import IssueRef
from orchestrator.core.notify import Kind, Notification

T0 = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)


def ref(n: int) -> IssueRef:
    return IssueRef("acme/app", n)


def words_of(text: str) -> list[str]:
    return text.split()


@pytest.mark.parametrize("seed", range(20))
def test_split_never_exceeds_the_limit_and_never_cuts_a_word(seed: int) -> None:
    rng = random.Random(seed)
    vocabulary = [
        "a",
        "merge",
        "pull-request",
        "🚀",
        "ünïcode",
        "x" * 40,
        "https://github.com/acme/app/pull/1",
    ]
    lines = [
        " ".join(rng.choice(vocabulary) for _ in range(rng.randint(0, 60)))
        for _ in range(rng.randint(1, 80))
    ]
    text = "\n".join(lines)
    limit = rng.choice([50, 120, 500])
    chunks = split(text, limit)
    assert all(0 < units(chunk) <= limit for chunk in chunks)
    assert [w for chunk in chunks for w in words_of(chunk)] == words_of(text)


def test_split_prefers_line_boundaries() -> None:
    text = "\n".join(f"line {i} " + "w" * 20 for i in range(10))
    chunks = split(text, 100)
    assert all(chunk.splitlines()[0].startswith("line ") for chunk in chunks)
    assert "\n".join(chunks) == text


def test_split_counts_utf16_units_as_telegram_does() -> None:
    emoji = "🚀" * 3000  # 6,000 UTF-16 units in 3,000 code points
    assert units(emoji) == 6000
    chunks = split(" ".join([emoji[:1000], emoji[:1500]]))  # two words, 5,000 units together
    assert [units(c) for c in chunks] == [2000, 3000]


def test_only_a_word_longer_than_the_limit_is_cut() -> None:
    chunks = split("short " + "y" * 250 + " tail", 100)
    assert chunks == ["short", "y" * 100, "y" * 100, "y" * 50 + " tail"]
    assert split("   \n  ", 10) == []


def test_a_burst_of_events_is_one_message_with_repeats_counted() -> None:
    notes = [
        notify.task_started(ref(i % 3), f"app-{i % 3}-g1-a1", f"Issue {i % 3}") for i in range(60)
    ]
    messages = batch(notes)
    assert len(messages) == 1
    text = messages[0].text
    assert text.startswith("Agent OS: 60 updates")
    assert text.count("(×20)") == 3 and messages[0].rows == ()


def test_a_storm_keeps_its_newest_lines_and_counts_the_rest() -> None:
    notes = [Notification(Kind.TASK_STARTED, f"#{i} started") for i in range(200)]
    notes += [notify.job_crashed("queue", f"boom {i}") for i in range(5)]
    [message] = batch(notes)
    assert "… 175 earlier not shown (175 task started)" in message.text
    assert "#199 started" in message.text and "#170 started" not in message.text
    assert message.text.count("job queue crashed") == 5 and units(message.text) <= LIMIT


def test_a_single_note_is_just_its_line() -> None:
    note = notify.merged(ref(4), "Fix typo", 9, "https://github.com/acme/app/pull/9")
    assert batch([note]) == [
        Message("✅ acme/app#4 Fix typo: PR #9 merged\n   https://github.com/acme/app/pull/9")
    ]
    assert batch([]) == []


def test_an_escalation_carries_retry_and_close_buttons_for_its_task() -> None:
    note = notify.escalated(ref(12), "app-12-g1-a3", "Add login", "blocked: needs a password")
    [message] = batch([note])
    assert (
        "🛑 acme/app#12 Add login: needs you" in message.text and "needs a password" in message.text
    )
    [[retry, close]] = message.rows
    assert (retry.label, close.label) == ("Retry", "Close as not planned")
    assert parse_button(retry.data) == (notify.action_token("app-12-g1-a3"), "retry")
    assert parse_button(close.data)[1] == "close" and all(
        len(b.data.encode()) <= 64 for b in (retry, close)
    )


def test_many_escalations_share_messages_with_numbered_buttons_and_repeats_collapse() -> None:
    notes = [notify.escalated(ref(i), f"app-{i}-g1-a3", f"Issue {i}", "stuck") for i in range(10)]
    # the same task again
    notes.append(notify.escalated(ref(3), "app-3-g1-a3", "Issue 3", "still stuck"))
    messages = batch(notes + [Notification(Kind.INFO, "hello")])
    assert [len(m.rows) for m in messages] == [8, 2]
    labels = [b.label for m in messages for row in m.rows for b in row]
    assert "Retry #0" in labels and "Close #9 as not planned" in labels and len(labels) == 20
    assert (
        "still stuck" in "".join(m.text for m in messages)
        and "   stuck\n   task app-3" not in messages[0].text
    )


def test_a_huge_batch_is_split_under_the_limit_with_each_button_row_beside_its_text() -> None:
    detail = " ".join(["because"] * 2000)
    notes = [notify.escalated(ref(i), f"app-{i}-g1-a3", f"Issue {i}", detail) for i in range(3)]
    notes += [Notification(Kind.INFO, f"info {i} " + "z" * 200) for i in range(30)]
    messages = batch(notes)
    assert all(units(m.text) <= LIMIT for m in messages) and len(messages) > 1
    for message in messages:
        for row in message.rows:
            token = parse_button(row[0].data)[0]
            number = next(i for i in range(3) if notify.action_token(f"app-{i}-g1-a3") == token)
            assert f"app-{number}-g1-a3" in message.text


@pytest.mark.parametrize(
    "data",
    [
        "",
        "esc",
        "esc:abc:retry",
        f"esc:{'a' * 16}:merge",
        "plan:x:approve",
        f"plan:{'a' * 16}:retry",  # an escalation's action under a plan's prefix
        f"esc:{'a' * 16}:approve",
        f"esc:{'a' * 16}:retry:extra",
    ],
)
def test_foreign_or_malformed_button_data_is_not_an_escalation_action(data: str) -> None:
    assert parse_button(data) is None
    assert parse_button(button_data("t", "close")) is not None


def test_a_plan_is_shown_whole_with_its_three_buttons_and_never_hidden_in_a_storm() -> None:
    detail = "Plan app-1 (waiting)\n" + "\n".join(f"  {n}. #{n}: a reason" for n in range(1, 16))
    plan = notify.plan(IssueRef("acme/app", 9), "app-20261203T110000", "app: a plan", detail)
    storm = [notify.task_started(IssueRef("acme/app", i), f"app-{i}-g1-a1", "t") for i in range(60)]
    messages = batch([plan, *storm], max_lines=5)
    (with_buttons,) = [m for m in messages if m.rows]
    assert "  15. #15: a reason" in with_buttons.text  # shown whole, not cut to a few lines
    (row,) = with_buttons.rows
    assert [b.label for b in row] == ["Approve", "Approve without new issues", "Skip"]
    token = notify.action_token("app-20261203T110000")
    assert [parse_button(b.data) for b in row] == [
        (token, "approve"),
        (token, "only"),
        (token, "skip"),
    ]
    assert all(len(b.data.encode()) <= 64 for b in row)


S = timedelta(seconds=1)


@pytest.mark.parametrize(
    "ages, since_last, expected",
    [
        ([], None, False),
        ([1], None, False),  # the burst may not be over
        ([5, 4], None, True),  # quiet for 4 s
        ([5, 4], 10, False),  # but the last message went out 10 s ago
        ([31, 1], 10, True),  # the oldest waited 31 s: send anyway
        ([5], 40, True),
    ],
)
def test_the_bot_waits_for_a_burst_to_end_but_not_forever(
    ages: list[int], since_last: int | None, expected: bool
) -> None:
    times = [T0 - a * S for a in ages]
    last = None if since_last is None else T0 - since_last * S
    assert due(times, T0, last) is expected


def test_pacing_is_tunable() -> None:
    fast = Pacing(
        quiet=timedelta(milliseconds=100), max_wait=timedelta(seconds=1), min_gap=timedelta(0)
    )
    assert due([T0 - 0.2 * S], T0, T0, fast) and not due([T0 - 0.2 * S], T0, T0)

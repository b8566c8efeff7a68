"""Notification values: what an escalation must carry, how they are stored and shortened."""

from __future__ import annotations

import json

import pytest

from orchestrator.core import notify
from orchestrator.core.model import IssueRef
from orchestrator.core.notify import (
    Kind,
    Notification,
    action_token,
    from_record,
    shorten,
    to_record,
)

REF = IssueRef("acme/app", 12)


def test_an_escalation_without_its_issue_and_task_is_refused() -> None:
    with pytest.raises(ValueError, match="issue and the task id"):
        Notification(Kind.ESCALATED, "#12 needs you")
    with pytest.raises(ValueError, match="issue and the task id"):
        Notification(Kind.ESCALATED, "#12 needs you", REF)
    with pytest.raises(ValueError, match="needs a text"):
        Notification(Kind.INFO, "  ")


@pytest.mark.parametrize(
    "note",
    [
        notify.task_started(REF, "app-12-g1-a1", "Add login", "claude"),
        notify.pr_opened(
            REF, "app-12-g1-a1", "Add login", 40, "https://github.com/acme/app/pull/40"
        ),
        notify.merged(REF, "Add login", 40, "https://github.com/acme/app/pull/40"),
        notify.escalated(REF, "app-12-g1-a3", "Add login", "blocked: needs a database password"),
        notify.task_failed(REF, "app-12-g1-a2", "Add login", "tests failed"),
        notify.job_crashed("dispatcher", "TrackerUnavailable: 502"),
        Notification(Kind.INFO, "hello"),
    ],
)
def test_every_kind_survives_a_round_trip_through_its_json_record(note: Notification) -> None:
    assert from_record(json.loads(json.dumps(to_record(note)))) == note


@pytest.mark.parametrize(
    "record, error",
    [
        ([], "expected a mapping"),
        ({"kind": "exploded", "text": "x"}, "unknown notification kind 'exploded'"),
        ({"kind": "info", "text": "x", "issue": {"repo": "a/b", "number": "12"}}, "bad issue"),
        ({"kind": "escalated", "text": "x"}, "issue and the task id"),
    ],
)
def test_a_bad_record_is_a_value_error_naming_the_problem(record: object, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        from_record(record)


def test_long_text_is_stored_shortened_at_a_word_boundary() -> None:
    note = Notification(Kind.INFO, "word " * 100, detail="d" * 5000)
    record = to_record(note)
    assert len(record["text"]) <= notify.MAX_TEXT and record["text"].endswith("word…")
    assert len(record["detail"]) == notify.MAX_DETAIL  # one long word: cut where it must be
    assert shorten("short", 10) == "short"


def test_the_action_token_is_stable_short_and_distinct_per_task() -> None:
    token = action_token("app-12-g1-a3")
    assert token == action_token("app-12-g1-a3") and len(token) == 16
    assert token != action_token("app-12-g2-a1")
    assert len(f"esc:{token}:close".encode()) <= 64  # Telegram's callback_data limit

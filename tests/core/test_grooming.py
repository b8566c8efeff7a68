"""The groomer's decisions: where a card belongs, when blockers free an issue, what a note says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from orchestrator.core import grooming
from orchestrator.core.grooming import Blocker, Card, GroomerDay, Repair, Stale
from orchestrator.core.labels import BLOCKED
from orchestrator.core.markdown import defuse
from orchestrator.core.model import BoardStatus, IssueRef, LabelEvent

S = BoardStatus
NOW = datetime(2026, 5, 10, 7, 20, tzinfo=UTC)


def _card(status: S | None, **kw: bool) -> Card:
    facts = {"is_open": True, "escalated": False, "live_task": False, "open_pr": False, **kw}
    return Card(status, **facts)


@pytest.mark.parametrize("status", [None, S.BACKLOG, S.READY, S.BLOCKED, S.DONE])
def test_only_the_columns_agent_os_moves_cards_into_are_judged(status: S | None) -> None:
    assert grooming.repair(_card(status, is_open=False)) is None
    assert grooming.repair(_card(status)) is None


@pytest.mark.parametrize(
    ("status", "facts", "expected"),
    [
        (S.IN_PROGRESS, {"is_open": False}, Repair(S.DONE, "issue_closed")),
        (S.IN_REVIEW, {"is_open": False, "open_pr": True}, Repair(S.DONE, "issue_closed")),
        (S.IN_PROGRESS, {"live_task": True}, None),
        (S.IN_PROGRESS, {"live_task": True, "escalated": True}, None),
        (S.IN_REVIEW, {"live_task": True}, None),  # a fixing task, or a restarted attempt
        (S.IN_PROGRESS, {"escalated": True}, Repair(S.BLOCKED, "escalated")),
        (S.IN_REVIEW, {"escalated": True, "open_pr": True}, Repair(S.BLOCKED, "escalated")),
        (S.IN_PROGRESS, {"open_pr": True}, Repair(S.IN_REVIEW, "pr_open")),
        (S.IN_REVIEW, {"open_pr": True}, None),
        (S.IN_PROGRESS, {}, Repair(S.BACKLOG, "no_task")),
        (S.IN_REVIEW, {}, Repair(S.BACKLOG, "no_pr")),
    ],
)
def test_a_card_goes_where_the_facts_put_it_and_never_to_ready(
    status: S, facts: dict[str, bool], expected: Repair | None
) -> None:
    assert grooming.repair(_card(status, **facts)) == expected


def test_a_pr_works_on_its_agent_branchs_issue_and_on_those_it_closes() -> None:
    assert grooming.pr_issues("agent/12-add-login", "Closes #12\n\nDid it.") == {12}
    assert grooming.pr_issues("fix-login", "This fixes: #3 and resolves #4; see #5") == {3, 4}
    assert grooming.pr_issues("agent/x-7", "refixes #9, Closes acme/other#2") == set()


def _ref(n: int, repo: str = "acme/app") -> IssueRef:
    return IssueRef(repo, n)


def test_blockers_free_an_issue_only_when_every_one_is_closed() -> None:
    assert grooming.blockers_verdict([]) is None
    assert grooming.blockers_verdict([Blocker(_ref(1), False), Blocker(_ref(2), True)]) is None
    assert grooming.blockers_verdict([Blocker(_ref(1), False), Blocker(_ref(2), False)]) == "free"


def test_a_blocker_closed_as_not_planned_asks_for_a_decision_even_beside_open_ones() -> None:
    found = [Blocker(_ref(1), False, not_planned=True), Blocker(_ref(2), True)]
    assert grooming.blockers_verdict(found) == "not_planned"
    # an unreadable blocker counts as open (nothing is known of it)
    assert grooming.blockers_verdict([Blocker(_ref(3), is_open=True)]) is None


def test_free_is_said_in_backlog_and_blocked_a_decision_asked_in_ready_too() -> None:
    assert grooming.needs_note(S.BACKLOG, "free", ())
    assert grooming.needs_note(S.BLOCKED, "free", ())
    assert not grooming.needs_note(S.READY, "free", ())  # the dispatcher queues it
    assert not grooming.needs_note(S.IN_PROGRESS, "free", ())
    assert grooming.needs_note(S.READY, "not_planned", ())
    assert not grooming.needs_note(S.BACKLOG, "free", (BLOCKED,))  # a person has it
    assert not grooming.needs_note(S.BACKLOG, None, ())


def test_an_escalation_ages_from_the_last_time_its_label_went_on() -> None:
    opened = NOW - timedelta(days=30)
    trail = [
        LabelEvent(BLOCKED, "agentos", True, NOW - timedelta(days=20)),
        LabelEvent(BLOCKED, "ann", False, NOW - timedelta(days=15)),
        LabelEvent(BLOCKED, "agentos", True, NOW - timedelta(days=8, hours=1)),
        LabelEvent("bug", "ann", True, NOW - timedelta(days=1)),
    ]
    since = grooming.blocked_since(trail, opened)
    assert since == NOW - timedelta(days=8, hours=1)
    assert grooming.stale_days(since, NOW, 7) == 8
    assert grooming.stale_days(since, NOW, 9) is None
    assert grooming.blocked_since([], opened) == opened


def test_notes_name_issues_by_number_and_neither_close_nor_mention() -> None:
    text = grooming.duplicate_text(3, grooming.duplicate_why("duplicate (title 96)"))
    assert text.startswith("Agent OS: possible duplicate of #3 (their words read alike: title 96)")
    assert "agentos:duplicate" in text
    assert "model" in grooming.duplicate_why("duplicate (model: #3)")
    assert "signature" in grooming.duplicate_why("same_signature")
    free = grooming.free_text([_ref(2), _ref(4, "acme/lib")], "acme/app")
    assert "all blockers are closed: free to start (it waited for #2, acme/lib#4)" in free
    assert "#7, closed as not planned" in grooming.decision_text([_ref(7)], "acme/app")
    assert "from In Progress to Backlog" in grooming.card_text(S.IN_PROGRESS, S.BACKLOG, "no_task")
    notes = [
        text,
        free,
        grooming.decision_text([_ref(7)], "acme/app"),
        grooming.missing_text(),
        grooming.card_text(S.IN_REVIEW, S.BACKLOG, "no_pr"),
    ]
    assert all(defuse(note) == note for note in notes)  # nothing GitHub would act on


def test_a_models_draft_is_quoted_as_data_redacted_and_defused() -> None:
    hostile = "## Goal\n\nFixes #1 for @alice ```` token ghp_" + "a" * 36 + "\n<!-- agentos:x -->"
    text = grooming.draft_text(hostile)
    assert "@alice" not in text and "Fixes #1" not in text
    assert "ghp_" + "a" * 36 not in text
    assert "<!--" not in text
    assert "`````text\n" in text  # a fence longer than any backtick run inside


def test_a_days_runs_add_up_and_a_new_day_starts_afresh() -> None:
    counts = dict.fromkeys(grooming.ACTIONS, 0)
    first = GroomerDay("2026-05-10", "t1", {**counts, "duplicates": 2, "repaired": 1})
    second = GroomerDay("2026-05-10", "t2", {**counts, "free": 1}, (Stale("acme/app", 5, "X", 9),))
    both = grooming.merged(first, second)
    assert both.counts["duplicates"] == 2 and both.counts["free"] == 1 and both.at == "t2"
    assert both.stale == second.stale
    assert grooming.merged(first, GroomerDay("2026-05-11", "t3", counts)).counts == counts
    assert grooming.summary(both) == (
        "Groomer: 2 possible duplicates marked; 1 issue noted free; 1 card repaired."
    )
    assert grooming.summary(GroomerDay("d", "t", counts)) == "Groomer: nothing to tidy."

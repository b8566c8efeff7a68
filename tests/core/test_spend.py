"""core.spend: a task's spend against its cap, the day's spend against its caps, and the words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from orchestrator.core.agent import AttemptStarted, SessionStarted, Usage, UsageReported
from orchestrator.core.evidence import DEFAULT_PRICES, Price
from orchestrator.core.notify import Kind
from orchestrator.core.spend import GLOBAL, Spend, Tally, day_capped, day_of, held, line, money
from orchestrator.core.spend import today as spend_today

MTOK = 1_000_000


def test_a_reported_cost_is_taken_at_its_word_and_tokens_are_priced_by_the_sessions_model() -> None:
    tally = Tally(DEFAULT_PRICES, {"codex": "gpt-5"})
    tally.observe(AttemptStarted("claude", 1))
    tally.observe(SessionStarted("s", "claude-sonnet-4-5"))
    tally.observe(UsageReported(Usage(10 * MTOK, 0, 0, 0.42)))  # claude's own total_cost_usd
    tally.observe(UsageReported(Usage(MTOK, MTOK // 10)))  # tokens only: $3 + $1.50
    assert tally.spent == pytest.approx(0.42 + 4.5)
    tally.observe(AttemptStarted("codex", 2))  # no session model: the configured one
    tally.observe(UsageReported(Usage(MTOK, 0, MTOK)))  # cached at gpt-5's cached price
    assert tally.spent == pytest.approx(0.42 + 4.5 + 0.125)
    tally.observe(AttemptStarted("mystery", 3))
    tally.observe(UsageReported(Usage(MTOK, MTOK)))  # no price: counts nothing
    assert tally.spent == pytest.approx(5.045)


def test_a_rooms_channel_lines_count_as_the_events_did() -> None:
    lines = [
        {"event": "attempt.started", "backend": "api", "attempt": 1},
        {"event": "session.started", "session_id": "m", "model": "claude-haiku-4-5"},
        {"event": "usage.reported", "usage": {"input_tokens": MTOK, "output_tokens": MTOK}},
        {"event": "usage.reported", "usage": {"input_tokens": 5, "cost_usd": 0.25}},
        {"event": "usage.reported", "usage": "torn"},
        {"event": "tool.called", "name": "bash"},
    ]
    tally = Tally(DEFAULT_PRICES, {})
    for entry in lines:
        tally.read(entry)
    assert tally.spent == pytest.approx(1.0 + 5.0 + 0.25)


@pytest.mark.parametrize(
    "cap, spent, unreported_tokens, over",
    [
        (None, 100.0, 0, False),  # no cap: never
        (1.0, 0.99, 0, False),
        (1.0, 1.0, 0, True),  # reaching the cap is reaching it
        (1.0, 0.5, 200_000, True),  # $0.50 spent + $0.60 of tokens shown, not yet reported
        (1.0, 0.5, 100_000, False),  # + $0.30
    ],
)
def test_a_task_is_over_its_cap_counting_what_the_running_backend_has_not_reported(
    cap: float | None, spent: float, unreported_tokens: int, over: bool
) -> None:
    tally = Tally({"m": Price(3.0, 15.0)}, {"claude": "m"}, cap)
    tally.observe(AttemptStarted("claude", 1))
    tally.observe(UsageReported(Usage(0, 0, 0, spent)))
    assert tally.over(Usage(unreported_tokens, 0)) is over
    assert tally.reached is (cap is not None and spent >= cap)


def test_the_escalation_reason_names_the_spend_and_the_cap_in_dollars() -> None:
    tally = Tally(DEFAULT_PRICES, {}, 4.0)
    tally.observe(UsageReported(Usage(0, 0, 0, 4.1234)))
    assert tally.reason() == "cost_cap: $4.12 spent of the $4.00 cap"
    assert money(1234.5) == "$1,234.50"


@pytest.mark.parametrize(
    "now, start",
    [
        (datetime(2026, 11, 22, 0, 0, tzinfo=UTC), datetime(2026, 11, 22, tzinfo=UTC)),
        (datetime(2026, 11, 22, 23, 59, 59, tzinfo=UTC), datetime(2026, 11, 22, tzinfo=UTC)),
        # half past midnight in Berlin (UTC+1) is still the 21st in UTC
        (
            datetime(2026, 11, 22, 0, 30, tzinfo=timezone(timedelta(hours=1))),
            datetime(2026, 11, 21, tzinfo=UTC),
        ),
    ],
)
def test_a_day_is_the_utc_day(now: datetime, start: datetime) -> None:
    assert day_of(now) == (start, start + timedelta(days=1))


def test_the_global_cap_holds_every_repo_and_a_repos_cap_only_its_own() -> None:
    spent = {"app": 3.0, "docs": 1.0}
    neither = spend_today(spent, 10.0, {"app": 5.0, "docs": None})
    assert [(s.scope, s.spent, s.cap) for s in neither] == [(GLOBAL, 4.0, 10.0), ("app", 3.0, 5.0)]
    assert held(neither, ["app", "docs"]) == set()
    app_only = spend_today(spent, 10.0, {"app": 3.0})
    assert held(app_only, ["app", "docs"]) == {"app"}
    everything = spend_today(spent, 4.0, {"app": 5.0})
    assert held(everything, ["app", "docs", "web"]) == {"app", "docs", "web"}
    assert held(spend_today({}, None, {}), ["app"]) == set()  # no cap: nothing held


def test_the_status_line_shows_the_days_spend_against_each_cap() -> None:
    assert (
        line(spend_today({"app": 1.5, "docs": 0.25}, 20.0, {"app": 5.0}))
        == "Spend today: $1.75 of $20.00 (global); repo app: $1.50 of $5.00"
    )
    assert line(spend_today({}, None, {})) == "Spend today: $0.00 (global)"


def test_the_day_cap_message_names_the_scope_the_spend_and_the_wait() -> None:
    note = day_capped(Spend("app", 5.2, 5.0), "2026-11-22")
    assert note.kind is Kind.INFO
    assert "repo app" in note.text and "$5.20 of $5.00" in note.text and "next day" in note.text
    assert "all repos" in day_capped(Spend(GLOBAL, 9.0, 8.0), "2026-11-22").text

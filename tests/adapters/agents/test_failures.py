"""Reading why a run failed, and when its limit resets, from what CLIs and APIs really print."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from orchestrator.adapters.agents.failures import classify, from_status, reset_at, retry_after
from orchestrator.core.agent import OutcomeKind

NOW = datetime(2026, 11, 22, 10, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "text, kind",
    [
        (
            "API Error: Request rejected (429) · Number of requests has exceeded your rate limit.",
            OutcomeKind.QUOTA_EXHAUSTED,
        ),
        ("exceeded retry limit, last status: 429 Too Many Requests", OutcomeKind.QUOTA_EXHAUSTED),
        ("Quota exceeded. Check your plan and billing details.", OutcomeKind.QUOTA_EXHAUSTED),
        ("Claude AI usage limit reached|1763812800", OutcomeKind.QUOTA_EXHAUSTED),
        (
            "You've hit your usage limit. Upgrade to Pro or try again in 2 days 3 hours.",
            OutcomeKind.QUOTA_EXHAUSTED,
        ),
        (
            "Your credit balance is too low to access the Anthropic API.",
            OutcomeKind.QUOTA_EXHAUSTED,
        ),
        ("Invalid API key · Please run /login", OutcomeKind.AUTH_FAILED),
        ("unexpected status 401 Unauthorized: Incorrect API key provided", OutcomeKind.AUTH_FAILED),
        ("OAuth token has expired. Please obtain a new token.", OutcomeKind.AUTH_FAILED),
        ("prompt is too long: 212345 tokens > 200000 maximum", OutcomeKind.PROMPT_TOO_LARGE),
        ("cannot start codex: Argument list too long", OutcomeKind.PROMPT_TOO_LARGE),
        (
            'API Error: 529 {"type":"error","error":{"type":"overloaded_error"}}',
            OutcomeKind.MODEL_ERROR,
        ),
        ("stream disconnected before completion", OutcomeKind.MODEL_ERROR),
        ("Traceback (most recent call last): KeyError: 'x'", None),
        ("", None),
    ],
)
def test_error_texts_are_classified(text: str, kind: OutcomeKind | None) -> None:
    assert classify(text) is kind


@pytest.mark.parametrize(
    "status, kind",
    [
        (429, OutcomeKind.QUOTA_EXHAUSTED),
        (402, OutcomeKind.QUOTA_EXHAUSTED),
        (401, OutcomeKind.AUTH_FAILED),
        (403, OutcomeKind.AUTH_FAILED),
        (413, OutcomeKind.PROMPT_TOO_LARGE),
        (529, OutcomeKind.MODEL_ERROR),
        (500, OutcomeKind.MODEL_ERROR),
        (400, None),
        (None, None),
    ],
)
def test_api_statuses_are_classified(status: int | None, kind: OutcomeKind | None) -> None:
    assert from_status(status) is kind


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "rate limited; resets at 2026-11-22T14:00:00Z",
            datetime(2026, 11, 22, 14, tzinfo=UTC),
        ),
        (
            "retry after 2026-11-22 13:15:00+01:00",
            datetime(2026, 11, 22, 12, 15, tzinfo=UTC),
        ),
        (
            "Claude AI usage limit reached|1763812800",
            datetime.fromtimestamp(1763812800, UTC),
        ),
        ("try again in 2 hours 5 minutes", NOW + timedelta(hours=2, minutes=5)),
        (
            "Upgrade to Pro or try again in 1 day, 3 hours and 10 minutes.",
            NOW + timedelta(days=1, hours=3, minutes=10),
        ),
        ("please retry after 30 seconds", NOW + timedelta(seconds=30)),
        (
            "5-hour limit reached ∙ resets 3pm (UTC)",
            datetime(2026, 11, 22, 15, tzinfo=UTC),
        ),
        # tomorrow
        ("limit reached · resets 9:45am (UTC)", datetime(2026, 11, 23, 9, 45, tzinfo=UTC)),
        (
            "You've hit your limit · resets 8pm (Europe/Berlin)",
            datetime(2026, 11, 22, 19, tzinfo=UTC),
        ),
        ("rate limit exceeded", None),
    ],
)
def test_reset_times_are_read_in_the_shapes_backends_print(
    text: str, expected: datetime | None
) -> None:
    assert reset_at(text, NOW) == expected


def test_a_clock_time_without_a_zone_is_the_hosts_local_time() -> None:
    found = reset_at("resets 11pm", NOW, local=timezone(timedelta(hours=2)))
    assert found == datetime(2026, 11, 22, 21, tzinfo=UTC)


def test_retry_after_takes_seconds_or_an_http_date() -> None:
    assert retry_after("17", NOW) == NOW + timedelta(seconds=17)
    assert retry_after("Sun, 22 Nov 2026 12:00:00 GMT", NOW) == datetime(
        2026, 11, 22, 12, tzinfo=UTC
    )
    assert retry_after(None, NOW) is None and retry_after("soon", NOW) is None

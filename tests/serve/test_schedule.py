"""When a cron expression is due, as cron reads it."""

from __future__ import annotations

from datetime import datetime

import pytest

from orchestrator.serve.schedule import Schedule

THU = datetime(2026, 12, 3, 10, 5)  # a Thursday


@pytest.mark.parametrize(
    "expr, at, due",
    [
        ("* * * * *", THU, True),
        ("*/5 * * * *", THU, True),
        ("*/5 * * * *", THU.replace(minute=6), False),
        ("5 10 * * *", THU, True),
        ("5 11 * * *", THU, False),
        ("30 6 * * 1", datetime(2026, 12, 7, 6, 30), True),  # a Monday
        ("30 6 * * 1", datetime(2026, 12, 8, 6, 30), False),
        ("0 0 * * 0", datetime(2026, 12, 6, 0, 0), True),  # Sunday as 0
        ("0 0 * * 7", datetime(2026, 12, 6, 0, 0), True),  # and as 7
        ("0 0 * * 1-5", datetime(2026, 12, 6, 0, 0), False),
        # both days restricted: either matches, as cron's rule is
        ("0 0 13 * 5", datetime(2026, 11, 13, 0, 0), True),
        ("0 0 13 * 5", datetime(2026, 11, 6, 0, 0), True),  # a Friday, not the 13th
        ("0 0 13 * 5", datetime(2026, 11, 12, 0, 0), False),
        ("0 0 1 * *", datetime(2026, 11, 6, 0, 0), False),  # the day only: it must match
        ("0 0 * 12 *", THU.replace(hour=0, minute=0), True),
        ("0 0 * 1 *", THU.replace(hour=0, minute=0), False),
        ("7 * * * *", THU.replace(minute=7), True),
    ],
)
def test_an_expression_is_due_in_the_minutes_cron_would_run_it(
    expr: str, at: datetime, due: bool
) -> None:
    assert Schedule(expr).due(at) is due

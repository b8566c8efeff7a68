"""Cron expressions are checked as the config is read, without python-crontab's import cost."""

from __future__ import annotations

import pytest

from orchestrator.cli.cron import validate_schedule
from orchestrator.config.cron_fields import problem

VALID = ["* * * * *", "*/5 * * * *", "0 9 * * mon-fri", "0 0 1 JAN *", "0 0 * * 7", "1,2 3-4 * * *"]
INVALID = [
    ("61 * * * *", "minute field: '61' is outside 0-59"),
    ("* * * *", "it has 4 fields, not 5"),
    ("*/0 * * * *", "minute field: step '0' is not a number from 1 to 59"),
    ("0 0 0 * *", "day-of-month field: '0' is outside 1-31"),
    ("0 0 * 13 *", "month field: '13' is outside 1-12"),
    (
        "0 0 * * funday",
        "day-of-week field: 'funday' is not '*' or a number from 0 to 7, or sun-sat",
    ),
    ("0 22-2 * * *", "hour field: range '22-2' runs backwards"),
    ("0 0 L * *", "day-of-month field: 'L' is not '*' or a number from 1 to 31"),
]


@pytest.mark.parametrize("expr", VALID)
def test_what_cron_takes_is_taken(expr: str) -> None:
    assert problem(expr) is None and validate_schedule(expr) is None


@pytest.mark.parametrize("expr, why", INVALID)
def test_what_cron_refuses_is_refused_saying_which_field(expr: str, why: str) -> None:
    """python-crontab (what `cron install` uses) refuses each of them too."""
    assert problem(expr) == why and validate_schedule(expr) is not None

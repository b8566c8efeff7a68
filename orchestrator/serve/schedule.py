"""When a five-field cron expression is due, as cron reads it: one minute at a time, local time.

Parsed with python-crontab (what `cron install` writes with); a day of the month and a day of the
week both restricted match when either does, as cron's rule is. Sunday is 0 or 7.
"""

from __future__ import annotations

from datetime import datetime

from crontab import CronSlices  # type: ignore[import-untyped, unused-ignore]


class Schedule:
    """One cron expression, parsed once."""

    def __init__(self, expr: str) -> None:
        self.expr = expr
        self._minute, self._hour, self._day, self._month, self._weekday = CronSlices(expr.split())

    def due(self, at: datetime) -> bool:
        """Tell whether the expression fires in the minute of `at` (taken as it is: local)."""
        if at.minute not in self._minute or at.hour not in self._hour:
            return False
        if at.month not in self._month:
            return False
        weekday = (at.weekday() + 1) % 7  # cron: Sunday 0, Monday 1 …
        day_ok = at.day in self._day
        weekday_ok = weekday in self._weekday or (weekday == 0 and 7 in self._weekday)
        day_any, weekday_any = self._day.render() == "*", self._weekday.render() == "*"
        if day_any or weekday_any:
            return day_ok and weekday_ok
        return day_ok or weekday_ok

"""Check a five-field cron expression as the config is read, so a tick refuses a bad schedule.

python-crontab (which `cli.cron` uses to install the block) costs a tenth of a second to
import, too much for every tick; this checks the same shape by hand: `*`, numbers and names in
range, `a-b` ranges, `,` lists and `/` steps.
"""

from __future__ import annotations

FIELDS = "minute hour day-of-month month day-of-week"
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# name, lowest, highest, the names that stand for numbers (from the lowest)
_RANGES = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day-of-month", 1, 31, ()),
    ("month", 1, 12, _MONTHS),
    ("day-of-week", 0, 7, _DAYS),  # 0 and 7 are both Sunday
)


def problem(expr: str) -> str | None:
    """Return why `expr` is not a five-field cron expression, or None when it is one."""
    fields = expr.split()
    if len(fields) != 5:
        return f"it has {len(fields)} fields, not 5"
    for text, (name, low, high, names) in zip(fields, _RANGES, strict=True):
        for part in text.split(","):
            why = _part(part, low, high, names)
            if why:
                return f"{name} field: {why}"
    return None


def _part(part: str, low: int, high: int, names: tuple[str, ...]) -> str | None:
    span, slash, step = part.partition("/")
    if slash and not (step.isdigit() and 0 < int(step) <= high):
        return f"step {step!r} is not a number from 1 to {high}"
    if span == "*":
        return None
    first, dash, last = span.partition("-")
    ends = [_value(first, low, names)] + ([_value(last, low, names)] if dash else [])
    if any(end is None for end in ends):
        known = f", or {names[0]}-{names[-1]}" if names else ""
        return f"{span!r} is not '*' or a number from {low} to {high}{known}"
    if any(not low <= end <= high for end in ends if end is not None):
        return f"{span!r} is outside {low}-{high}"
    if dash and ends[0] is not None and ends[1] is not None and ends[0] > ends[1]:
        return f"range {span!r} runs backwards"
    return None


def _value(text: str, low: int, names: tuple[str, ...]) -> int | None:
    if text.isascii() and text.isdigit():
        return int(text)
    lowered = text.lower()
    return names.index(lowered) + low if lowered in names else None

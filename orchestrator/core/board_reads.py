"""When the dispatcher must read its boards in full, and when nothing it acts on can have changed.

A full read of a Projects board costs GraphQL points (three per page of 100 items: the items and,
under each, its labels, sub-issues and blockers), drawn from an hourly budget of 5,000; polled every
few seconds, an idle 1,000-item board would spend it all. So a tick first takes each board's
*stamp*, a fingerprint read through REST with the ETags of the last read (GitHub answers an
unchanged page 304, which its rate limit does not count), and reads in full only when a reason
below holds. What a stamp cannot see (a blocker on no board closed, an author's permission,
anything that waits on the clock) is seen by the full read every `refresh`, or at once when a
webhook wakes the tick.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta


def reason_to_read(
    before: Mapping[str, str],
    now_stamps: Mapping[str, str | None],
    *,
    read_at: datetime | None,
    now: datetime,
    refresh: timedelta,
    woken: bool,
) -> str:
    """Return why the boards must be read in full ("" when they need not be).

    `before`: what the last full read recorded, each board's stamp and `local` (the tick's own
    inputs: `local_digest`); `now_stamps`: the same taken now, None for a board with no cheap
    stamp (it is always read).
    """
    if woken:
        return "woken"
    if read_at is None or not before:
        return "first"
    if now - read_at >= refresh or read_at > now:  # a clock set back: trust nothing
        return "refresh"
    for key, stamp in sorted(now_stamps.items()):
        if stamp is None:
            return f"no_stamp:{key}"
        if before.get(key) != stamp:
            return f"changed:{key}"
    if set(before) != set(now_stamps):
        return "repos"
    return ""


def local_digest(parts: Iterable[str]) -> str:
    """Return a short digest of the tick's own inputs (config, switches, tasks in flight)."""
    hashed = hashlib.sha256()
    for part in parts:
        hashed.update(part.encode("utf-8", "replace") + b"\0")
    return hashed.hexdigest()[:32]

"""The groomer's report of the day (`runtime/state/groomer.json`), which the daily digest reads.

Written atomically after each run that was not a dry run: the day's counts (summed over the day's
runs) and the last run's stale escalations. A file that cannot be read is set aside like any
damaged state file, and the digest goes without it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from orchestrator.core.grooming import ACTIONS, GroomerDay, Stale
from orchestrator.store import quarantine
from orchestrator.store.files import atomic_write, read_state

FILE_NAME = "groomer.json"


def path(state_dir: Path) -> Path:
    return state_dir / FILE_NAME


def write(state_dir: Path, report: GroomerDay) -> None:
    data = {
        "day": report.day,
        "at": report.at,
        "counts": {k: int(report.counts.get(k, 0)) for k in ACTIONS},
        "stale": [
            {"repo": s.repo, "number": s.number, "title": s.title, "days": s.days}
            for s in report.stale
        ],
    }
    atomic_write(path(state_dir), json.dumps(data, indent=1, sort_keys=True) + "\n")


def read(state_dir: Path) -> GroomerDay | None:
    """Return the last report; None when there is none (or it was damaged and set aside)."""
    where = path(state_dir)
    try:
        return _report(json.loads(read_state(where)))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError, KeyError) as exc:
        quarantine.set_aside(where, state_dir.parent, f"unreadable report ({type(exc).__name__})")
        return None


def _report(data: Any) -> GroomerDay:
    if not isinstance(data, dict) or not isinstance(data.get("counts"), dict):
        raise ValueError("not a groomer report")
    stale = tuple(
        Stale(str(s["repo"]), int(s["number"]), str(s["title"]), int(s["days"]))
        for s in data.get("stale") or ()
    )
    counts = {k: int(data["counts"].get(k, 0)) for k in ACTIONS}
    return GroomerDay(str(data["day"]), str(data["at"]), counts, stale)

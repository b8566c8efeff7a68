"""A test job that records the arguments it was given and returns a summary."""

from __future__ import annotations

from typing import Any

CALLS: list[dict[str, Any]] = []


def run(deps: Any, config: Any, now: Any, *, dry_run: bool = False) -> dict[str, int]:
    CALLS.append({"deps": deps, "config": config, "now": now, "dry_run": dry_run})
    return {"queued": 3}

"""What the digest lists as filed: incidents, not the follow-ups filed through the same filer."""

from __future__ import annotations

from datetime import UTC, datetime

from orchestrator.control import scoreboard
from orchestrator.core.digest import Listed


def test_discovered_follow_ups_are_not_listed_as_incidents() -> None:
    at = "2026-05-01T10:00:00.000Z"
    rows = [
        {
            "repo_key": "app",
            "issue": 3,
            "kind": "task_failed",
            "severity": "medium",
            "filed_at": at,
        },
        {"repo_key": "app", "issue": 4, "kind": "follow_up", "severity": "", "filed_at": at},
    ]
    since = datetime(2026, 5, 1, tzinfo=UTC)
    assert scoreboard._filed(rows, {"app": "acme/app"}, since) == [
        Listed("acme/app", 3, "task failed (medium)")
    ]

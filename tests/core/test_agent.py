"""core.agent: events become one flat JSON-ready record each.

Texts are redacted before they are cut.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from orchestrator.core.agent import (
    BackendSkipped,
    ToolCalled,
    Usage,
    UsageReported,
    clip,
    event_record,
)


def test_an_event_record_carries_its_type_and_plain_fields() -> None:
    assert event_record(ToolCalled("c1", "Bash", '{"command":"ls"}')) == {
        "type": "tool.called",
        "call_id": "c1",
        "name": "Bash",
        "arguments": '{"command":"ls"}',
    }
    usage = event_record(UsageReported(Usage(10, 3, 2, 0.01)))
    assert usage == {
        "type": "usage.reported",
        "usage": {
            "input_tokens": 10,
            "output_tokens": 3,
            "cached_input_tokens": 2,
            "cost_usd": 0.01,
        },
    }
    until = datetime(2026, 11, 22, 12, tzinfo=UTC)
    skipped = event_record(BackendSkipped("claude", "cooling_down", until))
    assert json.loads(json.dumps(skipped))["until"] == "2026-11-22T12:00:00+00:00"


def test_usage_adds_up_and_keeps_cost_unknown_until_a_backend_reports_one() -> None:
    assert Usage(1, 2, 0) + Usage(3, 4, 1) == Usage(4, 6, 1, None)
    assert Usage(1, 1, 0, 0.25) + Usage(1, 1, 0) == Usage(2, 2, 0, 0.25)


def test_clip_redacts_before_it_cuts_so_no_half_secret_survives() -> None:
    token = "ghp_" + "A" * 36
    text = "x" * 60 + " " + token
    clipped = clip(text, 80)
    assert (
        "ghp_" not in clipped and "AAAA" not in clipped and "[REDACTED:github-token]" in clip(text)
    )
    assert clip("short") == "short"
    long = clip("y" * 10_000, 100)
    assert len(long) < 100 and long.endswith("more characters]")

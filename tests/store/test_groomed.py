"""The groomer's report file: written whole, read back, a damaged one set aside."""

from __future__ import annotations

from pathlib import Path

from orchestrator.core.grooming import ACTIONS, GroomerDay, Stale
from orchestrator.store import groomed


def test_a_report_reads_back_as_written(tmp_path: Path) -> None:
    state = tmp_path / "runtime" / "state"
    state.mkdir(parents=True)
    counts = {**dict.fromkeys(ACTIONS, 0), "repaired": 2}
    report = GroomerDay(
        "2026-05-01", "2026-05-01T07:20:00+00:00", counts, (Stale("a/b", 4, "T", 9),)
    )
    assert groomed.read(state) is None
    groomed.write(state, report)
    assert groomed.read(state) == report


def test_a_damaged_report_is_set_aside_and_read_as_none(tmp_path: Path) -> None:
    state = tmp_path / "runtime" / "state"
    state.mkdir(parents=True)
    groomed.path(state).write_text('{"day": "x", "counts": [1]}')
    assert groomed.read(state) is None
    assert not groomed.path(state).exists()
    assert list((tmp_path / "runtime" / "quarantine").glob("*groomer.json"))

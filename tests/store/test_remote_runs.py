"""The remote run record: written atomically, read back, and set aside when damaged."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from orchestrator.core.remote import RemoteRun
from orchestrator.store.remote_runs import NAME, RunRecords

CANARY = "ghp_" + "k" * 36  # a decoy the run was given, kept for the worker that collects it
RUN = RemoteRun("actions", "12345", "a" * 40, datetime(2026, 12, 3, 10, 0, tzinfo=UTC), CANARY)


def test_a_record_is_read_back_and_cleared(tmp_path: Path) -> None:
    records = RunRecords(tmp_path / "rooms")
    assert records.load("app-1-g1-a1") is None
    records.save("app-1-g1-a1", RUN)
    assert records.load("app-1-g1-a1") == RUN
    records.clear("app-1-g1-a1")
    records.clear("app-1-g1-a1")  # twice: a no-op
    assert records.load("app-1-g1-a1") is None


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        '{"executor": "actions"}',
        '{"executor": "a", "handle": "1", "start": "s", "started_at": "2026-12-03T10:00:00"}',
        '{"executor": 5, "handle": "1", "start": "s", "started_at": "2026-12-03T10:00:00+00:00"}',
        "[]",
        "x" * 10_000,
    ],
)
def test_a_damaged_record_is_set_aside_and_read_as_none(tmp_path: Path, text: str) -> None:
    room = tmp_path / "rooms" / "app-1-g1-a1"
    room.mkdir(parents=True)
    (room / NAME).write_text(text)
    assert RunRecords(tmp_path / "rooms").load("app-1-g1-a1") is None
    assert not (room / NAME).exists()
    kept = [p.name for p in (tmp_path / "quarantine").iterdir()]
    assert len(kept) == 2 and any(n.endswith(f"rooms~app-1-g1-a1~{NAME}") for n in kept)


def test_a_folder_in_its_place_is_set_aside(tmp_path: Path) -> None:
    (tmp_path / "rooms" / "app-1-g1-a1" / NAME).mkdir(parents=True)
    records = RunRecords(tmp_path / "rooms")
    assert records.load("app-1-g1-a1") is None
    records.save("app-1-g1-a1", RUN)
    assert records.load("app-1-g1-a1") == RUN

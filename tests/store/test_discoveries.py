"""The pending follow-ups: one entry per PR, replaced whole, gone when empty, damage set aside."""

from __future__ import annotations

from pathlib import Path

from orchestrator.store import quarantine
from orchestrator.store.discoveries import FILE_NAME, Discoveries, Discovery


def test_entries_are_kept_per_pr_replaced_and_dropped_when_empty(tmp_path: Path) -> None:
    store = Discoveries(tmp_path / "state")
    assert store.pending() == []
    one = Discovery("app", 12, 34, ("Add retries — a", "Log less — b"), noted_at="2026-05-01T10")
    two = Discovery("lib", 3, 4, ("Split — c",), noted_at="2026-05-01T09")
    store.put(one)
    store.put(two)
    assert Discoveries(tmp_path / "state").pending() == [two, one]  # oldest noted first
    store.put(Discovery("app", 12, 34, ("Log less — b",), merged=True, noted_at=one.noted_at))
    assert [(d.items, d.merged) for d in store.pending()] == [
        (("Split — c",), False),
        (("Log less — b",), True),
    ]
    store.put(Discovery("app", 12, 34, ()))
    store.put(Discovery("nope", 1, 2, ()))  # nothing to drop: nothing written
    assert store.pending() == [two]


def test_a_damaged_file_is_set_aside_and_reads_as_nothing_pending(tmp_path: Path) -> None:
    state = tmp_path / "runtime" / "state"
    state.mkdir(parents=True)
    (state / FILE_NAME).write_text('{"app:3": {"repo_key": "app", "items": "not a list"}}')
    store = Discoveries(state)
    assert store.pending() == []
    assert not (state / FILE_NAME).exists()
    assert any(quarantine.folder(tmp_path / "runtime").iterdir())
    store.put(Discovery("app", 1, 2, ("Add retries — a",)))
    assert len(store.pending()) == 1

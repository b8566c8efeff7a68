"""The plan import's state file: written whole, read back, a damaged one set aside."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.store import plan_imports
from orchestrator.store.plan_imports import Seen


def test_what_was_seen_reads_back_as_written(tmp_path: Path) -> None:
    state = tmp_path / "runtime" / "state"
    assert plan_imports.read(state) == {}
    seen = {"app": Seen("3f1c" * 10), "lib": Seen(None), "web": Seen("9a" * 20, invalid=True)}
    plan_imports.write(state, seen)
    assert plan_imports.read(state) == seen
    assert json.loads(plan_imports.path(state).read_text())["lib"] == {
        "sha": None,
        "invalid": False,
    }


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"app": "3f1c"}',
        '{"app": {"sha": 12, "invalid": false}}',
        '{"app": {"sha": "3f1c"}}',
        '{"app": {"sha": "3f1c", "invalid": "no"}}',
    ],
)
def test_a_damaged_file_is_set_aside_and_read_as_empty(tmp_path: Path, text: str) -> None:
    state = tmp_path / "runtime" / "state"
    state.mkdir(parents=True)
    plan_imports.path(state).write_text(text)
    assert plan_imports.read(state) == {}
    assert not plan_imports.path(state).exists()
    assert list((tmp_path / "runtime" / "quarantine").glob("*plan_import.json"))

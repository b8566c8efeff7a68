"""The outcome ledger: kept incrementally, rebuilt from the logs alike, several writers at once."""

from __future__ import annotations

import json
import multiprocessing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from orchestrator.core.lifecycle import State
from orchestrator.store.files import append_line
from orchestrator.store.ledger import Ledger
from orchestrator.store.rooms import Room

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


def _attempt(runtime: Path, task: str, *, fails: str = "", pr: int | None = None) -> None:
    """Write one attempt's room as a worker does: lifecycle, chain, tests, judgement, PR."""
    room = Room(runtime / "rooms", task, Clock())
    room.transition(State.QUEUED, "no_blockers")
    room.transition(State.DEVELOPING, "implementation")
    room.record(
        "chain.finished",
        end="finished",
        backend="claude",
        input_tokens=1000,
        output_tokens=200,
        cost_usd=0.25,
    )
    if fails:
        room.record("tests.finished", passed=False, line="pytest: failed (exit code 1)", tail=fails)
        room.record("attempt.judged", next="retry", reason="partial:test_failure", files=[])
        room.transition(State.QUEUED, "partial:test_failure")
    else:
        room.record("tests.finished", passed=True, line="pytest: passed", tail="")
        room.record("attempt.judged", next="open_pr", reason="complete", files=["a.py"])
        room.record("pr.opened", number=pr, url=f"https://example/pull/{pr}")
        room.transition(State.REVIEW, "pr_opened")


def _merged(runtime: Path, pr: int, issue: int) -> None:
    line = {
        "ts": "2026-12-01T10:00:00.000Z",
        "event": "pr.merged",
        "pr": pr,
        "issue": issue,
        "repo": "acme/app",
        "sha": "abc",
    }
    append_line(runtime / "logs" / "pr_monitor.jsonl", json.dumps(line))


def test_the_rows_say_what_each_attempt_did(tmp_path: Path) -> None:
    runtime = tmp_path / "runtime"
    _attempt(runtime, "app-1-g1-a1", fails="assert 4 == 5 in tests/test_x.py line 12")
    _attempt(runtime, "app-1-g1-a2", pr=7)
    _merged(runtime, 7, 1)
    ledger = Ledger(runtime)
    assert ledger.update() > 0
    first, second = ledger.tasks()
    assert (first["repo_key"], first["issue"], first["attempt"]) == ("app", 1, 1)
    assert first["next"] == "retry" and first["signature"] and first["state"] == "queued"
    assert (first["agents"], first["input_tokens"], first["cost_usd"]) == ("claude", 1000, 0.25)
    assert second["next"] == "open_pr" and second["signature"] is None and second["pr"] == 7
    assert second["started_at"] < second["review_at"]
    assert [(m["pr"], m["issue"]) for m in ledger.merges()] == [(7, 1)]
    assert ledger.update() == 0  # nothing new: nothing read


def test_the_same_failure_on_another_task_has_the_same_signature(tmp_path: Path) -> None:
    runtime = tmp_path / "runtime"
    _attempt(runtime, "app-1-g1-a1", fails="assert 4 == 5 in /tmp/w1/tests/test_x.py line 12")
    _attempt(runtime, "app-9-g2-a1", fails="assert 6 == 8 in /tmp/w9/tests/test_x.py line 40")
    _attempt(runtime, "app-3-g1-a1", fails="ImportError: cannot import name 'sub'")
    ledger = Ledger(runtime)
    ledger.update()
    sigs = {row["task_id"]: row["signature"] for row in ledger.tasks()}
    assert sigs["app-1-g1-a1"] == sigs["app-9-g2-a1"] != sigs["app-3-g1-a1"]


def test_kept_incrementally_it_equals_a_rebuild_from_scratch(tmp_path: Path) -> None:
    runtime = tmp_path / "runtime"
    ledger = Ledger(runtime)
    for n in range(1, 6):
        _attempt(runtime, f"app-{n}-g1-a1", fails="boom" if n % 2 else "")
        ledger.update()
        if n % 2 == 0:
            _attempt(runtime, f"app-{n}-g1-a2", pr=n)
            _merged(runtime, n, n)
        ledger.update()
    kept = (ledger.tasks(), ledger.merges())
    ledger.rebuild()
    assert (ledger.tasks(), ledger.merges()) == kept


def test_a_damaged_database_is_set_aside_and_rebuilt(tmp_path: Path) -> None:
    runtime = tmp_path / "runtime"
    _attempt(runtime, "app-1-g1-a1", pr=3)
    ledger = Ledger(runtime)
    ledger.update()
    kept = ledger.tasks()
    ledger.path.write_bytes(b"not a database at all" * 100)
    assert ledger.tasks() == []  # a fresh one: the rows come back with the next update
    ledger.update()
    assert ledger.tasks() == kept
    assert any(p.name.endswith("ledger.sqlite") for p in (runtime / "quarantine").iterdir())


def test_a_log_cut_in_place_is_read_again_from_its_start(tmp_path: Path) -> None:
    runtime = tmp_path / "runtime"
    _merged(runtime, 1, 1)
    ledger = Ledger(runtime)
    ledger.update()
    (runtime / "logs" / "pr_monitor.jsonl").write_text("")  # same inode, emptied
    _merged(runtime, 2, 2)
    ledger.update()
    assert [m["pr"] for m in ledger.merges()] == [1, 2]


def _update_many(runtime: str, rounds: int) -> None:
    ledger = Ledger(Path(runtime))
    for _ in range(rounds):
        ledger.update()


def test_several_processes_updating_at_once_count_every_event_once(tmp_path: Path) -> None:
    runtime = tmp_path / "runtime"
    for n in range(1, 21):
        _attempt(runtime, f"app-{n}-g1-a1", fails="boom" if n % 3 else "")
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_update_many, args=(str(runtime), 5)) for _ in range(4)]
    for w in workers:
        w.start()
    for n in range(21, 31):  # and the logs grow meanwhile
        _attempt(runtime, f"app-{n}-g1-a1")
    for w in workers:
        w.join(60)
        assert w.exitcode == 0
    ledger = Ledger(runtime)
    ledger.update()
    kept = ledger.tasks()
    assert len(kept) == 30 and all(row["input_tokens"] == 1000 for row in kept)
    ledger.rebuild()
    assert ledger.tasks() == kept

"""Log rotation and retention: no line lost or doubled, for writers and for the ledger's cursors."""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from pathlib import Path
from typing import Any

import pytest

from orchestrator.cli.status import render
from orchestrator.config.load import load_config
from orchestrator.store import rotation
from orchestrator.store.files import append_line
from orchestrator.store.ledger import Ledger
from tests.helpers import ENV, minimal_config, write_config
from tests.jobfixtures import counting
from tests.jobfixtures.registry import JOBS
from tests.store.test_ledger import dump


def _crash(log: Path, n: int, pad: int = 0) -> None:
    """One `run.crashed` line: each makes one signal, so a line read twice shows."""
    line = {"ts": f"2026-12-01T09:00:{n % 60:02}.000Z", "job": "queue", "event": "run.crashed"}
    append_line(log, json.dumps({**line, "error": f"E{n} " + "x" * pad}))


def _files(log: Path) -> list[Path]:
    return [p for p in (log, *(Path(f"{log}.{k}") for k in range(1, 1000))) if p.exists()]


def _lines(log: Path) -> list[str]:
    return [line for path in _files(log) for line in path.read_text().splitlines()]


def test_a_log_past_the_size_is_renamed_and_the_older_shifted(tmp_path: Path) -> None:
    log = tmp_path / "queue.jsonl"
    small = tmp_path / "dispatcher.jsonl"
    append_line(small, "{}")
    for round_ in range(4):
        append_line(log, json.dumps({"round": round_, "fill": "x" * 200}))
        assert rotation.rotate(tmp_path, 100, keep_days=30, keep_files=2) == [log]
    assert not log.exists() and small.exists()  # the next line makes it anew
    rounds = [json.loads(Path(f"{log}.{k}").read_text())["round"] for k in (1, 2)]
    assert rounds == [3, 2] and not Path(f"{log}.3").exists()  # past keep_files: gone
    assert rotation.rotate(tmp_path, 100, 30, 2) == []  # nothing past the size


def test_retention_deletes_the_old_rotated_files_oldest_first(tmp_path: Path) -> None:
    log = tmp_path / "queue.jsonl"
    for _ in range(4):
        append_line(log, "x" * 50)
        rotation.rotate(tmp_path, 10, keep_days=30, keep_files=9)
    now = time.time()
    for k, age_days in ((1, 1), (2, 10), (3, 40), (4, 50)):
        os.utime(f"{log}.{k}", (now - age_days * 86400,) * 2)
    assert rotation.prune(tmp_path, keep_days=30, keep_files=9, now=now) == 2
    assert [p.name for p in _files(log)] == ["queue.jsonl.1", "queue.jsonl.2"]
    os.utime(f"{log}.1", (now - 90 * 86400,) * 2)  # an old .1 takes the newer .2 with it
    assert rotation.prune(tmp_path, keep_days=30, keep_files=9, now=now) == 2
    assert _files(log) == []


def test_one_stat_after_a_tick_and_a_rotation_only_past_the_size(tmp_path: Path) -> None:
    log = tmp_path / "queue.jsonl"
    assert rotation.after_tick(tmp_path, "queue", 100, 30, 5) == []  # no log yet
    append_line(log, "x" * 50)
    assert rotation.after_tick(tmp_path, "queue", 100, 30, 5) == []
    append_line(tmp_path / "pr_monitor.jsonl", "y" * 500)
    assert rotation.after_tick(tmp_path, "queue", 100, 30, 5) == []  # another's log: not looked at
    append_line(log, "x" * 50)
    assert rotation.after_tick(tmp_path, "queue", 100, 30, 5) == [
        tmp_path / "pr_monitor.jsonl",
        log,
    ]
    with pytest.raises(ValueError):
        rotation.rotate(tmp_path, 100, 30, 0)


def _write(start_together: Any, log: str, first: int, count: int) -> None:
    start_together.wait()
    for n in range(first, first + count):
        _crash(Path(log), n, pad=40)
        time.sleep(0.001)  # spread over a second: rotations and updates fall between lines


def _rotate_often(start_together: Any, folder: str, seconds: float) -> None:
    start_together.wait()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        rotation.rotate(Path(folder), 2000, keep_days=30, keep_files=900)
        time.sleep(0.005)


def _update_often(start_together: Any, runtime: str, seconds: float) -> None:
    ledger = Ledger(Path(runtime))
    start_together.wait()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        ledger.update()


def test_writers_rotation_and_ledgers_at_once_lose_and_double_nothing(tmp_path: Path) -> None:
    runtime = tmp_path / "runtime"
    logs_dir = runtime / "logs"
    log = logs_dir / "queue.jsonl"
    _crash(log, 0)
    ctx = multiprocessing.get_context("spawn")
    together = ctx.Barrier(6)
    procs = [
        ctx.Process(target=_write, args=(together, str(log), 1 + 600 * i, 600)) for i in range(3)
    ]
    procs.append(ctx.Process(target=_rotate_often, args=(together, str(logs_dir), 3.0)))
    procs += [
        ctx.Process(target=_update_often, args=(together, str(runtime), 3.0)) for _ in range(2)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    written = sorted(json.loads(line)["error"].split()[0] for line in _lines(log))
    assert written == sorted(f"E{n}" for n in range(1801))  # every line once, in some file
    assert len(_files(log)) > 5  # and rotated many times meanwhile
    ledger = Ledger(runtime)
    ledger.update()
    details = sorted(d.split()[1] for (*_, d) in dump(ledger)["signals"])
    assert details == sorted(f"E{n}" for n in range(1801))  # read once each, across rotations
    kept = dump(ledger)
    ledger.rebuild()
    assert dump(ledger) == kept


def test_a_rotation_between_two_updates_loses_and_doubles_nothing(tmp_path: Path) -> None:
    runtime = tmp_path / "runtime"
    logs_dir = runtime / "logs"
    log = logs_dir / "queue.jsonl"
    ledger = Ledger(runtime)
    _crash(log, 1)
    ledger.update()
    _crash(log, 2)  # written after the update, before the rotation: read from the rotated file
    rotation.rotate(logs_dir, 10, 30, 5)
    _crash(log, 3)
    ledger.update()
    _crash(log, 4)
    rotation.rotate(logs_dir, 10, 30, 5)  # twice between two updates
    _crash(log, 5)
    rotation.rotate(logs_dir, 10, 30, 5)
    assert not log.exists()  # rotated, nothing written since
    ledger.update()
    _crash(log, 6)
    ledger.update()
    assert ledger.update() == 0
    assert sorted(d for (*_, d) in dump(ledger)["signals"]) == [f"queue: E{n}" for n in range(1, 7)]
    kept = dump(ledger)
    ledger.rebuild()
    assert dump(ledger) == kept


def test_a_log_rotated_before_the_ledger_ever_read_it_is_read_whole(tmp_path: Path) -> None:
    runtime = tmp_path / "runtime"
    logs_dir = runtime / "logs"
    log = logs_dir / "pr_monitor.jsonl"
    for n in (1, 2):
        _crash(log, n)
        rotation.rotate(logs_dir, 10, 30, 5)
    _crash(log, 3)
    with Path(f"{log}.2").open("ab") as f:  # a line torn by a full disk, then rotated: skipped
        f.write(b'{"ts": "2026-12-01T09:00:00.000Z", "event": "run.cra')
    ledger = Ledger(runtime)
    assert ledger.update() == 3
    assert [g.details[0] for g in ledger.signal_groups(0, 9)] == [
        "queue: E1",
        "queue: E2",
        "queue: E3",
    ]


def test_retention_past_the_ledger_loses_only_the_deleted_lines(tmp_path: Path) -> None:
    runtime = tmp_path / "runtime"
    logs_dir = runtime / "logs"
    log = logs_dir / "queue.jsonl"
    ledger = Ledger(runtime)
    _crash(log, 1)
    ledger.update()
    for n in (2, 3, 4):  # the cursor's file is deleted past keep_files
        _crash(log, n)
        rotation.rotate(logs_dir, 10, 30, keep_files=2)
    _crash(log, 5)
    ledger.update()
    details = sorted(d for (*_, d) in dump(ledger)["signals"])
    assert details == ["queue: E1", "queue: E3", "queue: E4", "queue: E5"]  # E2 went unread


def test_the_runner_rotates_after_a_tick_and_status_still_finds_the_last_run(
    tmp_path: Path,
) -> None:
    from orchestrator.cli.main import main

    counting.CALLS.clear()
    config_path = write_config(tmp_path, minimal_config(logs={"max_mb": 0.0002}))  # ~200 bytes
    run = ["--config", str(config_path), "run", "counting"]
    assert main(run, jobs=JOBS, environ=ENV) == 0
    log = tmp_path / "runtime" / "logs" / "counting.jsonl"
    (first,) = [json.loads(line) for line in log.read_text().splitlines()[-1:]]
    assert first["event"] == "logs.rotated" and first["logs"] == ["counting.jsonl"]
    assert Path(f"{log}.1").exists() and "run.finished" in Path(f"{log}.1").read_text()
    config = load_config(config_path, ENV)
    line = next(ln for ln in render(config, JOBS).splitlines() if ln.strip().startswith("counting"))
    assert "last run" in line and "ok" in line  # from counting.jsonl.1: the new log has none
    assert main([*run[:-2], "run", "counting", "--dry-run"], jobs=JOBS, environ=ENV) == 0
    assert not Path(f"{log}.2").exists()  # a dry run rotates nothing


def test_a_rotation_that_fails_leaves_the_tick_ok(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestrator.cli.main import main

    counting.CALLS.clear()

    def refuse(*args: object) -> list[Path]:
        raise PermissionError(13, "Permission denied", "runtime/logs")

    monkeypatch.setattr(rotation, "after_tick", refuse)
    config_path = write_config(tmp_path, minimal_config())
    assert main(["--config", str(config_path), "run", "counting"], jobs=JOBS, environ=ENV) == 0
    log = tmp_path / "runtime" / "logs" / "counting.jsonl"
    last = json.loads(log.read_text().splitlines()[-1])
    assert last["event"] == "logs.rotate_failed" and "Permission denied" in last["error"]

"""The outcome ledger: kept incrementally, rebuilt from the logs alike, several writers at once."""

from __future__ import annotations

import json
import logging
import multiprocessing
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from orchestrator.core.agent import (
    AttemptStarted,
    SessionStarted,
    Usage,
    UsageReported,
    event_record,
)
from orchestrator.core.evidence import Price
from orchestrator.core.lifecycle import State
from orchestrator.store import ledger_follow, logs
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


def _attempt(
    runtime: Path, task: str, *, fails: str = "", pr: int | None = None, clock: Clock | None = None
) -> None:
    """Write one attempt's room as a worker does: lifecycle, chain, tests, judgement, PR."""
    room = Room(runtime / "rooms", task, clock or Clock())
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
    kept = (ledger.tasks(), ledger.merges(), dump(ledger))
    ledger.rebuild()
    assert (ledger.tasks(), ledger.merges(), dump(ledger)) == kept
    assert len(kept[2]["signals"]) == 3  # one per failed attempt


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


def test_an_update_reads_only_the_rooms_that_changed_in_task_id_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = tmp_path / "runtime"
    for n in (3, 1, 2, 4):
        _attempt(runtime, f"app-{n}-g1-a1", fails="boom")
    ledger = Ledger(runtime)
    ledger.update()
    followed: list[str] = []
    real = ledger_follow.follow

    def follow(db: sqlite3.Connection, source: Path, *args: Any, **kwargs: Any) -> int:
        followed.append(source.parent.name if source.name == "channel.jsonl" else source.name)
        return real(db, source, *args, **kwargs)

    monkeypatch.setattr(ledger_follow, "follow", follow)
    for task in ("app-4-g1-a1", "app-2-g1-a1"):
        Room(runtime / "rooms", task, Clock()).transition(State.DEVELOPING, "retry")
    _attempt(runtime, "app-0-g1-a1", fails="boom")  # a new room
    assert ledger.update() == 2 + 6  # a line in each of two rooms, and the new room's six
    assert followed == ["app-0-g1-a1", "app-2-g1-a1", "app-4-g1-a1"]  # not 1 and 3
    assert {r["task_id"]: r["state"] for r in ledger.tasks()}["app-4-g1-a1"] == "developing"
    assert ledger.update() == 0 and len(followed) == 3


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
    kept, tables = ledger.tasks(), dump(ledger)
    assert len(kept) == 30 and all(row["input_tokens"] == 1000 for row in kept)
    failed = sum(1 for n in range(1, 21) if n % 3)
    assert len(tables["signals"]) == failed  # each judged failure once, whoever read it
    ledger.rebuild()
    assert ledger.tasks() == kept and dump(ledger) == tables


# -- every table, rebuilt alike ------------------------------------------------------------------
TABLES = ("tasks", "chains", "merges", "reverts", "incidents")
SIGNAL_COLUMNS = "ts, repo_key, kind, signature, task_id, issue, detail"


def dump(ledger: Ledger) -> dict[str, list[tuple[Any, ...]]]:
    """Every derived table's rows, in an order of their own (signal ids change on a rebuild)."""
    with sqlite3.connect(ledger.path) as db:
        tables = {t: sorted(db.execute(f"SELECT * FROM {t}"), key=repr) for t in TABLES}
        tables["signals"] = sorted(db.execute(f"SELECT {SIGNAL_COLUMNS} FROM signals"), key=repr)
    db.close()
    return tables


@pytest.fixture
def job_log(tmp_path: Path) -> Iterator[logging.Logger]:
    """The real event logger, writing `incident_scanner.jsonl` (as that job would)."""
    log = logs.setup(tmp_path / "runtime" / "logs", "incident_scanner", "r-test", stderr=False)
    yield log
    for handler in list(log.handlers):
        handler.close()
        log.removeHandler(handler)


def _chain(room: Room, backend: str, model: str | None, *usages: Usage) -> None:
    """One backend's run inside a chain, through the room's sink as run_chain writes it."""
    sink = room.sink("agent")
    sink(event_record(AttemptStarted(backend, 1)))
    sink(event_record(SessionStarted(f"s-{backend}", model)))
    for usage in usages:
        sink(event_record(UsageReported(usage)))


def _finish(room: Room, backend: str, total: Usage) -> None:
    room.record(
        "chain.finished",
        end="finished",
        backend=backend,
        input_tokens=total.input_tokens,
        output_tokens=total.output_tokens,
        cost_usd=total.cost_usd,
    )


def test_tokens_are_priced_where_the_backend_reports_no_cost(tmp_path: Path) -> None:
    runtime = tmp_path / "runtime"
    rooms = runtime / "rooms"
    claude = Usage(2000, 100, 0, 0.5)  # claude says what it cost: taken as said
    codex = Usage(1_000_000, 100_000, 500_000)  # codex says tokens only: priced
    room = Room(rooms, "app-1-g1-a1", Clock())
    _chain(room, "claude", "claude-sonnet-4-6", claude)
    _chain(room, "codex", "gpt-5-mini-2025-08-07", codex)  # the longest prefix: gpt-5-mini
    _finish(room, "codex", claude + codex)
    room = Room(rooms, "app-2-g1-a1", Clock())
    _chain(room, "claude", "claude-sonnet-4-6", claude)
    _finish(room, "claude", claude)
    room = Room(rooms, "app-3-g1-a1", Clock())
    _chain(room, "mine", None, Usage(1_000_000, 0))  # no model said: the backend's configured one
    _finish(room, "mine", Usage(1_000_000, 0))
    room = Room(rooms, "app-4-g1-a1", Clock())
    _chain(room, "local", "llama-3", Usage(10, 10))  # no price known: the cost stays unknown
    _finish(room, "local", Usage(10, 10))
    room = Room(rooms, "app-5-g1-a1", Clock())  # an old room: the chain's total only
    room.record("chain.finished", end="finished", backend="anthropic", input_tokens=1_000_000,
                output_tokens=0, cost_usd=None)  # fmt: skip
    prices = {"gpt-5-mini": Price(0.25, 2.0, 0.025), "claude-sonnet-4": Price(3, 15, 0.3)}
    prices |= {"my-model": Price(4.0, 8.0), "claude-opus-4": Price(15, 75)}
    ledger = Ledger(runtime, prices=prices, models={"mine": "my-model", "anthropic": "claude-o"})
    ledger.update()
    rows = {r["task_id"][:5]: r for r in ledger.tasks()}
    mixed = 0.5 + (500_000 * 0.25 + 500_000 * 0.025 + 100_000 * 2.0) / 1e6
    assert rows["app-1"]["cost_usd"] == pytest.approx(mixed) and rows["app-1"]["cost_estimated"]
    assert rows["app-1"]["model"] == "gpt-5-mini-2025-08-07"
    assert rows["app-2"]["cost_usd"] == 0.5 and rows["app-2"]["cost_estimated"] == 0
    assert rows["app-3"]["cost_usd"] == pytest.approx(4.0) and rows["app-3"]["cost_estimated"]
    assert rows["app-4"]["cost_usd"] is None and rows["app-4"]["cost_estimated"] == 0
    assert rows["app-5"]["cost_usd"] is None  # "claude-o" is no prefix of a priced name
    kept = dump(ledger)
    ledger.rebuild()
    assert dump(ledger) == kept  # the same prices: the same rows
    assert Ledger(runtime).rebuild() and dump(ledger) != kept  # the default prices: others


def test_task_types_and_the_fix_rounds_of_an_issue(tmp_path: Path, job_log: logging.Logger) -> None:
    runtime = tmp_path / "runtime"
    _attempt(runtime, "app-1-g1-a1", pr=7)
    for task, kind in (("app-1-g1-a2", "fixing"), ("app-2-g1-a1", "implementation")):
        room = Room(runtime / "rooms", task, Clock())
        room.record("worktree.prepared", path="/w", branch="b", continued=True, task_type=kind)
    Room(runtime / "rooms", "app-1-g1-a3", Clock()).transition(State.QUEUED, "conflict")
    # an attempt whose room says no type: the PR monitor's line that queued it does
    job_log.info(
        "pr.fixing",
        extra={"pr": 7, "issue": 1, "task_id": "app-1-g1-a3", "reason": "conflict", "round": 2},
    )
    job_log.info("task.queued", extra={"issue": 1, "repo": "app", "task_id": "app-1-g1-a1"})
    ledger = Ledger(runtime)
    ledger.update()
    rows = {r["task_id"]: r for r in ledger.tasks()}
    assert rows["app-1-g1-a1"]["task_type"] == "implementation"
    assert rows["app-1-g1-a2"]["task_type"] == rows["app-1-g1-a3"]["task_type"] == "fixing"
    assert {t: r["fix_rounds"] for t, r in rows.items()} == {
        "app-1-g1-a1": 2,
        "app-1-g1-a2": 2,
        "app-1-g1-a3": 2,
        "app-2-g1-a1": 0,
    }


def test_tasks_can_be_read_for_a_window_of_judgements(tmp_path: Path) -> None:
    runtime = tmp_path / "runtime"
    clock = Clock()
    for n in range(1, 4):
        _attempt(runtime, f"app-{n}-g1-a1", pr=n, clock=clock)
    ledger = Ledger(runtime)
    ledger.update()
    judged = sorted(r["judged_at"] for r in ledger.tasks())
    assert [r["issue"] for r in ledger.tasks(since_ts=judged[1])] == [2, 3]
    assert [r["issue"] for r in ledger.tasks(judged[0], judged[2])] == [1, 2]


def test_reverts_and_incidents_come_from_the_jobs_lines(
    tmp_path: Path, job_log: logging.Logger
) -> None:
    runtime = tmp_path / "runtime"
    seen = {"kind": "task_failed", "first_seen": "2026-12-01T08:00:00.000Z"}
    base = {"repo_key": "app", "issue": 40, "signature": "s1", **seen}
    job_log.info("incident.filed", extra={**base, "severity": "medium", "count": 3,
                                          "last_seen": "2026-12-01T09:00:00.000Z"})  # fmt: skip
    job_log.info("incident.updated", extra={**base, "severity": "high", "count": 5,
                                            "last_seen": "2026-12-01T10:00:00.000Z"})  # fmt: skip
    job_log.info("incident.skipped", extra={**base, "reason": "daily_cap"})
    fixed = {"repo_key": "app", "issue": 40, "signature": "s1", "pr": 41}
    job_log.info("incident.fixed", extra={**fixed, "merged_at": "2026-12-02T10:00:00+00:00"})
    job_log.info("change.reverted", extra={"repo": "acme/app", "pr": 41, "sha": "m1", "by": "r1"})
    job_log.info("change.reverted", extra={"repo": "acme/app", "pr": 41, "sha": "m1", "by": "r2"})
    ledger = Ledger(runtime)
    ledger.update()
    (incident,) = ledger.incidents()
    assert (incident["severity"], incident["count"], incident["kind"]) == ("high", 5, "task_failed")
    assert incident["first_seen"] == "2026-12-01T08:00:00.000Z" and incident["filed_at"]
    assert (incident["fixed_by_pr"], incident["fixed_at"]) == (41, "2026-12-02T10:00:00+00:00")
    assert incident["reopened_at"] is None
    job_log.info("incident.reopened", extra={**base, "severity": "high", "count": 6, "pr": 41})
    ledger.update()
    assert ledger.incidents()[0]["reopened_at"] > incident["filed_at"]
    (revert,) = ledger.reverts()
    assert (revert["repo"], revert["pr"], revert["by_sha"]) == ("acme/app", 41, "r1")
    kept = dump(ledger)
    ledger.rebuild()
    assert dump(ledger) == kept


def test_damaged_lines_are_skipped_and_the_rest_read(tmp_path: Path) -> None:
    runtime = tmp_path / "runtime"
    log = runtime / "logs" / "pr_monitor.jsonl"
    _merged(runtime, 1, 1)
    for junk in (
        b"\xff\xfe not utf-8",
        b"not json",
        b"[1, 2]",
        b'{"no": "event"}',
        b'{"event": 3}',
    ):
        append_line(log, junk)
    _merged(runtime, 2, 2)
    channel = runtime / "rooms" / "app-1-g1-a1" / "channel.jsonl"
    append_line(channel, b'{"ts": "x", "event": "attempt.judged", "next": "retry", "reason": 5}')
    append_line(channel, b'{"ts": "x", "event": "usage.reported", "usage": "lots"}')
    append_line(channel, b'{"ts": "x", "event": "chain.finished", "input_tokens": "many"}')
    with log.open("ab") as f:
        f.write(b'{"ts": "2026-12-01T10:00:00.000Z", "event": "pr.mer')  # torn: waits
    ledger = Ledger(runtime)
    assert ledger.update() == 2 + 3  # the torn line waits, the junk is skipped
    assert [m["pr"] for m in ledger.merges()] == [1, 2]
    (row,) = ledger.tasks()
    assert row["reason"] == "5" and row["input_tokens"] == 0
    with log.open("ab") as f:
        f.write(b'ged", "pr": 3, "repo": "acme/app"}\n')
    ledger.update()
    assert [m["pr"] for m in ledger.merges()] == [1, 2, 3]


def test_marks_survive_a_rebuild_which_numbers_the_signals_in_time_order(tmp_path: Path) -> None:
    runtime = tmp_path / "runtime"
    ledger = Ledger(runtime)
    crashes = runtime / "logs" / "queue.jsonl"
    for n, hour in enumerate((9, 7, 8, 6)):  # written out of time order, across two files
        line = {"ts": f"2026-12-01T{hour:02}:00:00.000Z", "job": "queue", "event": "run.crashed"}
        append_line(crashes, json.dumps({**line, "error": f"OSError: disk {n}"}))
        _attempt(runtime, f"app-{n + 1}-g1-a1", fails="boom")
        ledger.update()
    last = ledger.last_signal_id()
    assert last == 8 and ledger.signal_ts(last) is not None and ledger.signal_ts(99) is None
    mark = f"{last} {ledger.signal_ts(last)}"
    ledger.set_mark("incident_scanner", mark)
    ledger.rebuild()
    assert ledger.mark("incident_scanner") == mark and ledger.last_signal_id() == 8
    stamps = [ledger.signal_ts(n) for n in range(1, 9)]
    assert stamps == sorted(stamps)  # numbered in time order
    assert ledger.signal_id_at("2026-12-01T07:30:00.000Z") == 2
    assert ledger.signal_id_at("2000-01-01") == 0 and ledger.signal_id_at("2999") == 8
    assert ledger.mark("nobody") is None


def test_a_ledger_of_the_first_schema_is_made_again(tmp_path: Path) -> None:
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    with sqlite3.connect(runtime / "ledger.sqlite") as db:
        db.execute("CREATE TABLE tasks (task_id TEXT PRIMARY KEY, repo_key TEXT)")
        db.execute("CREATE TABLE cursors (source TEXT PRIMARY KEY, inode INT, offset INT, head)")
        db.execute("INSERT INTO tasks VALUES ('app-9-g1-a1', 'app')")
    db.close()
    _attempt(runtime, "app-1-g1-a1", pr=1)
    ledger = Ledger(runtime)
    ledger.update()
    assert [r["task_id"] for r in ledger.tasks()] == ["app-1-g1-a1"]
    assert ledger.tasks()[0]["task_type"] is None and ledger.tasks()[0]["fix_rounds"] == 0


def test_a_config_gives_the_ledger_its_prices_models_and_repos(tmp_path: Path) -> None:
    from orchestrator.config.load import load_config
    from tests.helpers import ENV, minimal_config, write_config

    backends = {"script": {"type": "command", "argv": ["true"]}, "cx": {"type": "codex",
                "model": "house-model"}}  # fmt: skip
    prices = {"house-model": {"input_per_mtok": 2, "output_per_mtok": 4}}
    config = load_config(
        write_config(tmp_path, minimal_config(agents={"backends": backends}, prices=prices)), ENV
    )
    room = Room(config.paths.rooms_dir, "app-1-g1-a1", Clock())
    _chain(room, "cx", None, Usage(1_000_000, 500_000))
    _finish(room, "cx", Usage(1_000_000, 500_000))
    ledger = Ledger.of(config)
    ledger.update()
    (row,) = ledger.tasks()
    assert row["cost_usd"] == pytest.approx(2 + 2) and row["cost_estimated"] == 1
    assert ledger.reading.repo_keys == {"acme/app": "app"}


def test_a_fifo_or_a_folder_where_a_log_belongs_is_passed_over(tmp_path: Path) -> None:
    import os

    runtime = tmp_path / "runtime"
    _attempt(runtime, "app-1-g1-a1", pr=1)
    (runtime / "rooms" / "app-2-g1-a1").mkdir(parents=True)
    os.mkfifo(runtime / "rooms" / "app-2-g1-a1" / "channel.jsonl")  # a read would block
    (runtime / "logs" / "queue.jsonl").mkdir(parents=True)
    ledger = Ledger(runtime)
    assert ledger.update() > 0 and [r["task_id"] for r in ledger.tasks()] == ["app-1-g1-a1"]

"""The mailbox: task files round-trip, claims are exclusive, moves are the state machine."""
from __future__ import annotations

import multiprocessing
from datetime import datetime, timezone
from pathlib import Path

from orchestrator.core.tasks import Task, parse_id, task_id
from orchestrator.mailbox import Mailbox, parse, render

T0 = datetime(2026, 11, 22, 7, 0, tzinfo=timezone.utc)


def make_task(issue: int = 12, generation: int = 1, attempt: int = 1, **kw: object) -> Task:
    values: dict = dict(
        id=task_id("app", issue, generation, attempt), repo_key="app", repo="acme/app", issue=issue,
        title="Add greeting", branch=f"agent/{issue}-add-greeting", base="main",
        task_type="implementation", chain=("claude", "codex"), attempt=attempt, max_attempts=3,
        generation=generation, priority=1, created_at=T0, reason="blockers_done",
        body="## Goal\nSay hello.\n\n---\nnot front matter", history=("attempt 1: partial",))
    values.update(kw)
    return Task(**values)


def test_task_ids_are_derived_and_parse_back() -> None:
    assert task_id("app", 12, 1, 2) == "app-12-g1-a2"
    assert parse_id("app-12-g1-a2") == ("app", 12, 1, 2)
    assert parse_id("../etc") is None and parse_id("app-12") is None


def test_a_task_file_round_trips(tmp_path: Path) -> None:
    task = make_task()
    assert parse(render(task)) == task
    deferred = make_task(not_before=T0, pr=40, task_type="fixing")
    assert parse(render(deferred)) == deferred
    assert render(task).startswith("---\nid: app-12-g1-a1\n")


def test_create_is_exclusive_across_every_state(tmp_path: Path) -> None:
    box = Mailbox(tmp_path)
    task = make_task()
    assert box.create(task) is True
    assert box.create(task) is False
    assert box.move(task.id, "inbox", "done")
    assert box.create(task) is False  # a finished task is never re-queued under the same id
    assert box.for_issue("app", 12) == {task.id: "done"}
    assert [p.name for p in (tmp_path / "inbox").iterdir()] == []  # no temporary files left


def test_only_one_worker_can_take_a_task(tmp_path: Path) -> None:
    box = Mailbox(tmp_path)
    box.create(make_task())
    assert box.move("app-12-g1-a1", "inbox", "processing") is True
    assert box.move("app-12-g1-a1", "inbox", "processing") is False
    assert box.locate("app-12-g1-a1") == "processing"


def _race(root: str, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    out.put(Mailbox(Path(root)).create(make_task()))


def test_racing_creators_in_separate_processes_produce_one_task(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    out: multiprocessing.Queue = ctx.Queue()  # type: ignore[type-arg]
    procs = [ctx.Process(target=_race, args=(str(tmp_path), out)) for _ in range(6)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(20)
    results = [out.get(timeout=5) for _ in procs]
    assert results.count(True) == 1
    assert Mailbox(tmp_path).ids("inbox") == ["app-12-g1-a1"]


def test_tasks_are_listed_oldest_first_and_updates_are_atomic(tmp_path: Path) -> None:
    box = Mailbox(tmp_path)
    box.create(make_task(issue=1))
    box.create(make_task(issue=2))
    assert box.ids("inbox") == ["app-1-g1-a1", "app-2-g1-a1"]
    box.update(make_task(issue=1, reason="retry"), "inbox")
    assert box.read("inbox", "app-1-g1-a1").reason == "retry"
    assert [t.issue for t in box.tasks("inbox")] == [2, 1]  # the update made #1 newest

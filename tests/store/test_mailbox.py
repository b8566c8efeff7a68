"""The mailbox: task files round-trip, claims are exclusive, moves are the state machine."""

from __future__ import annotations

import multiprocessing
import os
from datetime import UTC, datetime
from pathlib import Path

from orchestrator.core.tasks import MailboxState, Task, TaskType, parse_id, task_id
from orchestrator.store.mailbox import Mailbox, count_by_state, parse, render

T0 = datetime(2026, 11, 22, 7, 0, tzinfo=UTC)


def make_task(issue: int = 12, generation: int = 1, attempt: int = 1, **kw: object) -> Task:
    values: dict = dict(
        id=task_id("app", issue, generation, attempt),
        repo_key="app",
        repo="acme/app",
        issue=issue,
        title="Add greeting",
        branch=f"agent/{issue}-add-greeting",
        base="main",
        task_type=TaskType.IMPLEMENTATION,
        chain=("claude", "codex"),
        attempt=attempt,
        max_attempts=3,
        generation=generation,
        priority=1,
        created_at=T0,
        reason="blockers_done",
        body="## Goal\nSay hello.\n\n---\nnot front matter",
        history=("attempt 1: partial",),
    )
    values.update(kw)
    return Task(**values)


def test_task_ids_are_derived_and_parse_back() -> None:
    assert task_id("app", 12, 1, 2) == "app-12-g1-a2"
    assert parse_id("app-12-g1-a2") == ("app", 12, 1, 2)
    assert parse_id("../etc") is None and parse_id("app-12") is None


def test_a_task_file_round_trips(tmp_path: Path) -> None:
    task = make_task()
    assert parse(render(task)) == task
    deferred = make_task(not_before=T0, pr=40, task_type=TaskType.FIXING)
    assert parse(render(deferred)) == deferred
    assert render(task).startswith("---\nid: app-12-g1-a1\n")


def test_create_is_exclusive_across_every_state(tmp_path: Path) -> None:
    box = Mailbox(tmp_path)
    task = make_task()
    assert box.create(task) is True
    assert box.create(task) is False
    assert box.move(task.id, MailboxState.INBOX, MailboxState.DELIVERED)
    assert box.create(task) is False  # a finished task is never re-queued under the same id
    assert box.for_issue("app", 12) == {task.id: MailboxState.DELIVERED}
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


def test_count_by_state_counts_task_files_per_state(tmp_path: Path) -> None:
    (tmp_path / "inbox").mkdir()
    for name in ("a.md", "b.md", ".c.md.tmp"):
        (tmp_path / "inbox" / name).write_text("x")
    counts = count_by_state(tmp_path)
    assert counts[MailboxState.INBOX] == 2 and counts[MailboxState.PROCESSING] == 0
    assert list(counts) == ["inbox", "processing", "delivered", "retried", "escalated", "dropped"]


def _old_layout(root: Path) -> dict[str, Task]:
    """A mailbox as the version before the rename left it: done/, failed/ and blocked/ folders."""
    tasks = {
        "done": make_task(issue=1),
        "failed": make_task(issue=2),
        "blocked": make_task(issue=3),
    }
    for folder, task in tasks.items():
        (root / folder).mkdir(parents=True)
        (root / folder / f"{task.id}.md").write_text(render(task))
    (root / "failed" / ".app-2-g1-a2.x.tmp").write_text("half written by a killed tick")
    return tasks


def test_the_folders_of_the_earlier_version_are_moved_on_first_use(tmp_path: Path) -> None:
    """A runtime/ from before the rename: the next tick finds every task where today's words say."""
    tasks = _old_layout(tmp_path)
    box = Mailbox(tmp_path)
    assert box.locate(tasks["done"].id) is MailboxState.DELIVERED
    assert box.locate(tasks["failed"].id) is MailboxState.RETRIED
    # waits for a person, never runs by itself
    assert box.locate(tasks["blocked"].id) is MailboxState.ESCALATED
    assert box.read(MailboxState.RETRIED, tasks["failed"].id) == tasks["failed"]
    assert not (tmp_path / "done").exists() and not (tmp_path / "blocked").exists()
    # a stray temp file is left for a person, the tasks are not
    assert (tmp_path / "failed").exists()
    # twice: no-op
    assert Mailbox(tmp_path).for_issue("app", 2) == {tasks["failed"].id: MailboxState.RETRIED}


def test_a_migration_killed_half_way_is_finished_by_the_next_tick(tmp_path: Path) -> None:
    """Killed between the link and the unlink: the file is in both folders.

    The next tick keeps one.
    """
    tasks = _old_layout(tmp_path)
    (tmp_path / "delivered").mkdir()
    os.link(
        tmp_path / "done" / f"{tasks['done'].id}.md",
        tmp_path / "delivered" / f"{tasks['done'].id}.md",
    )
    box = Mailbox(tmp_path)
    assert box.for_issue("app", 1) == {tasks["done"].id: MailboxState.DELIVERED}
    assert box.read(MailboxState.DELIVERED, tasks["done"].id) == tasks["done"]


def _migrate_and_list(root: str, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    box = Mailbox(Path(root))
    out.put(
        sorted(
            (tid, state.value)
            for issue in (1, 2, 3)
            for tid, state in box.for_issue("app", issue).items()
        )
    )


def test_ticks_migrating_at_once_lose_no_task(tmp_path: Path) -> None:
    _old_layout(tmp_path)
    ctx = multiprocessing.get_context("fork")
    out: multiprocessing.Queue = ctx.Queue()  # type: ignore[type-arg]
    procs = [ctx.Process(target=_migrate_and_list, args=(str(tmp_path), out)) for _ in range(6)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(20)
    seen = [out.get(timeout=5) for _ in procs]
    final = [("app-1-g1-a1", "delivered"), ("app-2-g1-a1", "retried"), ("app-3-g1-a1", "escalated")]
    # each tick, once its own migration returned, saw every task
    assert all(s == final for s in seen)
    assert (
        sorted(
            (tid, s.value)
            for i in (1, 2, 3)
            for tid, s in Mailbox(tmp_path).for_issue("app", i).items()
        )
        == final
    )


def _damage(text: str) -> dict[str, bytes]:
    """Ways a task file is found damaged: by a full disk, a person's editor, or another version."""
    front = text.split("---\n")[1]
    return {
        "empty": b"",
        "truncated": text.encode()[: len(text) // 3],
        "binary": b"\x00\xff\xfe" + os.urandom(64),
        "latin-1": text.replace("Say hello", "Sag grüß").encode("latin-1"),
        "no front matter": b"just a body\n",
        "front matter a list": b"---\n- 1\n- 2\n---\nbody\n",
        "front matter not YAML": b"---\nid: [unclosed\n---\nbody\n",
        "a field missing": ("---\n" + front.replace("repo: acme/app\n", "") + "---\nb\n").encode(),
        "a number as text": (
            "---\n" + front.replace("issue: 12", "issue: twelve") + "---\n"
        ).encode(),
        "a bool for a number": (
            "---\n" + front.replace("attempt: 1", "attempt: true") + "---\n"
        ).encode(),
        "an unknown task type": (
            "---\n" + front.replace("implementation", "sorcery") + "---\n"
        ).encode(),
        "a time without a zone": ("---\n" + front.replace("+00:00", "") + "---\n").encode(),
        "chain not strings": ("---\n" + front.replace("- claude", "- {x: 1}") + "---\n").encode(),
        "another task's id": text.replace("id: app-12-g1-a1", "id: app-99-g1-a1").encode(),
    }


def test_a_damaged_task_file_is_set_aside_and_the_others_still_read(tmp_path: Path) -> None:
    damaged = _damage(render(make_task()))
    mailbox = Mailbox(tmp_path / "mailbox")
    mailbox.create(make_task(issue=1))
    inbox = tmp_path / "mailbox" / "inbox"
    for n, content in enumerate(damaged.values(), start=100):
        (inbox / f"{task_id('app', n, 1, 1)}.md").write_bytes(content)
    (inbox / f"{task_id('app', 99, 1, 1)}.md").mkdir()  # a directory where a file belongs
    assert [t.issue for t in mailbox.tasks(MailboxState.INBOX)] == [1]
    assert mailbox.ids(MailboxState.INBOX) == [task_id("app", 1, 1, 1)]
    aside = sorted(p.name for p in (tmp_path / "quarantine").iterdir() if p.suffix == ".md")
    assert len(aside) == len(damaged) + 1
    assert list(mailbox.tasks(MailboxState.INBOX))  # a second pass: nothing left to trip on


def test_reading_one_damaged_task_is_a_file_not_found(tmp_path: Path) -> None:
    mailbox = Mailbox(tmp_path / "mailbox")
    mailbox.create(make_task())
    mailbox.path(MailboxState.INBOX, make_task().id).write_bytes(b"\xff")
    try:
        mailbox.read(MailboxState.INBOX, make_task().id)
    except FileNotFoundError as exc:
        assert type(exc).__name__ == "SetAside"
    else:
        raise AssertionError("a damaged file read as a task")
    assert mailbox.locate(make_task().id) is None


def test_a_fifo_or_a_huge_file_in_the_inbox_is_set_aside_without_blocking(tmp_path: Path) -> None:
    mailbox = Mailbox(tmp_path / "mailbox")
    mailbox.create(make_task(issue=1))
    inbox = tmp_path / "mailbox" / "inbox"
    os.mkfifo(inbox / f"{task_id('app', 2, 1, 1)}.md")  # reading it would wait forever
    with (inbox / f"{task_id('app', 3, 1, 1)}.md").open("wb") as f:
        f.truncate(64 << 20)  # sparse: 64 MiB of nothing, no disk spent
    assert [t.issue for t in mailbox.tasks(MailboxState.INBOX)] == [1]
    assert len(list((tmp_path / "quarantine").glob("*.md"))) == 2

"""The outbox: one line per notification, appended safely; a flush's progress survives a kill."""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from orchestrator.config.load import load_config
from orchestrator.core.model import IssueRef
from orchestrator.core.notify import Kind, Notification, escalated
from orchestrator.deps import notifier_for
from orchestrator.store.outbox import LogNotifier, Outbox, OutboxNotifier
from tests.helpers import ENV, minimal_config, write_config

T0 = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)


def note(i: int) -> Notification:
    return Notification(Kind.INFO, f"event {i}")


def test_appended_notes_are_pending_in_order_with_their_times(tmp_path: Path) -> None:
    box = Outbox(tmp_path)
    assert box.pending().notes == ()
    for i in range(3):
        box.append(note(i), T0)
    pending = box.pending()
    assert [n.text for n in pending.notes] == ["event 0", "event 1", "event 2"]
    assert pending.times == (T0,) * 3 and pending.start == 0 and pending.sent == 0
    assert len(box.path.read_text().splitlines()) == 3


def test_a_finished_batch_is_not_pending_again_but_later_notes_are(tmp_path: Path) -> None:
    box = Outbox(tmp_path)
    box.append(note(1), T0)
    box.finish(box.pending())
    assert box.pending().notes == ()
    box.append(note(2), T0)
    assert [n.text for n in box.pending().notes] == ["event 2"]


def test_a_resumed_flush_sees_the_same_batch_and_how_much_of_it_went_out(tmp_path: Path) -> None:
    """A flush killed after its first message.

    The next one must not resend it, nor mix in newer notes.
    """
    box = Outbox(tmp_path)
    box.append(note(1), T0)
    box.append(note(2), T0)
    batch = box.pending()
    box.begin(batch)
    box.mark_sent(batch, 1)
    box.append(note(3), T0)  # arrives while the flush is dead
    resumed = Outbox(tmp_path).pending()
    assert [n.text for n in resumed.notes] == ["event 1", "event 2"] and resumed.sent == 1
    box.finish(resumed)
    assert [n.text for n in box.pending().notes] == ["event 3"]


def test_a_torn_line_costs_only_itself(tmp_path: Path) -> None:
    box = Outbox(tmp_path)
    box.append(note(1), T0)
    with box.path.open("ab") as f:
        f.write(b'{"at": "2026-05-01T10:00:00+00:00", "kind": "inf')  # a writer killed mid-line
    assert [n.text for n in box.pending().notes] == ["event 1"]  # the fragment is not pending yet
    box.append(note(2), T0)
    pending = box.pending()
    assert [n.text for n in pending.notes] == ["event 1", "event 2"] and pending.skipped == 1


def test_concurrent_writers_never_interleave_or_lose_a_line(tmp_path: Path) -> None:
    box = Outbox(tmp_path)

    def write(worker: int) -> None:
        for i in range(50):
            Outbox(tmp_path).append(Notification(Kind.INFO, f"w{worker} {i} " + "x" * 500), T0)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    pending = box.pending()
    assert len(pending.notes) == 200 and pending.skipped == 0


def test_a_delivered_outbox_is_compacted_and_a_stale_cursor_starts_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("orchestrator.store.outbox.COMPACT_AT", 100)
    box = Outbox(tmp_path)
    for i in range(5):
        box.append(note(i), T0)
    inode = box.path.stat().st_ino
    box.finish(box.pending())
    assert box.path.read_bytes() == b"" and box.path.stat().st_ino != inode
    box.append(note(9), T0)
    assert [n.text for n in box.pending().notes] == ["event 9"]


def test_the_outbox_never_holds_a_secret(tmp_path: Path) -> None:
    box = Outbox(tmp_path)
    token = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    box.append(escalated(IssueRef("acme/app", 1), "app-1-g1-a3", "t", f"push failed: {token}"), T0)
    assert token not in box.path.read_text()
    assert "[REDACTED" in box.pending().notes[0].detail


def test_the_outbox_notifier_queues_and_logs_and_survives_a_full_disk(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log = logging.getLogger("test.outbox")
    notifier = OutboxNotifier(Outbox(tmp_path / "state"), log, clock=lambda: T0)
    with caplog.at_level(logging.INFO, "test.outbox"):
        notifier.notify(note(1))
        (tmp_path / "state" / "outbox.jsonl").unlink()
        (tmp_path / "state" / "outbox.jsonl").mkdir()  # the path can no longer be written
        notifier.notify(note(2))
    assert [r.getMessage() for r in caplog.records] == [
        "notification.queued",
        "notification.failed",
    ]


def test_without_telegram_config_notes_go_to_the_event_log_only(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path), ENV)
    assert isinstance(notifier_for(config, logging.getLogger("t")), LogNotifier)
    telegram = {"token": "$TELEGRAM_BOT_TOKEN", "allowed_chat_ids": [1]}
    config = load_config(write_config(tmp_path, minimal_config(telegram=telegram)), ENV)
    assert isinstance(notifier_for(config, logging.getLogger("t")), OutboxNotifier)
    notifier_for(config, logging.getLogger("t")).notify(note(1))
    line = json.loads((tmp_path / "runtime" / "state" / "outbox.jsonl").read_text())
    assert line["text"] == "event 1" and line["kind"] == "info"


def _cursor_cases(inode: int) -> dict[str, bytes]:
    good = {"inode": inode, "offset": 0, "end": None, "sent": 0}
    return {
        "negative offset": json.dumps({**good, "offset": -5}).encode(),
        "end before offset": json.dumps({**good, "offset": 40, "end": 10}).encode(),
        "offset as text": json.dumps({**good, "offset": "0"}).encode(),
        "a list": b"[]",
        "binary": b"\xff\x00\xfe",
        "truncated": json.dumps(good).encode()[:9],
        "a field missing": json.dumps({"inode": inode, "offset": 0}).encode(),
    }


@pytest.mark.parametrize("case", sorted(_cursor_cases(0)))
def test_a_damaged_cursor_is_set_aside_and_nothing_is_sent_twice(tmp_path: Path, case: str) -> None:
    state = tmp_path / "state"
    box = Outbox(state)
    box.append(note(1), T0)
    box.finish(box.pending())  # delivered: a cursor naming the file's end
    box.append(note(2), T0)
    box.cursor_path.write_bytes(_cursor_cases(box.path.stat().st_ino)[case])
    assert box.pending().notes == ()  # what was pending when the cursor broke is skipped
    assert any(p.name.endswith("outbox.cursor.json") for p in (tmp_path / "quarantine").iterdir())
    box.append(note(3), T0)
    batch = box.pending()
    assert [n.text for n in batch.notes] == ["event 3"]
    box.finish(batch)
    assert box.pending().notes == ()


def test_a_cursor_past_the_end_of_a_file_that_shrank_starts_from_the_top(tmp_path: Path) -> None:
    box = Outbox(tmp_path)
    for i in range(3):
        box.append(note(i), T0)
    box.finish(box.pending())
    with box.path.open("r+b") as f:  # cut in place: the inode stays
        f.truncate(0)
    box.append(note(9), T0)
    assert [n.text for n in box.pending().notes] == ["event 9"]


def test_a_directory_in_place_of_the_outbox_is_set_aside(tmp_path: Path) -> None:
    state = tmp_path / "state"
    (state / "outbox.jsonl").mkdir(parents=True)
    box = Outbox(state)
    assert box.pending().notes == ()
    assert not (state / "outbox.jsonl").exists()
    box.append(note(1), T0)
    assert [n.text for n in box.pending().notes] == ["event 1"]

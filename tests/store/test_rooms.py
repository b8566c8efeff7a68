"""The war-room record: what a task's room holds.

It is written safely by several processes, and read back whole.
"""

from __future__ import annotations

import base64
import json
import multiprocessing
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from orchestrator.core.lifecycle import InvalidTransition, State
from orchestrator.core.redact import encoded_forms, register_values
from orchestrator.store import rooms
from orchestrator.store.rooms import Room, read

T0 = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
TOKEN = "ghp_" + "a1B2" * 9
TASK = "app-7-g1-a1"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def room(tmp_path: Path, clock: Clock) -> Room:
    return Room(tmp_path / "rooms", TASK, clock)


def lines(room: Room) -> list[dict]:
    return [json.loads(line) for line in (room.path / rooms.CHANNEL).read_text().splitlines()]


def test_prompt_and_result_are_written_redacted(room: Room) -> None:
    path = room.write_prompt(f"Use token {TOKEN} to push")
    room.write_result(f"STATUS: complete\nSUMMARY: pushed with {TOKEN}\n")
    assert path == room.path / "prompt.md"
    assert TOKEN not in path.read_text() and "[REDACTED:github-token]" in path.read_text()
    assert TOKEN not in (room.path / "result.md").read_text()


def test_events_are_one_redacted_line_each_with_time_and_source(room: Room, clock: Clock) -> None:
    room.record("worktree.prepared", branch="agent/7-x", nested={"env": [f"GITHUB_TOKEN={TOKEN}"]})
    clock.now += timedelta(seconds=2)
    room.record("tests.ran", output="x" * 50_000, passed=False, exit_code=1)
    first, second = lines(room)
    assert first == {
        "ts": "2026-05-01T10:00:00.000Z",
        "source": "orchestrator",
        "event": "worktree.prepared",
        "branch": "agent/7-x",
        "nested": {"env": ["GITHUB_TOKEN=[REDACTED:github-token]"]},
    }
    assert second["ts"] == "2026-05-01T10:00:02.000Z" and len(second["output"]) == rooms.MAX_FIELD
    assert (second["passed"], second["exit_code"]) == (False, 1)


def test_an_agents_events_stream_in_through_its_sink(room: Room) -> None:
    sink = room.sink("claude")
    sink({"type": "tool.called", "call_id": "c1", "name": "bash", "arguments": f"echo {TOKEN}"})
    sink(
        {
            "type": "usage.reported",
            "usage": {"input_tokens": 10, "output_tokens": 2},
            "ts": "spoofed",
        }
    )
    sink({"line": "no type"})
    first, second, third = lines(room)
    assert first == {
        "ts": "2026-05-01T10:00:00.000Z",
        "source": "agent",
        "event": "tool.called",
        "agent": "claude",
        "call_id": "c1",
        "name": "bash",
        "arguments": "echo [REDACTED:github-token]",
    }
    assert second["usage"] == {"input_tokens": 10, "output_tokens": 2} and second["ts"] != "spoofed"
    assert third["event"] == "output.line"


def _append_many(rooms_dir: str, n: int, who: int) -> None:
    room = Room(Path(rooms_dir), TASK)
    for i in range(n):
        room.record("spam", who=who, i=i, padding="p" * 5000)


def test_concurrent_writers_never_interleave_lines(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    workers = [
        ctx.Process(target=_append_many, args=(str(tmp_path / "rooms"), 150, w)) for w in range(3)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    events = [
        json.loads(line)
        for line in (tmp_path / "rooms" / TASK / rooms.CHANNEL).read_text().splitlines()
    ]
    assert sorted((e["who"], e["i"]) for e in events) == [
        (w, i) for w in range(3) for i in range(150)
    ]


def test_lifecycle_moves_are_validated_timestamped_and_noted(room: Room, clock: Clock) -> None:
    room.transition(State.QUEUED, "blockers_done")
    clock.now += timedelta(minutes=1)
    room.transition(State.DEVELOPING, "claimed")
    room.transition(State.DEVELOPING, "claimed")  # a re-run of the same step: no-op
    clock.now += timedelta(minutes=9)
    done = room.transition(State.REVIEW, "pr_opened")
    data = json.loads((room.path / "lifecycle.json").read_text())
    assert data["state"] == "review" and data["updated_at"] == "2026-05-01T10:10:00+00:00"
    assert [h["state"] for h in data["history"]] == ["queued", "developing", "review"]
    assert done.entered(State.DEVELOPING) == T0 + timedelta(minutes=1)
    assert [e["state"] for e in lines(room) if e["event"] == "lifecycle.changed"] == [
        "queued",
        "developing",
        "review",
    ]
    with pytest.raises(InvalidTransition, match="cannot go from review to developing"):
        room.transition(State.DEVELOPING)
    assert room.lifecycle() == done


def test_a_registered_secret_value_shows_in_no_file_of_the_room_in_any_encoding(
    room: Room,
) -> None:
    secret = "s3cr3t-" + "Rm4Tx8Zq2"
    register_values([secret])
    room.write_prompt(f"value {secret}")
    room.write_result(f"SUMMARY: {base64.b64encode(b'x' + secret.encode()).decode()}")
    room.record("agent.output", text=f"hex {secret.encode().hex()}")
    room.transition(State.QUEUED, f"queued with {secret}")
    written = [path.read_text() for path in room.path.iterdir() if path.is_file()]
    assert len(written) >= 4 and "[REDACTED:config-value]" in "".join(written)
    assert not any(form in text for text in written for form in encoded_forms(secret))


def test_a_room_the_dispatcher_never_opened_starts_queued(room: Room) -> None:
    moved = room.transition(State.DEVELOPING, "claimed")
    assert [e.state for e in moved.history] == [State.QUEUED, State.DEVELOPING]


def test_heartbeat_age_tells_a_live_worker_from_a_dead_one(room: Room, clock: Clock) -> None:
    assert room.heartbeat() is None and room.heartbeat_age(T0) is None
    room.beat()
    assert room.heartbeat_age(T0 + timedelta(minutes=11)) == 660.0


def test_a_running_worker_keeps_beating(tmp_path: Path) -> None:
    room = Room(tmp_path / "rooms", TASK)
    with room.beating(interval=0.05):
        first = room.heartbeat()
        time.sleep(0.3)
        later = room.heartbeat()
    assert first is not None and later is not None and later > first
    last = room.heartbeat()
    time.sleep(0.15)
    assert room.heartbeat() == last  # the block ended: the worker is gone, the beat goes stale


def test_a_room_reads_back_whole_and_skips_a_torn_line(room: Room) -> None:
    room.write_prompt("Do the thing")
    room.record("agent.started", agent="claude")
    with (room.path / rooms.CHANNEL).open("a") as f:
        f.write('{"ts": "torn')
    room.transition(State.DEVELOPING)
    room.write_result("STATUS: complete\n")
    room.beat()
    record = rooms.read(room.path.parent, TASK)
    assert (record.prompt, record.result) == ("Do the thing", "STATUS: complete\n")
    # only the torn line is lost
    assert [e["event"] for e in record.events] == ["agent.started", "lifecycle.changed"]
    assert record.lifecycle is not None and record.lifecycle.state is State.DEVELOPING
    assert record.heartbeat == T0
    assert rooms.read(room.path.parent, TASK, last_events=1).events == record.events[-1:]


def test_an_empty_room_reads_back_as_nothing(tmp_path: Path) -> None:
    record = rooms.read(tmp_path, "app-1-g1-a1")
    assert (record.prompt, record.events, record.lifecycle, record.result, record.heartbeat) == (
        None,
        (),
        None,
        None,
        None,
    )


def test_earlier_attempts_results_are_found_for_a_retry(tmp_path: Path) -> None:
    for task_id in ("app-7-g1-a1", "app-7-g1-a2", "app-7-g2-a1", "app-8-g1-a1", "web-7-g1-a1"):
        Room(tmp_path, task_id).write_result(f"result of {task_id}\n")
    Room(tmp_path, "app-7-g2-a2").write_prompt("current")
    assert rooms.earlier_results(tmp_path, "app-7-g2-a2") == [
        ("app-7-g1-a2", "result of app-7-g1-a2\n"),
        ("app-7-g2-a1", "result of app-7-g2-a1\n"),
    ]
    assert rooms.earlier_results(tmp_path, "app-7-g1-a1") == []
    assert [t for t, _ in rooms.earlier_results(tmp_path, "app-7-g2-a2", limit=5)] == [
        "app-7-g1-a1",
        "app-7-g1-a2",
        "app-7-g2-a1",
    ]


@pytest.mark.parametrize("task_id", ["../x", "a/b", "..", ""])
def test_a_task_id_that_is_not_one_path_segment_is_refused(tmp_path: Path, task_id: str) -> None:
    with pytest.raises(ValueError, match="invalid task id"):
        Room(tmp_path, task_id)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{",
        b"[]",
        b"\xff\xfe",
        b'{"task_id": "t", "history": []}',
        b'{"task_id": "t", "history": [{"state": "dreaming", "at": "2026-01-01T00:00:00+00:00"}]}',
        b'{"task_id": "t", "history": [{"state": "queued"}]}',
    ],
)
def test_a_damaged_lifecycle_is_set_aside_and_the_record_restarts_where_the_task_is(
    tmp_path: Path, content: bytes
) -> None:
    rooms_dir = tmp_path / "runtime" / "rooms"
    room = Room(rooms_dir, "app-1-g1-a1")
    room.transition(State.DEVELOPING)
    (room.path / "lifecycle.json").write_bytes(content)
    assert room.lifecycle() is None  # unreadable: as if never written, and set aside
    (room.path / "lifecycle.json").write_bytes(content)
    moved = room.transition(State.REVIEW, "pr_opened")  # not a move from queued: a restart
    assert [e.state for e in moved.history] == [State.REVIEW]
    assert room.lifecycle() == moved
    aside = [p for p in (tmp_path / "runtime" / "quarantine").iterdir() if p.suffix == ".json"]
    assert len(aside) == 2 and all(p.read_bytes() == content for p in aside)


def test_damaged_heartbeat_prompt_and_channel_read_as_absent_or_skipped(tmp_path: Path) -> None:
    rooms_dir = tmp_path / "runtime" / "rooms"
    room = Room(rooms_dir, "app-1-g1-a1")
    room.record("one")
    with (room.path / "channel.jsonl").open("ab") as f:
        f.write(b"\xff\xfe not json\n[1, 2]\n")
    room.record("two")
    (room.path / "heartbeat").mkdir()
    (room.path / "prompt.md").write_bytes(b"caf\xe9")
    record = read(rooms_dir, "app-1-g1-a1")
    assert [e["event"] for e in record.events] == ["one", "two"]
    assert record.heartbeat is None and record.prompt == "caf\ufffd"
    room.beat()  # the directory in the heartbeat's place is set aside
    assert room.heartbeat() is not None


def test_a_directory_in_place_of_the_channel_is_set_aside_on_the_next_event(
    tmp_path: Path,
) -> None:
    room = Room(tmp_path / "runtime" / "rooms", "app-1-g1-a1")
    (room.path / "channel.jsonl").mkdir(parents=True)
    room.record("after")
    assert [e["event"] for e in read(room.path.parent, room.task_id).events] == ["after"]

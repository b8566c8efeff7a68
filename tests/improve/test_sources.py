"""The user's signal sources: a JSON-lines file followed by a cursor, a command, a URL.

A jsonl file is read from where the last committed read stopped, whole lines only; a file
replaced or cut is read from its start, a damaged cursor is set aside and the file read from its
end. What a line says is redacted and clipped before it is a signal's detail.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from orchestrator.config.model import SignalSource, SourceKind
from orchestrator.core.signatures import signature
from orchestrator.improve import sources
from orchestrator.improve.readings import SourceReading
from orchestrator.improve.sources import commit, read
from orchestrator.store import quarantine

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TOKEN = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"  # a GitHub token's shape, not a token


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "runtime" / "state"


@pytest.fixture
def log_file(tmp_path: Path) -> Path:
    return tmp_path / "app" / "errors.jsonl"


def jsonl(path: Path, name: str = "app-log") -> SignalSource:
    return SignalSource(name=name, repo="app", kind=SourceKind.JSONL, path=path)


def append(path: Path, *lines: str | bytes, newline: bool = True) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as f:
        for line in lines:
            f.write(line.encode() if isinstance(line, str) else line)
            if newline:
                f.write(b"\n")


def error(message: str, **fields: object) -> str:
    return json.dumps({"level": "error", "message": message, **fields})


def step(source: SignalSource, state_dir: Path, now: datetime = T0) -> SourceReading:
    """One tick of the job: read, (record,) commit."""
    reading = read(source, state_dir, now)
    commit(source, state_dir, reading)
    return reading


def details(reading: SourceReading) -> list[str]:
    assert reading.problem is None, reading.problem
    return [s.detail for s in reading.signals]


# -- jsonl ----------------------------------------------------------------------------------------


def test_a_first_read_starts_at_the_end_and_later_reads_see_only_new_lines(
    log_file: Path, state_dir: Path
) -> None:
    source = jsonl(log_file)
    append(log_file, error("an old failure, before we watched"))
    assert details(step(source, state_dir)) == []
    append(log_file, error("disk full on /var/data/7"), "plain text panic")
    reading = step(source, state_dir)
    assert details(reading) == ["disk full on /var/data/7", "plain text panic"]
    first = reading.signals[0]
    assert first.signature == signature("source:app-log", "disk full on /var/data/7")
    assert first.ts == "2026-12-01T09:00:00.000Z" and not reading.more
    assert details(step(source, state_dir)) == []
    append(log_file, error("disk full on /var/data/8"))
    [again] = step(source, state_dir).signals
    assert again.signature == first.signature  # only the varying path differs
    saved = json.loads((state_dir / "sources" / "app-log.json").read_text())
    assert saved["offset"] == log_file.stat().st_size and saved["inode"] == log_file.stat().st_ino


def test_without_a_commit_the_same_lines_are_read_again_with_the_same_keys(
    log_file: Path, state_dir: Path
) -> None:
    source = jsonl(log_file)
    step(source, state_dir)
    append(log_file, error("one"), error("two"))
    killed = read(source, state_dir, T0)  # recorded, then killed before the commit
    append(log_file, error("three"))
    again = step(source, state_dir, T0 + timedelta(minutes=15))
    assert [s.key for s in again.signals[:2]] == [s.key for s in killed.signals]
    assert details(again) == ["one", "two", "three"]
    assert len({s.key for s in again.signals}) == 3


def test_a_rotated_file_is_read_from_its_start_with_new_keys(
    log_file: Path, state_dir: Path
) -> None:
    source = jsonl(log_file)
    step(source, state_dir)
    append(log_file, error("before rotation"))
    before = step(source, state_dir)
    os.rename(log_file, log_file.with_suffix(".1"))
    append(log_file, error("after rotation"))
    after = step(source, state_dir)
    assert details(after) == ["after rotation"]
    assert after.signals[0].key != before.signals[0].key  # both at offset 0, another generation


def test_a_file_cut_and_written_again_in_place_is_read_from_its_start(
    log_file: Path, state_dir: Path
) -> None:
    source = jsonl(log_file)
    append(log_file, error("x" * 200))
    step(source, state_dir)
    log_file.write_text(error("rewritten") + "\n")  # same inode, shorter, other first bytes
    assert details(step(source, state_dir)) == ["rewritten"]
    with log_file.open("r+b") as f:
        f.truncate(0)
    append(log_file, error("rewritten again, now longer than before it was cut"))
    assert details(step(source, state_dir)) == [
        "rewritten again, now longer than before it was cut"
    ]


def test_a_line_being_written_waits_for_its_newline(log_file: Path, state_dir: Path) -> None:
    source = jsonl(log_file)
    step(source, state_dir)
    append(log_file, error("whole"))
    append(log_file, '{"level": "error", "message": "half', newline=False)
    assert details(step(source, state_dir)) == ["whole"]
    assert details(step(source, state_dir)) == []
    append(log_file, ' written"}')
    assert details(step(source, state_dir)) == ["half written"]


def test_levels_below_warning_are_no_signal_unless_they_carry_an_error(
    log_file: Path, state_dir: Path
) -> None:
    source = jsonl(log_file)
    step(source, state_dir)
    append(
        log_file,
        json.dumps({"level": "info", "message": "started"}),
        json.dumps({"level": "DEBUG", "msg": "tick"}),
        json.dumps({"level": 30, "msg": "pino info"}),
        json.dumps({"levelname": "INFO", "message": "python info"}),
        json.dumps({"level": "info", "message": "retrying", "error": "connection reset"}),
        json.dumps({"level": "warning", "msg": "slow query"}),
        json.dumps({"level": 50, "msg": "pino error"}),
        json.dumps({"event": "job.failed", "level": "fatal"}),
        json.dumps({"error": {"message": "nested error", "code": 7}}),
        json.dumps({"something": "else"}),
        "",
        "   ",
    )
    assert details(step(source, state_dir)) == [
        "retrying",
        "slow query",
        "pino error",
        "job.failed",
        "nested error",
        '{"something": "else"}',
    ]


def test_the_message_is_the_first_text_of_message_msg_error_event(
    log_file: Path, state_dir: Path
) -> None:
    source = jsonl(log_file)
    step(source, state_dir)
    append(
        log_file,
        json.dumps({"event": "e", "error": "the error", "msg": "the msg"}),
        json.dumps({"message": "", "event": "the event"}),
        json.dumps({"message": 5, "error": "the error"}),
    )
    assert details(step(source, state_dir)) == ["the msg", "the event", "the error"]


def test_a_lines_own_time_is_kept_when_believable(log_file: Path, state_dir: Path) -> None:
    source = jsonl(log_file)
    step(source, state_dir)
    append(
        log_file,
        error("recent", ts="2026-12-01T08:55:00+00:00"),
        error("naive", time="2026-12-01T08:50:00.250"),
        error("ancient", ts="1999-01-01T00:00:00Z"),
        error("future", timestamp="2027-01-01T00:00:00Z"),
        error("nonsense", ts="yesterday"),
    )
    assert [s.ts for s in step(source, state_dir).signals] == [
        "2026-12-01T08:55:00.000Z",
        "2026-12-01T08:50:00.250Z",
        *["2026-12-01T09:00:00.000Z"] * 3,
    ]


def test_hostile_lines_are_signals_redacted_and_clipped_and_never_stop_the_read(
    log_file: Path, state_dir: Path
) -> None:
    source = jsonl(log_file)
    step(source, state_dir)
    append(
        log_file,
        b"\x00\xff\xfe\x1b[31mbinary\x07 junk",
        error("m" * (1 << 20)),  # a 1 MB line: its first 64 KiB are read, the rest skipped
        "[" * 100_000 + "]" * 100_000,  # nested past the parser's depth
        error(f"push failed with token {TOKEN} in the URL"),
        error("after them all"),
    )
    reading = step(source, state_dir)
    found = details(reading)
    assert len(found) == 5 and found[-1] == "after them all"
    assert "binary" in found[0] and not any(c in found[0] for c in "\x00\x1b\x07")
    assert found[1].startswith('{"level": "error", "message": "mmm') and len(found[1]) == 300
    assert found[2] == "[" * 300
    assert TOKEN not in found[3] and "[REDACTED" in found[3]
    assert all(len(d) <= 300 and "\n" not in d for d in found)
    assert TOKEN not in json.dumps([s.__repr__() for s in reading.signals])


def test_a_line_longer_than_a_whole_read_is_cut_and_its_rest_skipped_next_time(
    log_file: Path, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources, "MAX_BYTES", 256 << 10)
    source = jsonl(log_file)
    step(source, state_dir)
    append(log_file, "z" * (1 << 20), error("next"))
    first = step(source, state_dir)
    assert [d[:3] for d in details(first)] == ["zzz"] and first.more
    rest = [details(step(source, state_dir)) for _ in range(6)]
    assert [d for found in rest for d in found] == ["next"]  # the rest of the z line is skipped


def test_a_read_is_bounded_and_the_rest_waits_for_the_next(
    log_file: Path, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources, "MAX_LINES", 3)
    source = jsonl(log_file)
    step(source, state_dir)
    append(log_file, *(error(f"failure {n}") for n in range(5)))
    first = step(source, state_dir)
    assert details(first) == ["failure 0", "failure 1", "failure 2"] and first.more
    second = step(source, state_dir)
    assert details(second) == ["failure 3", "failure 4"] and not second.more


def test_a_damaged_cursor_is_set_aside_and_the_file_read_from_its_end(
    log_file: Path, state_dir: Path
) -> None:
    source = jsonl(log_file)
    step(source, state_dir)
    append(log_file, error("missed while the cursor was damaged"))
    cursor = state_dir / "sources" / "app-log.json"
    cursor.write_text('{"inode": "twelve"')
    assert details(step(source, state_dir)) == []  # no replay of the history
    [aside] = quarantine.listing(state_dir.parent)
    assert aside.endswith("state~sources~app-log.json")
    append(log_file, error("after"))
    assert details(step(source, state_dir)) == ["after"]


def test_a_file_not_there_yet_is_a_problem_then_read_from_its_start(
    log_file: Path, state_dir: Path
) -> None:
    source = jsonl(log_file)
    missing = step(source, state_dir)
    assert missing.signals == () and missing.problem is not None
    assert missing.problem.startswith("source app-log: ") and "does not exist" in missing.problem
    append(log_file, error("first words"))
    assert details(step(source, state_dir)) == ["first words"]


def test_a_folder_is_a_problem_not_a_crash(tmp_path: Path, state_dir: Path) -> None:
    reading = read(jsonl(tmp_path), state_dir, T0)
    assert reading.signals == () and "not a regular file" in (reading.problem or "")

"""runtime/quarantine/: damaged files set aside once, each announced once, whoever finds them."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.core.notify import Notification
from orchestrator.store import quarantine


@pytest.fixture
def events(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """The `agentos` logger's records, whether or not an earlier test stopped its propagation."""
    logger = logging.getLogger("agentos")
    propagate, logger.propagate = logger.propagate, False
    logger.addHandler(caplog.handler)
    with caplog.at_level(logging.INFO, logger="agentos"):
        yield caplog
    logger.removeHandler(caplog.handler)
    logger.propagate = propagate


def _runtime(tmp_path: Path) -> Path:
    runtime = tmp_path / "runtime"
    (runtime / "state").mkdir(parents=True)
    return runtime


def test_a_file_set_aside_keeps_its_bytes_and_says_why(
    tmp_path: Path, events: pytest.LogCaptureFixture
) -> None:
    runtime = _runtime(tmp_path)
    damaged = runtime / "state" / "queue.memo.json"
    damaged.write_bytes(b"\x00\xff[")
    moved = quarantine.set_aside(damaged, runtime, "unreadable memo (ValueError)")
    assert moved is not None and moved.read_bytes() == b"\x00\xff[" and not damaged.exists()
    assert moved.parent == runtime / "quarantine" and moved.name.endswith("state~queue.memo.json")
    why = json.loads(moved.with_name(moved.name + ".why").read_text())
    assert why["file"] == "state/queue.memo.json" and why["reason"].startswith("unreadable memo")
    [event] = [r for r in events.records if r.getMessage() == "state.quarantined"]
    assert event.__dict__["file"] == "state/queue.memo.json"
    assert quarantine.listing(runtime) == [moved.name]


def test_a_directory_in_place_of_a_file_is_set_aside_whole(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path)
    (runtime / "state" / "cooldowns.json" / "inner").mkdir(parents=True)
    moved = quarantine.set_aside(runtime / "state" / "cooldowns.json", runtime, "not a file")
    assert moved is not None and (moved / "inner").is_dir()
    assert not (runtime / "state" / "cooldowns.json").exists()


def test_two_files_of_one_name_in_one_second_both_kept(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path)
    first, second = b"one", b"two"
    for content in (first, second):
        (runtime / "state" / "x.json").write_bytes(content)
        quarantine.set_aside(runtime / "state" / "x.json", runtime, "bad")
    kept = sorted((runtime / "quarantine" / n).read_bytes() for n in quarantine.listing(runtime))
    assert kept == [first, second]


def test_a_file_someone_else_set_aside_first_is_none(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path)
    assert quarantine.set_aside(runtime / "state" / "gone.json", runtime, "bad") is None
    assert quarantine.listing(runtime) == []


def test_a_file_that_cannot_be_moved_is_left_and_logged(
    tmp_path: Path, events: pytest.LogCaptureFixture
) -> None:
    runtime = _runtime(tmp_path)
    (runtime / "state" / "x.json").write_bytes(b"[")
    (runtime / "quarantine").write_bytes(b"")  # a file where the folder belongs
    assert quarantine.set_aside(runtime / "state" / "x.json", runtime, "bad") is None
    assert [r.getMessage() for r in events.records] == ["state.unmovable"]
    assert (runtime / "state" / "x.json").read_bytes() == b"["


def test_each_file_is_announced_once_across_ticks_and_announcers(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path)
    for name in ("a.json", "b.json"):
        (runtime / "state" / name).write_bytes(b"{")
        quarantine.set_aside(runtime / "state" / name, runtime, "unreadable (ValueError)")
    said: list[Notification] = []
    assert quarantine.announce(runtime, lambda: said.append) == 2
    assert quarantine.announce(runtime, lambda: said.append) == 0  # the next tick, another job
    assert sorted(n.text for n in said) == [
        "runtime file set aside: state/a.json",
        "runtime file set aside: state/b.json",
    ]
    assert all("runtime/quarantine/" in n.detail and "docs/operations.md" in n.detail for n in said)
    assert len(quarantine.listing(runtime)) == 2  # the files stay for a person to look at


def test_a_damaged_record_still_announces_its_file(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path)
    (runtime / "quarantine").mkdir()
    (runtime / "quarantine" / "x.json").write_bytes(b"?")
    (runtime / "quarantine" / "x.json.why").write_bytes(b"\xff")
    said: list[Notification] = []
    assert quarantine.announce(runtime, lambda: said.append) == 1
    assert said[0].text == "runtime file set aside: x.json.said"

"""Runtime state: atomic writes survive kills, switches, overrides, mailbox counts."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from orchestrator.store.files import atomic_write
from orchestrator.store.overrides import read_overrides, set_override
from orchestrator.store.switches import Switches

ROOT = Path(__file__).resolve().parents[2]

WRITER = """
import sys
from pathlib import Path
from orchestrator.store.files import atomic_write
target = Path(sys.argv[1])
blocks = [(c * 400_000) for c in "AB"]
print("ready", flush=True)
i = 0
while True:
    atomic_write(target, blocks[i % 2])
    i += 1
"""


def test_a_writer_killed_at_random_points_never_leaves_a_torn_file(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    rng = random.Random(1234)
    for _ in range(25):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(target)], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        time.sleep(rng.uniform(0, 0.05))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        if target.exists():
            content = target.read_text()
            assert content in ("A" * 400_000, "B" * 400_000), f"torn file of {len(content)} bytes"
    assert target.exists()


def test_atomic_write_replaces_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "file.txt"
    atomic_write(target, "one")
    atomic_write(target, b"two")
    assert target.read_text() == "two"
    assert os.listdir(target.parent) == ["file.txt"]


def test_a_failed_write_keeps_the_old_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "file.txt"
    atomic_write(target, "old")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        atomic_write(target, "new")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["file.txt"]


def test_switches_are_files_exactly_where_the_architecture_puts_them(tmp_path: Path) -> None:
    s = Switches(tmp_path)
    assert s.is_on() and s.repo_on("app") and s.job_on("queue") and s.off_since() is None
    assert s.set_global(False, "2026-11-22T07:00:00+00:00") is True
    assert s.set_global(False, "later") is False  # the first stamp is kept
    assert (tmp_path / "disabled").read_text() == "2026-11-22T07:00:00+00:00\n"
    assert s.off_since() == "2026-11-22T07:00:00+00:00"
    s.set_repo("app", False, "t")
    s.set_job("queue", False, "t")
    assert (tmp_path / "repo_disabled" / "app").exists()
    assert (tmp_path / "job_disabled" / "queue").exists()
    assert not s.is_on() and not s.repo_on("app") and not s.job_on("queue")
    assert s.repo_on("other") and s.job_on("dispatcher")
    assert s.set_global(True, "t") is True and s.set_global(True, "t") is False
    s.set_repo("app", True, "t")
    assert s.repo_on("app")


@pytest.mark.parametrize("name", ["", "../escape", ".hidden", "a/b"])
def test_switch_names_cannot_escape_the_state_folder(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError):
        Switches(tmp_path).set_repo(name, False, "t")


def test_overrides_are_nested_set_and_removed_atomically(tmp_path: Path) -> None:
    set_override(tmp_path, ("repos", "app", "automation_mode"), "dispatcher_only")
    set_override(tmp_path, ("limits", "max_parallel_workers"), 2)
    assert read_overrides(tmp_path) == {
        "repos": {"app": {"automation_mode": "dispatcher_only"}},
        "limits": {"max_parallel_workers": 2},
    }
    set_override(tmp_path, ("limits", "max_parallel_workers"), None)
    # emptied parents go
    assert "limits" not in yaml.safe_load((tmp_path / "overrides.yaml").read_text())
    set_override(tmp_path, ("repos", "app", "automation_mode"), None)
    assert not (tmp_path / "overrides.yaml").exists()  # nothing overridden: no file

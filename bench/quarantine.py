"""What a damaged runtime file costs a tick: the tick that sets it aside, and every tick after.

Figures, each the median of seven runs:
- a whole queue tick (`runner.run_job`, in this process, nothing to start), with an empty
  runtime/quarantine/, with one file set aside and announced before, and with 1,000: the folder
  is read once a tick (`quarantine.announce`);
- reading an inbox of 200 task files (`Mailbox.tasks`): clean, the one pass that sets a damaged
  file aside (a rename and a fsynced `.why` record, paid once), and the passes after it.

Target: a tick after files were set aside within 5 ms of a clean one (the noise of a tick here),
for one file and for 1,000.
Run: `.venv/bin/python bench/quarantine.py`.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from orchestrator.cli import runner  # noqa: E402
from orchestrator.core.tasks import MailboxState, Task, TaskType, task_id  # noqa: E402
from orchestrator.jobs import JOBS  # noqa: E402
from orchestrator.store import quarantine  # noqa: E402
from orchestrator.store.mailbox import Mailbox  # noqa: E402

RUNS = 7
TICK_TARGET_MS = 5.0


def _config(folder: Path) -> Path:
    data = {
        "repos": [{"key": "app", "github": "acme/app"}],
        "github": {"token": "$BENCH_TOKEN"},
        "agents": {
            "backends": {"script": {"type": "command", "argv": ["true"]}},
            "chains": {"default": ["script"]},
            "isolation": "none",
        },
        "paths": {"runtime_dir": str(folder / "runtime")},
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _task(n: int) -> Task:
    return Task(
        id=task_id("app", n, 1, 1),
        repo_key="app",
        repo="acme/app",
        issue=n,
        title=f"Task {n}",
        branch=f"agent/{n}-task",
        base="main",
        task_type=TaskType.IMPLEMENTATION,
        chain=("script",),
        attempt=1,
        max_attempts=3,
        generation=1,
        priority=1,
        created_at=datetime(2026, 12, 1, tzinfo=UTC),
        body="## Goal\nA thing.\n",
    )


def _median_ms(work: object, runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()  # type: ignore[operator]
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _tick(config: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(config.parent),
        "BENCH_TOKEN": "ghp_" + "b" * 36,
    }
    with open(os.devnull, "w") as sink:
        saved, sys.stderr = sys.stderr, sink
        try:
            assert runner.run_job("queue", str(config), JOBS, env) == 0
        finally:
            sys.stderr = saved


def _crowd(aside: Path, count: int) -> None:
    aside.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        (aside / f"20261203T000000Z.{n}-state~x.json").write_bytes(b"{")
        (aside / f"20261203T000000Z.{n}-state~x.json.said").write_text("{}")


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        config = _config(folder)
        runtime = folder / "runtime"
        _tick(config)  # warm: imports, folders
        clean = _median_ms(lambda: _tick(config))
        _crowd(runtime / "quarantine", 1)
        one = _median_ms(lambda: _tick(config))
        shutil.rmtree(runtime / "quarantine")
        _crowd(runtime / "quarantine", 1000)
        crowded = _median_ms(lambda: _tick(config))
        announce = _median_ms(lambda: quarantine.announce(runtime, lambda: lambda note: None))

        import logging

        logger = logging.getLogger("agentos")
        for handler in list(logger.handlers):  # the ticks' stderr sinks
            logger.removeHandler(handler)
        logger.addHandler(logging.NullHandler())
        mailbox = Mailbox(runtime / "mailbox")
        for n in range(1, 201):
            mailbox.create(_task(n))
        read_clean = _median_ms(lambda: list(mailbox.tasks(MailboxState.INBOX)))
        times = []
        for run in range(RUNS):
            damaged = mailbox.path(MailboxState.INBOX, task_id("app", 1000 + run, 1, 1))
            damaged.write_bytes(b"\x00\xff truncated")
            start = time.perf_counter()
            list(mailbox.tasks(MailboxState.INBOX))
            times.append((time.perf_counter() - start) * 1000)
        read_damaged = statistics.median(times)
        read_after = _median_ms(lambda: list(mailbox.tasks(MailboxState.INBOX)))

    print(f"queue tick, empty quarantine:               {clean:7.1f} ms")
    print(f"queue tick, one file set aside before:      {one:7.1f} ms  ({one - clean:+.1f} ms)")
    extra = crowded - clean
    print(f"queue tick, 1,000 files set aside before:   {crowded:7.1f} ms  ({extra:+.1f} ms)")
    print(f"  of which announce (reads the folder):     {announce:7.2f} ms")
    print(f"read 200 task files, clean:                 {read_clean:7.1f} ms")
    print(
        f"read 200 task files, setting one aside:     {read_damaged:7.1f} ms  "
        f"({read_damaged - read_clean:+.1f} ms, once: the move and its fsynced record)"
    )
    print(
        f"read 200 task files, after:                 {read_after:7.1f} ms  "
        f"({read_after - read_clean:+.1f} ms)"
    )
    ok = one - clean <= TICK_TARGET_MS and crowded - clean <= TICK_TARGET_MS
    print(
        f"target: a tick after files were set aside within {TICK_TARGET_MS:.0f} ms of a clean "
        f"one (1 or 1,000 files): {'met' if ok else 'MISSED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""What the incident scanner and the log analyzer cost as the event history grows.

A runtime folder gets N events (N = 10,000, 50,000, 100,000): job logs with crashes, GitHub
errors, escalations and recoveries, and war-room channels of attempts (each a lifecycle, a
chain, a failing test run, a judgement). Then, with GitHub in memory (the figures are Agent OS's
own work, not the network's):
- the first scanner tick (the ledger built from nothing, the signals judged, incidents filed);
- a steady scanner tick: 100 new events since the last;
- a quiet scanner tick: nothing new;
- an analyzer tick over the week;
- the peak memory (tracemalloc) of a steady scanner tick and of an analyzer tick.

Targets: a steady tick and an analyzer tick under 1 s at 100,000 events, and their peak memory
flat as events grow (the work is SQL over indexed tables, never every row in Python).
Run: `.venv/bin/python bench/improve.py`.
"""

from __future__ import annotations

import json
import logging
import shutil
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from orchestrator.adapters.memory import MemoryTracker  # noqa: E402
from orchestrator.adapters.memory_board import MemoryBoard  # noqa: E402
from orchestrator.config.load import load_config  # noqa: E402
from orchestrator.config.model import Config  # noqa: E402
from orchestrator.deps import Deps  # noqa: E402
from orchestrator.jobs import incident_scanner, log_analyzer  # noqa: E402
from orchestrator.store import logs  # noqa: E402
from orchestrator.wiring import real_deps  # noqa: E402

SIZES = (10_000, 50_000, 100_000)
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
TARGET_S = 1.0
ERRORS = (
    "ModuleNotFoundError: No module named 'calc.helper{}'",
    "AssertionError: assert {} == 5",
    "TimeoutError: the test run took longer than 900s",
)


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _line(when: datetime, event: str, **fields: Any) -> str:
    return json.dumps({"ts": _stamp(when), "event": event, **fields}) + "\n"


def _history(runtime: Path, events: int, start: datetime, first_issue: int = 1) -> None:
    """Write about `events` events over the week before `start`: 40 % job logs, 60 % rooms."""
    logs_dir, rooms_dir = runtime / "logs", runtime / "rooms"
    logs_dir.mkdir(parents=True, exist_ok=True)
    job_lines = int(events * 0.4)
    step = timedelta(days=7) / max(1, events)
    with (logs_dir / "pr_monitor.jsonl").open("a") as pr, (logs_dir / "queue.jsonl").open("a") as q:
        for n in range(job_lines):
            when = start - timedelta(days=7) + step * n
            if n % 4 == 0:
                pr.write(
                    _line(when, "pr.failed", pr=n % 50, repo="acme/app", error="502 Bad Gateway")
                )
            elif n % 4 == 1:
                q.write(_line(when, "task.started", issue=n % 90, repo="acme/app"))
            elif n % 4 == 2:
                q.write(_line(when, "run.finished", outcome="ok", duration_ms=40))
            else:
                q.write(
                    _line(when, "run.crashed", outcome="crashed", error=f"queue: KeyError: {n % 7}")
                )
    per_room = 6
    for r in range((events - job_lines) // per_room):
        issue = first_issue + r // 2
        task = f"app-{issue}-g1-a{r % 2 + 1}"
        when = start - timedelta(days=7) + step * (job_lines + r * per_room)
        folder = rooms_dir / task
        folder.mkdir(parents=True, exist_ok=True)
        failure = ERRORS[r % len(ERRORS)].format(r % 11)
        lines = [
            _line(when, "lifecycle.changed", source="orchestrator", state="queued", reason="ready"),
            _line(when, "lifecycle.changed", source="orchestrator", state="developing", reason="x"),
            _line(
                when,
                "chain.finished",
                source="orchestrator",
                end="finished",
                backend="claude",
                input_tokens=1000,
                output_tokens=200,
                cost_usd=0.2,
            ),
            _line(
                when,
                "tests.finished",
                source="orchestrator",
                passed=False,
                line="pytest: failed (exit code 1)",
                tail=failure,
            ),
            _line(
                when,
                "attempt.judged",
                source="orchestrator",
                next="retry",
                reason="partial:test_failure",
                files=[],
            ),
            _line(when, "lifecycle.changed", source="orchestrator", state="queued", reason="retry"),
        ]
        with (folder / "channel.jsonl").open("a") as f:
            f.writelines(lines)


def _world(folder: Path) -> tuple[Config, Deps]:
    data = {
        "repos": [{"key": "app", "github": "acme/app"}],
        "github": {"token": "$BENCH_TOKEN"},
        "agents": {
            "backends": {"script": {"type": "command", "argv": ["true"]}},
            "isolation": "none",
        },
        "paths": {"runtime_dir": str(folder / "runtime")},
        "improve": {"daily_cap": 100},
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    config = load_config(path, {"BENCH_TOKEN": "x"})
    log = logs.setup(config.paths.logs_dir, "incident_scanner", "r-bench", stderr=False)
    log.setLevel(logging.WARNING)  # the job's own events are not what is measured
    tracker = MemoryTracker(login="acme", clock=lambda: NOW)
    tracker.add_repo("acme/app")
    deps = real_deps(config, log)
    deps.tracker = tracker
    deps.boards["app"] = MemoryBoard(tracker, "acme/app")
    return config, deps


def _timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def _peak_mb(work: Callable[[], object]) -> float:
    tracemalloc.start()
    work()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1e6


def measure(size: int) -> dict[str, float]:
    folder = Path(tempfile.mkdtemp(prefix="agentos-bench-improve-"))
    try:
        config, deps = _world(folder)
        runtime = config.paths.runtime_dir
        _history(runtime, size, NOW)
        scan = lambda when: incident_scanner.run(deps, config, when)  # noqa: E731
        first = _timed(lambda: scan(NOW))
        _history(runtime, 100, NOW + timedelta(days=7, minutes=15), first_issue=900_000)
        steady = _timed(lambda: scan(NOW + timedelta(minutes=15)))
        quiet = _timed(lambda: scan(NOW + timedelta(minutes=30)))
        _history(runtime, 100, NOW + timedelta(days=7, minutes=45), first_issue=910_000)
        steady_mb = _peak_mb(lambda: scan(NOW + timedelta(minutes=45)))
        analyze = _timed(lambda: log_analyzer.run(deps, config, NOW + timedelta(hours=1)))
        analyze_mb = _peak_mb(lambda: log_analyzer.run(deps, config, NOW + timedelta(hours=2)))
        deps.close()
        return {
            "first": first,
            "steady": steady,
            "quiet": quiet,
            "analyze": analyze,
            "steady_mb": steady_mb,
            "analyze_mb": analyze_mb,
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    print(
        f"{'events':>8}  {'first tick':>10}  {'steady':>7}  {'quiet':>6}  {'analyzer':>8}"
        f"  {'steady peak':>11}  {'analyzer peak':>13}"
    )
    results = {}
    for size in SIZES:
        r = results[size] = measure(size)
        print(
            f"{size:>8,}  {r['first']:>9.2f}s  {r['steady']:>6.3f}s  {r['quiet']:>5.3f}s"
            f"  {r['analyze']:>7.3f}s  {r['steady_mb']:>9.1f}MB  {r['analyze_mb']:>11.1f}MB"
        )
    big = results[SIZES[-1]]
    ok = big["steady"] < TARGET_S and big["analyze"] < TARGET_S
    growth = big["steady_mb"] / max(results[SIZES[0]]["steady_mb"], 0.01)
    print(
        f"target: a steady tick and an analyzer tick under {TARGET_S:g} s at {SIZES[-1]:,} "
        f"events: {'met' if ok else 'MISSED'}; steady-tick memory x{growth:.1f} from "
        f"{SIZES[0]:,} to {SIZES[-1]:,} events"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What the outcome ledger costs: 100,000 events across job logs and rooms, read and queried.

The history is written as the code writes it (channel lines of rooms, job log lines, the same
fields), spread over 30 days: 60% in rooms (about 30 lines an attempt: lifecycle, the agent's
tool calls and messages, usage, tests, judgement, half of them failing), 40% in the job logs
(dispatcher, queue, pr_monitor, with crashes, escalations, GitHub errors). Figures:

- the first update of the whole history (a rebuild costs the same);
- an incremental update after 100 new events (in rooms and logs alike), median of five;
- `signal_groups` over the last 1,000 signals and `signal_totals` over a week, median of five;
- peak memory of a first update at 10k, 50k and 100k events, each in a fresh process: the
  Python heap (tracemalloc) and the process's peak RSS (SQLite's own allocations included).

Target: an incremental update plus a group query under 1 s; memory flat as the events grow.
Run: `.venv/bin/python bench/ledger.py [EVENTS]`.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from orchestrator.store.ledger import Ledger  # noqa: E402

TARGET_S = 1.0
T0 = datetime(2026, 11, 1, tzinfo=UTC)
SPAN = timedelta(days=30)
ROOM_LINES = 30  # lines of one attempt's channel
REPOS = ("app", "lib", "web")


def _stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _room(n: int, at: Callable[[], str]) -> Iterator[dict[str, object]]:
    """One attempt's channel lines, shaped as Room.record and Room.sink write them."""
    fails = n % 2 == 0

    def line(event: str, source: str = "orchestrator", **fields: object) -> dict[str, object]:
        return {"ts": at(), "source": source, "event": event, **fields}

    yield line("lifecycle.changed", state="queued", reason="no_blockers")
    yield line("lifecycle.changed", state="developing", reason="implementation")
    yield line("worktree.prepared", path=f"/w/{n}", branch=f"agent/{n}-x", continued=False,
               task_type="implementation")  # fmt: skip
    yield line("attempt.started", "agent", agent="agent", backend="codex", attempt=1)
    yield line("session.started", "agent", agent="agent", session_id=f"s{n}", model="gpt-5")
    for k in range(ROOM_LINES - 13):
        if k % 3 == 0:
            command = json.dumps({"command": f"pytest tests/test_{k}.py -q"})
            yield line("tool.called", "agent", agent="agent", call_id=f"c{k}", name="Bash",
                       arguments=command)  # fmt: skip
        elif k % 3 == 1:
            yield line("tool.returned", "agent", agent="agent", call_id=f"c{k - 1}",
                       output="." * 80 + f"\n{k} passed in 0.{k}s", is_error=False)  # fmt: skip
        else:
            yield line("agent.message", "agent", agent="agent", text=f"Step {k}: editing a.py")
    usage = {"input_tokens": 40_000, "output_tokens": 2_000, "cached_input_tokens": 30_000,
             "cost_usd": None}  # fmt: skip
    yield line("usage.reported", "agent", agent="agent", usage=usage)
    if n % 50 == 0:
        yield line("cooldown.started", "agent", agent="agent", backend="codex",
                   until=at(), reason="rate limit reached")  # fmt: skip
    else:
        yield line("agent.notice", "agent", agent="agent", text="retrying")
    yield line("attempt.finished", "agent", agent="agent", backend="codex", outcome="finished",
               verdict="done", reason="complete")  # fmt: skip
    yield line("chain.finished", end="finished", backend="codex", input_tokens=40_000,
               output_tokens=2_000, cost_usd=None)  # fmt: skip
    tail = f"E   assert {n} == {n + 1}\ntests/test_{n % 7}.py:{n % 90}: AssertionError"
    yield line("tests.finished", command="pytest -q", passed=not fails,
               line="pytest: failed (exit code 1)" if fails else "pytest: passed",
               tail=tail if fails else "")  # fmt: skip
    nxt, reason = ("retry", "partial:test_failure") if fails else ("open_pr", "complete")
    yield line("attempt.judged", next=nxt, reason=reason, files=["a.py"])
    yield line("pr.opened", number=n, url=f"https://github.com/acme/app/pull/{n}")
    yield line("lifecycle.changed", state="queued" if fails else "review", reason=reason)


def _log_line(job: str, i: int, at: Callable[[], str]) -> dict[str, object]:
    """One job log line, as store.logs' JsonFormatter writes it."""
    head = {"ts": at(), "level": "info", "job": job, "run_id": f"r-{i:08x}"}
    repo = REPOS[i % 3]
    if i % 97 == 0:
        return {**head, "level": "error", "event": "run.crashed", "outcome": "crashed",
                "duration_ms": 40, "error": f"OSError: [Errno 28] No space left on device {i}",
                "traceback": "Traceback ..."}  # fmt: skip
    if i % 89 == 0:
        return {**head, "level": "warning", "event": "task.escalated", "issue": i,
                "repo": f"acme/{repo}", "task_id": f"{repo}-{i}-g1-a3",
                "reason": "same_failure_twice"}  # fmt: skip
    if i % 83 == 0:
        error = f"502 Bad Gateway for https://api.github.com/repos/acme/{repo}/pulls/{i}"
        return {**head, "level": "warning", "event": "pr.failed", "pr": i, "repo": f"acme/{repo}",
                "error": error}  # fmt: skip
    if job == "pr_monitor" and i % 7 == 0:
        return {**head, "event": "pr.merged", "pr": i, "issue": i, "repo": f"acme/{repo}",
                "sha": f"{i:040x}"}  # fmt: skip
    if job == "dispatcher" and i % 5 == 0:
        return {**head, "event": "task.queued", "issue": i, "repo": repo,
                "task_id": f"{repo}-{i}-g1-a1", "reason": "no_blockers", "priority": 1}  # fmt: skip
    return {**head, "event": "run.finished", "outcome": "ok", "duration_ms": 412, "queued": 0}


class History:
    """Writes events in the order they happen, each file appended in blocks."""

    def __init__(self, runtime: Path, total: int) -> None:
        self.runtime, self.total, self.written = runtime, total, 0
        self.rooms = 0
        self.log_lines = 0

    def clock(self) -> str:
        self.written += 1
        return _stamp(T0 + SPAN * (self.written / self.total))

    def write(self, events: int) -> None:
        """Write about `events` more events: 60% in new rooms, 40% across the job logs."""
        goal = self.written + events
        logs: dict[str, list[str]] = {}
        while self.written < goal:
            if (self.written % 10) < 6:
                self.rooms += 1
                n = self.rooms
                room = self.runtime / "rooms" / f"{REPOS[n % 3]}-{n}-g1-a1"
                room.mkdir(parents=True, exist_ok=True)
                text = "".join(json.dumps(e) + "\n" for e in _room(n, self.clock))
                with (room / "channel.jsonl").open("a") as f:
                    f.write(text)
            else:
                for _ in range(4):
                    self.log_lines += 1
                    job = ("dispatcher", "queue", "pr_monitor")[self.log_lines % 3]
                    line = _log_line(job, self.log_lines, self.clock)
                    logs.setdefault(job, []).append(json.dumps(line) + "\n")
        folder = self.runtime / "logs"
        folder.mkdir(parents=True, exist_ok=True)
        for job, lines in logs.items():
            with (folder / f"{job}.jsonl").open("a") as f:
                f.write("".join(lines))


def _median(work: Callable[[], object], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def child(runtime: Path) -> None:
    """Bring a fresh ledger of `runtime` up to date: print seconds, events, peaks (KiB)."""
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    start = time.perf_counter()
    read = Ledger(runtime).update()
    took = time.perf_counter() - start
    _, heap = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"read": read, "s": took, "heap": heap >> 10, "rss": rss, "base": base}))


def _peaks(scratch: Path) -> list[tuple[int, dict[str, float]]]:
    """A history grown to 10k, 50k and 100k events, each read whole by a fresh process."""
    runtime = scratch / "runtime"
    history = History(runtime, 100_000)
    found = []
    for events in (10_000, 50_000, 100_000):
        history.write(events - history.written)
        (runtime / "ledger.sqlite").unlink(missing_ok=True)
        for suffix in ("-wal", "-shm"):
            (runtime / f"ledger.sqlite{suffix}").unlink(missing_ok=True)
        done = subprocess.run(
            [sys.executable, __file__, "--child", str(runtime)],
            capture_output=True,
            text=True,
            check=True,
        )
        found.append((events, json.loads(done.stdout)))
    return found


def main(total: int) -> int:
    with tempfile.TemporaryDirectory() as scratch:
        runtime = Path(scratch) / "runtime"
        history = History(runtime, total + 1000)
        history.write(total)
        ledger = Ledger(runtime)
        start = time.perf_counter()
        read = ledger.update()
        first = time.perf_counter() - start
        signals = ledger.last_signal_id()

        def grow_and_update() -> None:
            history.write(100)
            ledger.update()

        incremental = _median(grow_and_update)
        last = ledger.last_signal_id()
        groups = _median(lambda: ledger.signal_groups(max(0, last - 1000), last))
        week = _stamp(T0 + SPAN - timedelta(days=7))
        totals = _median(lambda: ledger.signal_totals(week))
        counted = sum(g.count for g in ledger.signal_totals(week))
        size = ledger.path.stat().st_size >> 20
    print(f"history: {read:,} events ({history.rooms:,} rooms), {signals:,} signals, db {size} MiB")
    print(f"first update, all {total:,} events:        {first:7.2f} s")
    print(f"incremental update, 100 new events:      {incremental * 1000:7.1f} ms")
    print(f"signal_groups over the last 1,000:        {groups * 1000:7.1f} ms")
    print(f"signal_totals over a week ({counted:,} signals): {totals * 1000:7.1f} ms")
    with tempfile.TemporaryDirectory() as scratch:
        peaks = _peaks(Path(scratch))
    print("a first update's peak memory, each in a fresh process (traced, so slower):")
    for events, m in peaks:
        print(
            f"  {events:>7,} events: {m['s']:6.2f} s, Python heap peak {m['heap'] / 1024:5.1f} MiB,"
            f" process RSS peak {m['rss'] / 1024:5.1f} MiB ({m['base'] / 1024:.1f} after imports)"
        )
    ok = incremental + groups < TARGET_S
    print(
        f"target: an incremental update plus a group query under {TARGET_S:.0f} s: "
        f"{'met' if ok else 'MISSED'} ({(incremental + groups) * 1000:.0f} ms)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(Path(sys.argv[2]))
        sys.exit(0)
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))

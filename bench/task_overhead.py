"""What the delivery loop costs around the agent: from a task file in the inbox to its PR opened.

Everything is real but GitHub, which is the sandbox in a process of its own: `bin/agentos run
queue` as cron starts it, a worker process per task, the shared clone of a repo with 10,000
commits (made with `git fast-import`), a `command` agent that only writes a file and its
contract, the push over smart HTTP, the PR through PyGithub with GitHub's 1 s gap between writes.

1. Overhead per task: one task per queue tick, in turn; overhead = (PR opened - tick started)
   - the agent's own run. Target: <= 1.5 s. The first task also makes the shared clone, so it is
   shown apart.
2. Parallelism: 8 independent issues of one repo, an agent that sleeps 20 s, 4 workers.
   Target: the 8 finish within 2.3x the time one such task takes alone.

Run: `.venv/bin/python bench/task_overhead.py [COMMITS] [TASKS] [SLEEP_S]` (defaults 10000 5 20).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from orchestrator.adapters.github import GitHubTracker  # noqa: E402
from orchestrator.config.model import GitHubConfig, Secret  # noqa: E402
from orchestrator.sandbox.github import Sandbox  # noqa: E402
from orchestrator.sandbox.github.cli import separate_process  # noqa: E402

from worktrees import make_remote  # noqa: E402

REPO, TOKEN = "agentos/app", "ghp_" + "c" * 36
AGENT = """#!/bin/sh
# A no-op agent: sleep if told to, leave one new file and the result contract.
sleep "$2"
echo "$AGENTOS_TASK_ID" > "$1/done-$AGENTOS_TASK_ID.txt"
printf 'STATUS: complete\\nBLOCKER_CODE: none\\nSUMMARY: Wrote one file.\\n' > "$1/.agent_result.md"
"""
TARGET_OVERHEAD, TARGET_RATIO = 1.5, 2.3


def seed(data: Path, remote: Path) -> None:
    """Create the repo in the sandbox and push the 10,000-commit history to it."""
    with Sandbox(data, token=TOKEN) as sandbox:
        sandbox.create_repo(REPO, auto_init=False)
        subprocess.run(
            ["git", "push", "-q", sandbox.clone_url(REPO), "main:refs/heads/main"],
            cwd=remote,
            check=True,
        )


def write_config(root: Path, base: str, workers: int) -> Path:
    """The config: one repo on labels, the no-op agent, production limits.

    The agent's argv is the worktree and the seconds to sleep.
    """
    agent = root / "agent.sh"
    agent.write_text(AGENT)
    data = {
        "repos": [
            {"key": "app", "github": REPO, "base_branch": "main", "max_parallel_tasks": workers}
        ],
        "github": {
            "token": "$GITHUB_TOKEN",
            "api_url": f"{base}/api/v3",
            "graphql_url": f"{base}/api/graphql",
        },
        "agents": {
            "backends": {
                "noop": {
                    "type": "command",
                    "timeout_minutes": 5,
                    "argv": ["/bin/sh", str(agent), "{worktree}", "0"],
                },
                "sleeper": {
                    "type": "command",
                    "timeout_minutes": 5,
                    "argv": ["/bin/sh", str(agent), "{worktree}", "SLEEP"],
                },
            },
            "chains": {"default": ["noop"]},
        },
        "limits": {"max_parallel_workers": workers},
        "paths": {
            "runtime_dir": str(root / "runtime"),
            "worktrees_dir": str(root / "runtime" / "worktrees"),
        },
    }
    path = root / f"config-{workers}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def use_agent(config: Path, name: str, sleep: float) -> None:
    data = yaml.safe_load(config.read_text())
    data["agents"]["chains"] = {"default": [name]}
    argv = data["agents"]["backends"]["sleeper"]["argv"]
    argv[-1] = str(sleep)
    config.write_text(yaml.safe_dump(data, sort_keys=False))


def agentos(config: Path, env: dict[str, str], *words: str) -> None:
    subprocess.run(
        [str(ROOT / "bin" / "agentos"), "--config", str(config), *words],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def queue_tick(config: Path, env: dict[str, str]) -> datetime:
    """Run one queue tick as cron does; return when it was started."""
    started = datetime.now(UTC)
    agentos(config, env, "run", "queue")
    return started


def room_events(runtime: Path, task_id: str) -> dict[str, datetime]:
    """The first time each event appears in the task's channel (the last, for attempt.finished)."""
    found: dict[str, datetime] = {}
    for line in (runtime / "rooms" / task_id / "channel.jsonl").read_text().splitlines():
        event = json.loads(line)
        at = datetime.fromisoformat(event["ts"].replace("Z", "+00:00"))
        if event["event"] not in found or event["event"] == "attempt.finished":
            found[event["event"]] = at
    return found


def log_events(runtime: Path, name: str) -> list[dict[str, Any]]:
    lines = (runtime / "logs" / "queue.jsonl").read_text().splitlines()
    return [e for e in map(json.loads, lines) if e["event"] == name]


def breakdown(runtime: Path, task_id: str, started: datetime) -> dict[str, float]:
    """Seconds of each stretch from the tick's start to the PR, the agent's run apart."""
    room = room_events(runtime, task_id)
    spawned = next(
        datetime.fromisoformat(e["ts"].replace("Z", "+00:00"))
        for e in log_events(runtime, "task.started")
        if e["task_id"] == task_id
    )
    marks = [
        ("supervisor start, claim", started, spawned),
        ("worker start, issue read", spawned, room["lifecycle.changed"]),
        ("fetch + worktree", room["lifecycle.changed"], room["worktree.prepared"]),
        ("prompt", room["worktree.prepared"], room["attempt.started"]),
        ("agent", room["attempt.started"], room["attempt.finished"]),
        ("commit + push", room["attempt.finished"], room["attempt.judged"]),
        ("open PR", room["attempt.judged"], room["pr.opened"]),
    ]
    return {name: (end - begin).total_seconds() for name, begin, end in marks}


def new_issues(tracker: GitHubTracker, count: int, label: str) -> list[int]:
    return [
        tracker.create_issue(
            REPO, f"{label} {n}", "## Goal\nWrite one file.\n", ["status:ready"]
        ).number
        for n in range(count)
    ]


def overhead(
    root: Path, config: Path, env: dict[str, str], tracker: GitHubTracker, tasks: int
) -> bool:
    """Part 1: tasks one at a time, each from its task file to its PR."""
    runtime = root / "runtime"
    rows = []
    for n in range(tasks + 1):
        [number] = new_issues(tracker, 1, f"Overhead {n}")
        agentos(config, env, "run", "dispatcher")  # writes the task file: not timed
        started = queue_tick(config, env)
        rows.append(breakdown(runtime, f"app-{number}-g1-a1", started))
    first, rest = rows[0], rows[1:]
    print(
        f"first task (makes the shared clone of the 10,000 commits): "
        f"{sum(first.values()) - first['agent']:.2f} s overhead, "
        f"{first['fetch + worktree']:.2f} s of it git"
    )
    print(f"next {len(rest)} tasks, median seconds per stretch:")
    for name in first:
        values = [r[name] for r in rest]
        print(f"  {name:26} {statistics.median(values):6.3f}   (max {max(values):.3f})")
    per_task = [sum(r.values()) - r["agent"] for r in rest]
    median = statistics.median(per_task)
    print(
        f"overhead per task, task file -> PR opened: median {median:.2f} s, "
        f"max {max(per_task):.2f} s "
        f"(target <= {TARGET_OVERHEAD} s)"
    )
    return median <= TARGET_OVERHEAD


def finished_at(runtime: Path, task_ids: set[str]) -> datetime:
    ends = [
        datetime.fromisoformat(e["ts"].replace("Z", "+00:00"))
        for e in log_events(runtime, "task.finished")
        if e["task_id"] in task_ids
    ]
    assert len(ends) == len(task_ids), f"{len(ends)} of {len(task_ids)} tasks finished"
    return max(ends)


def parallel(
    root: Path, env: dict[str, str], tracker: GitHubTracker, base: str, sleep: float
) -> bool:
    """Part 2: one sleeping task alone, then 8 at once under 4 workers."""
    runtime = root / "runtime"
    queue_config, dispatch_config = write_config(root, base, 4), write_config(root, base, 8)
    for config in (queue_config, dispatch_config):
        use_agent(config, "sleeper", sleep)
    [alone] = new_issues(tracker, 1, "Alone")
    agentos(dispatch_config, env, "run", "dispatcher")
    started = queue_tick(queue_config, env)
    one = (finished_at(runtime, {f"app-{alone}-g1-a1"}) - started).total_seconds()
    numbers = new_issues(tracker, 8, "Parallel")
    agentos(dispatch_config, env, "run", "dispatcher")  # room for all 8 task files at once
    started = queue_tick(queue_config, env)
    ids = {f"app-{n}-g1-a1" for n in numbers}
    eight = (finished_at(runtime, ids) - started).total_seconds()
    opened = max(room_events(runtime, t)["pr.opened"] for t in ids)
    print(f"one task with a {sleep:.0f} s agent, tick start -> task finished: {one:.1f} s")
    print(
        f"8 such tasks under 4 workers: {eight:.1f} s "
        f"({eight / one:.2f}x one task; target <= {TARGET_RATIO}x); "
        f"last PR opened after {(opened - started).total_seconds():.1f} s"
    )
    return eight <= TARGET_RATIO * one


def main(commits: int = 10_000, tasks: int = 5, sleep: float = 20.0) -> int:
    with tempfile.TemporaryDirectory(prefix="bench-overhead-") as folder:
        root = Path(folder)
        env = {
            "PATH": os.environ["PATH"],
            "HOME": folder,
            "LANG": "C.UTF-8",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GITHUB_TOKEN": TOKEN,
        }
        os.environ.update({k: v for k, v in env.items() if k != "GITHUB_TOKEN"})
        made = time.perf_counter()
        make_remote(root / "remote.git", commits)
        seed(root / "sandbox", root / "remote.git")
        print(
            f"repo: {commits} commits, made and pushed to the sandbox in "
            f"{time.perf_counter() - made:.1f} s"
        )
        with separate_process(root / "sandbox", TOKEN, ROOT) as base:
            tracker = GitHubTracker(
                GitHubConfig(
                    Secret("GITHUB_TOKEN", TOKEN), f"{base}/api/v3", f"{base}/api/graphql", ()
                ),
                throttle=False,
            )
            ok = overhead(root, write_config(root, base, 4), env, tracker, tasks)
            ok = parallel(root, env, tracker, base, sleep) and ok
            tracker.close()
        print("targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(*(int(a) for a in sys.argv[1:3]), *(float(a) for a in sys.argv[3:4])))

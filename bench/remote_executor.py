"""What a remote executor costs at home: per task, and per running task at scale.

Everything is real but the engines, which are the sandboxes: the GitHub sandbox (its Actions
runner executes the installed workflow's steps on this host) and the Kubernetes stand-in (a
Job's containers run on this host), both in this process; `bin/agentos run queue` as cron starts
it, a worker process per task, the push over smart HTTP, the PR through PyGithub.

1. Overhead per task, one task per queue tick, in turn, with a no-op agent, for each executor:
   queue tick started -> PR opened. For a remote executor it includes the prompt's ref pushed,
   the dispatch or the Job, the engine's queue and checkout, the parcel collected and applied
   (`poll_seconds` 0.5: a run is noticed at most that late).
2. Scale: MANY Ready issues through a SLOTS-slot Kubernetes executor, an agent that sleeps
   SLEEP_S: wall time, the most tasks running at once, and what the supervisor and its workers
   cost this machine per running task (CPU seconds and resident memory, read from /proc every
   half second). A worker lives to start its run and again to collect it; while the run goes
   on the task is parked and only the supervisor follows it. The agents themselves run on this
   host here (the stand-in runs pods locally); on a real cluster they would not.

Run: `.venv/bin/python bench/remote_executor.py [TASKS] [MANY] [SLOTS] [SLEEP_S]`
(defaults 3 50 20 20).
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kubernetes import client, config  # noqa: E402

from orchestrator.adapters.github import GitHubTracker  # noqa: E402
from orchestrator.config.model import GitHubConfig, Secret  # noqa: E402
from orchestrator.sandbox.github import Sandbox  # noqa: E402
from orchestrator.sandbox.kubernetes import KubernetesSandbox  # noqa: E402

REPO, TOKEN = "agentos/app", "ghp_" + "r" * 36
AGENT = """#!/bin/sh
# A no-op agent: sleep if told to, leave one new file and the result contract.
sleep "$1"
echo "$AGENTOS_TASK_ID" > "done-$AGENTOS_TASK_ID.txt"
printf 'STATUS: complete\\nBLOCKER_CODE: none\\nSUMMARY: Wrote one file.\\n' > .agent_result.md
"""
CLK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def write_config(root: Path, sandbox: Sandbox, kube: KubernetesSandbox, sleep: float) -> Path:
    agent = root / "agent.sh"
    agent.write_text(AGENT)
    command = f"sh {agent} {sleep}"
    data: dict[str, Any] = {
        "repos": [{"key": "app", "github": REPO, "base_branch": "main", "max_parallel_tasks": 4}],
        "github": {
            "token": "$GITHUB_TOKEN",
            "api_url": sandbox.api_url,
            "graphql_url": sandbox.graphql_url,
        },
        "agents": {
            "backends": {
                "noop": {
                    "type": "command",
                    "timeout_minutes": 5,
                    "argv": ["/bin/sh", str(agent), "0"],
                }
            },
            "chains": {"default": ["noop"]},
        },
        "executors": {
            "actions": {"kind": "github_actions", "command": command, "poll_seconds": 0.5},
            "cluster": {
                "kind": "kubernetes",
                "command": command,
                "poll_seconds": 0.5,
                "kubernetes": {
                    "image": "agentos/agent:bench",
                    "kubeconfig": str(kube.kubeconfig_path()),
                },
            },
        },
        "limits": {"max_parallel_workers": 4},
        "paths": {
            "runtime_dir": str(root / "runtime"),
            "worktrees_dir": str(root / "runtime" / "worktrees"),
        },
    }
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def edit(
    path: Path,
    executor: str,
    *,
    slots: int | None = None,
    per_repo: int = 4,
    sleep: float | None = None,
) -> None:
    data = yaml.safe_load(path.read_text())
    data["repos"][0]["executor"] = executor
    data["repos"][0]["max_parallel_tasks"] = per_repo
    for entry in data["executors"].values():
        if slots is not None:
            entry["slots"] = slots
        if sleep is not None:
            entry["command"] = entry["command"].rsplit(" ", 1)[0] + f" {sleep}"
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def agentos(config_path: Path, env: dict[str, str], *words: str) -> None:
    subprocess.run(
        [str(ROOT / "bin" / "agentos"), "--config", str(config_path), *words],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def room(runtime: Path, task_id: str) -> dict[str, datetime]:
    found: dict[str, datetime] = {}
    for line in (runtime / "rooms" / task_id / "channel.jsonl").read_text().splitlines():
        event = json.loads(line)
        found.setdefault(event["event"], datetime.fromisoformat(event["ts"].replace("Z", "+00:00")))
    return found


def overhead(
    root: Path, path: Path, env: dict[str, str], tracker: GitHubTracker, tasks: int
) -> dict[str, float]:
    """Part 1: each executor in turn, one task per tick; return the median tick -> PR opened."""
    medians = {}
    for executor in ("local", "actions", "cluster"):
        edit(path, executor)
        times = []
        for n in range(tasks):
            number = tracker.create_issue(
                REPO, f"{executor} {n}", "## Goal\nOne file.\n", ["status:ready"]
            ).number
            agentos(path, env, "run", "dispatcher")
            started = datetime.now(UTC)
            agentos(path, env, "run", "queue")
            opened = room(root / "runtime", f"app-{number}-g1-a1").get("pr.opened")
            assert opened is not None, f"{executor}: task {number} opened no PR"
            times.append((opened - started).total_seconds())
        medians[executor] = statistics.median(times)
        print(
            f"  {executor:8} tick -> PR opened: median {medians[executor]:5.2f} s "
            f"(max {max(times):.2f} s, {tasks} tasks)"
        )
    return medians


def proc(pid: int) -> tuple[int, float, int] | None:
    """Return (parent pid, CPU seconds, resident bytes) of a live process, or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        statm = Path(f"/proc/{pid}/statm").read_text().split()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / CLK, int(statm[1]) * PAGE


class Sampler(threading.Thread):
    """Every half second: the supervisor's CPU and memory, its workers' (its direct children),
    the tasks in processing/ and the Jobs on the cluster."""

    def __init__(self, supervisor: int, kube: KubernetesSandbox, processing: Path) -> None:
        super().__init__(daemon=True)
        self.supervisor, self.kube, self.done = supervisor, kube, threading.Event()
        self.processing = processing
        self.cpu: dict[int, float] = {}  # pid -> last CPU seconds seen
        # (worker processes, their rss, the supervisor's rss, tasks in processing/, Jobs)
        self.samples: list[tuple[int, int, int, int, int]] = []

    def run(self) -> None:
        while not self.done.wait(0.5):
            me = proc(self.supervisor)
            if me is None:
                return
            self.cpu[self.supervisor] = me[1]
            workers, rss = 0, 0
            for entry in os.listdir("/proc"):
                if entry.isdigit() and (info := proc(int(entry))) and info[0] == self.supervisor:
                    workers, rss = workers + 1, rss + info[2]
                    self.cpu[int(entry)] = info[1]
            running = len(list(self.processing.glob("*.md")))
            self.samples.append((workers, rss, me[2], running, len(self.kube.jobs())))


def scale(
    root: Path,
    path: Path,
    env: dict[str, str],
    tracker: GitHubTracker,
    kube: KubernetesSandbox,
    many: int,
    slots: int,
    sleep: float,
) -> None:
    """Part 2: `many` issues through a `slots`-slot Kubernetes executor."""
    edit(path, "cluster", slots=many, per_repo=many, sleep=sleep)  # the dispatcher queues all
    numbers = [
        tracker.create_issue(REPO, f"Scale {n}", "## Goal\nOne file.\n", ["status:ready"]).number
        for n in range(many)
    ]
    agentos(path, env, "run", "dispatcher")
    edit(path, "cluster", slots=slots, per_repo=many)
    mailbox = root / "runtime" / "mailbox"
    began = time.monotonic()
    supervisor = subprocess.Popen(
        [str(ROOT / "bin" / "agentos"), "--config", str(path), "run", "queue"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    sampler = Sampler(supervisor.pid, kube, mailbox / "processing")
    sampler.start()
    supervisor.wait()
    wall = time.monotonic() - began
    sampler.done.set()
    sampler.join()
    delivered = sum(1 for n in numbers if (mailbox / "delivered" / f"app-{n}-g1-a1.md").exists())
    busy = [s for s in sampler.samples if s[0] >= 1]
    peak = max(s[3] for s in busy)
    per_worker = statistics.median(s[1] / s[0] for s in busy) / 2**20
    supervisor_rss = max(s[2] for s in sampler.samples) / 2**20
    supervisor_cpu = sampler.cpu.get(supervisor.pid, 0.0)
    workers_cpu = sum(v for pid, v in sampler.cpu.items() if pid != supervisor.pid)
    best = sleep * math.ceil(many / slots)
    print(
        f"  {delivered} of {many} delivered in {wall:.1f} s "
        f"({sleep:.0f} s agent, {slots} at a time: {best:.0f} s of agent time at best)"
    )
    print(
        f"  tasks running at once: at most {peak} (slots {slots}); Jobs on the cluster at most "
        f"{max(s[4] for s in busy)}; worker processes at most {max(s[0] for s in busy)} "
        "(an ending worker outlives its task's move by a moment)"
    )
    print(
        f"  supervisor: {supervisor_cpu:.1f} CPU s in all ({supervisor_cpu / many * 1000:.0f} ms "
        f"per task), peak RSS {supervisor_rss:.0f} MB"
    )
    print(
        f"  worker processes (alive to prepare and start a run, then to collect it; none while "
        f"it runs): median RSS {per_worker:.0f} MB each; their CPU {workers_cpu:.1f} s in all, "
        f"{workers_cpu / many:.2f} s per task (prepare, push, start, collect, PR)"
    )
    waiting = [s for s in sampler.samples if s[3] >= slots]
    if waiting:
        held = statistics.median(s[1] for s in waiting) / 2**20
        alive = statistics.median(s[0] for s in waiting)
        print(
            f"  with all {slots} slots busy (median of {len(waiting)} samples): {alive:.0f} worker "
            f"processes alive, {held:.0f} MB of worker memory in all ({held / slots:.1f} MB per "
            f"running task), supervisor {supervisor_rss:.0f} MB"
        )
    assert delivered == many, f"only {delivered} of {many} delivered"


def main(tasks: int = 3, many: int = 50, slots: int = 20, sleep: float = 20.0) -> int:
    with tempfile.TemporaryDirectory(prefix="bench-remote-") as folder:
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
        with (
            Sandbox(
                root / "github", token=TOKEN, scopes=("repo", "project", "read:org", "workflow")
            ) as sandbox,
            KubernetesSandbox(root / "kube") as kube,
        ):
            sandbox.create_repo(REPO)
            reader = sandbox.add_user("reader")
            api = config.new_client_from_config(config_file=str(kube.kubeconfig_path()))
            secret = {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "agentos-git"},
                "stringData": {"token": reader},
            }
            client.CoreV1Api(api).create_namespaced_secret("default", secret)
            path = write_config(root, sandbox, kube, 0)
            edit(path, "actions")
            agentos(path, env, "executor", "install", "app")
            tracker = GitHubTracker(
                GitHubConfig(
                    Secret("GITHUB_TOKEN", TOKEN), sandbox.api_url, sandbox.graphql_url, ()
                ),
                throttle=False,
            )
            tracker.ensure_labels(REPO, {"status:ready": "ededed"})
            print(f"1. overhead per task, no-op agent, one task per queue tick ({tasks} each):")
            medians = overhead(root, path, env, tracker, tasks)
            for name in ("actions", "cluster"):
                print(f"  {name}: {medians[name] - medians['local']:+.2f} s per task against local")
            print(
                f"2. {many} Ready issues through a {slots}-slot Kubernetes executor, "
                f"{sleep:.0f} s agent:"
            )
            scale(root, path, env, tracker, kube, many, slots, sleep)
            tracker.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*(float(a) if "." in a else int(a) for a in sys.argv[1:])))  # type: ignore[arg-type]

"""Ready → agent started under `agentos serve`: by a signed webhook, and by polling.

Everything is real but GitHub, which is the sandbox in this process (it sends signed webhooks as
GitHub does, to a repository hook): `bin/agentos serve` as a child process, its dispatcher and
queue ticks as child processes, a `command` agent. An issue is opened with the Ready label (a label
board, announced by `issues` webhooks); the time measured runs from that request to the agent's
`attempt.started` in its room. Targets: <= 5 s with webhooks, <= 30 s polling.

Run: `.venv/bin/python bench/serve_latency.py [ISSUES] [POLL_SECONDS]` (defaults 3 20).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from orchestrator.adapters.github import GitHubTracker  # noqa: E402
from orchestrator.config.model import GitHubConfig, Secret  # noqa: E402
from orchestrator.sandbox.github import Sandbox  # noqa: E402

REPO, SECRET = "acme/app", "bench-webhook-secret"
AGENT = """#!/bin/sh
n=$(echo "$AGENTOS_TASK_ID" | cut -d- -f2)
echo "$n" > "$1/f$n.txt"
printf 'STATUS: complete\\nBLOCKER_CODE: none\\nSUMMARY: Wrote one file.\\n' > "$1/.agent_result.md"
"""
TARGETS = {"webhook": 5.0, "poll": 30.0}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def started_at(room: Path, timeout: float) -> float | None:
    """Wait for the room's `attempt.started`; return when it was seen (monotonic), or None."""
    deadline = time.monotonic() + timeout
    channel = room / "channel.jsonl"
    while time.monotonic() < deadline:
        if channel.exists() and '"attempt.started"' in channel.read_text():
            return time.monotonic()
        time.sleep(0.05)
    return None


def run_mode(root: Path, mode: str, issues: int, poll: float) -> list[float]:
    root.mkdir(parents=True)
    sandbox = Sandbox(root / "github", strict=True, login="acme")
    sandbox.start()
    try:
        return _measure(root, sandbox, mode, issues, poll)
    finally:
        sandbox.stop()


def _measure(root: Path, sandbox: Sandbox, mode: str, issues: int, poll: float) -> list[float]:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(root / "home"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GITHUB_TOKEN": sandbox.token,
        "WEBHOOK_SECRET": SECRET,
        "LANG": "C.UTF-8",
    }
    (root / "home").mkdir()
    sandbox.create_repo(REPO, auto_init=True)
    agent = root / "agent.sh"
    agent.write_text(AGENT)
    agent.chmod(0o755)
    port = free_port()
    data: dict[str, Any] = {
        "repos": [{"key": "app", "github": REPO, "test_command": "true"}],
        "github": {
            "token": "$GITHUB_TOKEN",
            "api_url": sandbox.api_url,
            "graphql_url": sandbox.graphql_url,
            "seconds_between_writes": 0,
        },
        "agents": {
            "backends": {"noop": {"type": "command", "argv": [str(agent), "{worktree}"]}},
            "chains": {"default": ["noop"]},
            "isolation": "none",
        },
        "paths": {"runtime_dir": str(root / "runtime")},
        "webhooks": {"secret": "$WEBHOOK_SECRET", "port": port},
    }
    config = root / "config.yaml"
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    tracker = GitHubTracker(
        GitHubConfig(Secret("T", sandbox.token), sandbox.api_url, sandbox.graphql_url, ()),
        throttle=False,
    )
    tracker.ensure_labels(REPO, {"status:ready": "ededed"})
    if mode == "webhook":
        repo = sandbox_repo(sandbox)
        url = f"http://127.0.0.1:{port}/github"
        repo.create_hook("web", {"url": url, "secret": SECRET, "content_type": "json"}, ["issues"])
        args = ["--webhooks"]
    else:
        args = ["--poll", str(poll)]
    argv = [sys.executable, "-m", "orchestrator.cli.main", "--config", str(config), "serve"]
    serve = subprocess.Popen(
        [*argv, *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    latencies = []
    try:
        time.sleep(3)  # serve up, its first ticks done
        for n in range(issues):
            before = time.monotonic()
            issue = tracker.create_issue(REPO, f"Write f{n}", "", labels=["status:ready"])
            room = root / "runtime" / "rooms" / f"app-{issue.number}-g1-a1"
            seen = started_at(room, timeout=120)
            latencies.append((seen or float("inf")) - before)
            time.sleep(1)
    finally:
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(120)
        except subprocess.TimeoutExpired:
            serve.kill()
        tracker.close()
    return latencies


def sandbox_repo(sandbox: Sandbox) -> Any:
    from github import Auth, Github

    return Github(auth=Auth.Token(sandbox.token), base_url=sandbox.api_url).get_repo(REPO)


def main() -> int:
    issues = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    poll = float(sys.argv[2]) if len(sys.argv) > 2 else 20.0
    results = {}
    with tempfile.TemporaryDirectory(prefix="agentos-bench-serve-") as tmp:
        for mode in ("webhook", "poll"):
            results[mode] = run_mode(Path(tmp) / mode, mode, issues, poll)
    print(f"Ready -> agent started under `agentos serve` ({issues} issues each; poll {poll:g} s)")
    for mode, got in results.items():
        target = TARGETS[mode]
        worst = max(got)
        print(
            f"  {mode:8} median {statistics.median(got):5.1f} s  max {worst:5.1f} s  "
            f"(target <= {target:g} s: {'met' if worst <= target else 'MISSED'})"
        )
    print(json.dumps({m: [round(x, 2) for x in v] for m, v in results.items()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

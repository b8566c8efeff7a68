"""Six green PRs to one protected base: merged one by one, against merged by one merge train.

Everything is real but GitHub, which is the sandbox in this process: `bin/agentos run` for the
dispatcher, the queue and the PR monitor, a `command` agent that adds one file of its own per
issue (so no two PRs conflict), the sandbox's CI (a test run that takes CI_SECONDS) on PR heads
and on pushes to `agentos/train/**`, and a base branch that requires the `sandbox-ci` check,
strictly (a PR must be up to date with the base to merge), as careful teams protect it.

One by one (`merge_train: false`), each merge leaves the others behind the base: each is rebased,
its CI runs again, and the next merges. By train, the six are merged onto the base together, CI
runs once on the train, and the base is fast-forwarded to it.

Printed per mode: the CI runs after the six PRs were green, the PR monitor ticks, and the wall
time from the first tick to the last PR merged (each tick waits for CI to go idle, as a tick
five minutes later would find it). Targets: CI runs by train <= 2 (instead of one per PR at
least), wall time by train <= half of one by one.

Run: `.venv/bin/python bench/train.py [PRS] [CI_SECONDS]` (defaults 6 2).
"""

from __future__ import annotations

import json
import os
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

REPO = "acme/app"
AGENT = """#!/bin/sh
# Adds one module of its own (named by the issue) and the result contract.
n=$(echo "$AGENTOS_TASK_ID" | cut -d- -f2)
mkdir -p "$1/calc"
printf 'def f%s(x):\\n    return x + %s\\n' "$n" "$n" > "$1/calc/f$n.py"
printf 'STATUS: complete\\nBLOCKER_CODE: none\\nSUMMARY: Added calc/f%s.py.\\n' "$n" \\
  > "$1/.agent_result.md"
"""
TARGET_RUNS, TARGET_RATIO = 2, 0.5


def git(*args: str, cwd: Path, env: dict[str, str]) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    ).stdout


def agentos(config: Path, env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "orchestrator.cli.main", "--config", str(config), *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )


def run_mode(root: Path, prs: int, ci_seconds: float, train: bool) -> dict[str, Any]:
    root.mkdir(parents=True)
    sandbox = Sandbox(root / "github", strict=True, login="acme")
    sandbox.start()
    try:
        return _measure(root, sandbox, prs, ci_seconds, train)
    finally:
        sandbox.stop()


def _measure(
    root: Path, sandbox: Sandbox, prs: int, ci_seconds: float, train: bool
) -> dict[str, Any]:
    home = root / "home"
    home.mkdir()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": "Dev",
        "GIT_AUTHOR_EMAIL": "dev@example.com",
        "GIT_COMMITTER_NAME": "Dev",
        "GIT_COMMITTER_EMAIL": "dev@example.com",
        "GITHUB_TOKEN": sandbox.token,
        "LANG": "C.UTF-8",
    }
    sandbox.create_repo(REPO, auto_init=False)
    seed = root / "seed"
    seed.mkdir()
    (seed / "calc").mkdir()
    (seed / "calc" / "__init__.py").write_text("")
    git("init", "-q", "-b", "main", cwd=seed, env=env)
    git("add", "-A", cwd=seed, env=env)
    git("commit", "-q", "-m", "Initial commit", cwd=seed, env=env)
    git("push", "-q", sandbox.clone_url(REPO), "HEAD:refs/heads/main", cwd=seed, env=env)
    test = f"sleep {ci_seconds} && {sys.executable} -c 'import calc'"
    sandbox.set_ci(REPO, test, push_branches=("agentos/train/*",))
    _protect(sandbox)
    agent = root / "agent.sh"
    agent.write_text(AGENT)
    agent.chmod(0o755)
    config = root / "config.yaml"
    repo = {
        "key": "app",
        "github": REPO,
        "test_command": f"{sys.executable} -c 'import calc'",
        "max_parallel_tasks": prs,
        "merge_method": "merge",
        "merge_train": train,
    }
    config.write_text(
        yaml.safe_dump(
            {
                "repos": [repo],
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
                "limits": {"max_parallel_workers": prs, "checks_grace_minutes": 0},
                "paths": {"runtime_dir": str(root / "runtime")},
            },
            sort_keys=False,
        )
    )
    tracker = GitHubTracker(
        GitHubConfig(Secret("T", sandbox.token), sandbox.api_url, sandbox.graphql_url, ()),
        throttle=False,
    )
    for n in range(prs):
        tracker.create_issue(REPO, f"Add f{n + 1}", "", labels=["status:ready"])
    agentos(config, env, "run", "dispatcher")
    agentos(config, env, "run", "queue")
    sandbox.wait_ci_idle(600)
    assert len(tracker.open_pulls(REPO)) == prs, "every task should have opened its PR"
    before, ticks, started = _ci_runs(sandbox), 0, time.monotonic()
    while tracker.open_pulls(REPO) and ticks < 40:
        agentos(config, env, "run", "pr_monitor")
        ticks += 1
        sandbox.wait_ci_idle(600)
    wall = time.monotonic() - started
    left = len(tracker.open_pulls(REPO))
    tracker.close()
    return {"ci_runs": _ci_runs(sandbox) - before, "ticks": ticks, "wall_s": wall, "left": left}


def _protect(sandbox: Sandbox) -> None:
    import httpx

    body = {
        "required_status_checks": {"strict": True, "contexts": ["sandbox-ci"]},
        "enforce_admins": False,
        "required_pull_request_reviews": None,
        "restrictions": None,
    }
    httpx.put(
        f"{sandbox.api_url}/repos/{REPO}/branches/main/protection",
        headers={"Authorization": f"token {sandbox.token}"},
        content=json.dumps(body),
    ).raise_for_status()


def _ci_runs(sandbox: Sandbox) -> int:
    """Count the CI runs the sandbox made so far (its check runs named sandbox-ci)."""
    with sandbox.store.lock:
        repo = sandbox.store.repo(*REPO.split("/"))
        assert repo is not None
        runs = repo.get("check_runs", {})
        return sum(1 for run in runs.values() if run.get("name") == "sandbox-ci")


def main() -> int:
    prs = int(sys.argv[1]) if len(sys.argv) > 1 else 6
    ci_seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 2.0
    with tempfile.TemporaryDirectory(prefix="agentos-bench-train-") as tmp:
        one = run_mode(Path(tmp) / "one", prs, ci_seconds, train=False)
        together = run_mode(Path(tmp) / "train", prs, ci_seconds, train=True)
    print(f"{prs} green PRs to one protected base (strict sandbox-ci), CI {ci_seconds:g} s a run")
    for name, got in (("one by one", one), ("by train", together)):
        print(
            f"  {name:10}  CI runs after green: {got['ci_runs']:3}  ticks: {got['ticks']:2}"
            f"  wall: {got['wall_s']:6.1f} s  PRs left open: {got['left']}"
        )
    ratio = together["wall_s"] / one["wall_s"] if one["wall_s"] else 0.0
    runs_ok = together["ci_runs"] <= TARGET_RUNS
    print(
        f"  train CI runs {together['ci_runs']} (target <= {TARGET_RUNS}: "
        f"{'met' if runs_ok else 'MISSED'}); wall ratio {ratio:.2f} (target <= {TARGET_RATIO}: "
        f"{'met' if ratio <= TARGET_RATIO else 'MISSED'})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

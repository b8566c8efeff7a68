"""GitHub's budget spent polling an idle 1,000-item Projects board (the dispatcher, tick by tick).

The dispatcher's tick reads its boards in full (GraphQL, rate-limited by points: 5,000 an hour)
only when a board's stamp or its own inputs changed, or every `dispatcher.full_read_minutes`
(default 10). The stamp lists the board's items through REST with the ETags of the last read:
GitHub answers an unchanged page 304, which its rate limit does not count.

This seeds a 1,000-item user board (bench/github_reads.py's world: 10% Ready, blockers,
sub-issues, outsiders) in a sandbox of its own process, runs real dispatcher ticks against it
(with real_deps, as cron would), and reads GitHub's own counters (`GET /rate_limit`: graphql and
core used) around each. From the points of a full read and of an idle tick it works out the
hourly cost of polling every 10, 30 and 60 seconds.

Target: an idle 1,000-item board polled costs <= 10% of the hourly GraphQL budget (500 points).
Run: `.venv/bin/python bench/idle_board.py [ITEMS]`.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from github_reads import REPO, TOKEN, seed  # noqa: E402

from orchestrator.config.load import load_config  # noqa: E402
from orchestrator.jobs import dispatcher  # noqa: E402
from orchestrator.sandbox.github.cli import separate_process  # noqa: E402
from orchestrator.wiring import real_deps  # noqa: E402

BUDGET = 5000  # GitHub's GraphQL points an hour for a user's token
POLLS = (10, 30, 60)  # seconds between dispatcher ticks: serve --poll 10, --poll 30, cron


def write_config(root: Path, base: str) -> Path:
    data: dict[str, Any] = {
        "repos": [
            {
                "key": "app",
                "github": REPO,
                "base_branch": "main",
                "board": {"owner": "agentos", "number": 1},
                "max_parallel_tasks": 2,
            }
        ],
        "github": {
            "token": "$GITHUB_TOKEN",
            "api_url": f"{base}/api/v3",
            "graphql_url": f"{base}/api/graphql",
            "seconds_between_writes": 0,
        },
        "agents": {
            "backends": {"cmd": {"type": "command", "argv": ["true"]}},
            "chains": {"default": ["cmd"]},
        },
        "limits": {"max_parallel_workers": 2},
        "paths": {"runtime_dir": str(root / "runtime")},
    }
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def used(base: str) -> tuple[int, int]:
    """Return (GraphQL points, REST core requests) used so far, as GitHub reports them."""
    body = httpx.get(
        f"{base}/api/v3/rate_limit", headers={"Authorization": f"token {TOKEN}"}
    ).json()
    return int(body["resources"]["graphql"]["used"]), int(body["resources"]["core"]["used"])


def requests_since(base: str) -> tuple[int, int]:
    """Return (REST requests, of them answered 304) since the sandbox's log was last cleared."""
    auth = {"Authorization": f"token {TOKEN}"}
    log = httpx.get(f"{base}/_sandbox/requests", headers=auth).json()
    httpx.delete(f"{base}/_sandbox/requests", headers=auth)
    rest = [r for r in log if r["path"].startswith("/api/v3/") and "rate_limit" not in r["path"]]
    return len(rest), sum(1 for r in rest if r["status"] == 304)


def tick(config_path: Path, env: dict[str, str], base: str, now: datetime) -> dict[str, Any]:
    """Run one dispatcher tick as cron would (fresh deps); return what it cost and said."""
    config = load_config(config_path, env)
    points, core = used(base)
    requests_since(base)
    deps = real_deps(config, logging.getLogger("bench"))
    started = time.perf_counter()
    try:
        summary = dispatcher.run(deps, config, now)
    finally:
        deps.close()
    wall = time.perf_counter() - started
    after_points, after_core = used(base)
    rest, not_modified = requests_since(base)
    return {
        "summary": summary,
        "points": after_points - points,
        "core": after_core - core,
        "rest": rest,
        "rest_304": not_modified,
        "wall": wall,
    }


def move_a_card(base: str) -> None:
    """A person moves one card (Ready -> Backlog) on the board, through GraphQL."""
    auth = {"Authorization": f"bearer {TOKEN}"}
    query = (
        'query { user(login: "agentos") { projectV2(number: 1) { id '
        'field(name: "Status") { ... on ProjectV2SingleSelectField { id options { id name } } } '
        'items(first: 100) { nodes { id fieldValueByName(name: "Status") { '
        "... on ProjectV2ItemFieldSingleSelectValue { name } } } } } } }"
    )
    data = httpx.post(f"{base}/api/graphql", json={"query": query}, headers=auth).json()["data"]
    project = data["user"]["projectV2"]
    backlog = next(o["id"] for o in project["field"]["options"] if o["name"] == "Backlog")
    item = next(
        n["id"]
        for n in project["items"]["nodes"]
        if (n["fieldValueByName"] or {}).get("name") == "Ready"
    )
    mutation = (
        f'mutation {{ updateProjectV2ItemFieldValue(input: {{projectId: "{project["id"]}", '
        f'itemId: "{item}", fieldId: "{project["field"]["id"]}", '
        f'value: {{singleSelectOptionId: "{backlog}"}}}}) {{ projectV2Item {{ id }} }} }}'
    )
    answer = httpx.post(f"{base}/api/graphql", json={"query": mutation}, headers=auth).json()
    assert "errors" not in answer, answer


def main(items: int = 1000) -> int:
    with tempfile.TemporaryDirectory(prefix="bench-idle-") as folder:
        root = Path(folder)
        started = time.perf_counter()
        seed(root / "sandbox", items)
        print(f"seeded {items} issues on a user board in {time.perf_counter() - started:.1f} s")
        with separate_process(root / "sandbox", TOKEN, ROOT) as base:
            config_path = write_config(root, base)
            env = {**os.environ, "GITHUB_TOKEN": TOKEN}
            now = datetime.now(UTC)
            runs = [
                (
                    "first tick (no stamp yet: full read, queues 2)",
                    tick(config_path, env, base, now),
                )
            ]
            runs.append(
                (
                    "second tick (its own card moves seen: full read)",
                    tick(config_path, env, base, now),
                )
            )
            idle = [
                tick(config_path, env, base, now + timedelta(seconds=10 * n)) for n in range(1, 6)
            ]
            runs += [(f"idle tick {n}", run) for n, run in enumerate(idle, 1)]
            move_a_card(base)
            runs.append(("a person moved a card: full read", tick(config_path, env, base, now)))
            runs.append(("idle again", tick(config_path, env, base, now)))
            late = now + timedelta(minutes=10, seconds=1)
            runs.append(
                ("10 minutes on: the periodic full read", tick(config_path, env, base, late))
            )
        for name, run in runs:
            print(
                f"{name}: {run['summary']}; GraphQL {run['points']} points; REST {run['rest']} "
                f"requests ({run['rest_304']} answered 304, {run['core']} counted); "
                f"{run['wall']:.2f} s"
            )
        full = max(run["points"] for _, run in runs[1:2] + runs[-1:])
        idle_points = max(run["points"] for run in idle)
        idle_core = max(run["core"] for run in idle)
        reads = 60 // 10  # full reads an hour at the default dispatcher.full_read_minutes
        print(
            f"a full read: {full} points; an idle tick: {idle_points} points "
            f"and {idle_core} counted REST requests"
        )
        worst = 0.0
        for every in POLLS:
            ticks = 3600 // every
            hourly = reads * full + (ticks - reads) * idle_points
            share = 100 * hourly / BUDGET
            worst = max(worst, share)
            print(
                f"  polled every {every} s: {hourly} points an hour = {share:.1f}% of {BUDGET} "
                f"(without stamps: {ticks * full} = {100 * ticks * full / BUDGET:.0f}%); "
                f"REST counted {(ticks - reads) * idle_core} an hour"
            )
        ok = worst <= 10 and all(run["summary"].get("unchanged") for run in idle)
        print("target met (<= 10%)" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))

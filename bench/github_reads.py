"""Requests, wall time and our own CPU for one dispatcher read of a 1,000-issue board, 10% Ready.

"Read the board and everything dispatch needs", as a dispatcher tick does (`backlog.gather`):
every item with its status and content, and for the Ready issues their dependencies (blocked-by,
sub-issues and parent, all with the board's GraphQL pages), each author's permission, and the
label events of issues by authors without write access (5 of the 100 Ready issues here).
The sandbox runs in its own process, so the CPU figure is ours alone (the client side).

Target: <= ceil(items/100) GraphQL requests per read and no REST read of dependencies or issues
(the REST left is the trust reads: a permission per author, an outsider's issue's label events),
and <= 0.5 s of our CPU for it. Run: `.venv/bin/python bench/github_reads.py [ITEMS]`.
"""

from __future__ import annotations

import gc
import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from orchestrator.adapters.github import GitHubTracker  # noqa: E402
from orchestrator.adapters.github_board import GitHubBoard  # noqa: E402
from orchestrator.adapters.github_board_admin import GitHubBoardAdmin  # noqa: E402
from orchestrator.adapters.github_graphql import GraphQL  # noqa: E402
from orchestrator.config.model import AutomationMode, GitHubConfig, RepoConfig, Secret  # noqa: E402
from orchestrator.core.model import BoardStatus  # noqa: E402
from orchestrator.delivery.backlog import gather  # noqa: E402
from orchestrator.sandbox.github import Sandbox  # noqa: E402
from orchestrator.sandbox.github.cli import separate_process  # noqa: E402

REPO, TOKEN = "agentos/app", "ghp_" + "b" * 36
# The share of items in each status; the rest have none.
MIX = (
    (BoardStatus.READY, 0.10),
    (BoardStatus.BACKLOG, 0.30),
    (BoardStatus.DONE, 0.20),
    (BoardStatus.IN_PROGRESS, 0.10),
    (BoardStatus.IN_REVIEW, 0.10),
    (BoardStatus.BLOCKED, 0.05),
)
# What the REST requests of a read may be: the trust reads, and anything else (the target: none).
KINDS = ("permission", "label events", "other")


def config(base: str) -> GitHubConfig:
    return GitHubConfig(Secret("GITHUB_TOKEN", TOKEN), f"{base}/api/v3", f"{base}/api/graphql", ())


def seed(data: Path, items: int) -> None:
    """Build the world in an in-process sandbox, saving once: issues, a board, statuses, links."""
    with Sandbox(data, token=TOKEN) as sandbox, sandbox.store.batch():
        sandbox.create_repo(REPO)
        outsider = sandbox.add_user("outsider")
        api = httpx.Client(
            base_url=sandbox.api_url, headers={"Authorization": f"token {TOKEN}"}, timeout=60
        )
        stranger = httpx.Client(
            base_url=sandbox.api_url, headers={"Authorization": f"token {outsider}"}, timeout=60
        )
        ready = int(items * MIX[0][1])
        issues = []
        for n in range(items):
            by_outsider = n < ready and n % 20 == 0  # 5% of the Ready issues come from outside
            body = (
                f"Issue {n}: " + "words " * 80 + (f"\n\nDepends on #{n + 2}" if n % 7 == 0 else "")
            )
            made = (stranger if by_outsider else api).post(
                f"/repos/{REPO}/issues",
                json={
                    "title": f"Issue {n}",
                    "body": body,
                    "labels": ["bug"] if n % 3 else ["enhancement", "prio:high"],
                },
            )
            issues.append(made.json())
        for n in range(0, ready, 3):  # a third of the Ready issues wait for another issue
            api.post(
                f"/repos/{REPO}/issues/{n + 1}/dependencies/blocked_by",
                json={"issue_id": issues[ready + n]["id"]},
            )
        for n in range(1, ready, 10):  # and some are epics with two sub-issues
            for child in (items - n - 1, items - n - 2):
                api.post(
                    f"/repos/{REPO}/issues/{n + 1}/sub_issues",
                    json={"sub_issue_id": issues[child]["id"]},
                )
        graphql = GraphQL(config(sandbox.base_url))
        admin = GitHubBoardAdmin(graphql, GitHubTracker(config(sandbox.base_url)))
        project = admin.find_or_create("agentos", "Bench")
        field = admin.ensure_statuses(project)
        url = sandbox.graphql_url
        item_ids = _add_items(url, project.id, [i["node_id"] for i in issues])
        statuses = [s for s, share in MIX for _ in range(int(items * share))]
        _set_statuses(
            url,
            field.project_id,
            field.field_id,
            [(item, field.options[s]) for item, s in zip(item_ids, statuses, strict=False)],
        )
        graphql.close()


def _add_items(url: str, project: str, contents: list[str]) -> list[str]:
    """Add the items, 100 aliased mutations per request."""
    ids: list[str] = []
    for start in range(0, len(contents), 100):
        chunk = contents[start : start + 100]
        text = (
            "mutation {"
            + " ".join(
                f'a{n}: addProjectV2ItemById(input: {{projectId: "{project}", contentId: "{c}"}}) '
                "{ item { id } }"
                for n, c in enumerate(chunk)
            )
            + "}"
        )
        data = _raw(url, text)
        ids += [data[f"a{n}"]["item"]["id"] for n in range(len(chunk))]
    return ids


def _set_statuses(url: str, project: str, field: str, pairs: list[tuple[str, str]]) -> None:
    for start in range(0, len(pairs), 100):
        text = (
            "mutation {"
            + " ".join(
                f'a{n}: updateProjectV2ItemFieldValue(input: {{projectId: "{project}", '
                f'itemId: "{item}", fieldId: "{field}", '
                f'value: {{singleSelectOptionId: "{option}"}}}}) {{ projectV2Item {{ id }} }}'
                for n, (item, option) in enumerate(pairs[start : start + 100])
            )
            + "}"
        )
        _raw(url, text)


def _raw(url: str, text: str) -> dict[str, Any]:
    """Send a seeding mutation of many aliased parts (our adapter sends one operation at a time)."""
    response = httpx.post(
        url, json={"query": text}, timeout=120, headers={"Authorization": f"bearer {TOKEN}"}
    )
    body = response.json()
    assert "errors" not in body, body["errors"][:2]
    return body["data"]  # type: ignore[no-any-return]


def dispatch_read(board: GitHubBoard, tracker: GitHubTracker) -> tuple[int, int, int]:
    """Read what a dispatcher tick needs; return (items, ready, outsiders' issues)."""
    repo = RepoConfig("app", REPO, None, "main", None, None, AutomationMode.FULL, 1)
    backlog = gather(tracker, lambda _: board, [repo], ())
    outside = [r for r in backlog.ready if r.issue.author == "outsider"]
    return len(backlog.statuses), len(backlog.ready), len(outside)


def kind(path: str) -> str:
    """Name what a REST request read: the trust reads, or anything else (which should be none)."""
    if "/collaborators/" in path and path.endswith("/permission"):
        return "permission"
    if path.split("?")[0].endswith("/events"):
        return "label events"
    return "other"


def measure(base: str, board: GitHubBoard, tracker: GitHubTracker) -> dict[str, Any]:
    httpx.delete(f"{base}/_sandbox/requests", headers={"Authorization": f"token {TOKEN}"})
    gc.collect()  # the seeding's garbage (a whole in-process sandbox) is not the read's CPU
    cpu, wall = time.process_time(), time.perf_counter()
    counts = dispatch_read(board, tracker)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    log = httpx.get(f"{base}/_sandbox/requests", headers={"Authorization": f"token {TOKEN}"}).json()
    log = [r for r in log if not r["path"].startswith("/_sandbox/")]  # the bench's own
    rest = [r for r in log if r["path"] != "/api/graphql"]
    kinds = {name: sum(1 for r in rest if kind(r["path"]) == name) for name in KINDS}
    return {
        "counts": counts,
        "cpu": cpu,
        "wall": wall,
        "graphql": len(log) - len(rest),
        "rest": len(rest),
        "rest_304": sum(1 for r in rest if r["status"] == 304),
        "kinds": kinds,
    }


def main(items: int = 1000) -> int:
    with tempfile.TemporaryDirectory(prefix="bench-github-") as folder:
        data = Path(folder) / "sandbox"
        started = time.perf_counter()
        seed(data, items)
        print(f"seeded {items} issues on a board in {time.perf_counter() - started:.1f} s")
        with separate_process(data, TOKEN, ROOT) as base:
            tracker = GitHubTracker(config(base))  # production settings: no schema, default retries
            board = GitHubBoard(GraphQL(config(base)), "agentos", 1, tracker=tracker, repo=REPO)
            runs = [
                ("cold (first read, no ETags)", measure(base, board, tracker)),
                ("warm (next tick: REST answers 304)", measure(base, board, tracker)),
            ]
        target = math.ceil(items / 100)
        for name, run in runs:
            total, ready, outside = run["counts"]
            kinds = run["kinds"]
            print(f"{name}: {total} items, {ready} Ready ({outside} by outsiders)")
            print(
                f"  GraphQL requests {run['graphql']} (target <= {target}); "
                f"REST requests {run['rest']} ({run['rest_304']} answered 304): "
                f"trust reads {kinds['permission']} permissions + {kinds['label events']} "
                f"label events, other {kinds['other']} (target 0)"
            )
            print(f"  wall {run['wall']:.2f} s; our CPU {run['cpu']:.3f} s (target <= 0.5 s)")
        ok = all(
            run["graphql"] <= target and run["kinds"]["other"] == 0 and run["cpu"] <= 0.5
            for _, run in runs
        )
        print("targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))

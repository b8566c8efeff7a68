"""What `agentos check --live` costs against the sandboxes: wall time and the requests it makes.

The world: two repos, one on a Projects board (its Status with the six options) and one on
`status:*` labels, a Telegram bot with two allowed chats, a `command` agent, no bwrap
(isolation: none) and a crontab file. Both sandboxes run in this process; their request logs
are the count. Nothing is written by the check: every request must be a read.

Target: <= 2 + 3 per repo GitHub requests (the token, then each repo, its board and its merge
path: the base's merge queue; its protection too with `merge_method: merge`), 1 + 1 per
chat Telegram calls, and under 2 s wall. Run: `.venv/bin/python bench/check_live.py [RUNS]`.
"""

from __future__ import annotations

import contextlib
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from orchestrator.adapters.github import GitHubTracker  # noqa: E402
from orchestrator.adapters.github_board_admin import GitHubBoardAdmin  # noqa: E402
from orchestrator.adapters.github_graphql import GraphQL  # noqa: E402
from orchestrator.cli.main import main as agentos  # noqa: E402
from orchestrator.config.model import GitHubConfig, Secret  # noqa: E402
from orchestrator.core.model import BoardStatus  # noqa: E402
from orchestrator.sandbox.github import Sandbox  # noqa: E402
from orchestrator.sandbox.telegram.sandbox import TelegramSandbox  # noqa: E402

CHATS = (1001, 1002)


def seed(github: Sandbox) -> int:
    """Make acme/app (a board with the six statuses) and acme/lib (labels); return the board."""
    settings = GitHubConfig(Secret("T", github.token), github.api_url, github.graphql_url, ())
    tracker, graphql = GitHubTracker(settings, throttle=False), GraphQL(settings)
    for repo in ("acme/app", "acme/lib"):
        github.create_repo(repo)
    admin = GitHubBoardAdmin(graphql, tracker)
    project = admin.find_or_create("acme", "Agent OS")
    admin.ensure_statuses(project)
    admin.link(project, "acme/app")
    tracker.ensure_labels("acme/lib", {s.label: "ededed" for s in BoardStatus})
    tracker.close()
    graphql.close()
    return project.number


def write_config(root: Path, github: Sandbox, telegram: TelegramSandbox, board: int) -> Path:
    repo: dict[str, Any] = {"test_command": "true"}
    data = {
        "repos": [
            {"key": "app", "github": "acme/app", "board": {"owner": "acme", "number": board}}
            | repo,
            {"key": "lib", "github": "acme/lib"} | repo,
        ],
        "github": {
            "token": "$GITHUB_TOKEN",
            "api_url": github.api_url,
            "graphql_url": github.graphql_url,
        },
        "telegram": {
            "token": "$TELEGRAM_BOT_TOKEN",
            "api_url": telegram.url,
            "allowed_chat_ids": list(CHATS),
        },
        "agents": {
            "backends": {"script": {"type": "command", "argv": ["true"]}},
            "isolation": "none",
        },
        "paths": {"runtime_dir": str(root / "runtime")},
    }
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    (root / "crontab").write_text("")
    return path


def one_check(
    config: Path, env: dict[str, str], github: Sandbox, telegram: TelegramSandbox
) -> dict[str, Any]:
    github.clear_requests()
    before = sum(telegram.requests.values())
    out = io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(out):
        code = agentos(
            [
                "--config",
                str(config),
                "check",
                "--live",
                "--crontab-file",
                str(config.with_name("crontab")),
            ],
            environ=env,
        )
    wall = time.perf_counter() - started
    requests = list(github.requests)
    graphql = sum(1 for r in requests if r.path.startswith("/api/graphql"))
    return {
        "code": code,
        "wall": wall,
        "rest": len(requests) - graphql,
        "graphql": graphql,
        # GraphQL goes by POST; the check sends only the status_field query there
        "writes": sum(
            1 for r in requests if r.method not in ("GET", "HEAD") and "graphql" not in r.path
        ),
        "telegram": sum(telegram.requests.values()) - before,
        "lines": out.getvalue().splitlines(),
    }


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    os.environ["PTB_TIMEDELTA"] = "true"  # PTB 22: no deprecation warning per read timeout
    with (
        tempfile.TemporaryDirectory(prefix="bench-check-") as folder,
        Sandbox(Path(folder) / "github", login="acme") as github,
        TelegramSandbox() as telegram,
    ):
        for chat in CHATS:
            telegram.inject_message("/start", user_id=chat)
        config = write_config(Path(folder), github, telegram, seed(github))
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": folder,
            "GITHUB_TOKEN": github.token,
            "TELEGRAM_BOT_TOKEN": telegram.token,
        }
        results = [one_check(config, env, github, telegram) for _ in range(runs)]
    first = results[0]
    failed = [line for line in first["lines"] if line.startswith("FAIL")]
    walls = [r["wall"] for r in results]
    github_target, telegram_target = 2 + 3 * 2, 1 + len(CHATS)
    print(f"check --live, {runs} runs: exit {first['code']}, {len(first['lines'])} lines")
    print(
        f"  wall: first {walls[0]:.2f} s, median {statistics.median(walls):.2f} s, "
        f"max {max(walls):.2f} s (target < 2 s)"
    )
    print(
        f"  GitHub requests: {first['rest']} REST + {first['graphql']} GraphQL = "
        f"{first['rest'] + first['graphql']} (target <= {github_target}), writes {first['writes']}"
    )
    print(f"  Telegram calls: {first['telegram']} (target <= {telegram_target})")
    for line in failed:
        print(f"  {line}")
    ok = (
        first["code"] == 0
        and first["writes"] == 0
        and first["rest"] + first["graphql"] <= github_target
        and first["telegram"] <= telegram_target
        and statistics.median(walls) < 2.0
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""What a fresh `agentos init` and its re-run cost against the GitHub and Telegram sandboxes.

Prints the wall time of a fresh run and of a second run adding a project (GitHub's advised pauses
between writes turned off, as in the tests; with them a run adds about a second per write), and the
requests each made: REST by method, GraphQL, git, Telegram. Run: `.venv/bin/python bench/init.py`.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PTB_TIMEDELTA", "true")

from orchestrator.init import main as init  # noqa: E402
from orchestrator.jobs import JOBS, JobSpec  # noqa: E402
from orchestrator.sandbox.github import Sandbox  # noqa: E402
from orchestrator.sandbox.telegram import TelegramSandbox  # noqa: E402
from orchestrator.wiring import init_services  # noqa: E402

BUILT = {name: JobSpec(name, spec.schedule, spec.summary) for name, spec in JOBS.items()}


def answers(github: Sandbox, telegram: TelegramSandbox, name: str) -> dict[str, object]:
    return {
        "github": {"api_url": github.api_url},
        "intake": {
            "idea": f"The {name} project",
            "kind": "cli",
            "first_user": "me",
            "success": "it runs",
        },
        "repository": {"action": "create", "name": name, "key": name},
        "board": {"action": "create", "title": name.title()},
        "telegram": {"api_url": telegram.url, "token": telegram.token},
        "cron": {"method": "cron"},
    }


def kinds(github: Sandbox) -> Counter[str]:
    counted: Counter[str] = Counter()
    for record in github.requests:
        path = record.path.split("?")[0]
        counted[
            "git"
            if ".git/" in path
            else "GraphQL"
            if path == "/api/graphql"
            else f"REST {record.method}"
        ] += 1
    return counted


def run(tmp: Path, github: Sandbox, telegram: TelegramSandbox, name: str) -> None:
    github.clear_requests()
    before = telegram.requests
    file = tmp / "answers.yaml"
    file.write_text(yaml.safe_dump(answers(github, telegram, name)))
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp), "GITHUB_TOKEN": github.token}
    start = time.perf_counter()
    code = init(
        tmp / "conf" / "config.yaml",
        root=tmp / "agentos",
        environ=env,
        jobs=BUILT,
        answers=file,
        crontab_file=tmp / "crontab",
        services=init_services(throttle=False),
        stdout=io.StringIO(),
        pairing_wait=5,
    )
    wall = time.perf_counter() - start
    assert code == 0
    calls = sum(telegram.requests.values()) - sum(before.values())
    print(
        f"{name:>6}: {wall:5.2f} s wall; requests {dict(sorted(kinds(github).items()))}, "
        f"Telegram {calls}"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        (tmp / "conf").mkdir()
        (tmp / "agentos" / "hooks").mkdir(parents=True)
        subprocess.run(["git", "init", "-q", str(tmp / "agentos")], check=True)
        with Sandbox(tmp / "github") as github, TelegramSandbox() as telegram:
            telegram.inject_message("hello")
            run(tmp, github, telegram, "first")
            run(tmp, github, telegram, "second")


if __name__ == "__main__":
    main()

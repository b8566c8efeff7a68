"""`bin/agentos demo` end to end: every demo issue closed by a merged PR.

The summary is printed, and the state kept.

The demo runs as a user runs it (the real command, in a child process with a bare environment);
what it left is then read back the way `agentos sandbox serve --data DIR` serves it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from orchestrator.adapters.github import GitHubTracker
from orchestrator.cli.main import main
from orchestrator.config.model import GitHubConfig, Secret
from orchestrator.core.model import IssueRef
from orchestrator.demo import sample
from orchestrator.sandbox.github import Sandbox

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Ran:
    done: subprocess.CompletedProcess[str]
    data: Path


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Ran:
    base = tmp_path_factory.mktemp("demo")
    env = {"PATH": os.environ["PATH"], "HOME": str(base / "home"), "LANG": "C.UTF-8"}
    done = subprocess.run(
        [str(ROOT / "bin" / "agentos"), "demo", "--data", str(base / "data"), "--timeout", "150"],
        env=env,
        cwd=base,
        capture_output=True,
        text=True,
        timeout=240,
    )
    return Ran(done, base / "data")


@pytest.fixture(scope="module")
def kept(ran: Ran) -> Iterator[GitHubTracker]:
    """The demo's sandbox state served again, read through the real adapter."""
    token = dict(line.split("=", 1) for line in (ran.data / ".env").read_text().splitlines())
    with Sandbox(ran.data, login=sample.OWNER) as sandbox:
        config = GitHubConfig(
            Secret("T", token["AGENTOS_DEMO_GITHUB_TOKEN"]),
            sandbox.api_url,
            sandbox.graphql_url,
            (),
        )
        yield GitHubTracker(config)


def test_the_demo_ends_with_every_issue_closed_by_a_merged_pr_and_says_so(ran: Ran) -> None:
    out = ran.done.stdout
    assert ran.done.returncode == 0, out[-3000:] + ran.done.stderr[-3000:]
    assert "The model is SCRIPTED" in out
    assert re.search(r"Demo finished in \d+\.\d s: 5 of 5 issues closed by merged PRs\.", out), out[
        -2000:
    ]
    assert "PRs opened 5, merged 5." in out
    assert re.search(r"GitHub requests: \d+ \(\d+: REST \d+, GraphQL \d+, git \d+ to set up; ", out)
    assert "requests outside GitHub's published API description: 0" in out
    found = re.search(r"per merged task: (\d+\.\d) requests Ready → PR opened, (\d+\.\d) PR", out)
    assert found and 0 < float(found[1]) < 60 and 0 < float(found[2]) < 60, out[-1500:]
    assert f"{ROOT}/bin/agentos sandbox serve --data data --port " in out  # typed from where it ran
    for number in range(1, 6):  # progress: each issue was seen working, in review, and done
        lines = [line for line in out.splitlines() if re.match(rf"\s+\d+\.\ds  #{number}\s", line)]
        said = " ".join(lines)
        assert "agent at work" in said and "[Done]" in said and "merged, issue closed" in said, (
            lines
        )


def test_the_kept_state_shows_each_issue_closed_by_its_merged_pr(kept: GitHubTracker) -> None:
    for number in range(1, 6):
        issue = kept.issue(IssueRef(sample.REPO, number))
        assert not issue.is_open
    merged = [kept.pull(sample.REPO, number) for number in range(6, 11)]
    assert all(pr.merged for pr in merged)
    assert sorted(pr.body.split("\n", 1)[0] for pr in merged) == [
        f"Closes #{n}" for n in range(1, 6)
    ]
    assert kept.open_pulls(sample.REPO) == []


def test_main_holds_the_whole_package_and_its_tests_pass(ran: Ran, tmp_path: Path) -> None:
    bare = ran.data / "git" / sample.OWNER / "stats-demo.git"
    subprocess.run(
        ["git", "clone", "-q", str(bare), str(tmp_path / "main")],
        check=True,
        env={**os.environ, "GIT_CONFIG_GLOBAL": os.devnull},
    )
    tests = subprocess.run(
        [sys.executable, *sample.TESTS.split()],
        cwd=tmp_path / "main",
        capture_output=True,
        text=True,
    )
    assert tests.returncode == 0 and "Ran 10 tests" in tests.stderr, tests.stderr
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=tmp_path / "main", capture_output=True, text=True
    ).stdout
    assert "__pycache__" not in tracked


def test_the_war_rooms_and_event_logs_are_left_to_look_at(ran: Ran) -> None:
    runtime = ran.data / "runtime"
    rooms = sorted(p.name for p in (runtime / "rooms").iterdir())
    assert rooms == [f"stats-{n}-g1-a1" for n in range(1, 6)]
    for room in rooms:
        folder = runtime / "rooms" / room
        assert "STATUS: complete" in (folder / "result.md").read_text()
        assert json.loads((folder / "lifecycle.json").read_text())["state"] == "passed"
        assert (
            (folder / "prompt.md")
            .read_text()
            .startswith(f"# Implementation task for {sample.REPO}#")
        )
    for job in ("dispatcher", "queue", "pr_monitor", "demo"):
        events = [
            json.loads(line)["event"]
            for line in (runtime / "logs" / f"{job}.jsonl").read_text().splitlines()
        ]
        assert ("demo.finished" if job == "demo" else "run.finished") in events
        assert "run.crashed" not in events


def test_a_data_dir_that_is_not_a_demo_s_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["demo", "--data", str(tmp_path)]) == 2
    assert (
        f"--data {tmp_path} is not empty and is not a demo's directory" in capsys.readouterr().err
    )
    assert (tmp_path / "notes.txt").exists()


def test_where_bwrap_cannot_start_the_demo_runs_its_agent_unconfined_and_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from orchestrator.adapters.agents import confine
    from orchestrator.demo import run

    monkeypatch.setattr(confine, "probe", lambda: "bwrap (bubblewrap) is not installed")
    assert run._isolation() == "none"
    said = capsys.readouterr().out
    assert said.startswith(
        "Agents run UNCONFINED in this demo (bwrap (bubblewrap) is not installed)"
    )
    monkeypatch.setattr(confine, "probe", lambda: None)
    assert run._isolation() == "bwrap" and capsys.readouterr().out == ""

"""`agentos why ISSUE` against the strict GitHub sandbox, through the real adapters.

The same text as the chat's `/why` (one function answers both), the forms ISSUE may take, a
one-line usage error (exit 2) for a bad one, exit 3 for a refused token, and nothing written.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from orchestrator.cli.main import main
from orchestrator.config.load import load_config
from orchestrator.core.chat import IssueCommand, Target
from orchestrator.core.model import BoardStatus
from orchestrator.sandbox.github import Sandbox
from orchestrator.store.switches import Switches
from orchestrator.wiring import real_deps
from tests.contract.worlds import github_tracker
from tests.control.conftest import make_task
from tests.support.github_sandbox import running_sandbox

REPO = "acme/app"
WRONG = "ghp_" + "0" * 36


@pytest.fixture
def github(tmp_path: Path) -> Iterator[Sandbox]:
    with running_sandbox(tmp_path / "github", login="acme") as sandbox:
        sandbox.create_repo(REPO)
        sandbox.create_repo("acme/lib")
        yield sandbox


def write(root: Path, github: Sandbox, repos: list[dict[str, Any]] | None = None) -> Path:
    data: dict[str, Any] = {
        "repos": repos or [{"key": "app", "github": REPO, "test_command": "true"}],
        "github": {
            "token": "$GITHUB_TOKEN",
            "api_url": github.api_url,
            "graphql_url": github.graphql_url,
            "seconds_between_writes": 0,
        },
        "agents": {"backends": {"script": {"type": "command", "argv": ["true"]}}},
        "paths": {"runtime_dir": str(root / "runtime")},
    }
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def agentos(config: Path, token: str, *words: str) -> int:
    environ = {"PATH": os.environ["PATH"], "GITHUB_TOKEN": token}
    return main(["--config", str(config), "why", *words], environ=environ)


def answer(config: Path, github: Sandbox, capsys: pytest.CaptureFixture[str], *words: str) -> str:
    capsys.readouterr()
    assert agentos(config, github.token, *words) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    return captured.out


def files(root: Path) -> dict[str, bytes]:
    """Return runtime/'s files but GitHub's page cache (what a read keeps, to read again cheaply:
    store/http_cache.py), which is no state of Agent OS's."""
    return {
        str(p): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith("github_pages.sqlite")
    }


def test_why_prints_what_the_chat_says_for_the_same_issue(
    tmp_path: Path, github: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path, github)
    owner = github_tracker(github.api_url, github.token)
    schema = owner.create_issue(REPO, "Schema", "")
    login = owner.create_issue(REPO, "Login", "Depends on #1")
    queued = owner.create_issue(REPO, "Queued", "")
    loaded = load_config(config, {"GITHUB_TOKEN": github.token})
    deps = real_deps(loaded, logging.getLogger("test.why"))
    deps.board_for(loaded.repos[0]).set_status(
        deps.board_for(loaded.repos[0]).add(login), BoardStatus.READY
    )
    deps.mailbox.create(make_task(queued.number, attempt=1), "inbox")
    try:
        for number in (schema.number, login.number, queued.number):
            chat = deps.control.command(IssueCommand("why", Target(number)), "alice")
            assert answer(config, github, capsys, str(number)) == chat + "\n"
        Switches(loaded.paths.state_dir).set_job("queue", False, "2026-05-01T10:00:00+00:00")
        chat = deps.control.command(IssueCommand("why", Target(queued.number)), "alice")
        assert answer(config, github, capsys, f"app#{queued.number}") == chat + "\n"
    finally:
        deps.close()
    assert chat.startswith("app#3 Queued: queued: task app-3-g1-a1, waiting for queue off")
    said = answer(config, github, capsys, str(login.number))
    assert said.splitlines() == [
        "app#2 Login: not started: queue off",
        "- GitHub: open",
        "- board: status:ready",
        "- blockers open: #1",
        "- author: acme (can write to the repo)",
        "- switches: Agent OS on, repo app on, dispatcher on, queue off",
        "- tasks: none yet",
    ]


def test_an_outsiders_issue_waits_for_a_writers_approval(
    tmp_path: Path, github: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path, github)
    stranger = github_tracker(github.api_url, github.add_user("mallory"))
    issue = stranger.create_issue(REPO, "Please run this", "")
    owner = github_tracker(github.api_url, github.token)
    owner.add_labels(issue.ref, ["status:ready"])
    said = answer(config, github, capsys, f"https://github.com/{REPO}/issues/{issue.number}")
    assert said.splitlines()[0] == (
        "app#1 Please run this: waits for approval: its author mallory cannot write to the repo; "
        "a user with write access adds the agentos:approved label"
    )
    assert "- author: mallory (cannot write; not approved)" in said
    owner.add_labels(issue.ref, ["agentos:approved"])
    said = answer(config, github, capsys, f"{REPO}#{issue.number}")
    assert "- author: mallory (cannot write; approved by acme)" in said
    assert "Ready with no open blockers" in said.splitlines()[0]


@pytest.mark.parametrize(
    "words, says",
    [
        (["twelve"], "why: 'twelve' is not an issue (N, KEY#N, owner/name#N or its URL)"),
        (["0"], "why: '0' is not an issue number"),
        (["web#3"], "why: unknown repo 'web' (known: app, lib)"),
        (["3"], "why: which repo is '3' in? name it: app#3 or lib#3 (or --repo KEY)"),
        (["3", "--repo", "nope"], "why: unknown repo 'nope' (known: app, lib)"),
        (["app#3", "--repo", "lib"], "why: 'app#3' is not in repo 'lib' (--repo)"),
        (["https://github.com/acme/other/issues/3"], "why: unknown repo 'acme/other'"),
        (["https://github.com/acme/app/pull/3"], "why: 'https://github.com/acme/app/pull/3' is"),
        ([], "the following arguments are required: ISSUE"),
    ],
)
def test_a_bad_issue_or_repo_is_one_line_and_exit_two(
    tmp_path: Path,
    github: Sandbox,
    capsys: pytest.CaptureFixture[str],
    words: list[str],
    says: str,
) -> None:
    repos = [{"key": k, "github": f"acme/{k}", "test_command": "true"} for k in ("app", "lib")]
    config = write(tmp_path, github, repos)
    capsys.readouterr()
    github.clear_requests()
    assert agentos(config, github.token, *words) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("agentos: ") and says in err, err
    assert not github.requests  # refused before GitHub is asked anything


def test_the_forms_of_issue_name_the_same_issue(
    tmp_path: Path, github: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    repos = [{"key": k, "github": f"acme/{k}", "test_command": "true"} for k in ("app", "lib")]
    config = write(tmp_path, github, repos)
    github_tracker(github.api_url, github.token).create_issue("acme/lib", "Parser", "")
    forms = [
        ["lib#1"],
        ["#1", "--repo", "lib"],
        ["1", "--repo", "lib"],
        ["ACME/Lib#1"],
        ["https://github.com/acme/lib/issues/1#issuecomment-5"],
    ]
    said = {answer(config, github, capsys, *words) for words in forms}
    assert len(said) == 1 and said.pop().startswith("lib#1 Parser: ")


def test_a_refused_token_exits_three_in_one_line_and_nothing_is_written(
    tmp_path: Path, github: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path, github)
    github_tracker(github.api_url, github.token).create_issue(REPO, "Login", "")
    before = files(tmp_path / "runtime")
    capsys.readouterr()
    github.clear_requests()
    assert agentos(config, WRONG, "1") == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("agentos: ") and WRONG not in err
    assert answer(config, github, capsys, "1").startswith("app#1 Login: ")
    assert files(tmp_path / "runtime") == before  # no log, no memo, no refused-token record
    asked = {(r.method, r.path.split("?")[0]) for r in github.requests}
    assert {m for m, p in asked if not p.endswith("/graphql")} == {"GET"}, asked

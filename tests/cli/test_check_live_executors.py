"""`check --live` checks each remote executor a repo uses: a missing workflow fails its line, the
installed one passes; a repo that runs here adds no executor line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.adapters.github_http import Rest
from orchestrator.cli.executor import install, target
from orchestrator.config.load import load_config
from orchestrator.sandbox.github import Sandbox
from tests.cli.test_check_live import agentos, environ, lines, write
from tests.sandbox.github.helpers import client
from tests.support.github_sandbox import running_sandbox

EXECUTORS = {
    "actions": {
        "kind": "github_actions",
        "command": "claude -p x",
        "github_actions": {"secrets": ["ANTHROPIC_API_KEY"]},
    }
}


@pytest.fixture
def github(tmp_path: Path) -> Iterator[Sandbox]:
    with running_sandbox(tmp_path / "github", login="acme") as sandbox:
        sandbox.create_repo("acme/app")
        yield sandbox


def _config(tmp_path: Path, github: Sandbox) -> Path:
    path = write(tmp_path, github, None, executors=EXECUTORS)
    text = path.read_text().replace(
        "test_command: 'true'", "test_command: 'true'\n  executor: actions"
    )
    path.write_text(text)
    return path


def test_the_workflow_missing_then_installed(
    tmp_path: Path, github: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _config(tmp_path, github)
    env = environ(github, None)
    agentos(path, env, "check", "--live")
    failed = "\n".join(lines(capsys.readouterr().out, "FAIL"))
    assert "executor actions (app): " in failed and "agentos executor install" in failed

    github.add_user("acme", scopes=("repo", "project", "read:org", "workflow"))
    repo, executor = target(load_config(path, env), "app", None)
    api = client(github, github.token)
    install(Rest(api.requester, 100), repo, executor)
    api.close()
    agentos(path, env, "check", "--live")
    out = capsys.readouterr().out
    executor_lines = [line for line in out.splitlines() if "executor actions (app)" in line]
    assert executor_lines and all(
        line.startswith("ok ") or "ANTHROPIC_API_KEY" in line for line in executor_lines
    ), executor_lines
    assert any("ANTHROPIC_API_KEY" in line and line.startswith("FAIL") for line in executor_lines)


def test_a_repo_that_runs_here_has_no_executor_line(
    tmp_path: Path, github: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    agentos(write(tmp_path, github, None), environ(github, None), "check", "--live")
    assert "executor " not in capsys.readouterr().out

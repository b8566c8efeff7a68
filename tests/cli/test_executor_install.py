"""`agentos executor install`: the rendered workflow committed to the base branch once, a second
install changing nothing, a token that may not write it refused in one line (exit 3)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from github import Github

from orchestrator.adapters.executors import actions_workflow
from orchestrator.adapters.github_http import Rest
from orchestrator.cli.executor import install, target
from orchestrator.config.executor_model import ExecutorConfig, ExecutorKind, Placement
from orchestrator.config.load import load_config
from orchestrator.config.model import Config
from orchestrator.errors import TrackerUnauthorized, UsageError
from orchestrator.sandbox.github import Sandbox
from tests.helpers import ENV, minimal_config, write_config
from tests.sandbox.github.helpers import client
from tests.support.github_sandbox import running_sandbox

GHA = ExecutorConfig(name="gha", kind=ExecutorKind.GITHUB_ACTIONS, command="claude -p hi")
K8S = replace(GHA, name="k8s", kind=ExecutorKind.KUBERNETES)


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with running_sandbox(tmp_path / "github") as sandbox:
        sandbox.create_repo("agentos/app")
        yield sandbox


def config(tmp_path: Path, executor: str = "gha") -> Config:
    data = minimal_config(
        repos=[{"key": "app", "github": "agentos/app", "test_command": "pytest -q"}]
    )
    loaded = load_config(write_config(tmp_path, data), ENV)
    repos = tuple(replace(r, placement=Placement(executor=executor)) for r in loaded.repos)
    return replace(loaded, repos=repos, executors={"gha": GHA, "k8s": K8S})


def rest(sandbox: Sandbox, token: str) -> Iterator[Rest]:
    github: Github = client(sandbox, token)
    yield Rest(github.requester, 100)
    github.close()


def test_install_commits_the_workflow_once(sandbox: Sandbox, tmp_path: Path) -> None:
    repo, executor = target(config(tmp_path), "app", None)
    sandbox.add_user("agentos", scopes=("repo", "workflow"))  # the owner's token, widened
    for client_rest in rest(sandbox, sandbox.token):
        assert install(client_rest, repo, executor) == (
            "installed: agentos/app@main:.github/workflows/agentos-task.yml"
        )
        found = client_rest.get(
            "/repos/agentos/app/contents/.github/workflows/agentos-task.yml", ref="main"
        )
        assert base64.b64decode(found["content"]).decode() == actions_workflow.render(GHA)
        head = client_rest.get("/repos/agentos/app/branches/main")["commit"]["sha"]
        assert install(client_rest, repo, executor).startswith("already installed: ")
        assert client_rest.get("/repos/agentos/app/branches/main")["commit"]["sha"] == head
        changed = replace(GHA, command="codex exec hi")
        assert install(client_rest, repo, changed).startswith("updated: ")
    assert not sandbox.violations


def test_a_token_that_may_not_write_workflows_is_refused_in_one_line(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    repo, executor = target(config(tmp_path), "agentos/app", None)
    for client_rest in rest(sandbox, sandbox.token):  # classic, without the workflow scope
        with pytest.raises(TrackerUnauthorized, match="needs the `workflow` scope") as refused:
            install(client_rest, repo, executor)
    assert refused.value.exit_code == 3 and "\n" not in str(refused.value)
    reader = sandbox.add_user("reader", scopes=("repo", "workflow"))
    sandbox.store.repo("agentos", "app")["collaborators"]["reader"] = "pull"
    for client_rest in rest(sandbox, reader):
        with pytest.raises(TrackerUnauthorized, match="403"):
            install(client_rest, repo, executor)


def test_the_repo_and_its_executor_must_be_known_and_of_actions(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown repo 'nope'"):
        target(config(tmp_path), "nope", None)
    with pytest.raises(UsageError, match="runs its agents locally"):
        target(config(tmp_path, "local"), "app", None)
    with pytest.raises(UsageError, match="kind kubernetes"):
        target(config(tmp_path), "app", "k8s")
    with pytest.raises(UsageError, match="unknown executor 'x'"):
        target(config(tmp_path), "app", "x")
    assert target(config(tmp_path, "local"), "app", "gha")[1] is GHA

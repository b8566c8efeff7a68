"""`executors` and `repos[].executor`: remote executors are read, checked, and chosen per repo."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from orchestrator.config.executor_model import (
    LOCAL,
    ActionsSettings,
    ExecutorKind,
    KubernetesSettings,
)
from orchestrator.config.load import load_config
from orchestrator.config.model import Config
from orchestrator.errors import ConfigError
from tests.helpers import ENV, minimal_config, write_config

ACTIONS = {"kind": "github_actions", "command": "claude -p x", "slots": 20}
CLUSTER = {"kind": "kubernetes", "command": "agent", "kubernetes": {"image": "agent:1"}}


def _load(tmp_path: Path, executors: Any, **repo: Any) -> Config:
    base = {"key": "app", "github": "acme/app", "test_command": "pytest -q", **repo}
    data = minimal_config(executors=executors, repos=[base])
    return load_config(write_config(tmp_path, data), ENV)


def test_absent_means_every_repo_runs_here(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path), ENV)
    assert dict(config.executors) == {}
    assert config.repo("app").placement.for_type("implementation") == LOCAL


def test_an_actions_executor_with_defaults_and_a_repo_choosing_it(tmp_path: Path) -> None:
    config = _load(
        tmp_path, {"actions": ACTIONS}, executor="actions", executor_by_type={"fixing": "local"}
    )
    executor = config.executors["actions"]
    assert executor.kind is ExecutorKind.GITHUB_ACTIONS
    assert (executor.slots, executor.timeout_minutes, executor.command) == (20, 60, "claude -p x")
    assert executor.actions == ActionsSettings() and executor.kubernetes is None
    placement = config.repo("app").placement
    assert placement.for_type("implementation") == "actions"
    assert placement.for_type("fixing") == LOCAL


def test_every_kubernetes_key_is_read(tmp_path: Path) -> None:
    (tmp_path / "kube").write_text("x")
    settings = {
        "image": "ghcr.io/acme/agent:1",
        "namespace": "agents",
        "kubeconfig": "kube",
        "context": "prod",
        "service_account": "agent",
        "git_image": "alpine/git:2",
        "git_secret": "repo-read",
        "agent_secret": "agent-keys",
        "agent_env": ["ANTHROPIC_API_KEY"],
        "cpu": "500m",
        "memory": "1Gi",
        "ttl_seconds": 60,
    }
    config = _load(tmp_path, {"cluster": {**CLUSTER, "kubernetes": settings}})
    assert config.executors["cluster"].kubernetes == KubernetesSettings(
        image="ghcr.io/acme/agent:1",
        namespace="agents",
        kubeconfig=tmp_path / "kube",
        context="prod",
        service_account="agent",
        git_image="alpine/git:2",
        git_secret="repo-read",
        agent_secret="agent-keys",
        agent_env=("ANTHROPIC_API_KEY",),
        cpu="500m",
        memory="1Gi",
        ttl_seconds=60,
    )


BAD: list[tuple[Any, dict[str, Any], str]] = [
    ({"local": ACTIONS}, {}, "executors.local: not an executor name: 'local' is this machine's"),
    ({"Big Name": ACTIONS}, {}, "executors.Big Name: not an executor name: 'Big Name' expected"),
    ({"x": {"command": "c"}}, {}, "executors.x.kind: is required (one of github_actions"),
    ({"x": {"kind": "ssh", "command": "c"}}, {}, "executors.x.kind: expected one of"),
    ({"x": {"kind": "github_actions"}}, {}, "executors.x.command: is required"),
    ({"x": {**ACTIONS, "slots": 0}}, {}, "executors.x.slots: expected a positive integer, got 0"),
    (
        {"x": {**ACTIONS, "kubernetes": {}}},
        {},
        "executors.x.kubernetes: belongs to kind kubernetes",
    ),
    (
        {"x": {**ACTIONS, "github_actions": {"secrets": ["GITHUB_TOKEN"]}}},
        {},
        "executors.x.github_actions.secrets: not a repository secret's name: 'GITHUB_TOKEN'",
    ),
    (
        {"x": {**ACTIONS, "github_actions": {"runs_on": ["a b"]}}},
        {},
        "executors.x.github_actions.runs_on: not a runner label: 'a b'",
    ),
    (
        {"x": {**ACTIONS, "github_actions": {"setup": ["echo ${{ secrets.X }}"]}}},
        {},
        "executors.x.github_actions.setup: a setup line may not hold NUL or ${{",
    ),
    (
        {"x": {**ACTIONS, "github_actions": {"workflow": "../evil.yml"}}},
        {},
        "executors.x.github_actions.workflow: expected a file name ending .yml",
    ),
    (
        {"x": {"kind": "kubernetes", "command": "c"}},
        {},
        "executors.x.kubernetes.image: is required",
    ),
    (
        {"x": {**CLUSTER, "kubernetes": {"image": "i", "namespace": "Bad_NS"}}},
        {},
        "executors.x.kubernetes.namespace: expected a Kubernetes name",
    ),
    (
        {"x": {**CLUSTER, "kubernetes": {"image": "i", "memory": "lots"}}},
        {},
        "executors.x.kubernetes.memory: expected a Kubernetes quantity",
    ),
    (
        {"x": {**CLUSTER, "kubernetes": {"image": "i", "agent_env": ["KEY"]}}},
        {},
        "executors.x.kubernetes.agent_env: needs `agent_secret`",
    ),
    ({}, {"executor": "cloud"}, "repos[0].executor: unknown executor 'cloud' (known: local)"),
    (
        {"x": ACTIONS},
        {"executor_by_type": {"review": "x"}},
        "repos[0].executor_by_type.review: not a task type",
    ),
    (
        {"x": ACTIONS},
        {"executor_by_type": {"fixing": "y"}},
        "repos[0].executor_by_type.fixing: unknown executor 'y' (known: local, x)",
    ),
    ("yes", {}, "executors: expected a mapping of executor names, got 'yes'"),
]


@pytest.mark.parametrize("executors, repo, expected", BAD, ids=[e[:50] for _, _, e in BAD])
def test_each_bad_value_is_one_line_naming_it(
    tmp_path: Path, executors: Any, repo: dict[str, Any], expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, executors, **repo)
    problems = [p for p in caught.value.problems if "executor" in p or "kubernetes" in p]
    assert len(problems) == 1, caught.value.problems
    assert problems[0].startswith(expected), problems


def test_task_slots_count_the_local_workers_and_the_executors_in_use(tmp_path: Path) -> None:
    both = {"actions": ACTIONS, "cluster": {**CLUSTER, "slots": 7}}
    assert _load(tmp_path, both).task_slots == 4  # nothing uses them: the local workers alone
    assert _load(tmp_path, both, executor="actions").task_slots == 4 + 20
    by_type = _load(tmp_path, both, executor="actions", executor_by_type={"fixing": "cluster"})
    assert by_type.task_slots == 4 + 20 + 7

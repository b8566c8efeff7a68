"""The Kubernetes Job of a remote attempt: valid for Kubernetes 1.30, the token only in checkout."""

from __future__ import annotations

import re
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest

from orchestrator.adapters.executors.kube_manifest import (
    JOB_SCRIPT,
    job_manifest,
    job_name,
    literal,
    sanitized,
)
from orchestrator.config.executor_model import ExecutorConfig, ExecutorKind, KubernetesSettings
from orchestrator.core.remote import RemoteTask, task_ref
from orchestrator.sandbox.kubernetes.schemas import problems

START = "a" * 40
URL = "https://github.com/agentos/app.git"


def executor(**settings: Any) -> ExecutorConfig:
    return ExecutorConfig(
        name="cluster",
        kind=ExecutorKind.KUBERNETES,
        command='claude -p "$(cat "$AGENTOS_PROMPT_FILE")"',
        kubernetes=KubernetesSettings(image="registry.example.com/agentos:1", **settings),
    )


def task(task_id: str = "agentos-app-12-1", timeout_s: float = 1800) -> RemoteTask:
    return RemoteTask(task_id, "agentos/app", "main", START, task_ref(task_id), timeout_s)


def manifest(**settings: Any) -> dict[str, Any]:
    return job_manifest(executor(**settings), task(), URL)


def pod(job: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = job["spec"]["template"]["spec"]
    return spec


FULL = {
    "service_account": "agentos-runner",
    "git_image": "alpine/git:2.45",
    "agent_secret": "agent-keys",
    "agent_env": ("ANTHROPIC_API_KEY", "OTHER_KEY"),
    "cpu": "500m",
    "memory": "1Gi",
    "ttl_seconds": 600,
}


@pytest.mark.parametrize("settings", [{}, FULL], ids=["defaults", "every-setting"])
def test_the_job_is_valid_for_kubernetes_1_30_in_strict_mode(settings: dict[str, Any]) -> None:
    job = manifest(**settings)
    assert kubernetes_validate.validate(job, "1.30.0", strict=True) is not None
    assert problems(job) == []  # the stand-in's own check, the same schemas


def test_only_the_checkout_gets_the_git_token_and_nothing_mounts_a_secret() -> None:
    spec = pod(manifest(**FULL))
    (checkout,), (agent,) = spec["initContainers"], spec["containers"]
    token = next(e for e in checkout["env"] if e["name"] == "GIT_TOKEN")
    assert token["valueFrom"] == {"secretKeyRef": {"name": "agentos-git", "key": "token"}}
    names = [e["name"] for e in agent["env"]]
    assert "GIT_TOKEN" not in names
    refs = [e["valueFrom"]["secretKeyRef"] for e in agent["env"] if "valueFrom" in e]
    assert refs == [
        {"name": "agent-keys", "key": "ANTHROPIC_API_KEY"},
        {"name": "agent-keys", "key": "OTHER_KEY"},
    ]
    assert [v for v in spec["volumes"] if set(v) != {"name", "emptyDir"}] == []
    assert "envFrom" not in agent and "envFrom" not in checkout
    assert spec["automountServiceAccountToken"] is False
    assert spec["serviceAccountName"] == "agentos-runner"
    assert spec["restartPolicy"] == "Never"
    for container in (checkout, agent):
        assert container["securityContext"] == {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
        }
    assert checkout["image"] == "alpine/git:2.45"
    assert agent["resources"]["limits"] == {"cpu": "500m", "memory": "1Gi"}
    assert agent["resources"]["requests"] == {"cpu": "500m", "memory": "1Gi"}


def test_the_token_is_a_header_of_one_command_never_a_url_or_config() -> None:
    (checkout,) = pod(manifest())["initContainers"]
    script = checkout["command"][2]
    assert "GIT_CONFIG_KEY_0=" in script and "extraHeader" in script
    assert "x-access-token:%s" in script
    assert "git config" not in script and "credential" not in script
    env = {e["name"]: e.get("value") for e in checkout["env"]}
    assert env["AGENTOS_REPO_URL"] == URL and "@" not in URL
    assert env["AGENTOS_GIT_SITE"] == "https://github.com/"
    assert env["AGENTOS_TASK_REF"] == "refs/agentos/tasks/agentos-app-12-1"


def test_the_agent_runs_job_sh_with_every_dollar_kept_from_kubernetes_expansion() -> None:
    job = manifest()
    (agent,) = pod(job)["containers"]
    assert agent["command"][:2] == ["bash", "-c"]
    assert agent["command"][2] == literal(JOB_SCRIPT.read_text(encoding="utf-8"))
    assert re.search(r"(?<!\$)\$\((?!\$)", agent["command"][2]) is None
    env = {e["name"]: e.get("value") for e in agent["env"]}
    assert env["AGENTOS_COMMAND"] == 'claude -p "$$(cat "$$AGENTOS_PROMPT_FILE")"'
    assert env["AGENTOS_START"] == START and env["AGENTOS_PRINT_PARCEL"] == "1"
    assert env["AGENTOS_TIMEOUT"] == "1800"
    assert env["AGENTOS_OUT"].startswith("/agentos/") and agent["workingDir"] == "/agentos/repo"
    assert job["spec"]["backoffLimit"] == 0
    assert job["spec"]["activeDeadlineSeconds"] == 1800 + 600
    assert job["spec"]["ttlSecondsAfterFinished"] == 3600


def test_the_name_is_a_stable_dns_label_per_task_and_start() -> None:
    long_id = "Agent_OS/" + "x" * 100 + "--"
    names = [job_name(t, s) for t in ("t-1", long_id, "!!!") for s in (START, "b" * 40)]
    assert len(set(names)) == 6
    for name in names:
        assert len(name) <= 63 and re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name), name
    assert job_name("t-1", START) == job_name("t-1", START)
    assert job_name("!!!", START).startswith("agentos-task-")
    assert sanitized("Agent_OS/App#12") == "agent-os-app-12"
    job = job_manifest(executor(), task(long_id), URL)
    meta = job["metadata"]
    assert meta["annotations"] == {"agentos/task-id": long_id, "agentos/start": START}
    assert meta["labels"]["app.kubernetes.io/managed-by"] == "agentos"
    assert problems(job) == []

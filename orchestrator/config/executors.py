"""Read `executors` and each repo's choice of one (docs/scale-out.md).

executors:
  actions:                        # a name of your choice; `local` is taken (this machine)
    kind: github_actions
    command: claude -p "$(cat "$AGENTOS_PROMPT_FILE")" --dangerously-skip-permissions
    slots: 20                     # runs under way at once
    timeout_minutes: 60
    github_actions: {runs_on: [ubuntu-latest], setup: [npm i -g @anthropic-ai/claude-code],
                     secrets: [ANTHROPIC_API_KEY]}
  cluster:
    kind: kubernetes
    command: ...
    kubernetes: {image: ghcr.io/me/agentos-agent:1, namespace: agentos, kubeconfig: ~/.kube/config}
repos:
  - key: app
    executor: actions             # default: local
    executor_by_type: {fixing: local}

`repos[].executor` and `executor_by_type` are taken out of `repos[]` before that section is read
(`split`), as the caps are, and checked here against the names above.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from orchestrator.config import places
from orchestrator.config.executor_model import (
    LOCAL,
    ActionsSettings,
    ExecutorConfig,
    ExecutorKind,
    KubernetesSettings,
    Placement,
)
from orchestrator.config.model import RepoConfig
from orchestrator.config.reader import MISSING, Reader, join, show
from orchestrator.core.tasks import TaskType

REPO_KEYS = ("executor", "executor_by_type")
KEYS = (
    "kind",
    "command",
    "slots",
    "timeout_minutes",
    "poll_seconds",
    *(k.value for k in ExecutorKind),
)
ACTIONS_KEYS = ("workflow", "runs_on", "setup", "secrets", "retention_days")
KUBE_KEYS = (
    "image",
    "namespace",
    "kubeconfig",
    "context",
    "service_account",
    "git_image",
    "git_secret",
    "agent_secret",
    "agent_env",
    "cpu",
    "memory",
    "ttl_seconds",
)
MAX_SLOTS = 1000
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_WORKFLOW = re.compile(r"^[A-Za-z0-9._-]{1,100}\.ya?ml$")
_LABEL = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_DNS = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")  # a namespace, secret, account name
_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$")


def split(raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return `raw` without the repos' executor keys, and those keys by repo key and place."""
    repos = raw.get("repos")
    if not isinstance(repos, list):
        return raw, {}
    rest = dict(raw)
    rest["repos"] = [
        {k: v for k, v in item.items() if k not in REPO_KEYS} if isinstance(item, dict) else item
        for item in repos
    ]
    taken = {
        item["key"]: (i, {k: v for k, v in item.items() if k in REPO_KEYS})
        for i, item in enumerate(repos)
        if isinstance(item, dict) and isinstance(item.get("key"), str)
    }
    return rest, taken


def read(r: Reader, value: Any, base: Path) -> dict[str, ExecutorConfig]:
    """Read `executors`: a mapping of names to executors (absent: only `local`)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        r.fail("executors", f"expected a mapping of executor names, got {show(value)}")
        return {}
    found = {}
    for name, node in value.items():
        path = join("executors", name)
        if not isinstance(name, str) or not _NAME.match(name) or name == LOCAL:
            why = "is this machine's, always there" if name == LOCAL else "expected a-z, 0-9, _, -"
            r.fail(path, f"not an executor name: {show(name)} {why}")
            continue
        executor = _executor(r, name, node, path, base)
        if executor is not None:
            found[name] = executor
    return found


def _executor(r: Reader, name: str, value: Any, path: str, base: Path) -> ExecutorConfig | None:
    node = r.mapping(value, path, KEYS)
    if not node:
        if value is None or not isinstance(value, dict) or not value:
            r.fail(path, "expected a mapping with `kind` and `command`")
        return None
    kind = r.choice(node, "kind", path, ExecutorKind, MISSING)
    command = r.string(node, "command", path)
    if isinstance(command, str) and "\0" in command:
        r.fail(join(path, "command"), "holds a NUL character")
    if kind is None:
        return None
    for other in ExecutorKind:
        if other is not kind and other.value in node:
            r.fail(join(path, other.value), f"belongs to kind {other.value}, not {kind.value}")
    settings = join(path, kind.value)
    return ExecutorConfig(
        name=name,
        kind=kind,
        command=command,
        slots=r.integer(node, "slots", path, default=4, maximum=MAX_SLOTS),
        timeout_minutes=r.number(node, "timeout_minutes", path, 60.0, maximum=24 * 60),
        poll_seconds=r.number(node, "poll_seconds", path, 10.0, maximum=600),
        actions=_actions(r, node.get(kind.value), settings)
        if kind is ExecutorKind.GITHUB_ACTIONS
        else None,
        kubernetes=_kubernetes(r, node.get(kind.value), settings, base)
        if kind is ExecutorKind.KUBERNETES
        else None,
    )


def _actions(r: Reader, value: Any, path: str) -> ActionsSettings:
    node = r.mapping(value, path, ACTIONS_KEYS)
    default = ActionsSettings()
    workflow = r.string(node, "workflow", path, default=default.workflow)
    if not _WORKFLOW.match(workflow):
        r.fail(join(path, "workflow"), f"expected a file name ending .yml, got {show(workflow)}")
    runs_on = r.strings(node, "runs_on", path) or default.runs_on
    for label in runs_on:
        if not _LABEL.match(label):
            r.fail(join(path, "runs_on"), f"not a runner label: {show(label)}")
    secrets = r.strings(node, "secrets", path)
    for secret in secrets:
        if not _ENV_NAME.match(secret) or secret.upper().startswith("GITHUB_"):
            r.fail(join(path, "secrets"), f"not a repository secret's name: {show(secret)}")
    setup = r.strings(node, "setup", path)
    for line in setup:
        if "\0" in line or "${{" in line:
            r.fail(join(path, "setup"), f"a setup line may not hold NUL or ${{{{: {show(line)}")
    return ActionsSettings(
        workflow=workflow,
        runs_on=runs_on,
        setup=setup,
        secrets=secrets,
        retention_days=r.integer(node, "retention_days", path, default=1, maximum=90),
    )


def _kubernetes(r: Reader, value: Any, path: str, base: Path) -> KubernetesSettings:
    node = r.mapping(value, path, KUBE_KEYS)
    default = KubernetesSettings(image="")
    names = {}
    for key in ("namespace", "git_secret", "agent_secret", "service_account"):
        text = r.string(node, key, path, default=getattr(default, key))
        if text is not None and not _DNS.match(text):
            r.fail(join(path, key), f"expected a Kubernetes name (a-z, 0-9, -), got {show(text)}")
        names[key] = text
    for key in ("cpu", "memory"):
        text = r.string(node, key, path, default=getattr(default, key))
        if not _QUANTITY.match(str(text)):
            r.fail(
                join(path, key), f"expected a Kubernetes quantity (1, 500m, 2Gi), got {show(text)}"
            )
        names[key] = text
    env = r.strings(node, "agent_env", path)
    for key in env:
        if not _ENV_NAME.match(key):
            r.fail(join(path, "agent_env"), f"not an environment variable's name: {show(key)}")
    if env and names["agent_secret"] is None:
        r.fail(join(path, "agent_env"), "needs `agent_secret`, the Secret holding those keys")
    kubeconfig = r.string(node, "kubeconfig", path, default=None)
    return KubernetesSettings(
        image=r.string(node, "image", path),
        namespace=names["namespace"],
        kubeconfig=places.resolve(base, kubeconfig) if kubeconfig else None,
        context=r.string(node, "context", path, default=None),
        service_account=names["service_account"],
        git_image=r.string(node, "git_image", path, default=""),
        git_secret=names["git_secret"],
        agent_secret=names["agent_secret"],
        agent_env=env,
        cpu=names["cpu"],
        memory=names["memory"],
        ttl_seconds=r.integer(
            node, "ttl_seconds", path, default=3600, minimum=0, maximum=7 * 86400
        ),
    )


def for_repos(
    r: Reader, taken: dict[str, Any], repos: tuple[RepoConfig, ...], executors: dict[str, Any]
) -> tuple[RepoConfig, ...]:
    """Return the repos with their placement, each name checked against `executors`."""
    known = (LOCAL, *executors)
    placed = []
    for repo in repos:
        i, node = taken.get(repo.key, (0, {}))
        path = f"repos[{i}]"
        executor = r.string(node, "executor", path, default=LOCAL)
        if executor not in known:
            r.fail(
                join(path, "executor"),
                f"unknown executor {show(executor)} (known: {', '.join(known)})",
            )
            executor = LOCAL
        by_type = {}
        value = node.get("executor_by_type")
        if value is not None and not isinstance(value, dict):
            r.fail(
                join(path, "executor_by_type"), f"expected task type: executor, got {show(value)}"
            )
            value = {}
        types = [t.value for t in TaskType]
        for task_type, name in (value or {}).items():
            where = join(join(path, "executor_by_type"), task_type)
            if task_type not in types:
                r.fail(where, f"not a task type (expected {' | '.join(types)})")
            elif name not in known:
                r.fail(where, f"unknown executor {show(name)} (known: {', '.join(known)})")
            else:
                by_type[task_type] = name
        placed.append(replace(repo, placement=Placement(executor, MappingProxyType(by_type))))
    return tuple(placed)

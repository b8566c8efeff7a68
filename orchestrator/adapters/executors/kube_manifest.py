"""The Kubernetes Job of one remote attempt, built as a plain manifest (no client, no cluster).

The pod has two containers sharing an `emptyDir`: `checkout`, the only one given the repo's read
token (a Secret key), fetches the task's ref into the volume; `agent` then runs `job.sh` there
with no Kubernetes API token, no repo token and no privilege, and prints its parcel on its log.
Every text handed to Kubernetes has its `$` doubled, so `$(NAME)` reaches bash as written.
"""

from __future__ import annotations

import hashlib
import math
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from orchestrator.config.executor_model import ExecutorConfig, KubernetesSettings
from orchestrator.core.remote import RemoteTask

MANAGED_BY = "agentos"  # app.kubernetes.io/managed-by on every Job Agent OS creates
TASK_LABEL = "agentos/task"  # the sanitized task id (a label value)
TASK_ID_ANNOTATION = "agentos/task-id"  # the exact task id
START_ANNOTATION = "agentos/start"  # the exact start commit
CHECKOUT_CONTAINER = "checkout"
AGENT_CONTAINER = "agent"
VOLUME = "work"
WORK = "/agentos"  # the emptyDir's mountPath in both containers
CHECKOUT = f"{WORK}/repo"  # the task's checkout, the agent's working directory
OUT = f"{WORK}/out"  # job.sh's parcel directory
DEADLINE_MARGIN_S = 600  # the Job's deadline past the agent's timeout: checkout, patch, parcel
JOB_SCRIPT = Path(__file__).with_name("job.sh")

# The init container's script: the token becomes one command's header (GIT_CONFIG_*, scoped to
# the repo's host), never a URL, a file or `.git/config`; only the task's ref is fetched (its
# parent, the start commit, comes with it) and checked out detached.
CHECKOUT_SCRIPT = """\
set -euo pipefail
basic="$(printf 'x-access-token:%s' "${GIT_TOKEN:?}" | base64 -w0)"
unset GIT_TOKEN
git init -q "$AGENTOS_CHECKOUT"
cd "$AGENTOS_CHECKOUT"
git remote add origin "$AGENTOS_REPO_URL"
GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0="http.${AGENTOS_GIT_SITE}.extraHeader" \\
  GIT_CONFIG_VALUE_0="Authorization: Basic $basic" \\
  git fetch -q --no-tags origin "$AGENTOS_TASK_REF"
git checkout -q --detach FETCH_HEAD
echo "agentos: checked out $(git rev-parse HEAD) of $AGENTOS_TASK_REF"
"""


def sanitized(task_id: str) -> str:
    """Return the task id as a DNS-1123 label fragment (lowercase, digits, inner dashes)."""
    text = re.sub(r"[^a-z0-9]+", "-", task_id.lower()).strip("-")
    return text or "task"


def job_name(task_id: str, start: str) -> str:
    """Return the Job's name for a task's attempt from `start`: the same on every call."""
    digest = hashlib.sha256(f"{task_id}\n{start}".encode()).hexdigest()[:8]
    return f"agentos-{sanitized(task_id)[:46].rstrip('-')}-{digest}"


def deadline_s(timeout_s: float, margin_s: int = DEADLINE_MARGIN_S) -> int:
    """Return the Job's activeDeadlineSeconds for an agent allowed `timeout_s`."""
    return max(1, math.ceil(timeout_s) + margin_s)


def literal(text: str) -> str:
    """Return `text` as Kubernetes passes it on unexpanded ($$ is one $)."""
    return text.replace("$", "$$")


def _env(name: str, value: str) -> dict[str, Any]:
    return {"name": name, "value": literal(value)}


def _secret_env(name: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def _locked_down() -> dict[str, Any]:
    return {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}


def job_manifest(
    executor: ExecutorConfig,
    task: RemoteTask,
    clone_url: str,
    *,
    margin_s: int = DEADLINE_MARGIN_S,
    job_script: str | None = None,
) -> dict[str, Any]:
    """Return the batch/v1 Job running `task` with `executor`'s command and settings."""
    settings = executor.kubernetes
    if settings is None:
        raise ValueError(f"executor {executor.name} has no kubernetes settings")
    script = JOB_SCRIPT.read_text(encoding="utf-8") if job_script is None else job_script
    labels = {"app.kubernetes.io/managed-by": MANAGED_BY, TASK_LABEL: sanitized(task.task_id)[:63]}
    annotations = {TASK_ID_ANNOTATION: task.task_id, START_ANNOTATION: task.start}
    site = urlsplit(clone_url)
    mount = [{"name": VOLUME, "mountPath": WORK}]
    checkout = {
        "name": CHECKOUT_CONTAINER,
        "image": settings.git_image or settings.image,
        "command": ["bash", "-c", literal(CHECKOUT_SCRIPT)],
        "env": [
            _secret_env("GIT_TOKEN", settings.git_secret, "token"),
            _env("AGENTOS_REPO_URL", clone_url),
            _env("AGENTOS_GIT_SITE", f"{site.scheme}://{site.netloc}/"),
            _env("AGENTOS_TASK_REF", task.task_ref),
            _env("AGENTOS_CHECKOUT", CHECKOUT),
            _env("GIT_TERMINAL_PROMPT", "0"),
        ],
        "volumeMounts": mount,
        "securityContext": _locked_down(),
    }
    agent = {
        "name": AGENT_CONTAINER,
        "image": settings.image,
        "command": ["bash", "-c", literal(script)],
        "workingDir": CHECKOUT,
        "env": [
            _env("AGENTOS_COMMAND", executor.command),
            _env("AGENTOS_START", task.start),
            _env("AGENTOS_OUT", OUT),
            _env("AGENTOS_TIMEOUT", str(max(1, math.ceil(task.timeout_s)))),
            _env("AGENTOS_PRINT_PARCEL", "1"),
            _env("GIT_TERMINAL_PROMPT", "0"),
            *_agent_secrets(settings),
        ],
        "resources": {
            "requests": {"cpu": settings.cpu, "memory": settings.memory},
            "limits": {"cpu": settings.cpu, "memory": settings.memory},
        },
        "volumeMounts": mount,
        "securityContext": _locked_down(),
    }
    pod: dict[str, Any] = {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "initContainers": [checkout],
        "containers": [agent],
        "volumes": [{"name": VOLUME, "emptyDir": {}}],
    }
    if settings.service_account:
        pod["serviceAccountName"] = settings.service_account
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": job_name(task.task_id, task.start),
            "namespace": settings.namespace,
            "labels": labels,
            "annotations": annotations,
        },
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": deadline_s(task.timeout_s, margin_s),
            "ttlSecondsAfterFinished": settings.ttl_seconds,
            "template": {"metadata": {"labels": labels, "annotations": annotations}, "spec": pod},
        },
    }


def _agent_secrets(settings: KubernetesSettings) -> list[dict[str, Any]]:
    if settings.agent_secret is None:
        return []
    return [_secret_env(key, settings.agent_secret, key) for key in settings.agent_env]

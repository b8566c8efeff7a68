"""The `executors` section: where attempts' agents run besides this machine (docs/scale-out.md).

`local` (worker processes under bubblewrap, `limits.max_parallel_workers` at once) needs no
entry. Each named entry is a GitHub Actions workflow or a Kubernetes Job template; a repo picks
one with `repos[].executor`, per task type with `repos[].executor_by_type`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

LOCAL = "local"  # the executor every repo uses unless its config names another


class ExecutorKind(enum.Enum):
    GITHUB_ACTIONS = "github_actions"
    KUBERNETES = "kubernetes"


@dataclass(frozen=True, slots=True)
class ActionsSettings:
    """`executors.<name>` of kind github_actions: the workflow `executor install` commits."""

    workflow: str = "agentos-task.yml"  # its file name under .github/workflows/
    runs_on: tuple[str, ...] = ("ubuntu-latest",)  # the job's `runs-on` labels
    setup: tuple[str, ...] = ()  # shell lines run before the agent (install its CLI)
    secrets: tuple[str, ...] = ()  # repo secrets given to the agent's step, as env, by name
    retention_days: int = 1  # how long GitHub keeps a run's parcel artifact


@dataclass(frozen=True, slots=True)
class KubernetesSettings:
    """`executors.<name>` of kind kubernetes: one Job per attempt."""

    image: str  # an image with bash, git, coreutils and the agent's CLI (executors/Dockerfile)
    namespace: str = "default"
    kubeconfig: Path | None = None  # None: in the cluster (the pod's service account)
    context: str | None = None
    service_account: str | None = None  # the agent pod's; None: the namespace's default
    git_image: str = ""  # the checkout step's image; "": the same image
    git_secret: str = "agentos-git"  # a Secret whose `token` key reads the repo (never pushes)
    agent_secret: str | None = None  # a Secret whose keys the agent's container gets as env
    agent_env: tuple[str, ...] = ()  # those keys
    cpu: str = "1"  # requests and limits of the agent's container
    memory: str = "2Gi"
    ttl_seconds: int = 3600  # ttlSecondsAfterFinished


@dataclass(frozen=True, slots=True)
class ExecutorConfig:
    name: str
    kind: ExecutorKind
    command: str  # the agent's command line there; the prompt is at $AGENTOS_PROMPT_FILE
    slots: int = 4  # its runs under way at once, beside the local workers
    timeout_minutes: float = 60.0  # the agent's; the engine's deadline adds a margin for setup
    poll_seconds: float = 10.0  # how often a waiting worker asks for its run
    actions: ActionsSettings | None = None
    kubernetes: KubernetesSettings | None = None


@dataclass(frozen=True, slots=True)
class Placement:
    """A repo's choice: its executor, and one per task type over it."""

    executor: str = LOCAL
    by_type: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def for_type(self, task_type: str) -> str:
        return self.by_type.get(task_type, self.executor)

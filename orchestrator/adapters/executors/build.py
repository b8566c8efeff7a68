"""Build the executor a config entry names, for one repo; and its checks for `check --live`.

The kubernetes client is imported only here, and only when a repo uses such an executor.
"""

from __future__ import annotations

from orchestrator.adapters.git_clone import git_url
from orchestrator.adapters.github_http import Rest
from orchestrator.config.executor_model import ExecutorConfig, ExecutorKind
from orchestrator.config.model import Config, RepoConfig
from orchestrator.errors import ExecutorError
from orchestrator.ports_remote import Executor

Verdict = tuple[bool, str]


def build_executor(
    config: Config, settings: ExecutorConfig, repo: RepoConfig, rest: Rest | None
) -> Executor:
    """Return the executor of `settings` for `repo`; ExecutorError when it cannot be built."""
    if settings.kind is ExecutorKind.GITHUB_ACTIONS:
        from orchestrator.adapters.executors.actions import ActionsExecutor

        if rest is None:
            raise ExecutorError(f"executor {settings.name}: no GitHub client to reach Actions")
        return ActionsExecutor(settings, repo.github, rest)
    from orchestrator.adapters.executors.kubernetes import KubeExecutor

    return KubeExecutor(settings, git_url(config.github.api_url, repo.github))


def probe(executor: Executor, repo: RepoConfig) -> list[Verdict]:
    """Return the executor's own checks (each a verdict and a line) for `check --live`."""
    from orchestrator.adapters.executors.actions import ActionsExecutor
    from orchestrator.adapters.executors.kubernetes import KubeExecutor

    if isinstance(executor, ActionsExecutor):
        return executor.probe(repo.base_branch)
    if isinstance(executor, KubeExecutor):
        return executor.probe()
    return []

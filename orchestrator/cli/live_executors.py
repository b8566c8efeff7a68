"""`check --live`'s lines for the remote executors the repos use (docs/scale-out.md).

One line per check, each prefixed `executor NAME (REPO KEY)`: for GitHub Actions, the workflow
as the config renders it on the base branch, active, its secrets set, the token's `workflow`
scope; for Kubernetes, the API, the namespace, the Secrets, a server-side dry run of a Job.
"""

from __future__ import annotations

from collections.abc import Iterator

from orchestrator.config.executor_model import LOCAL
from orchestrator.config.model import Config, RepoConfig
from orchestrator.errors import AgentOSError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from orchestrator.adapters.github_http import RetryPolicy


def used(repo: RepoConfig) -> list[str]:
    """Return the remote executors a repo uses, in the order it names them."""
    names = [repo.placement.executor, *repo.placement.by_type.values()]
    return [n for n in dict.fromkeys(names) if n != LOCAL]


def executor_lines(config: Config, policy: RetryPolicy, timeout: int) -> Iterator[tuple[bool, str]]:
    """Yield (works, line) for each executor each repo uses; nothing when all run here."""
    if not any(used(repo) for repo in config.repos):
        return
    from orchestrator.adapters.executors.build import build_executor, probe
    from orchestrator.adapters.github import GitHubTracker

    tracker = GitHubTracker(config.github, retry=policy, timeout=timeout, throttle=False)
    try:
        for repo in config.repos:
            for name in used(repo):
                where = f"executor {name} ({repo.key})"
                try:
                    executor = build_executor(config, config.executors[name], repo, tracker.rest)
                    lines = probe(executor, repo)
                except (AgentOSError, ValueError) as error:
                    yield False, f"{where}: {error}"
                    continue
                for works, line in lines:
                    yield works, f"{where}: {line}"
    finally:
        tracker.close()

"""`agentos executor install REPO [--executor NAME]`: commit the Actions workflow a repo's
remote executor runs tasks with (docs/scale-out.md).

REPO is a configured repo's key or its `owner/name`; the executor is `--executor`, else the
repo's own (`repos[].executor`), and must be of kind github_actions. The workflow is rendered
(`adapters.executors.actions_workflow`) and committed to the repo's base branch through the
contents API: created, or updated over the file's current blob; the same text already there
changes nothing ("already installed"). A bad REPO or executor is a usage error (exit 2); a write
GitHub refuses (403, or the 404 it answers a token without the `workflow` scope) exits 3.
"""

from __future__ import annotations

import argparse
import base64
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from github import GithubException

from orchestrator.adapters.executors import actions_workflow
from orchestrator.adapters.github_errors import one_line, translated
from orchestrator.adapters.github_http import Rest, RetryPolicy, connect
from orchestrator.config.executor_model import LOCAL, ExecutorConfig, ExecutorKind
from orchestrator.config.load import load_config
from orchestrator.config.model import Config, RepoConfig
from orchestrator.errors import TrackerUnauthorized, UsageError

MESSAGE = "Agent OS: install the {executor} executor's workflow"


def add_executor_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the arguments of `executor` (main.py declares the command itself)."""
    parser.add_argument("action", choices=("install",))
    parser.add_argument("repo", metavar="REPO", help="a configured repo's key or owner/name")
    parser.add_argument("--executor", metavar="NAME", help="the executor (default: the repo's own)")


def run(args: argparse.Namespace, path: Path, env: Mapping[str, str]) -> int:
    """Install the workflow; print what was done."""
    config = load_config(path, env)
    repo, executor = target(config, args.repo, args.executor)
    github = connect(config.github, RetryPolicy(), 100, 15, throttle=False)
    try:
        print(install(Rest(github.requester, 100), repo, executor))
    finally:
        github.close()
    return 0


def target(config: Config, word: str, executor: str | None) -> tuple[RepoConfig, ExecutorConfig]:
    """Return the repo REPO names and its Actions executor; UsageError naming what is wrong."""
    repo = next(
        (r for r in config.repos if word == r.key or word.lower() == r.github.lower()), None
    )
    if repo is None:
        known = ", ".join(r.key for r in config.repos)
        raise UsageError(f"executor install: unknown repo {word!r} (known: {known})")
    name = executor or repo.placement.executor
    if name == LOCAL:
        raise UsageError(
            f"executor install: repo {repo.key} runs its agents locally: name one with --executor"
        )
    found = config.executors.get(name)
    if found is None:
        known = ", ".join(config.executors) or "none"
        raise UsageError(f"executor install: unknown executor {name!r} (known: {known})")
    if found.kind is not ExecutorKind.GITHUB_ACTIONS:
        raise UsageError(
            f"executor install: executor {name} is of kind {found.kind.value}, not github_actions"
        )
    return repo, found


def install(rest: Rest, repo: RepoConfig, executor: ExecutorConfig) -> str:
    """Commit the rendered workflow to the repo's base branch; return the line to print."""
    try:
        text = actions_workflow.render(executor)
    except ValueError as error:
        raise UsageError(f"executor install: {error}") from None
    where = actions_workflow.workflow_path(executor)
    shown = f"{repo.github}@{repo.base_branch}:{where}"
    current = _current(rest, repo, where)
    if current is not None and current[1] == text:
        return f"already installed: {shown}"
    body: dict[str, Any] = {
        "message": MESSAGE.format(executor=executor.name),
        "content": base64.b64encode(text.encode()).decode("ascii"),
        "branch": repo.base_branch,
    }
    if current is not None:
        body["sha"] = current[0]
    url = f"/repos/{repo.github}/contents/{quote(where)}"
    with translated(shown, "write"):
        try:
            rest.send("PUT", url, body)
        except GithubException as error:
            if error.status in (403, 404):
                raise TrackerUnauthorized(
                    one_line(
                        f"GitHub refused to write {shown} ({error.status}): the token needs"
                        " the `workflow` scope (fine-grained: Workflows and Contents: write)"
                    )
                ) from error
            raise
    return f"{'updated' if current else 'installed'}: {shown}"


def _current(rest: Rest, repo: RepoConfig, where: str) -> tuple[str, str] | None:
    """Return the workflow file's blob sha and text on the base branch, or None."""
    with translated(f"{repo.github}:{where}", "read"):
        try:
            found = rest.get(f"/repos/{repo.github}/contents/{quote(where)}", ref=repo.base_branch)
        except GithubException as error:
            if error.status == 404:
                return None
            raise
    text = base64.b64decode(str(found.get("content") or "")).decode("utf-8", "replace")
    return str(found["sha"]), text

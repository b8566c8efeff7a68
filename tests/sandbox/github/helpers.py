"""Helpers shared by the sandbox tests: git commits and pushes, the recorded-shape comparison."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from github import Auth, Github

from orchestrator.sandbox.github import Sandbox

Git = Callable[..., str]


def client(sandbox: Sandbox, token: str) -> Github:
    """Build PyGithub as production does, minus retries and its write throttle.

    Without retries, faults surface at once.
    """
    return Github(
        auth=Auth.Token(token),
        base_url=sandbox.api_url,
        retry=None,
        seconds_between_requests=0,
        seconds_between_writes=0,
    )


def commit(git: Git, clone: Path, path: str, text: str, message: str) -> str:
    (clone / path).parent.mkdir(parents=True, exist_ok=True)
    (clone / path).write_text(text)
    git("add", path, cwd=clone)
    git("commit", "-q", "-m", message, cwd=clone)
    return git("rev-parse", "HEAD", cwd=clone).strip()


def push_branch(
    git: Git, clone: Path, branch: str, path: str = "feature.txt", text: str = "feature\n"
) -> str:
    git("checkout", "-q", "-B", branch, "origin/main", cwd=clone)
    sha = commit(git, clone, path, text, f"Add {path}")
    git("push", "-q", "origin", f"HEAD:refs/heads/{branch}", cwd=clone)
    return sha


# Fields real GitHub sent that the sandbox leaves out on purpose, each with its reason.
NOT_MODELLED = {
    "type",  # issue types: not modelled; the schema lacks ISSUE_TYPE too
    "pinned_comment",
    "issue_field_values",  # newer issue fields the 2022-11-28 description marks optional
    "custom_properties",
    "security_and_analysis",
    "code_of_conduct",  # org/enterprise repository settings
}


# Objects keyed by data rather than by field names (an app's permissions): compared as values only.
MAPS = {"permissions"}


def missing_keys(real: Any, ours: Any, where: str = "$") -> list[str]:
    """Return the key paths present in GitHub's recorded value but absent from the sandbox's."""
    if isinstance(real, dict) and isinstance(ours, dict):
        found = [f"{where}.{k}" for k in real if k not in ours and k not in NOT_MODELLED]
        for key in real.keys() & ours.keys() - MAPS:
            found += missing_keys(real[key], ours[key], f"{where}.{key}")
        return found
    if isinstance(real, list) and isinstance(ours, list) and real and ours:
        return missing_keys(real[0], ours[0], f"{where}[0]")
    return []

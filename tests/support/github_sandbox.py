"""Start a strict sandbox for tests and fail them on any spec violation.

Usable as a pytest plugin.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from orchestrator.sandbox.github.sandbox import Sandbox


@contextmanager
def running_sandbox(data_dir: Path, **options: Any) -> Iterator[Sandbox]:
    """Run a strict sandbox in `data_dir`.

    On exit, raise AssertionError listing any spec violations.
    """
    sandbox = Sandbox(data_dir, strict=True, **options)
    sandbox.start()
    try:
        yield sandbox
    finally:
        sandbox.stop()
    if sandbox.violations:
        lines = "\n  ".join(str(v) for v in sandbox.violations)
        raise AssertionError(f"the sandbox saw exchanges outside GitHub's description:\n  {lines}")


def git_environment(home: Path) -> dict[str, str]:
    """Return an environment for the git CLI.

    It ignores the developer's config and never prompts.
    """
    home.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_AUTHOR_NAME": "Agent",
        "GIT_AUTHOR_EMAIL": "agent@example.com",
        "GIT_COMMITTER_NAME": "Agent",
        "GIT_COMMITTER_EMAIL": "agent@example.com",
        "LANG": "C.UTF-8",
    }


@pytest.fixture
def github_sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    """A strict sandbox on a free port, in a temporary directory.

    The test fails on any spec violation.
    """
    with running_sandbox(tmp_path / "github-sandbox") as sandbox:
        yield sandbox


def protect(
    sandbox: Sandbox,
    full_name: str,
    branch: str = "main",
    *,
    reviews: int | None = None,
    checks: list[str] | None = None,
    strict: bool = False,
    enforce_admins: bool = True,
    linear: bool = False,
    force_pushes: bool = False,
    deletions: bool = False,
    merge_queue: bool = False,
) -> dict[str, Any]:
    """Protect a branch as its admin would, with the body GitHub's REST description gives
    (repos/update-branch-protection): `reviews` approvals required, `checks` contexts required,
    `linear` history required, force pushes and deletions allowed. `merge_queue` then requires
    GitHub's merge queue, which the description has no field for (the sandbox's control option)."""
    import httpx

    body = {
        "required_status_checks": None
        if checks is None
        else {"strict": strict, "contexts": checks},
        "enforce_admins": enforce_admins,
        "required_pull_request_reviews": None
        if reviews is None
        else {"required_approving_review_count": reviews},
        "restrictions": None,
        "required_linear_history": linear,
        "allow_force_pushes": force_pushes,
        "allow_deletions": deletions,
    }
    answer = httpx.put(
        f"{sandbox.api_url}/repos/{full_name}/branches/{branch}/protection",
        json=body,
        headers={
            "Authorization": f"token {sandbox.token}",
            "Accept": "application/vnd.github+json",
        },
    )
    answer.raise_for_status()
    if merge_queue:
        sandbox.require_merge_queue(full_name, branch)
    return answer.json()

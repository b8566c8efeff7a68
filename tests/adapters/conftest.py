"""Fixtures for the adapter tests.

A fresh strict sandbox per test, one repository in it, and the tracker.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.adapters.github import GitHubTracker
from orchestrator.sandbox.github import Sandbox
from tests.contract.worlds import github_tracker
from tests.support.github_sandbox import running_sandbox

REPO = "agentos/app"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with running_sandbox(tmp_path / "github") as sandbox:
        sandbox.create_repo(REPO)
        yield sandbox


@pytest.fixture
def tracker(sandbox: Sandbox) -> Iterator[GitHubTracker]:
    tracker = github_tracker(sandbox.api_url, sandbox.token)
    yield tracker
    tracker.close()


def statuses(sandbox: Sandbox) -> list[tuple[str, str, int | None]]:
    """Return the request log as (method, path under /api/v3, status).

    A status of None: the connection was dropped.
    """
    return [(r.method, r.path.removeprefix("/api/v3"), r.status) for r in sandbox.requests]

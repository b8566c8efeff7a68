"""The `tracker` fixture: one contract suite over the memory twin, the sandbox and (when configured) GitHub."""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.ports import Tracker
from orchestrator.sandbox.github import Sandbox
from orchestrator.sandbox.github.testing import running_sandbox
from tests.contract.worlds import LiveWorld, MemoryWorld, SandboxWorld, World

# Read while collecting: tests/conftest.py empties AGENTOS_* and GITHUB_* before every test runs.
LIVE_REPOS = [r for r in (os.environ.get("AGENTOS_LIVE_REPO"), os.environ.get("AGENTOS_LIVE_REPO2")) if r]
LIVE_TOKEN = os.environ.get("GITHUB_TOKEN")


@pytest.fixture(scope="module")
def contract_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """One strict sandbox per test module; each test makes its own repositories in it."""
    with running_sandbox(tmp_path_factory.mktemp("github")) as sandbox:
        yield sandbox


@pytest.fixture(params=["memory", "sandbox", pytest.param("github", marks=pytest.mark.live)])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    if request.param == "memory":
        yield MemoryWorld()
    elif request.param == "sandbox":
        world = SandboxWorld(request.getfixturevalue("contract_sandbox"), tmp_path)
        yield world
        world.tracker.close()
    elif not (LIVE_REPOS and LIVE_TOKEN):
        pytest.skip("set AGENTOS_LIVE_REPO (a throwaway repo) and GITHUB_TOKEN to run against GitHub")
    else:
        yield LiveWorld(LIVE_REPOS, LIVE_TOKEN)


@pytest.fixture
def tracker(world: World) -> Tracker:
    return world.tracker

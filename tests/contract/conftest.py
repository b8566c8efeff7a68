"""The `tracker` fixture: one contract suite over the memory twin, the sandbox and GitHub.

GitHub is used only when configured.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.ports import Tracker
from orchestrator.sandbox.github import Sandbox
from tests.contract.board_worlds import BoardWorld, MemoryBoards, live_worlds, sandbox_worlds
from tests.contract.worlds import LiveWorld, MemoryWorld, SandboxWorld, World
from tests.support.github_sandbox import running_sandbox

# Read while collecting: tests/conftest.py empties AGENTOS_* and GITHUB_* before every test runs.
LIVE_REPOS = [
    r for r in (os.environ.get("AGENTOS_LIVE_REPO"), os.environ.get("AGENTOS_LIVE_REPO2")) if r
]
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
        pytest.skip(
            "set AGENTOS_LIVE_REPO (a throwaway repo) and GITHUB_TOKEN to run against GitHub"
        )
    else:
        yield LiveWorld(LIVE_REPOS, LIVE_TOKEN)


@pytest.fixture
def tracker(world: World) -> Tracker:
    return world.tracker


LIVE_BOARD = os.environ.get("AGENTOS_LIVE_BOARD")  # owner/number of a throwaway Projects board


@pytest.fixture(
    params=[
        "memory",
        "projects",
        "labels",
        pytest.param("github-projects", marks=pytest.mark.live),
        pytest.param("github-labels", marks=pytest.mark.live),
    ]
)
def board_world(request: pytest.FixtureRequest) -> Iterator[BoardWorld]:
    """A Board backend: the memory twin, and GitHubBoard and LabelBoard on the sandbox.

    Both of those also run on GitHub.
    """
    if request.param == "memory":
        yield MemoryBoards()
        return
    if request.param.startswith("github"):
        if not (LIVE_REPOS and LIVE_TOKEN):
            pytest.skip(
                "set AGENTOS_LIVE_REPO (a throwaway repo) and GITHUB_TOKEN to run against GitHub"
            )
        world = live_worlds(
            request.param.removeprefix("github-"), LIVE_REPOS[0], LIVE_TOKEN, LIVE_BOARD
        )
    else:
        world = sandbox_worlds(request.getfixturevalue("contract_sandbox"), request.param)
    yield world
    world.close()


@pytest.fixture(params=["memory", "projects"])
def admin_world(request: pytest.FixtureRequest) -> Iterator[BoardWorld]:
    """A BoardAdmin backend: the memory twin and GitHubBoardAdmin on the sandbox.

    Boards on GitHub are init's.
    """
    if request.param == "memory":
        yield MemoryBoards()
        return
    world = sandbox_worlds(request.getfixturevalue("contract_sandbox"), request.param)
    yield world
    world.close()

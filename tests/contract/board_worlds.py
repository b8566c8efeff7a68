"""The worlds a Board contract test runs in: a tracker, fresh repositories, and boards on them."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Mapping
from typing import Protocol

import pytest
from github import Auth, Github

from orchestrator.adapters.github import GitHubTracker
from orchestrator.adapters.github_board import GitHubBoard
from orchestrator.adapters.github_board_admin import GitHubBoardAdmin
from orchestrator.adapters.github_graphql import GraphQL
from orchestrator.adapters.label_board import LabelBoard
from orchestrator.adapters.memory import MemoryTracker
from orchestrator.adapters.memory_board import MemoryBoardAdmin
from orchestrator.config.model import GitHubConfig, Secret
from orchestrator.core.model import BoardStatus, Project
from orchestrator.ports import Board, BoardAdmin, Tracker
from orchestrator.sandbox.github import Sandbox
from orchestrator.sandbox.github.graph import schema
from tests.contract.worlds import FAST_RETRY, github_tracker

_NAMES = itertools.count(1)
Names = Mapping[BoardStatus, str] | None


class BoardWorld(Protocol):
    """A tracker, an admin, and boards on fresh repositories."""

    name: str
    login: str
    tracker: Tracker
    admin: BoardAdmin | None  # None: a label board, set up by labels alone

    def new_repo(self) -> str: ...
    def new_project(self) -> Project: ...
    def board(self, repo: str, page_size: int = 100) -> Board: ...
    def board_on(self, project: Project, repo: str, names: Names = None) -> Board: ...


def graphql_client(url: str, token: str, validate: bool = True) -> GraphQL:
    """Build the GraphQL client as wiring does, with fast retries.

    With `validate`, each document is checked first.
    """
    config = GitHubConfig(
        token=Secret("GITHUB_TOKEN", token), api_url=url, graphql_url=url, trusted_users=()
    )
    return GraphQL(config, retry=FAST_RETRY, schema=schema() if validate else None)


class MemoryBoards:
    """MemoryBoard on MemoryTracker: each board a project of a MemoryBoardAdmin."""

    name, login = "memory", "agentos"

    def __init__(self) -> None:
        self.tracker = self.memory = MemoryTracker(self.login)
        self.admin = self.memory_admin = MemoryBoardAdmin(self.memory)

    def new_repo(self) -> str:
        name = f"{self.login}/board{next(_NAMES)}"
        self.memory.add_repo(name)
        return name

    def new_project(self) -> Project:
        return self.memory_admin.find_or_create(self.login, f"board {uuid.uuid4().hex[:8]}")

    def board(self, repo: str, page_size: int = 100) -> Board:
        project = self.new_project()
        self.memory_admin.ensure_statuses(project)
        return self.memory_admin.board(project, repo)

    def board_on(self, project: Project, repo: str, names: Names = None) -> Board:
        return self.memory_admin.board(project, repo, names)


class ProjectBoards:
    """GitHubBoard through gql and GitHubTracker through PyGithub, on the sandbox or on GitHub."""

    name = "projects"

    def __init__(
        self,
        tracker: GitHubTracker,
        graphql: GraphQL,
        login: str,
        new_repo: Callable[[], str],
        live_board: tuple[str, int] | None = None,
    ) -> None:
        self.tracker, self.graphql, self.login = tracker, graphql, login
        self.admin = GitHubBoardAdmin(graphql, tracker)
        self._new_repo, self._live_board = new_repo, live_board

    def new_repo(self) -> str:
        return self._new_repo()

    def new_project(self) -> Project:
        if self._live_board:
            pytest.skip(
                "creating boards on GitHub is left to `agentos init`; "
                "the live run reuses AGENTOS_LIVE_BOARD"
            )
        return self.admin.find_or_create(self.login, f"board {uuid.uuid4().hex[:8]}")

    def board(self, repo: str, page_size: int = 100) -> Board:
        if self._live_board:
            project = self.admin.project(*self._live_board)
        else:
            project = self.new_project()
            self.admin.link(project, repo)
        self.admin.ensure_statuses(project)
        return GitHubBoard(
            self.graphql,
            project.owner,
            project.number,
            tracker=self.tracker,
            repo=repo,
            page_size=page_size,
        )

    def board_on(self, project: Project, repo: str, names: Names = None) -> Board:
        return GitHubBoard(
            self.graphql,
            project.owner,
            project.number,
            tracker=self.tracker,
            repo=repo,
            names=names,
        )

    def close(self) -> None:
        self.graphql.close()
        self.tracker.close()


class LabelBoards:
    """LabelBoard through GitHubTracker, on the sandbox or on GitHub."""

    name = "labels"
    admin = None

    def __init__(self, tracker: GitHubTracker, login: str, new_repo: Callable[[], str]) -> None:
        self.tracker, self.login, self._new_repo = tracker, login, new_repo

    def new_repo(self) -> str:
        return self._new_repo()

    def new_project(self) -> Project:
        pytest.skip("a label board has no project")

    def board(self, repo: str, page_size: int = 100) -> Board:
        return LabelBoard(self.tracker, repo)

    def board_on(self, project: Project, repo: str, names: Names = None) -> Board:
        pytest.skip("a label board has no project")

    def close(self) -> None:
        self.tracker.close()


def sandbox_worlds(sandbox: Sandbox, kind: str) -> ProjectBoards | LabelBoards:
    """Return the projects or labels world on a sandbox; every test gets fresh repositories."""

    def new_repo() -> str:
        name = f"{sandbox.login}/board{next(_NAMES)}"
        sandbox.create_repo(name)
        return name

    tracker = github_tracker(sandbox.api_url, sandbox.token)
    if kind == "labels":
        return LabelBoards(tracker, sandbox.login, new_repo)
    return ProjectBoards(
        tracker, graphql_client(sandbox.graphql_url, sandbox.token), sandbox.login, new_repo
    )


def live_worlds(kind: str, repo: str, token: str, board: str | None) -> ProjectBoards | LabelBoards:
    """Return a world on GitHub: the throwaway repo, and for projects the throwaway board.

    The board is named as `owner/number`.
    """
    tracker = github_tracker("https://api.github.com", token)
    login = Github(auth=Auth.Token(token)).get_user().login.lower()
    if kind == "labels":
        return LabelBoards(tracker, login, lambda: repo)
    if not board:
        pytest.skip(
            "set AGENTOS_LIVE_BOARD (owner/number of a throwaway board) "
            "to run the board against GitHub"
        )
    owner, _, number = board.partition("/")
    return ProjectBoards(
        tracker,
        graphql_client("https://api.github.com/graphql", token, validate=False),
        login,
        lambda: repo,
        live_board=(owner, int(number)),
    )

"""Build the adapters a job needs from the config: the only place that knows concrete classes."""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, NoReturn

from orchestrator.config import Config
from orchestrator.config.model import RepoConfig

if TYPE_CHECKING:  # the adapters (PyGithub, gql) are imported on first use, not on every tick
    from orchestrator.adapters.github_graphql import GraphQL
    from orchestrator.ports import Board, BoardAdmin, Tracker


def _unwired(what: str) -> Callable[..., NoReturn]:
    def refuse(*_: object) -> NoReturn:
        raise RuntimeError(f"this run was given no {what}")
    return refuse


@dataclass(frozen=True)
class Deps:
    """What a job's `run` receives besides config and the time; adapters join as they land.

    GitHub's adapters are built on first use: a tick that touches neither tracker nor board makes
    no connection and imports neither PyGithub nor gql. Tests pass memory twins as the factories.
    """

    config: Config
    log: logging.Logger
    make_tracker: Callable[[], Tracker] = field(default=_unwired("tracker"), repr=False)
    make_board: Callable[[RepoConfig], Board] = field(default=_unwired("board"), repr=False)
    _boards: dict[str, Board] = field(default_factory=dict, init=False, repr=False, compare=False)

    @cached_property
    def tracker(self) -> Tracker:
        """Return the tracker (GitHub issues and pull requests), built once per run."""
        return self.make_tracker()

    def board_for(self, repo: RepoConfig) -> Board:
        """Return the repo's board (its Projects board, or `status:*` labels), built once per run."""
        if repo.key not in self._boards:
            self._boards[repo.key] = self.make_board(repo)
        return self._boards[repo.key]


class GitHub:
    """The GitHub adapters of one run, each built on first use; boards share one GraphQL connection."""

    def __init__(self, config: Config) -> None:
        self.config = config

    @cached_property
    def tracker(self) -> Tracker:
        """Return the REST tracker."""
        from orchestrator.adapters.github import GitHubTracker

        return GitHubTracker(self.config.github)

    @cached_property
    def graphql(self) -> GraphQL:
        """Return the GraphQL client the boards share."""
        from orchestrator.adapters.github_graphql import GraphQL

        return GraphQL(self.config.github)

    def board(self, repo: RepoConfig) -> Board:
        """Return the repo's Projects board when it names one, else its `status:*` label board."""
        if repo.board is None:
            from orchestrator.adapters.label_board import LabelBoard

            return LabelBoard(self.tracker, repo.github)
        from orchestrator.adapters.github_board import GitHubBoard
        from orchestrator.core.board import status_names

        return GitHubBoard(self.graphql, repo.board.owner, repo.board.number, tracker=self.tracker,
                           repo=repo.github, names=status_names(dict(repo.board.status_names)))

    @cached_property
    def board_admin(self) -> BoardAdmin:
        """Return board set-up (what `agentos init` uses)."""
        from orchestrator.adapters.github_board_admin import GitHubBoardAdmin

        return GitHubBoardAdmin(self.graphql, self.tracker)


def real_deps(config: Config, log: logging.Logger) -> Deps:
    """Return the production dependencies for one run."""
    github = GitHub(config)
    return Deps(config=config, log=log, make_tracker=lambda: github.tracker, make_board=github.board)

"""Build the adapters a run needs from the config: the only place that names concrete classes.

Only the entry points import this module (the command line, the tick runner, the worker
process, the bot, `agentos init` and the demo); everything else is handed `deps.Deps`, typed
by the ports. Each adapter is built on first use, and its library imported then, so a tick
that needs no GitHub makes no connection and imports no GitHub client.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from orchestrator.config.model import Config, GitHubConfig, RepoConfig, Secret, default_graphql_url
from orchestrator.deps import Deps
from orchestrator.ports import (
    LLM,
    Agent,
    AuditLog,
    Board,
    BoardAdmin,
    Chat,
    ControlPlane,
    Tests,
    Tracker,
    Workers,
    Worktrees,
)
from orchestrator.ports_init import BoardTools, GitHubSetup, Services
from orchestrator.ports_remote import Executor, TaskRefs

if TYPE_CHECKING:  # gql is imported on first use, not on every tick
    from orchestrator.adapters.github import GitHubTracker
    from orchestrator.adapters.github_graphql import GraphQL
    from orchestrator.adapters.github_http import RetryPolicy


def real_deps(config: Config, log: logging.Logger, *, actor: str = "agentos") -> Deps:
    """Return the production dependencies for one run; `actor` signs its audited acts.

    The config's secret values are registered with `core.redact` first, so everything the
    process sends out (logs, records, comments, chat) hides them in every encoding.
    """
    register_secrets(config)
    return Deps(config=config, log=log, adapters=RealAdapters(config, actor=actor))


def register_secrets(config: Config) -> None:
    """Make `redact` hide the values of the config's `$VAR` secrets for the rest of the process."""
    from orchestrator.config.backend_keys import secret_values
    from orchestrator.core.redact import register_values

    register_values(secret_values(config))


class RealAdapters:
    """The `deps.Adapters` factory of a real run: GitHub, git, agents, Telegram, workers.

    The tracker and worktrees it builds record their authority-bearing acts in the audit log
    (`adapters.audited`), signed `actor` (`agentos:<job>` for a tick).
    """

    def __init__(self, config: Config, *, actor: str = "agentos") -> None:
        self.config, self.actor = config, actor
        self._tracker: Tracker | None = None
        self._github: GitHubTracker | None = None  # the tracker's own client, for board stamps
        self._reviewer: Tracker | None = None
        self._graphql: GraphQL | None = None
        self._audit: AuditLog | None = None

    def tracker(self) -> Tracker:
        from orchestrator.adapters.audited import AuditedTracker
        from orchestrator.adapters.github import GitHubTracker

        if self._tracker is None:
            github = GitHubTracker(self.config.github, state_dir=self.config.paths.state_dir)
            self._github = github
            self._tracker = AuditedTracker(github, self.audit(), self.actor)
        return self._tracker

    def reviewer(self) -> Tracker | None:
        from orchestrator.adapters.audited import AuditedTracker
        from orchestrator.adapters.github import GitHubTracker

        token = self.config.review.token
        if token is not None and self._reviewer is None:
            github = GitHubTracker(
                replace(self.config.github, token=token), state_dir=self.config.paths.state_dir
            )
            self._reviewer = AuditedTracker(github, self.audit(), self.actor)
        return self._reviewer

    def audit(self) -> AuditLog:
        from orchestrator.store.audit import AuditFile, audit_dir, key_file

        if self._audit is None:
            paths = self.config.paths
            self._audit = AuditFile(audit_dir(paths.runtime_dir), key_file(self.config.source))
        return self._audit

    def _shared_graphql(self) -> GraphQL:
        """The GraphQL client every board of the run shares."""
        from orchestrator.adapters.github_graphql import GraphQL

        if self._graphql is None:
            self._graphql = GraphQL(self.config.github)
        return self._graphql

    def board(self, repo: RepoConfig, tracker: Tracker) -> Board:
        if repo.board is None:
            from orchestrator.adapters.label_board import LabelBoard

            return LabelBoard(tracker, repo.github)
        from orchestrator.adapters.github_board import GitHubBoard
        from orchestrator.core.board import status_names

        return GitHubBoard(
            self._shared_graphql(),
            repo.board.owner,
            repo.board.number,
            tracker=tracker,
            repo=repo.github,
            names=status_names(dict(repo.board.status_names)),
            rest=self._github.rest if self._github is not None else None,
        )

    def board_admin(self, tracker: Tracker) -> BoardAdmin:
        from orchestrator.adapters.github_board_admin import GitHubBoardAdmin

        return GitHubBoardAdmin(self._shared_graphql(), tracker)

    def llm(self) -> LLM | None:
        name = self.config.dispatcher.structure_briefs_with
        return None if name is None else self.llm_for(name)

    def llm_for(self, backend_name: str) -> LLM:
        from orchestrator.adapters.llm import AnthropicLLM

        return AnthropicLLM(self.config.agents.backends[backend_name])

    def chat(self, log: logging.Logger) -> Chat | None:
        if self.config.telegram is None:
            return None
        from orchestrator.adapters.telegram import TelegramChat

        return TelegramChat(self.config.telegram, log)

    def control(
        self,
        log: logging.Logger,
        tracker: Callable[[], Tracker],
        board_for: Callable[[RepoConfig], Board],
    ) -> ControlPlane:
        from orchestrator.control.plane import Control
        from orchestrator.jobs import JOBS

        return Control(
            self.config,
            JOBS,
            log,
            tracker=tracker,
            board_for=board_for,
            audit=self.audit(),
            halt=self.halt,
        )

    def halt(self, repo_key: str | None) -> str:
        """Stop the running agents (of one repo, or all) and say what was done (`off now`)."""
        from orchestrator.delivery.stopping import halt
        from orchestrator.store.mailbox import Mailbox

        mailbox = Mailbox(self.config.paths.mailbox_dir)
        return halt(self.config, mailbox, self.workers(), repo_key).describe()

    def agents(self) -> Mapping[str, Agent]:
        from orchestrator.adapters.agents.registry import build_agents

        return build_agents(self.config)

    def tests(self) -> Tests:
        from orchestrator.adapters.agents.confine import Walls
        from orchestrator.adapters.agents.environment import policy_for
        from orchestrator.adapters.repo_tests import ShellTests

        return ShellTests(policy_for(self.config), walls=Walls.from_config(self.config, os.environ))

    def workers(self) -> Workers:
        from orchestrator.adapters.agents.confine import Walls
        from orchestrator.adapters.workers import ProcessWorkers

        walls = Walls.from_config(self.config, os.environ)
        return ProcessWorkers(
            self.config.source,
            self.config.paths.logs_dir,
            self.config.paths.root,
            refusal=walls.refusal,
        )

    def worktrees(self) -> Worktrees:
        from orchestrator.adapters.audited import AuditedWorktrees
        from orchestrator.adapters.git import GitWorktrees

        return AuditedWorktrees(GitWorktrees.from_config(self.config), self.audit(), self.actor)

    def executor(self, name: str, repo: RepoConfig) -> Executor:
        from orchestrator.adapters.executors.build import build_executor

        self.tracker()  # the Actions executor talks through the tracker's REST client
        rest = self._github.rest if self._github is not None else None
        return build_executor(self.config, self.config.executors[name], repo, rest)

    def task_refs(self) -> TaskRefs:
        from orchestrator.adapters.git import GitWorktrees
        from orchestrator.adapters.git_task_refs import GitTaskRefs

        return GitTaskRefs(GitWorktrees.from_config(self.config), self.audit(), self.actor)

    def close(self) -> None:
        """Close the GitHub connections this run opened.

        The clients it never used were never built.
        """
        for adapter in (self._tracker, self._reviewer, self._graphql):
            closer = getattr(adapter, "close", None)
            if callable(closer):
                closer()


# -- agentos init: the services its steps use -----------------------------------------------------


def init_services(*, throttle: bool = True, retry: RetryPolicy | None = None) -> Services:
    """Return the real services `agentos init` uses.

    `throttle` keeps GitHub's advised gaps between writes.
    """
    from orchestrator.adapters.anthropic_drafts import AnthropicDrafter
    from orchestrator.adapters.github_http import RetryPolicy
    from orchestrator.adapters.github_setup import GitHubSetupClient
    from orchestrator.adapters.telegram_pairing import BotPairing

    # Someone is waiting at a prompt: a mistyped URL should fail in seconds, not after a minute
    # of backoff.
    policy = retry or RetryPolicy(total=2, backoff_factor=0.5, backoff_max=4.0)

    def config(api_url: str, token: str) -> GitHubConfig:
        return GitHubConfig(
            token=Secret("GITHUB_TOKEN", token),
            api_url=api_url.rstrip("/"),
            graphql_url=default_graphql_url(api_url),
            trusted_users=(),
        )

    def github(api_url: str, token: str) -> GitHubSetup:
        return GitHubSetupClient(config(api_url, token), throttle=throttle, retry=policy)

    def board(api_url: str, token: str) -> BoardTools:
        from orchestrator.adapters.github import GitHubTracker
        from orchestrator.adapters.github_board import GitHubBoard
        from orchestrator.adapters.github_board_admin import GitHubBoardAdmin
        from orchestrator.adapters.github_graphql import GraphQL

        settings = config(api_url, token)
        graphql = GraphQL(settings, retry=policy)
        tracker = GitHubTracker(settings, throttle=throttle, retry=policy)

        def close() -> None:
            graphql.close()
            tracker.close()

        return BoardTools(
            admin=GitHubBoardAdmin(graphql, tracker),
            board=lambda project, repo: GitHubBoard(
                graphql, project.owner, project.number, tracker=tracker, repo=repo
            ),
            close=close,
        )

    return Services(github=github, board=board, telegram=BotPairing(), drafter=AnthropicDrafter())

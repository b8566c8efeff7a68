"""Build the adapters a job needs from the config: the only place that knows concrete classes.

Every adapter is built on first use, so a tick that needs no GitHub makes no connection. Tests
replace any of them by assignment before the job runs (`deps.tracker = MemoryTracker()`): a
cached property is overridden by the instance attribute.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from orchestrator.briefs import Briefs
from orchestrator.config import Config, RepoConfig
from orchestrator.mailbox import Mailbox
from orchestrator.memo import Memo
from orchestrator.ports import (
    LLM, Agent, Board, BoardAdmin, Chat, ControlPlane, Cooldowns, Notifier, Tests, Tracker, Workers, Worktrees,
)
from orchestrator.state import Switches

if TYPE_CHECKING:  # gql is imported on first use, not on every tick
    from orchestrator.adapters.github_graphql import GraphQL
    from orchestrator.adapters.github_http import RetryPolicy
    from orchestrator.init.services import Services


@dataclass
class Deps:
    """What a job's `run` receives besides config and the time."""

    config: Config
    log: logging.Logger
    boards: dict[str, Board] = field(default_factory=dict)   # repo key -> its board, built on first use

    @cached_property
    def tracker(self) -> Tracker:
        """GitHub issues and pull requests (REST), built once per run."""
        from orchestrator.adapters.github import GitHubTracker

        return GitHubTracker(self.config.github)

    @cached_property
    def graphql(self) -> GraphQL:
        """The GraphQL client every board of the run shares."""
        from orchestrator.adapters.github_graphql import GraphQL

        return GraphQL(self.config.github)

    def close(self) -> None:
        """Close the connections of the adapters this run built (the ones it never used were never built)."""
        for name in ("tracker", "graphql"):
            adapter = self.__dict__.get(name)
            closer = getattr(adapter, "close", None)
            if callable(closer):
                closer()

    def board_for(self, repo: RepoConfig) -> Board:
        """Return the repo's board: its Projects board, or `status:*` labels when it has none."""
        if repo.key not in self.boards:
            self.boards[repo.key] = self._board(repo)
        return self.boards[repo.key]

    def _board(self, repo: RepoConfig) -> Board:
        if repo.board is None:
            from orchestrator.adapters.label_board import LabelBoard

            return LabelBoard(self.tracker, repo.github)
        from orchestrator.adapters.github_board import GitHubBoard
        from orchestrator.core.board import status_names

        return GitHubBoard(self.graphql, repo.board.owner, repo.board.number, tracker=self.tracker,
                           repo=repo.github, names=status_names(dict(repo.board.status_names)))

    @cached_property
    def board_admin(self) -> BoardAdmin:
        """Board set-up (what `agentos init` uses)."""
        from orchestrator.adapters.github_board_admin import GitHubBoardAdmin

        return GitHubBoardAdmin(self.graphql, self.tracker)

    @cached_property
    def mailbox(self) -> Mailbox:
        return Mailbox(self.config.paths.mailbox_dir)

    @cached_property
    def switches(self) -> Switches:
        return Switches(self.config.paths.state_dir)

    def memo(self, name: str) -> Memo:
        """Return the job's memo of what it already said (runtime/state/<name>.memo.json)."""
        return Memo(self.config.paths.state_dir / f"{name}.memo.json")

    @cached_property
    def llm(self) -> LLM | None:
        """The model that structures vague issues (`dispatcher.structure_briefs_with`), or None."""
        name = self.config.dispatcher.structure_briefs_with
        if name is None:
            return None
        from orchestrator.adapters.llm import AnthropicLLM

        return AnthropicLLM(self.config.agents.backends[name])

    @cached_property
    def briefs(self) -> Briefs:
        return Briefs(self.llm, self.log)

    # -- notifications and the chat (telegram branch) -------------------------------------------
    @cached_property
    def notifier(self) -> Notifier:
        """The outbox when Telegram is configured (the control job delivers it), else the event log."""
        return notifier_for(self.config, self.log)

    @cached_property
    def chat(self) -> Chat | None:
        """The Telegram transport; None without a `telegram:` section."""
        if self.config.telegram is None:
            return None
        from orchestrator.adapters.telegram import TelegramChat

        return TelegramChat(self.config.telegram, self.log)

    @cached_property
    def control(self) -> ControlPlane:
        """The control plane the chat calls: commands, buttons, outbox delivery, the update offset."""
        from orchestrator.control.plane import Control
        from orchestrator.jobs import JOBS

        return Control(self.config, JOBS, self.log, tracker=lambda: self.tracker, board_for=self.board_for)

    # -- agents (agents branch) -----------------------------------------------------------------
    @cached_property
    def agents(self) -> Mapping[str, Agent]:
        """Every configured backend by name (agents.backends)."""
        from orchestrator.adapters.agents.registry import build_agents

        return build_agents(self.config)

    @cached_property
    def cooldowns(self) -> Cooldowns:
        """Agent cooldowns, shared by every worker (runtime/state/cooldowns.json)."""
        from orchestrator.cooldowns import CooldownStore

        return CooldownStore(self.config.paths.state_dir)

    @cached_property
    def tests(self) -> Tests:
        """The repos' test commands, run with the agents' scrubbed environment."""
        from orchestrator.adapters.agents.environment import policy_for
        from orchestrator.adapters.repo_tests import ShellTests

        return ShellTests(policy_for(self.config))

    @cached_property
    def workers(self) -> Workers:
        """Worker processes for the queue supervisor."""
        from orchestrator.adapters.workers import ProcessWorkers

        return ProcessWorkers(self.config.source, self.config.paths.logs_dir, self.config.paths.root)

    # -- worktrees (warroom branch) -------------------------------------------------------------
    @cached_property
    def worktrees(self) -> Worktrees:
        """Git worktrees from a shared clone per repo; built (and GitPython imported) on first use."""
        from orchestrator.adapters.git import GitWorktrees

        return GitWorktrees.from_config(self.config)


def notifier_for(config: Config, log: logging.Logger) -> Notifier:
    """Return the notifier the config calls for."""
    from orchestrator.outbox import LogNotifier, Outbox, OutboxNotifier

    if config.telegram is None:
        return LogNotifier(log)
    return OutboxNotifier(Outbox(config.paths.state_dir), log)


def real_deps(config: Config, log: logging.Logger) -> Deps:
    """Return the production dependencies for one run."""
    return Deps(config=config, log=log)


# -- agentos init: the services its steps use --------------------------------------------------------

def init_services(*, throttle: bool = True, retry: RetryPolicy | None = None) -> Services:
    """Return the real services `agentos init` uses; `throttle` keeps GitHub's advised gaps between writes."""
    from orchestrator.adapters.anthropic_drafts import AnthropicDrafter
    from orchestrator.adapters.github_http import RetryPolicy
    from orchestrator.adapters.github_setup import GitHubSetupClient
    from orchestrator.adapters.telegram_pairing import BotPairing
    from orchestrator.config.model import GitHubConfig, Secret
    from orchestrator.init.credentials import graphql_url
    from orchestrator.init.services import BoardTools, GitHubSetup, Services

    # Someone is waiting at a prompt: a mistyped URL should fail in seconds, not after a minute of backoff.
    policy = retry or RetryPolicy(total=2, backoff_factor=0.5, backoff_max=4.0)

    def config(api_url: str, token: str) -> GitHubConfig:
        return GitHubConfig(token=Secret("GITHUB_TOKEN", token), api_url=api_url.rstrip("/"),
                            graphql_url=graphql_url(api_url), trusted_users=())

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

        return BoardTools(admin=GitHubBoardAdmin(graphql, tracker),
                          board=lambda project, repo: GitHubBoard(graphql, project.owner, project.number,
                                                                   tracker=tracker, repo=repo), close=close)

    return Services(github=github, board=board, telegram=BotPairing(), drafter=AnthropicDrafter())

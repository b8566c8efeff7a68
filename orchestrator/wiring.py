"""Build the adapters a job needs from the config: the only place that knows concrete classes.

Every adapter is built on first use, so a tick that needs no GitHub makes no connection. Tests
replace any of them by assignment before the job runs (`deps.tracker = MemoryTracker()`): a
cached property is overridden by the instance attribute.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from orchestrator.briefs import Briefs
from orchestrator.config import Config, RepoConfig
from orchestrator.mailbox import Mailbox
from orchestrator.memo import Memo
from orchestrator.ports import LLM, Board, Notifier, Tracker
from orchestrator.state import Switches

if TYPE_CHECKING:
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
        from orchestrator.adapters.github import GitHubTracker

        return GitHubTracker(self.config.github)

    def board_for(self, repo: RepoConfig) -> Board:
        """Return the repo's board: its Projects board, or `status:*` labels when it has none."""
        if repo.key not in self.boards:
            self.boards[repo.key] = board_for(self.config, repo, self.tracker)
        return self.boards[repo.key]

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
        return None

    @cached_property
    def briefs(self) -> Briefs:
        return Briefs(self.llm, self.log)

    # -- notifications (telegram branch) --------------------------------------------------------
    @cached_property
    def notifier(self) -> Notifier:
        """The outbox when Telegram is configured (the control job delivers it), else the event log."""
        return notifier_for(self.config, self.log)


def board_for(config: Config, repo: RepoConfig, tracker: Tracker) -> Board:
    """Return the Board adapter for one repo."""
    raise NotImplementedError("the board adapter lands with the board branch")


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
    from orchestrator.adapters.github_setup import GitHubSetupClient
    from orchestrator.adapters.telegram_pairing import BotPairing
    from orchestrator.config.model import GitHubConfig, Secret
    from orchestrator.init.credentials import graphql_url
    from orchestrator.init.services import BoardAdmin, GitHubSetup, Services

    def config(api_url: str, token: str) -> GitHubConfig:
        return GitHubConfig(token=Secret("GITHUB_TOKEN", token), api_url=api_url.rstrip("/"),
                            graphql_url=graphql_url(api_url), trusted_users=())

    def github(api_url: str, token: str) -> GitHubSetup:
        return GitHubSetupClient(config(api_url, token), throttle=throttle, retry=retry)

    def board(endpoint: str, token: str) -> BoardAdmin:
        raise NotImplementedError("the Projects board adapter has not landed yet")

    return Services(github=github, board=board, telegram=BotPairing(), drafter=AnthropicDrafter())

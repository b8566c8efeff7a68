"""Build the adapters a job needs from the config: the only place that knows concrete classes."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property

from orchestrator.config import Config, RepoConfig
from orchestrator.ports import Board, Chat, ControlPlane, Notifier, Tracker


@dataclass(frozen=True)
class Deps:
    """What a job's `run` receives besides config and the time; adapters join as they land.

    Every adapter is built on first use, so a tick that needs none makes no connection.
    """

    config: Config
    log: logging.Logger

    # -- GitHub (the board branch defines these too; keep its versions on merge) ----------------------
    @cached_property
    def tracker(self) -> Tracker:
        """The GitHub REST tracker."""
        from orchestrator.adapters.github import GitHubTracker

        return GitHubTracker(self.config.github)

    def board_for(self, repo: RepoConfig) -> Board | None:
        """The repo's board; None until the board adapter is wired in."""
        return None

    # -- notifications and the chat (telegram branch) ------------------------------------------------
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


def notifier_for(config: Config, log: logging.Logger) -> Notifier:
    """Return the notifier the config calls for."""
    from orchestrator.outbox import LogNotifier, Outbox, OutboxNotifier

    if config.telegram is None:
        return LogNotifier(log)
    return OutboxNotifier(Outbox(config.paths.state_dir), log)


def real_deps(config: Config, log: logging.Logger) -> Deps:
    """Return the production dependencies for one run."""
    return Deps(config=config, log=log)

"""Build the adapters a job needs from the config: the only place that knows concrete classes."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property

from orchestrator.config import Config
from orchestrator.ports import Notifier


@dataclass(frozen=True)
class Deps:
    """What a job's `run` receives besides config and the time; adapters join as they land."""

    config: Config
    log: logging.Logger

    # -- notifications (telegram branch) --------------------------------------------------------
    @cached_property
    def notifier(self) -> Notifier:
        """The outbox when Telegram is configured (the control job delivers it), else the event log."""
        return notifier_for(self.config, self.log)


def notifier_for(config: Config, log: logging.Logger) -> Notifier:
    """Return the notifier the config calls for."""
    from orchestrator.outbox import LogNotifier, Outbox, OutboxNotifier

    if config.telegram is None:
        return LogNotifier(log)
    return OutboxNotifier(Outbox(config.paths.state_dir), log)


def real_deps(config: Config, log: logging.Logger) -> Deps:
    """Return the production dependencies for one run."""
    return Deps(config=config, log=log)

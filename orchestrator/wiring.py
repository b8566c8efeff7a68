"""Build the adapters a job needs from the config: the only place that knows concrete classes."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property

from orchestrator.config import Config
from orchestrator.ports import Worktrees


@dataclass(frozen=True)
class Deps:
    """What a job's `run` receives besides config and the time; adapters join as they land."""

    config: Config
    log: logging.Logger

    @cached_property
    def worktrees(self) -> Worktrees:
        """Git worktrees from a shared clone per repo; built (and GitPython imported) on first use."""
        from orchestrator.adapters.git import GitWorktrees

        return GitWorktrees.from_config(self.config)


def real_deps(config: Config, log: logging.Logger) -> Deps:
    """Return the production dependencies for one run."""
    return Deps(config=config, log=log)

"""Build the adapters a job needs from the config: the only place that knows concrete classes."""
from __future__ import annotations

import logging
from dataclasses import dataclass

from orchestrator.config import Config


@dataclass(frozen=True)
class Deps:
    """What a job's `run` receives besides config and the time; adapters join as they land."""

    config: Config
    log: logging.Logger


def real_deps(config: Config, log: logging.Logger) -> Deps:
    """Return the production dependencies for one run."""
    return Deps(config=config, log=log)

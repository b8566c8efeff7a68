"""Every five minutes: apply what was approved, expire what went unanswered, plan what is due.

A tick with nothing to do reads one small file per repo and asks neither GitHub nor a model; a
repo is planned only at its cadence (`planner.cadence_days`, weekly by default) or when `/plan`
asked (`improve.planner`). `--dry-run` asks the model and prints the plan it would propose, and
writes nothing: no plan file, no comment, no chat message, no card moved.
"""

from __future__ import annotations

from datetime import datetime

from orchestrator.config.model import Config
from orchestrator.deps import Deps
from orchestrator.improve import planner

NAME = "planner"


def run(deps: Deps, config: Config, now: datetime, *, dry_run: bool = False) -> dict[str, int]:
    """One planner tick; returns what it proposed, applied, expired and failed."""
    return planner.tick(deps, config, now, dry_run=dry_run)

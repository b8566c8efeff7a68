"""Daily backlog hygiene with a report: each action one note, edited in place and never repeated.

Per repo that is switched on (`improve.grooming` reads and acts; `core.grooming` decides): possible
duplicates marked and labelled on the newer issue, never closed; Ready issues without success
criteria asked for them (with a model's draft to confirm, when the dispatcher has a model);
issues whose blockers are all closed noted as free; issues waiting for an issue closed as not
planned flagged for a decision; In Progress and In Review cards that disagree with what is true
moved where they belong (never to Ready); escalations older than `improve.stale_days` listed.
A repo GitHub cannot be read for is logged and the others go on; a refused token ends the tick.
The day's counts and the stale escalations go to `runtime/state/groomer.json` for the digest. A
second run over an unchanged backlog writes nothing to GitHub.
"""

from __future__ import annotations

from datetime import datetime

from orchestrator.config.model import Config
from orchestrator.core import grooming
from orchestrator.deps import Deps
from orchestrator.errors import TrackerError, Unauthorized
from orchestrator.improve.grooming import Groomer
from orchestrator.store import groomed

NAME = "groomer"


def run(deps: Deps, config: Config, now: datetime, *, dry_run: bool = False) -> dict[str, int]:
    """Groom every repo that is switched on; return what was done (or would be) and found."""
    groomer = Groomer(deps, config, now, dry_run=dry_run)
    unreadable = skipped = 0
    for repo in config.repos:
        if not deps.switches.repo_on(repo.key):
            skipped += 1
            continue
        try:
            groomer.groom(repo)
        except Unauthorized:  # the token, not the repo: the tick ends `unauthorized`
            raise
        except TrackerError as error:
            unreadable += 1
            deps.log.warning("grooming.failed", extra={"repo": repo.key, "error": str(error)[:200]})
    groomer.finish(complete=not unreadable and not skipped)
    stale = sorted(groomer.stale, key=lambda s: -s.days)
    if dry_run:
        for item in stale:
            print(f"{item.repo}#{item.number}: escalated {item.days} days ago")
    else:
        report = grooming.GroomerDay(
            now.astimezone().date().isoformat(), now.isoformat(), groomer.counts, tuple(stale)
        )
        groomed.write(
            config.paths.state_dir, grooming.merged(groomed.read(config.paths.state_dir), report)
        )
    return {
        **groomer.counts,
        "issues": groomer.issues,
        "stale": len(stale),
        "unreadable": unreadable,
    }

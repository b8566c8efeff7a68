"""Once a day: bring the outcome ledger up to date, score the last day, send the digest to the chat.

First the base branches are read for reverts of merged PRs (`improve.reverts`), so a change
undone since yesterday counts as failed in the figures.

The digest (`core.digest`) is one notification: the day's figures, then the escalations, the PRs
awaiting a person's review and the incidents filed (`control.scoreboard` gathers them). The
job's memo keeps the date of the last digest sent, so a second run the same (local) day sends
nothing: cron's schedule is in local time, and so is the day. A repo GitHub cannot be read for
is named as unreadable in the digest, which goes all the same. `--dry-run` prints the digest and
records nothing. `/report` in the chat answers with the same text and never counts as sent.
"""

from __future__ import annotations

from datetime import datetime

from orchestrator.config.model import Config
from orchestrator.control.scoreboard import gather
from orchestrator.core import notify
from orchestrator.core.digest import digest
from orchestrator.core.redact import redact
from orchestrator.deps import Deps
from orchestrator.improve import reverts
from orchestrator.store.ledger import Ledger

NAME = "scorer"


def run(deps: Deps, config: Config, now: datetime, *, dry_run: bool = False) -> dict[str, int]:
    """Send the day's digest, unless today's went out already."""
    if not dry_run:  # the base branches' reverts first, so the figures count them
        reverts.detect(deps, config, Ledger.of(config), now)
    memo = deps.memo(NAME)
    day = now.astimezone().date().isoformat()
    if memo.get("digest", "sent") == day:
        deps.log.info("digest.skipped", extra={"reason": "already_sent", "day": day})
        return {"sent": 0}
    gathered = gather(config, deps.tracker, deps.switches, now)
    for repo, error in gathered.errors.items():
        deps.log.warning("digest.unreadable", extra={"repo": repo, "error": error[:200]})
    text = digest(gathered.report, gathered.attention)
    total, waiting = gathered.report.overall, gathered.attention
    counts = {
        "merged": gathered.report.merges,
        "attempts": total.attempts,
        "escalations": len(waiting.escalations),
        "reviews": len(waiting.reviews),
        "incidents": len(waiting.incidents),
        "unreadable": len(waiting.unreadable),
        "chars": len(text),
    }
    if dry_run:  # what would be sent; the day is not marked, so the real run still sends
        print(redact(text))
        return {**counts, "sent": 0}
    deps.notifier.notify(notify.digest(text))
    memo.changed("digest", "sent", day)
    memo.save()
    deps.log.info("digest.sent", extra={**counts, "day": day})
    return {**counts, "sent": 1}

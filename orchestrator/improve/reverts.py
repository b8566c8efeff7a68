"""Find the merged PRs a repo's base branch has since reverted, and log each once.

The ledger learns a revert from a `change.reverted` event like everything else it knows (the logs
stay its source of truth); this is what writes that event. Each repo with merges in the ledger
has its base branch read from the shared clone (`Worktrees.history`: a fetch, no GitHub API
request) over the last `improve.watch_days`, and `core.reverts` matches the commit messages
against the merge commits recorded. A revert the ledger already holds is not logged again, so
running it every day costs a fetch and says nothing new. A repo whose clone cannot be read is
named in one warning and the others go on.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from orchestrator.config.model import Config
from orchestrator.core import reverts
from orchestrator.core.dora import when
from orchestrator.core.redact import redact
from orchestrator.deps import Deps
from orchestrator.errors import WorktreeError
from orchestrator.store.ledger import Ledger


def detect(deps: Deps, config: Config, ledger: Ledger, now: datetime) -> int:
    """Log `change.reverted` for each revert not in the ledger yet; return how many."""
    ledger.update()
    known = {(row["repo"], row["pr"]) for row in ledger.reverts()}
    merges = ledger.merges()
    since = now - timedelta(days=config.improve.watch_days)
    logged = 0
    for repo in config.repos:
        rows = [m for m in merges if m["repo"] == repo.github]
        merged_at = {int(m["pr"]): at for m in rows if (at := when(m["merged_at"])) and at >= since}
        if not merged_at:
            continue  # nothing merged in the window that a revert could undo
        try:
            commits = deps.worktrees.history(repo.key, repo.base_branch, min(merged_at.values()))
        except WorktreeError as error:
            deps.log.warning(
                "reverts.unreadable", extra={"repo": repo.key, "error": redact(str(error))[:200]}
            )
            continue
        for found in reverts.find(repo.github, commits, rows, merged_at):
            if (found.repo, found.pr) in known:
                continue
            deps.log.info(
                "change.reverted",
                extra={
                    "repo": found.repo,
                    "pr": found.pr,
                    "by": found.by,
                    "at": found.at.astimezone(UTC)
                    .isoformat(timespec="milliseconds")
                    .replace("+00:00", "Z"),
                },
            )
            known.add((found.repo, found.pr))
            logged += 1
    if logged:
        ledger.update()
    return logged

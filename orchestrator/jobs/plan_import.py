"""Keep GitHub in step with each repo's own plan file (`repos[].plan_file`, docs/plan.md).

Hourly, per repo with a plan file and its switch on, under the repo's plan-import lock (the one
`agentos plan import` takes; held: the repo is skipped with `plan.refused`): one GET of the file on
the repo's base branch. The blob it was at the last import: nothing more, no write. Otherwise the
plan is parsed: one with problems is logged once per blob (`plan.invalid`) and nothing is written;
a valid one is imported as the command imports it (`plan_sync.apply`) and its blob's sha recorded
(`store.plan_imports`). A missing file is logged once, until it appears. A refused token ends the
tick; any other GitHub error for a repo is logged (`import.failed`), nothing is recorded (the next
tick tries again) and the other repos go on. A dry run prints the changes and records nothing.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from orchestrator.config.model import Config, RepoConfig
from orchestrator.core import planfile
from orchestrator.deps import Deps
from orchestrator.errors import TrackerError, Unauthorized
from orchestrator.improve import plan_sync
from orchestrator.store import locks, plan_imports
from orchestrator.store.plan_imports import Seen

NAME = "plan_import"
OUTCOMES = ("imported", "unchanged", "invalid", "missing", "failed", "locked", "skipped")


def run(deps: Deps, config: Config, now: datetime, *, dry_run: bool = False) -> dict[str, int]:
    """Import each switched-on repo's changed plan file; return what became of the repos."""
    seen = plan_imports.read(config.paths.state_dir)
    counts: Counter[str] = Counter({name: 0 for name in (*OUTCOMES, "writes")})
    for repo in config.repos:
        if repo.plan_file is None:
            continue
        if not deps.switches.repo_on(repo.key):
            counts["skipped"] += 1
            continue
        with locks.hold(config.paths.locks_dir, plan_sync.lock_name(repo.key)) as held:
            if not held:
                deps.log.warning("plan.refused", extra={"repo": repo.key, "reason": "locked"})
                counts["locked"] += 1
                continue
            try:
                now_seen = _import(deps, repo, repo.plan_file, seen.get(repo.key), counts, dry_run)
            except Unauthorized:  # the token, not the repo: the tick ends `unauthorized`
                raise
            except TrackerError as error:
                counts["failed"] += 1
                deps.log.warning(
                    "import.failed", extra={"repo": repo.key, "error": str(error)[:300]}
                )
                continue
        if not dry_run and now_seen != seen.get(repo.key):
            seen[repo.key] = now_seen
            plan_imports.write(config.paths.state_dir, seen)
    return dict(counts)


def _import(
    deps: Deps, repo: RepoConfig, file: str, last: Seen | None, counts: Counter[str], dry_run: bool
) -> Seen:
    """Read the repo's plan file and import it unless it is as last seen; return what was seen."""
    found = deps.tracker.file_text(repo.github, file, repo.base_branch)
    if found is None:
        if last is None or last.sha is not None:  # said once, until the file appears
            extra = {"repo": repo.key, "file": file, "branch": repo.base_branch}
            deps.log.warning("plan.missing", extra=extra)
        counts["missing"] += 1
        return Seen(None)
    if last is not None and last.sha == found.sha:
        counts["unchanged"] += 1
        return last
    if dry_run:
        print(f"{repo.key}: {file} on {repo.base_branch} (blob {found.sha[:12]})")
    plan = planfile.parse(found.text)
    if plan.problems:
        said = {"repo": repo.key, "file": file, "sha": found.sha}
        deps.log.error("plan.invalid", extra={**said, "problems": list(plan.problems)})
        if dry_run:
            print("\n".join(f"  {problem}" for problem in plan.problems))
        counts["invalid"] += 1
        return Seen(found.sha, invalid=True)
    say = print if dry_run else _quiet  # the events carry each line; cron's log has them
    made = plan_sync.apply(deps, repo, plan, file, say, dry_run=dry_run, sha=found.sha)
    counts["imported"] += 1
    counts["writes"] += made["writes"]
    return Seen(found.sha)


def _quiet(line: str) -> None:
    """Say nothing: a tick's changes are its `plan.changed` events."""

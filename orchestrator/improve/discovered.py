"""Discovered follow-ups: what agents noticed beyond their issue, filed once the PR merges.

`note` runs just before the PR monitor merges a PR, or when it holds one for a person to merge.
It reads the results of the issue's attempts in this dispatch (their rooms' result.md), takes
their FOLLOW_UPS, deduplicated by title and at most `contract.FOLLOW_UPS_FILED`, and notes them
in runtime/state/follow_ups.json (store/discoveries.py); `merged` marks them due once the monitor
merged the PR. A failure there is logged; it never stops or undoes the merge.

`file_pending` runs at the end of every PR monitor tick. A note whose merge is not confirmed is
confirmed once its PR is no longer open (a PR closed without merging drops its follow-ups). Then
each follow-up is filed through the noise control every producer shares (`improve.filing`: the
signature marker, duplicates by words, the optional model check, the per-repo daily cap):
labelled `agentos:discovered`, in Backlog, never reopened once closed, and linked to its parent
by reference (the body's "Discovered while working on #N", which GitHub shows on the parent's
timeline) rather than as a sub-issue: the dispatcher takes an issue with sub-issues for an epic,
and a parent reopened after a revert must stay a task it can run. Each
follow-up settled comes off the note at once, so a tick killed between two filings files the
rest next tick, and the marker finds what it filed before. A repo switched off or at its daily
cap keeps its follow-ups noted for a later tick; a GitHub error is logged once per PR and error
and tried again next tick; a refused token ends the tick.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from orchestrator.config.model import Config, RepoConfig
from orchestrator.core import contract, follow_ups, labels
from orchestrator.core.tasks import parse_id
from orchestrator.deps import Deps
from orchestrator.errors import TrackerError, Unauthorized
from orchestrator.improve.filing import Filer, Filing
from orchestrator.store import rooms
from orchestrator.store.discoveries import Discoveries, Discovery
from orchestrator.store.files import read_state
from orchestrator.store.filings import Filings
from orchestrator.store.memo import Memo

PRODUCER = "follow_ups"
_LATER = ("github_error", "daily_cap")  # a filing skipped for these is tried again later


def note(deps: Deps, repo: RepoConfig, issue: int, pr: int, generation: int, now: datetime) -> None:
    """Note the follow-ups the PR's merge will make due; logged, never raised, when it fails."""
    try:
        results = _results(deps.config.paths.rooms_dir, repo.key, issue, generation)
        items, over = follow_ups.collect(results, contract.FOLLOW_UPS_FILED)
        if not items:
            return
        entry = Discovery(repo.key, issue, pr, items, noted_at=now.isoformat())
        Discoveries(deps.config.paths.state_dir).put(entry)
    except OSError as error:
        deps.log.warning(
            "follow_ups.failed",
            extra={"repo_key": repo.key, "issue": issue, "pr": pr, "error": str(error)[:200]},
        )
        return
    deps.log.info(
        "follow_ups.found",
        extra={"repo_key": repo.key, "issue": issue, "pr": pr, "count": len(items), "over": over},
    )


def merged(deps: Deps, repo: RepoConfig, issue: int, pr: int) -> None:
    """Mark the PR's noted follow-ups due: it merged (so no GitHub read is needed to know)."""
    store = Discoveries(deps.config.paths.state_dir)
    try:
        entry = next((d for d in store.pending() if d.key == f"{repo.key}:{pr}"), None)
        if entry is not None and not entry.merged:
            store.put(replace(entry, merged=True))
    except OSError as error:  # the next tick asks GitHub instead
        deps.log.warning(
            "follow_ups.failed",
            extra={"repo_key": repo.key, "issue": issue, "pr": pr, "error": str(error)[:200]},
        )


def _results(rooms_dir: Path, key: str, issue: int, generation: int) -> list[tuple[str, ...]]:
    """Return the FOLLOW_UPS of each attempt of this dispatch of the issue, oldest first."""
    found = []
    for task_id in rooms.room_ids(rooms_dir):
        parsed = parse_id(task_id)
        if parsed is None or parsed[:3] != (key, issue, generation):
            continue
        try:
            text = read_state(rooms_dir / task_id / rooms.RESULT).decode("utf-8", "replace")
        except OSError:  # no result (yet), or not a file
            continue
        found.append((parsed[3], contract.parse(text).items("FOLLOW_UPS")))
    return [items for _, items in sorted(found)]


def file_pending(
    deps: Deps,
    config: Config,
    now: datetime,
    *,
    open_prs: Collection[str] = (),
    dry_run: bool = False,
) -> int:
    """File the noted follow-ups that are due; return how many new issues that made.

    `open_prs` ("owner/name#N") are the PRs the monitor just saw open: no need to ask GitHub
    whether those merged.
    """
    store = Discoveries(config.paths.state_dir)
    pending = store.pending()
    if not pending or not deps.switches.is_on():
        return 0
    memo = deps.memo(PRODUCER)
    filer = Filer(deps, config, now, producer=PRODUCER, memo=memo, dry_run=dry_run)
    filed = 0
    for entry in pending:
        try:
            filed += _file_entry(deps, config, store, filer, entry, now, open_prs)
        except Unauthorized:  # the token, not this PR: the tick ends `unauthorized`
            raise
        except TrackerError as error:
            if memo.changed("failed", entry.key, str(error)[:200]):
                deps.log.warning(
                    "follow_ups.failed",
                    extra={**_fields(entry), "error": str(error)[:200]},
                )
    if not dry_run:
        keys = {e.key for e in store.pending()}
        for section in ("failed", "deferred"):
            memo.keep_only(section, keys)
        memo.save()
    return filed


def _file_entry(
    deps: Deps,
    config: Config,
    store: Discoveries,
    filer: Filer,
    entry: Discovery,
    now: datetime,
    open_prs: Collection[str],
) -> int:
    repo = next((r for r in config.repos if r.key == entry.repo_key), None)
    if repo is None:
        return _drop(deps, store, filer, entry, "repo_not_configured")
    if not deps.switches.repo_on(repo.key):
        return _defer(deps, filer.memo, entry, "repo_off")
    if not entry.merged:
        if f"{repo.github}#{entry.pr}" in open_prs:
            return 0  # held for a person, or its merge failed: it is still open
        pr = deps.tracker.pull(repo.github, entry.pr)
        if not pr.merged:  # the merge failed: the monitor tries it again, or someone closed it
            return 0 if pr.is_open else _drop(deps, store, filer, entry, "closed_unmerged")
        entry = replace(entry, merged=True)
        if not filer.dry_run:
            store.put(entry)
    today = now.date().isoformat()
    if Filings(config.paths.runtime_dir).count(repo.key, today) >= config.improve.daily_cap:
        return _defer(deps, filer.memo, entry, "daily_cap")  # no GitHub read while it holds
    filer.memo.changed("deferred", entry.key, "")  # held no more: a later hold is news again
    filed, left = 0, list(entry.items)
    for item in entry.items:
        outcome = filer.file(_filing(repo, entry, item))
        if outcome.why in _LATER:
            continue
        if outcome.action == "file":
            filed += 1
        left.remove(item)
        if not filer.dry_run:
            store.put(replace(entry, items=tuple(left)))
    return filed


def _filing(repo: RepoConfig, entry: Discovery, item: str) -> Filing:
    return Filing(
        repo=repo,
        signature=follow_ups.signature(repo.github, entry.issue, item),
        title=follow_ups.title(item) or f"A follow-up of #{entry.issue}",
        body=follow_ups.body(item, entry.issue, entry.pr),
        labels=(labels.DISCOVERED,),
        colours=labels.DISCOVERED_COLOURS,
        reopen=False,  # closed is a person's answer: done, or not wanted
        fields={"kind": follow_ups.KIND, "parent": entry.issue, "pr": entry.pr},
    )


def _defer(deps: Deps, memo: Memo, entry: Discovery, reason: str) -> int:
    """Leave the PR's follow-ups noted for a later tick; say so once per reason."""
    if memo.changed("deferred", entry.key, reason):
        deps.log.info("follow_ups.deferred", extra={**_fields(entry), "reason": reason})
    return 0


def _drop(deps: Deps, store: Discoveries, filer: Filer, entry: Discovery, reason: str) -> int:
    """Forget the PR's follow-ups: nothing they would be filed for is left."""
    if filer.dry_run:
        print(f"{entry.repo_key}: drop the follow-ups of PR #{entry.pr} ({reason})")
        return 0
    deps.log.info(
        "follow_ups.dropped", extra={**_fields(entry), "count": len(entry.items), "reason": reason}
    )
    store.put(replace(entry, items=()))
    return 0


def _fields(entry: Discovery) -> dict[str, object]:
    return {"repo_key": entry.repo_key, "issue": entry.issue, "pr": entry.pr}

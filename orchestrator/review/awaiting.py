"""Which open agent PRs wait for a person: GitHub's list of open PRs and the PR monitor's memo.

The PR monitor remembers each open PR's last decision (`runtime/state/pr_monitor.memo.json`,
section `decided`, by signature); `core.awaiting.person_wait` reads a signature back. A PR of a
`dispatcher_only` repo waits for a person even before the monitor has seen it. The dispatcher
(`repos[].max_awaiting_review`), `/why` and the daily digest all ask here, so they agree.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from pathlib import Path

from orchestrator.config.model import AutomationMode, RepoConfig
from orchestrator.core.awaiting import ReviewBudget, person_wait
from orchestrator.core.model import PullRequest
from orchestrator.errors import TrackerError, Unauthorized
from orchestrator.ports import Tracker
from orchestrator.review.facts import issue_of
from orchestrator.store.memo import Memo

MONITOR = "pr_monitor"  # the job whose memo holds the decisions


def monitor_memo(state_dir: Path) -> Memo:
    """Return the PR monitor's memo, to read (only the monitor writes it)."""
    return Memo(state_dir / f"{MONITOR}.memo.json")


def last_decision(memo: Memo, pr: PullRequest) -> str | None:
    """Return the signature of the monitor's last decision on `pr` (`wait:no_checks`), if any."""
    return memo.get("decided", f"{pr.repo}#{pr.number}")


def waiting(
    repo: RepoConfig, pulls: Iterable[PullRequest], memo: Memo
) -> list[tuple[PullRequest, str]]:
    """Return the agent PRs among `pulls` that wait for a person, each with its reason."""
    found = []
    for pr in pulls:
        if issue_of(pr) is None:
            continue
        reason = person_wait(last_decision(memo, pr))
        if reason is None and repo.automation_mode is AutomationMode.DISPATCHER_ONLY:
            reason = "dispatcher_only"
        if reason is not None:
            found.append((pr, reason))
    return found


def budget(
    repo: RepoConfig, pulls: Iterable[PullRequest], memo: Memo, active: Collection[int]
) -> ReviewBudget | None:
    """Return the repo's review budget (None without `max_awaiting_review`).

    `pulls` are its open agent PRs, `active` the issues with a task queued or running: in a
    `dispatcher_only` repo, each that has no PR yet will open one for a person.
    """
    if repo.max_awaiting_review is None:
        return None
    pulls = list(pulls)
    held = tuple(sorted(pr.number for pr, _ in waiting(repo, pulls, memo)))
    if repo.automation_mode is not AutomationMode.DISPATCHER_ONLY:
        return ReviewBudget(repo.max_awaiting_review, held)
    with_pr = {issue_of(pr) for pr in pulls}
    coming = tuple(sorted(n for n in set(active) if n not in with_pr))
    return ReviewBudget(repo.max_awaiting_review, held, coming, new_work_waits=True)


def read_budget(
    tracker: Tracker, repo: RepoConfig, memo: Memo, active: Collection[int]
) -> ReviewBudget | None:
    """Return the repo's review budget from one listing of its open PRs (none without a limit).

    A listing GitHub refuses spends the whole budget: nothing is queued on a guess.
    """
    if repo.max_awaiting_review is None:
        return None
    try:
        pulls = tracker.open_pulls(repo.github, "agent/")
    except Unauthorized:
        raise
    except TrackerError as error:
        return ReviewBudget(repo.max_awaiting_review, unreadable=str(error))
    return budget(repo, pulls, memo, active)

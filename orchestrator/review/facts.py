"""Gather what the PR monitor decides on for one agent PR: tasks, checks, reviews, time stuck."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from orchestrator.config.model import AutomationMode, Config, RepoConfig
from orchestrator.core.model import IssueRef, PullRequest, Review
from orchestrator.core.review import PullState
from orchestrator.core.tasks import MailboxState, Task, TaskType
from orchestrator.deps import Deps
from orchestrator.store.memo import Memo

_BRANCH = re.compile(r"^agent/(\d+)-")
_ORIGIN = re.compile(r"Opened by Agent OS for task `([a-z0-9._-]+-\d+-g\d+-a\d+)`")


def issue_of(pr: PullRequest) -> int | None:
    """Return the issue an agent branch works on (`agent/12-add-login` -> 12)."""
    found = _BRANCH.match(pr.head)
    return int(found.group(1)) if found else None


@dataclass(frozen=True, slots=True)
class PullFacts:
    """One agent PR and what Agent OS knows about it."""

    repo: RepoConfig
    pr: PullRequest
    ref: IssueRef  # the issue it closes
    origin: str  # the task that opened it (its room holds the PR's lifecycle)
    generation: int
    next_attempt: int  # the attempt number a new fixing task gets
    implementing: bool  # an implementation attempt is still queued or running
    state: PullState


def gather(
    deps: Deps,
    config: Config,
    repo: RepoConfig,
    pr: PullRequest,
    issue: int,
    now: datetime,
    memo: Memo,
) -> PullFacts:
    """Read the PR, its checks, its reviews and the issue's tasks.

    The PR is read on its own: the list leaves `mergeable` out, as GitHub's does.
    """
    pr = deps.tracker.pull(repo.github, pr.number)
    tasks = _tasks(deps, repo.key, issue)
    generation = max((t.generation for t, _ in tasks), default=1)
    this_gen = [(t, s) for t, s in tasks if t.generation == generation]
    fixes = [(t, s) for t, s in this_gen if t.task_type is TaskType.FIXING]
    found = _ORIGIN.search(pr.body)
    origin = (
        found.group(1)
        if found
        else next((t.id for t, _ in this_gen if t.task_type is TaskType.IMPLEMENTATION), "")
    )
    checks = tuple(deps.tracker.checks(repo.github, pr.head_sha))
    reviews = tuple(_drop_answered(deps.tracker.reviews(pr), memo, pr))
    grace = timedelta(minutes=config.limits.checks_grace_minutes)
    state = PullState(
        pr,
        checks,
        reviews,
        full_automation=repo.automation_mode is AutomationMode.FULL,
        fix_rounds=len(fixes),
        max_fix_rounds=config.limits.max_fix_rounds,
        fix_in_progress=any(s.active for _, s in fixes),
        bot_login=pr.author,
        checks_grace_over=now - pr.updated_at >= grace,
    )
    return PullFacts(
        repo,
        pr,
        IssueRef(repo.github, issue),
        origin,
        generation,
        1 + max((t.attempt for t, _ in this_gen), default=0),
        any(s.active and t.task_type is TaskType.IMPLEMENTATION for t, s in this_gen),
        state,
    )


def _tasks(deps: Deps, repo_key: str, issue: int) -> list[tuple[Task, MailboxState]]:
    found = []
    for task_id, state in deps.mailbox.for_issue(repo_key, issue).items():
        try:
            found.append((deps.mailbox.read(state, task_id), state))
        except FileNotFoundError:  # moved meanwhile: its next state is read next tick
            continue
    return found


def _drop_answered(reviews: list[Review], memo: Memo, pr: PullRequest) -> list[Review]:
    """Drop reviews a fixing task already answered: those sent before the last fix was queued."""
    answered = memo.get("reviews_answered", f"{pr.repo}#{pr.number}")
    if answered is None:
        return reviews
    cut = datetime.fromisoformat(answered)
    return [r for r in reviews if r.submitted_at is None or r.submitted_at > cut]


def stuck_since(memo: Memo, pr: PullRequest, signature: str, now: datetime) -> datetime:
    """Return since when the PR has been stuck on `signature`, recording it when it is new."""
    key = f"{pr.repo}#{pr.number}"
    seen = memo.get("stuck", key)
    if seen is not None:
        old_signature, _, since = seen.rpartition(" ")
        if old_signature == signature:
            return datetime.fromisoformat(since)
    memo.changed("stuck", key, f"{signature} {now.isoformat()}", digest=False)
    return now

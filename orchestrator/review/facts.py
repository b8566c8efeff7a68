"""Gather what the PR monitor decides on for one agent PR: tasks, checks, reviews, time stuck."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from orchestrator.config.model import AutomationMode, Config, RepoConfig
from orchestrator.core.model import IssueRef, Permission, PullRequest, Review
from orchestrator.core.review import PullState
from orchestrator.core.risk import without_section
from orchestrator.core.tasks import MailboxState, Task, TaskType
from orchestrator.core.verification import FileDiff
from orchestrator.deps import Deps
from orchestrator.ports import Tracker
from orchestrator.review import verdicts
from orchestrator.review.authorship import HeadRecord
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
    # Read once per head for the risk tier and the verifier alike: None until one needs them.
    files: tuple[FileDiff, ...] | None = None  # GitHub's list of the PR's files
    record: HeadRecord | None = None  # Agent OS's own record of the head (review.authorship)


def gather(
    deps: Deps,
    config: Config,
    repo: RepoConfig,
    pr: PullRequest,
    issue: int,
    now: datetime,
    memo: Memo,
    writers: Writers | None = None,
) -> PullFacts:
    """Read the PR, its checks, its reviews and the issue's tasks.

    The PR is read on its own: the list leaves `mergeable` out, as GitHub's does. Only reviews by
    users who can write to the repo are kept (`writers`, one per run, asks GitHub once per
    reviewer; without it, once per PR): a stranger's review never becomes a fixing task's input.
    """
    pr = deps.tracker.pull(repo.github, pr.number)
    tasks = _tasks(deps, repo.key, issue)
    generation = max((t.generation for t, _ in tasks), default=1)
    this_gen = [(t, s) for t, s in tasks if t.generation == generation]
    fixes = [(t, s) for t, s in this_gen if t.task_type is TaskType.FIXING]
    # The last such line is our footer: the agent's summary above it may say anything (and the
    # risk section after it names the agent's paths: it is left out).
    found = _ORIGIN.findall(without_section(pr.body))
    origin = (
        found[-1]
        if found
        else next((t.id for t, _ in this_gen if t.task_type is TaskType.IMPLEMENTATION), "")
    )
    head = deps.tracker.checks(repo.github, pr.head_sha)
    checks, verdict = verdicts.recorded(repo, pr, head, now, memo)  # the verifier's status apart
    answered = _drop_answered(verdicts.of_people(deps.tracker.reviews(pr)), memo, pr)
    reviews = tuple(_from_writers(deps, writers or Writers(deps.tracker), pr, answered, memo))
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
        require_checks=repo.require_checks,
        verdict=verdict,
        medium_requires_verifier=config.risk.medium_requires_verifier,
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


class Writers:
    """Who can write to which repo, each user asked once.

    Once per run when the PR monitor hands the same instance to every `gather`.
    """

    def __init__(self, tracker: Tracker) -> None:
        self._tracker = tracker
        self._known: dict[tuple[str, str], bool] = {}

    def can_write(self, repo: str, login: str) -> bool:
        key = (repo, login.lower())
        if key not in self._known:
            self._known[key] = self._tracker.permission(repo, login) >= Permission.WRITE
        return self._known[key]


def _from_writers(
    deps: Deps, writers: Writers, pr: PullRequest, reviews: list[Review], memo: Memo
) -> list[Review]:
    """Keep the reviews whose author can write to the repo (ours included); log the others once."""
    kept = [r for r in reviews if r.author == pr.author or writers.can_write(pr.repo, r.author)]
    ignored = [r for r in reviews if r not in kept]
    said = " ".join(sorted(f"{r.author}:{r.state}:{r.submitted_at}" for r in ignored))
    if ignored and memo.changed("reviews_ignored", f"{pr.repo}#{pr.number}", said):
        deps.log.warning(
            "review.ignored",
            extra={
                "pr": pr.number,
                "repo": pr.repo,
                "authors": ",".join(sorted({r.author for r in ignored})),
                "states": ",".join(sorted({r.state for r in ignored})),
                "reason": "author_cannot_write",
            },
        )
    return kept


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

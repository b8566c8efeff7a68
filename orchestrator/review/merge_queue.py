"""GitHub's merge queue, where a base has one: a green PR is enqueued, not merged, and followed.

Whether a base has a queue is asked with the first green PR to it (`queue_state`, one GraphQL
query per green PR), and remembered: a base without one is asked again a day later, not every
tick. A green PR to a base with a queue is added to it at the head that was checked
(`enqueuePullRequest`), once per head; while it is queued it waits (`in_merge_queue`); GitHub's
queue then tests the merge group and merges it, or removes it with a reason. The group's commit
(the entry's `headCommit`) is recorded in the PR's memo entry from the enqueue answer and at each
tick while it is queued (the queue rebuilds a group when an entry ahead leaves). A removal for a
failed check is a fixing round (`merge_queue_removed`) with GitHub's reason and the failed checks
of the last group recorded, read then (at most `failure.MAX_CHECKS`, their output, annotations
and job log through `actions`, as for red CI); a group built and removed between two ticks was
never seen, and the brief says so in one line. Any other removal (a conflict, a person's
dequeue) waits for a new head or a person, and the same head is never enqueued again. The PRs
the queue merged are finished on the next tick (`settle`: branch, issue, card, lifecycle,
notification), as a merge is.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta

from orchestrator.config.model import Config, RepoConfig
from orchestrator.core.model import Check, CheckState, PullRequest, QueueState
from orchestrator.deps import Deps
from orchestrator.errors import TrackerError, Unauthorized
from orchestrator.improve import discovered
from orchestrator.review import actions
from orchestrator.review.facts import PullFacts, gather
from orchestrator.store.memo import Memo

QUEUED = "merge_queue"  # memo: repo#number -> the head enqueued, when, its issue, its group
# The brief's line when no group commit was recorded for the head the queue removed.
UNSEEN_GROUP = (
    "Its merge group's checks are not shown: the queue built and removed the group between two "
    "ticks of Agent OS's PR monitor, which never saw its commit."
)
BASES = "merge_queue_bases"  # memo: repo:base -> "yes|no <ISO time asked>"
ASK_AGAIN = timedelta(days=1)  # a base without a queue is asked again this much later
_FAILURES = ("CI", "FAIL", "CHECK", "TIMED_OUT")  # GitHub's removal reasons that are failures


def state_of(deps: Deps, pr: PullRequest, now: datetime, memo: Memo) -> QueueState | None:
    """Return the PR's queue state when its base has a merge queue, else None."""
    key = f"{pr.repo}:{pr.base}"
    known = memo.get(BASES, key) or ""
    word, _, asked = known.partition(" ")
    if word == "no" and asked and now - datetime.fromisoformat(asked) < ASK_AGAIN:
        return None
    state = deps.tracker.queue_state(pr)
    memo.changed(BASES, key, f"{'yes' if state.enabled else 'no'} {now.isoformat()}", digest=False)
    return state if state.enabled else None


def carry(
    deps: Deps, config: Config, facts: PullFacts, state: QueueState, now: datetime, memo: Memo
) -> str:
    """Carry a green PR's merge through the queue; return what happened, in a word."""
    pr, key = facts.pr, f"{facts.pr.repo}#{facts.pr.number}"
    entry = _entry(memo, key)
    if state.queued:
        if state.group_sha and entry.get("sha") == pr.head_sha:
            if entry.get("group") != state.group_sha:  # built, or rebuilt, since last seen
                _keep(memo, key, entry | {"group": state.group_sha})
        return "in_merge_queue"
    removal = state.removal
    if entry.get("sha") == pr.head_sha and removal is not None:
        if removal.at >= datetime.fromisoformat(str(entry["at"])):
            return _removed(deps, config, facts, entry, removal.reason, now, memo)
    if entry.get("sha") == pr.head_sha and entry.get("removed"):
        return "removed_from_merge_queue"  # this head left the queue: a new head, or a person
    discovered.note(deps, facts.repo, facts.ref.number, pr.number, facts.generation, now)
    group = deps.tracker.enqueue_pull(pr, state.node_id)
    kept: dict[str, object] = {"sha": pr.head_sha, "at": now.isoformat(), "issue": facts.ref.number}
    _keep(memo, key, kept | ({"group": group} if group else {}))
    deps.log.info("pr.enqueued", extra={"pr": pr.number, "repo": pr.repo, "sha": pr.head_sha[:12]})
    return "enqueued"


def _removed(
    deps: Deps,
    config: Config,
    facts: PullFacts,
    entry: dict[str, object],
    reason: str,
    now: datetime,
    memo: Memo,
) -> str:
    pr, key = facts.pr, f"{facts.pr.repo}#{facts.pr.number}"
    _keep(memo, key, entry | {"removed": reason or "unknown"})
    deps.log.warning(
        "pr.dequeued", extra={"pr": pr.number, "repo": pr.repo, "reason": reason or "unknown"}
    )
    if not any(word in reason.upper() for word in _FAILURES):
        return "removed_from_merge_queue"
    detail = (
        f"GitHub's merge queue removed it ({reason}): the checks failed on its merge group (the "
        "base, the pull requests queued ahead of it, and this one), though they pass on its own "
        "head. Merge the base into the branch, run the tests, and fix what fails."
    )
    if facts.state.fix_rounds >= config.limits.max_fix_rounds:
        actions.escalate(
            deps, facts, f"{actions.QUEUE_REMOVED}_after_{facts.state.fix_rounds}_fix_rounds", memo
        )
        return "escalate"
    failed, note = _group_failures(deps, facts, str(entry.get("group") or ""))
    red = replace(facts, state=replace(facts.state, checks=failed))
    actions.fix(deps, config, red, actions.QUEUE_REMOVED, detail, now, memo, note=note)
    return "fix"


def _group_failures(deps: Deps, facts: PullFacts, group: str) -> tuple[tuple[Check, ...], str]:
    """Return the failed checks on the removed entry's merge group commit (the last one recorded),
    and the brief's line about them: its check runs and statuses (two REST requests); the fixing
    task then reads each failed one's details, as for red CI (`actions.fix`)."""
    if not group:
        return (), UNSEEN_GROUP
    try:
        listed = deps.tracker.checks(facts.pr.repo, group)
    except Unauthorized:
        raise
    except TrackerError as error:  # the fix goes on without them: GitHub's reason says enough
        deps.log.warning(
            "check.unreadable",
            extra={
                "pr": facts.pr.number,
                "repo": facts.pr.repo,
                "check": f"merge group {group[:12]}",
                "error": str(error)[:200],
            },
        )
        return (), f"Its merge group's checks (commit `{group}`) could not be read from GitHub."
    failed = tuple(c for c in listed if c.state is CheckState.FAILURE)
    if not failed:
        return (), (
            f"No check failed on its merge group's commit `{group}`, the last group Agent OS saw "
            "(the queue may have rebuilt the group since)."
        )
    return failed, (
        f"The failing checks shown ran on its merge group's commit `{group}` (the last group "
        "Agent OS saw), not on the branch's head."
    )


def settle(
    deps: Deps, config: Config, repo: RepoConfig, open_numbers: set[int], now: datetime, memo: Memo
) -> int:
    """Finish the repo's PRs the queue merged since the last tick; forget the closed ones."""
    finished = 0
    prefix = f"{repo.github}#"
    for key in memo.keys(QUEUED):
        if not key.startswith(prefix) or not key[len(prefix) :].isdigit():
            continue
        if int(key[len(prefix) :]) in open_numbers:
            continue
        entry, number = _entry(memo, key), int(key[len(prefix) :])
        try:
            pr = deps.tracker.pull(repo.github, number)
            if pr.merged:
                issue = int(str(entry.get("issue") or 0))
                facts = gather(deps, config, repo, pr, issue, now, memo)
                actions.landed(deps, facts, pr.head_sha, now, noted=True)  # when enqueued
                finished += 1
        except Unauthorized:
            raise
        except TrackerError as error:  # tried again next tick
            deps.log.warning(
                "pr.failed", extra={"pr": key, "repo": repo.github, "error": str(error)[:200]}
            )
            continue
        memo.forget(QUEUED, key)
    return finished


def _entry(memo: Memo, key: str) -> dict[str, object]:
    try:
        data = json.loads(memo.get(QUEUED, key) or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _keep(memo: Memo, key: str, entry: dict[str, object]) -> None:
    memo.changed(QUEUED, key, json.dumps(entry, sort_keys=True), digest=False)

"""Act on the PR monitor's decisions: merge, rebase, queue a fix, restart a wedged PR, escalate."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from orchestrator.config.model import Config
from orchestrator.core import failure, lifecycle, notify
from orchestrator.core.model import BoardStatus, CheckState, IssueRef
from orchestrator.core.review import Decision
from orchestrator.core.tasks import Task, TaskType, task_id
from orchestrator.core.verifier import FIX_REASON
from orchestrator.core.workspace import Conflict, RebaseStatus
from orchestrator.delivery import cards, escalation, handoff
from orchestrator.deps import Deps
from orchestrator.errors import TrackerError, Unauthorized
from orchestrator.improve import discovered
from orchestrator.review import verdicts
from orchestrator.review.facts import PullFacts
from orchestrator.store import rooms
from orchestrator.store.memo import Memo

RESTARTED = "<!-- agentos:restarted -->"
TRAIN_FAILED = "train_failed"  # the fixing round of the PR that broke a merge train
QUEUE_REMOVED = "merge_queue_removed"  # ... of a PR GitHub's merge queue removed for a failure
# the fixes shown the failed checks' output (facts.state.checks: the head's, a train's, a group's)
CHECK_REASONS = ("checks_failed", TRAIN_FAILED, QUEUE_REMOVED)
WAITING = "<!-- agentos:waiting-for-a-person -->"
# What a PR waiting for a person says about it, once (core.review.PERSON_WAITS, and the holds
# that neither a review of the verifier's nor the PR body explains).
WAIT_TEXTS = {
    "no_checks": (
        "Agent OS will not merge this pull request: no check run or commit status reported on its "
        "head commit, and this repository requires checks. Add CI that reports on pull requests, "
        "or set `require_checks: false` on the repo in Agent OS's config to merge without checks. "
        "Agent OS does not close or restart it while it waits."
    ),
    "blocked_by_branch_protection": (
        "Agent OS waits for a person: the base branch's protection rules block the merge (a "
        "required review, say). Agent OS does not close or restart this pull request while it "
        "waits, and merges it once GitHub allows; the daily digest lists it."
    ),
    "verifier_failed": (
        "Agent OS waits for a person: its verifier (`review.verifier`) failed to give a verdict "
        "on this head five times (the model erred, or did not answer as asked; Agent OS's log "
        "says why, `verifier.failed`). Review it and merge it yourself, or push a new commit to "
        "have the verifier asked again. Agent OS does not close or restart it while it waits."
    ),
}


def merge(deps: Deps, facts: PullFacts, now: datetime) -> None:
    """Merge at the checked head, delete the branch, and make sure the issue is closed and Done.

    The agents' follow-ups are noted first, so a kill just after the merge loses none; the end
    of the tick files them (`improve.discovered`).
    """
    pr = facts.pr
    discovered.note(deps, facts.repo, facts.ref.number, pr.number, facts.generation, now)
    sha = deps.tracker.merge_pull(pr, facts.repo.merge_method.value)
    landed(deps, facts, sha, now, noted=True)


def landed(deps: Deps, facts: PullFacts, sha: str, now: datetime, *, noted: bool) -> None:
    """Finish a merged PR (by the merge button, a train the base was fast-forwarded to, or the
    merge queue): delete its branch, make sure its issue is closed and Done, tell the chat.

    `noted`: its follow-ups were noted before the merge (else they are noted now)."""
    pr = facts.pr
    if not noted:
        discovered.note(deps, facts.repo, facts.ref.number, pr.number, facts.generation, now)
    deps.log.info(
        "pr.merged", extra={"pr": pr.number, "issue": facts.ref.number, "repo": pr.repo, "sha": sha}
    )
    discovered.merged(deps, facts.repo, facts.ref.number, pr.number)
    try:
        deps.tracker.delete_branch(pr.repo, pr.head)
    except TrackerError as error:  # a protected or already-deleted branch never undoes a merge
        deps.log.warning("branch.delete_failed", extra={"pr": pr.number, "error": str(error)[:200]})
    if deps.tracker.issue(facts.ref).is_open:
        # `Closes #N` did not close it (another base branch, say)
        deps.tracker.close_issue(facts.ref, "completed")
        deps.log.info(
            "issue.closed",
            extra={"issue": facts.ref.number, "reason": "merged_pr_did_not_close_it"},
        )
    cards.move(deps, facts.repo, facts.ref, BoardStatus.DONE)
    _origin_moves(deps, facts, lifecycle.State.PASSED, f"merged as {sha[:12]}")
    deps.notifier.notify(notify.merged(facts.ref, pr.title, pr.number, pr.url))


def hold(deps: Deps, facts: PullFacts, now: datetime) -> None:
    """A person merges in dispatcher_only mode: keep the card in In Review.

    The agents' follow-ups are noted, to be filed if that person merges it.
    """
    discovered.note(deps, facts.repo, facts.ref.number, facts.pr.number, facts.generation, now)
    cards.move(deps, facts.repo, facts.ref, BoardStatus.IN_REVIEW)


def rebase(deps: Deps, config: Config, facts: PullFacts, now: datetime, memo: Memo) -> None:
    """Rebase onto the base.

    A real conflict becomes a fixing task, or an escalation when the rounds ran out.
    """
    outcome = deps.worktrees.rebase(facts.repo.key, facts.pr.head, facts.pr.base)
    deps.log.info(
        "pr.rebased",
        extra={
            "pr": facts.pr.number,
            "outcome": outcome.status.value,
            "head": outcome.head_sha[:12],
        },
    )
    if outcome.status is not RebaseStatus.CONFLICT:
        return
    if facts.state.fix_rounds >= config.limits.max_fix_rounds:
        escalate(deps, facts, f"conflict_after_{facts.state.fix_rounds}_fix_rounds", memo)
        return
    detail = "conflicts with the base in " + ", ".join(c.path for c in outcome.conflicts)
    fix(
        deps,
        config,
        facts,
        "conflict",
        detail,
        now,
        memo,
        conflicts=outcome.conflicts,
        stopped_at=outcome.stopped_at,
    )


def fix(
    deps: Deps,
    config: Config,
    facts: PullFacts,
    reason: str,
    detail: str,
    now: datetime,
    memo: Memo,
    *,
    conflicts: Sequence[Conflict] = (),
    stopped_at: str = "",
    note: str = "",
) -> None:
    """Queue a fixing task on the PR's branch with what it must fix written into its room first.

    `note`: a line the task's brief ends with (where the checks shown come from, say)."""
    checks = _failures(deps, facts) if reason in CHECK_REASONS else []
    reviews = list(facts.state.reviews) if reason == "changes_requested" else []
    reviews += verdicts.as_reviews(reason, detail)  # the verifier's reasons, as its review
    task = _fixing_task(config, facts, reason, now, note)
    handoff.write_fixing(deps, task, facts.origin, checks, reviews, conflicts, stopped_at)
    if not deps.mailbox.create(task):
        return  # queued by an earlier tick that died before recording it: nothing to add
    if reviews:
        memo.changed(
            "reviews_answered", f"{facts.pr.repo}#{facts.pr.number}", now.isoformat(), digest=False
        )
    _origin_moves(deps, facts, lifecycle.State.FIXING, reason)
    deps.log.info(
        "pr.fixing",
        extra={
            "pr": facts.pr.number,
            "issue": facts.ref.number,
            "task_id": task.id,
            "reason": reason,
            "round": facts.state.fix_rounds + 1,
            "detail": detail[:200],
        },
    )


def restart(deps: Deps, facts: PullFacts, decision: Decision) -> None:
    """Close a wedged PR, delete its branch, and put the issue back to Ready once, saying why."""
    pr = facts.pr
    text = (
        f"Agent OS closed #{pr.number}: it was stuck on `{decision.reason}` for too long. "
        "The issue goes back to Ready once, so a fresh attempt starts from the current base branch."
    )
    deps.tracker.upsert_comment(facts.ref, RESTARTED, text)
    deps.tracker.close_pull(pr)
    deps.tracker.delete_branch(pr.repo, pr.head)
    _origin_moves(deps, facts, lifecycle.State.QUEUED, decision.reason)
    cards.move(deps, facts.repo, facts.ref, BoardStatus.READY)
    deps.log.warning(
        "pr.restarted",
        extra={"pr": pr.number, "issue": facts.ref.number, "reason": decision.reason},
    )


def explain(deps: Deps, facts: PullFacts, reason: str, memo: Memo) -> None:
    """Say once on the PR why it waits for a person: one comment, edited when the reason changes."""
    text, key = WAIT_TEXTS.get(reason), f"{facts.pr.repo}#{facts.pr.number}"
    if text is None or memo.get("explained", key) == reason:
        return
    deps.tracker.upsert_comment(IssueRef(facts.pr.repo, facts.pr.number), WAITING, text)
    memo.changed("explained", key, reason, digest=False)


def was_restarted(deps: Deps, facts: PullFacts) -> bool:
    """Tell whether this issue was restarted before (GitHub keeps the restart comment)."""
    return any(RESTARTED in c.body for c in deps.tracker.comments(facts.ref))


def escalate(deps: Deps, facts: PullFacts, reason: str, memo: Memo) -> None:
    """Hand the PR to a person, once per reason (the label then keeps the monitor away)."""
    if not memo.changed("escalated", f"{facts.pr.repo}#{facts.pr.number}", reason):
        return
    steps = [
        f"Look at PR #{facts.pr.number} ({facts.pr.url}): {reason.replace('_', ' ')}.",
        "Push a fix to its branch or close it; "
        "remove the agentos:blocked label to let Agent OS go on.",
    ]
    escalation.escalate(
        deps,
        facts.repo,
        facts.ref,
        facts.origin or f"{facts.repo.key}-{facts.ref.number}-g1-a1",
        facts.pr.title,
        reason,
        steps=steps,
        url=facts.pr.url,
    )


def _fixing_task(
    config: Config, facts: PullFacts, reason: str, now: datetime, note: str = ""
) -> Task:
    pr, repo = facts.pr, facts.repo
    return Task(
        id=task_id(repo.key, facts.ref.number, facts.generation, facts.next_attempt),
        repo_key=repo.key,
        repo=repo.github,
        issue=facts.ref.number,
        title=pr.title,
        branch=pr.head,
        base=pr.base,
        task_type=TaskType.FIXING,
        chain=tuple(b.name for b in config.agents.chain_for(TaskType.FIXING)),
        attempt=facts.next_attempt,
        max_attempts=config.limits.max_attempts,
        generation=facts.generation,
        priority=0,
        created_at=now,
        reason=reason,
        body=_fix_brief(facts, reason, note),
        pr=pr.number,
    )


def _failures(deps: Deps, facts: PullFacts) -> list[failure.Failure]:
    """Return what each failed check says, its annotations and job log read from GitHub.

    Read when a fixing task is queued, so once per red head commit; a check whose details
    cannot be read shows what the list of checks said of it.
    """
    failed = [c for c in facts.state.checks if c.state is CheckState.FAILURE]
    shown = failed[: failure.MAX_CHECKS]
    found = []
    for check in shown:
        try:
            details = deps.tracker.check_details(facts.pr.repo, check)
        except Unauthorized:
            raise
        except TrackerError as error:
            deps.log.warning(
                "check.unreadable",
                extra={
                    "pr": facts.pr.number,
                    "repo": facts.pr.repo,
                    "check": check.name,
                    "error": str(error)[:200],
                },
            )
            details = None
        found.append(failure.describe(check, details, failure.budget(len(shown))))
    return found


def _origin_moves(deps: Deps, facts: PullFacts, to: lifecycle.State, reason: str) -> None:
    if not facts.origin:
        return
    room = rooms.Room(deps.config.paths.rooms_dir, facts.origin)
    current = room.lifecycle()
    if current is None or current.state.terminal or current.state is to:
        return
    try:
        room.transition(to, reason)
    except lifecycle.InvalidTransition as error:
        # a record out of step with GitHub: GitHub wins, the record notes it
        room.record("lifecycle.skipped", wanted=to.value, error=str(error)[:200])


FIX_GOALS = {
    "checks_failed": "make the failing checks pass",
    "changes_requested": "do what the reviewers asked",
    "conflict": "resolve the conflicts with the base branch",
    FIX_REASON: "do what Agent OS's verifier asked",
    QUEUE_REMOVED: (
        "make the checks pass on the merge group GitHub's merge queue built (the base, the pull "
        "requests queued ahead of it, and this one): the queue removed it when they failed"
    ),
    TRAIN_FAILED: (
        "make the checks pass once it is merged onto the current base branch (they pass on its "
        "own head; merged onto the base in a merge train they fail: the output below)"
    ),
}


def _fix_brief(facts: PullFacts, reason: str, note: str = "") -> str:
    goal = FIX_GOALS.get(reason, reason.replace("_", " "))
    return (
        f"## Goal\n\nPull request #{facts.pr.number} for issue #{facts.ref.number} "
        "cannot be merged yet: "
        f"{goal}, on its branch `{facts.pr.head}`, without undoing what it already does.\n\n"
        "## Success criteria\n\n- the reason below is gone\n- the repository's tests pass\n"
    ) + (f"\n{note}\n" if note else "")

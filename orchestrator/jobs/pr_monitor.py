"""Watch open agent PRs: merge green ones, rebase stale ones, send red ones back, restart wedged.

After the PRs, it files the follow-ups the merged PRs' agents noticed (`improve.discovered`).
"""

from __future__ import annotations

from datetime import datetime

from orchestrator.config.model import Config, RepoConfig
from orchestrator.core import labels, review
from orchestrator.core.model import PullRequest
from orchestrator.core.review import Action, Decision
from orchestrator.deps import Deps
from orchestrator.errors import TrackerError, Unauthorized, WorktreeError
from orchestrator.improve import discovered
from orchestrator.review import actions, merge_queue, risk, screen, trains, verifier
from orchestrator.review.facts import PullFacts, Writers, gather, issue_of, stuck_since
from orchestrator.store.memo import Memo


def run(deps: Deps, config: Config, now: datetime, *, dry_run: bool = False) -> dict[str, int]:
    """One tick over every enabled repo's open `agent/` PRs; one PR's trouble never stops others."""
    memo = deps.memo("pr_monitor")
    counts: dict[str, int] = {}
    seen: set[str] = set()
    writers = Writers(deps.tracker)  # who may write, asked once per user and repo this run
    for repo in config.repos:
        if not deps.switches.repo_on(repo.key):
            continue
        try:
            pulls = deps.tracker.open_pulls(repo.github, "agent/")
        except Unauthorized:  # the token, not the repo: the tick ends `unauthorized`
            raise
        except TrackerError as error:
            deps.log.warning(
                "pulls.unreadable", extra={"repo": repo.key, "error": str(error)[:200]}
            )
            continue
        ready: list[PullFacts] | None = [] if trains.rides(repo) and not dry_run else None
        for pr in pulls:
            seen.add(f"{pr.repo}#{pr.number}")
            action = _one(deps, config, repo, pr, now, memo, writers, dry_run, ready)
            counts[action] = counts.get(action, 0) + 1
        numbers = {pr.number for pr in pulls}
        settled = merge_queue.settle(deps, config, repo, numbers, now, memo) if not dry_run else 0
        if settled:
            counts["merged_by_queue"] = counts.get("merged_by_queue", 0) + settled
        if ready is not None:  # the green PRs merge by train, or one by one, now
            for word, n in trains.advance(deps, config, repo, ready, now, memo).items():
                counts[word] = counts.get(word, 0) + n
    sections = ("stuck", "decided", "escalated", "explained", "reviews_answered", "reviews_ignored")
    for section in (*sections, verifier.MEMO, risk.MEMO):
        memo.keep_only(section, seen)
    follow_ups = discovered.file_pending(deps, config, now, open_prs=seen, dry_run=dry_run)
    if follow_ups:
        counts["follow_ups_filed"] = follow_ups
    if not dry_run:  # a dry run decides and prints; what it saw must not stop the next tick acting
        memo.save()
    return counts


def _one(
    deps: Deps,
    config: Config,
    repo: RepoConfig,
    pr: PullRequest,
    now: datetime,
    memo: Memo,
    writers: Writers,
    dry_run: bool,
    ready: list[PullFacts] | None = None,
) -> str:
    """Decide on one PR and act; a green one goes to `ready` when the repo's PRs ride trains."""
    issue = issue_of(pr)
    if issue is None:
        return "not_ours"
    try:
        facts = gather(deps, config, repo, pr, issue, now, memo, writers)
        facts = risk.assess(deps, config, facts, now, memo)  # the tier, once per green head
        if not dry_run:  # the verdict, asked once per head when the PR waits for nothing else
            facts = verifier.verify(deps, config, facts, now, memo)
        facts = screen.screen(deps, config, facts, memo, dry_run)  # when no model judges
        decision = _decide(deps, config, facts, now, memo)
        changed = _log(deps, memo, pr, decision)
        if dry_run:
            print(f"{pr.repo}#{pr.number} ({pr.head}): {decision.action.value} ({decision.reason})")
        else:
            risk.show(deps, config, facts, memo)  # the tier in the PR body, when it changes
            if decision.action is Action.MERGE:
                queued = merge_queue.state_of(deps, facts.pr, now, memo)
                if queued is not None:  # GitHub's merge queue merges it
                    return merge_queue.carry(deps, config, facts, queued, now, memo)
            if decision.action is Action.MERGE and ready is not None:
                ready.append(facts)
                return "ready"
            _act(deps, config, facts, decision, now, memo, changed)
    except Unauthorized:
        raise
    except (TrackerError, WorktreeError) as error:
        # tried again next tick; each action is idempotent
        deps.log.warning(
            "pr.failed", extra={"pr": pr.number, "repo": pr.repo, "error": str(error)[:200]}
        )
        return "failed"
    return decision.action.value


def _decide(deps: Deps, config: Config, facts: PullFacts, now: datetime, memo: Memo) -> Decision:
    if facts.implementing:
        return Decision(Action.WAIT, "attempt_in_progress")
    if labels.BLOCKED in deps.tracker.issue(facts.ref).labels:
        return Decision(Action.WAIT, "escalated")  # a person has it until they remove the label
    decision = review.decide(facts.state)
    since = stuck_since(memo, facts.pr, decision.signature, now)
    stuck = review.wedged(decision, since, now, config.limits.wedged_hours, restarts=0)
    if stuck.action is Action.RESTART and actions.was_restarted(deps, facts):
        return review.wedged(decision, since, now, config.limits.wedged_hours, restarts=1)
    return stuck


def _act(
    deps: Deps,
    config: Config,
    facts: PullFacts,
    decision: Decision,
    now: datetime,
    memo: Memo,
    changed: bool,
) -> None:
    if decision.action is Action.MERGE:
        actions.merge(deps, facts, now)
    elif decision.action is Action.HOLD:
        if changed:  # the card moves once, not a board write every tick while a person reviews
            actions.hold(deps, facts, now)
        actions.explain(deps, facts, decision.reason, memo)  # a hold no review or body explains
    elif decision.action is Action.REBASE:
        actions.rebase(deps, config, facts, now, memo)
    elif decision.action is Action.FIX:
        actions.fix(deps, config, facts, decision.reason, decision.detail, now, memo)
    elif decision.action is Action.RESTART:
        actions.restart(deps, facts, decision)
    elif decision.action is Action.ESCALATE:
        actions.escalate(deps, facts, decision.reason, memo)
    elif review.waits_for_person(decision):
        actions.explain(deps, facts, decision.reason, memo)


def _log(deps: Deps, memo: Memo, pr: PullRequest, decision: Decision) -> bool:
    """Log a decision when it changes; True when it did.

    So a PR waiting on CI for an hour writes one line.
    """
    if not memo.changed("decided", f"{pr.repo}#{pr.number}", decision.signature):
        return False
    deps.log.info(
        "pr.decided",
        extra={
            "pr": pr.number,
            "repo": pr.repo,
            "action": decision.action.value,
            "reason": decision.reason,
        },
    )
    return True

"""Carry a decided plan out, expire an unanswered one, and keep its comment on the planning issue.

Applying is resumable: each issue moved to Ready and each draft filed is written to the plan
file as it happens (`moved`, `created`), so a tick killed half-way goes on where it stopped and
never moves or files twice. The picks move in the plan's order, blockers first
(`core.planning.in_dag_order`); an issue closed meanwhile is left out. The drafts are filed
through the one noise control (`improve.filing`), with the per-repo daily cap every producer
shares: what the cap holds back waits for a later tick, and the plan is applied when all is done.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime

from orchestrator.config.model import Config, RepoConfig
from orchestrator.control.planning import render
from orchestrator.core import labels, notify
from orchestrator.core.markdown import defuse
from orchestrator.core.model import BoardStatus, Issue, IssueRef
from orchestrator.core.planning import draft_body
from orchestrator.core.quoting import fence
from orchestrator.delivery import cards
from orchestrator.deps import Deps
from orchestrator.errors import TrackerError, Unauthorized
from orchestrator.improve.filing import Filer, Filing
from orchestrator.store import plans
from orchestrator.store.plans import PlanRecord, Plans, PlanState

MARKER = "<!-- agentos:plan={} -->"
TITLE = "Agent OS: sprint plans"
BODY = (
    "Agent OS posts each sprint plan for this repository here, as a comment, and keeps it up to "
    "date as the plan is approved, skipped or expires. Approve or skip it in the chat; nothing "
    "moves to Ready before that (unless `planner.autonomy: auto`)."
)


def settle(
    deps: Deps,
    config: Config,
    repo: RepoConfig,
    store: Plans,
    state: PlanState,
    now: datetime,
    counts: dict[str, int],
) -> PlanState:
    """Apply a decided plan, expire one past its time, record a skip; return the new state."""
    plan = state.plan
    if plan is None:
        return state
    if plan.state in plans.DECIDED:
        plan = _apply(deps, config, repo, store, plan, now, counts)
    elif plan.state == plans.PROPOSED and now >= datetime.fromisoformat(plan.expires_at):
        plan = expire(deps, repo, store, plan, "unanswered", counts)
    elif plan.state == plans.SKIPPED and state.notes.get("skipped") != plan.id:
        _comment(deps, repo, plan)
        deps.log.info("plan.skipped", extra={"repo": repo.key, "plan": plan.id, "reason": "skip"})
        state = store.change(repo.key, lambda s: replace(s, notes={**s.notes, "skipped": plan.id}))
    return store.read(repo.key) if plan is not state.plan else state


def expire(
    deps: Deps,
    repo: RepoConfig,
    store: Plans,
    plan: PlanRecord,
    why: str,
    counts: dict[str, int],
) -> PlanRecord:
    """Mark a waiting plan expired (its buttons then say so); the cadence decides the next."""
    expired = replace(plan, state=plans.EXPIRED)
    store.change(repo.key, lambda s: replace(s, plan=expired) if s.plan == plan else s)
    counts["expired"] += 1
    deps.log.info("plan.expired", extra={"repo": repo.key, "plan": plan.id, "reason": why})
    _comment(deps, repo, expired)
    return expired


def post(deps: Deps, repo: RepoConfig, plan: PlanRecord) -> int | None:
    """Post the plan on the repo's planning issue (made, and pinned, when missing); return its
    number."""
    try:
        deps.tracker.ensure_labels(repo.github, labels.PLAN_COLOURS)
        found = deps.tracker.open_issues(repo.github, [labels.PLAN])
        issue = found[0] if found else _open(deps, repo, plan)
        planned = replace(plan, planning_issue=issue.ref.number)
        deps.tracker.upsert_comment(issue.ref, MARKER.format(plan.id), _text(planned))
        return issue.ref.number
    except Unauthorized:
        raise  # a refused token ends the tick (exit 3), as everywhere
    except TrackerError as error:
        deps.log.warning(
            "plan.unposted", extra={"repo": repo.key, "plan": plan.id, "error": str(error)[:200]}
        )
        return None


def _open(deps: Deps, repo: RepoConfig, plan: PlanRecord) -> Issue:
    """Open the planning issue and pin it, once, while one of the repo's three pin slots is free.

    With none free it stays unpinned (Agent OS never unpins another); a refused pin is a warning.
    """
    issue = deps.tracker.create_issue(repo.github, TITLE, BODY, [labels.PLAN])
    where = {"repo": repo.key, "plan": plan.id, "issue": issue.ref.number}
    try:
        if deps.tracker.pin_issue(issue.ref):
            deps.log.info("plan.pinned", extra=where)
    except Unauthorized:
        raise
    except TrackerError as error:  # unpinned, the issue serves all the same
        deps.log.warning("plan.unpinned", extra={**where, "error": str(error)[:200]})
    return issue


def _apply(
    deps: Deps,
    config: Config,
    repo: RepoConfig,
    store: Plans,
    plan: PlanRecord,
    now: datetime,
    counts: dict[str, int],
) -> PlanRecord:
    for pick in plan.picks:
        if pick.issue in plan.moved:
            continue
        ref = IssueRef(repo.github, pick.issue)
        if deps.tracker.issue(ref).is_open and not cards.move(deps, repo, ref, BoardStatus.READY):
            return plan  # GitHub refused (logged): the next tick goes on from here
        plan = _progress(store, repo, plan, moved=(*plan.moved, pick.issue))
        counts["moved"] += 1
    if plan.state == plans.APPROVED:
        memo = deps.memo("planner")
        filer = Filer(deps, config, now, producer="planner", memo=memo)
        try:
            for draft in plan.drafts:
                if draft.title in plan.created:
                    continue
                filed = filer.file(_filing(repo, draft.title, draft_body(draft, draft.objective)))
                if filed.action == "skip" and filed.why == "daily_cap":
                    return plan  # the cap holds the rest back until another day
                plan = _progress(store, repo, plan, created=(*plan.created, draft.title))
                counts["drafted"] += 1 if filed.action == "file" else 0
        finally:
            memo.save()
    applied = replace(plan, state=plans.APPLIED)
    store.change(repo.key, lambda s: replace(s, plan=applied))
    counts["applied"] += 1
    deps.log.info(
        "plan.applied",
        extra={
            "repo": repo.key,
            "plan": plan.id,
            "moved": len(plan.moved),
            "drafted": len(plan.created),
            "decided_by": plan.decided_by,
        },
    )
    _comment(deps, repo, applied)
    moved = ", ".join(f"#{n}" for n in plan.moved) or "nothing"
    deps.notifier.notify(
        notify.Notification(
            notify.Kind.INFO,
            f"{repo.key}: plan {plan.id} applied: {moved} to Ready, {len(plan.created)} drafted",
        )
    )
    return applied


def _progress(store: Plans, repo: RepoConfig, plan: PlanRecord, **done: object) -> PlanRecord:
    updated = replace(plan, **done)  # type: ignore[arg-type]
    store.change(
        repo.key, lambda s: replace(s, plan=updated) if s.plan and s.plan.id == plan.id else s
    )
    return updated


def signature(repo: RepoConfig, title: str) -> str:
    """The noise control's signature of a drafted issue: the same draft next sprint is known."""
    plain = " ".join(title.lower().split())
    return hashlib.sha256(f"plan:{repo.key}:{plain}".encode()).hexdigest()[:16]


def _filing(repo: RepoConfig, title: str, body: str) -> Filing:
    note = "Drafted by Agent OS's planner from the repository's objectives; a person decides."
    return Filing(
        repo=repo,
        signature=signature(repo, title),
        title=title,
        body=f"{body}\n{note}\n",
        labels=(labels.PLANNED,),
        colours=dict(labels.PLAN_COLOURS),
    )


def _comment(deps: Deps, repo: RepoConfig, plan: PlanRecord) -> None:
    if plan.planning_issue is None:
        return
    ref = IssueRef(repo.github, plan.planning_issue)
    try:
        deps.tracker.upsert_comment(ref, MARKER.format(plan.id), _text(plan))
    except Unauthorized:
        raise  # a refused token ends the tick (exit 3), as everywhere
    except TrackerError as error:
        deps.log.warning(
            "plan.unposted", extra={"repo": repo.key, "plan": plan.id, "error": str(error)[:200]}
        )


def _text(plan: PlanRecord) -> str:
    # a fence nothing inside can close: who pressed is a chat name, free text
    return f"{MARKER.format(plan.id)}\n{fence(defuse(render(plan)), 'text')}\n"

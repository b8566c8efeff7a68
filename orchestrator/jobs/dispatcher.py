"""Queue the Ready issues whose blockers are closed, in dependency order, within capacity."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from orchestrator.config.model import Config, RepoConfig
from orchestrator.core import brief, dag, dispatch, labels
from orchestrator.core.awaiting import ReviewBudget
from orchestrator.core.model import BoardStatus, IssueRef
from orchestrator.core.tasks import ACTIVE, Task, TaskType, parse_id, task_id
from orchestrator.core.worktree import branch_name
from orchestrator.delivery import approval, dispatch_report
from orchestrator.delivery.backlog import Backlog, ReadyIssue, gather
from orchestrator.delivery.briefs import Briefs
from orchestrator.deps import Deps
from orchestrator.errors import TrackerError
from orchestrator.review import awaiting


def run(deps: Deps, config: Config, now: datetime, *, dry_run: bool = False) -> dict[str, int]:
    """One tick: gather the backlog, plan, queue; comment on cycles and waits once."""
    repos = [r for r in config.repos if deps.switches.repo_on(r.key)]
    backlog = gather(deps.tracker, deps.board_for, repos, config.github.trusted_users)
    for key, error in backlog.failed_repos.items():
        deps.log.warning("board.unreadable", extra={"repo": key, "error": error[:200]})
    graph = backlog.graph()
    active = active_tasks(deps, config)
    plan = dispatch.plan(
        _candidates(backlog),
        graph,
        active=active,
        repo_on={r.key: True for r in repos},
        capacity=_capacity(config, active, _review_budgets(deps, config, repos, backlog, active)),
        blockers={r.ref: r.blockers for r in backlog.ready},
    )
    if dry_run:
        print(dispatch_report.describe(plan))
        return {"ready": len(backlog.ready), "would_queue": len(plan.enqueue)}
    ready = {r.ref: r for r in backlog.ready}
    briefs = Briefs(deps.llm, deps.log)
    queued = sum(_queue(deps, config, briefs, ready[e.ref], e.reason, now) for e in plan.enqueue)
    dispatch_report.report(deps, backlog, graph, plan)
    approval.remind(deps, backlog.ready, {e.ref for e in plan.enqueue})
    finished = sum(
        _finish_epic(deps, backlog, ready[s.ref]) for s in plan.skipped if s.reason == "epic"
    )
    return {
        "ready": len(backlog.ready),
        "queued": queued,
        "skipped": len(plan.skipped),
        "cycles": len(graph.cycles),
        **({"epics_done": finished} if finished else {}),
    }


def active_tasks(deps: Deps, config: Config) -> dict[IssueRef, str]:
    """Return the issues with a task in inbox/ or processing/: issue -> "state task-id"."""
    github = {r.key: r.github for r in config.repos}
    found: dict[IssueRef, str] = {}
    for state in ACTIVE:
        for tid in deps.mailbox.ids(state):
            parsed = parse_id(tid)
            if parsed and parsed[0] in github:
                found[IssueRef(github[parsed[0]], parsed[1])] = f"{state} {tid}"
    return found


def _candidates(backlog: Backlog) -> list[dispatch.Candidate]:
    return [
        dispatch.Candidate(
            r.ref,
            r.repo.key,
            r.issue.title,
            r.issue.created_at,
            r.trusted,
            r.trust_reason,
            is_epic=bool(r.sub_issues),
            held_by=next((h for h in labels.HOLDING if h in r.issue.labels), ""),
        )
        for r in backlog.ready
    ]


def _review_budgets(
    deps: Deps,
    config: Config,
    repos: list[RepoConfig],
    backlog: Backlog,
    active: Mapping[IssueRef, str],
) -> dict[str, ReviewBudget]:
    """Return the review budget of each repo with `max_awaiting_review` and a Ready issue to queue.

    One listing of the repo's open PRs each (a GET per 100); the others cost nothing.
    """
    wanted = {r.repo.key for r in backlog.ready if r.ref not in active}
    memo = awaiting.monitor_memo(config.paths.state_dir)
    budgets = {}
    for repo in repos:
        if repo.max_awaiting_review is None or repo.key not in wanted:
            continue
        running = {ref.number for ref in active if ref.repo == repo.github}
        found = awaiting.read_budget(deps.tracker, repo, memo, running)
        if found is not None:
            budgets[repo.key] = found
    return budgets


def _capacity(
    config: Config, active: Mapping[IssueRef, str], review: Mapping[str, ReviewBudget]
) -> dispatch.Capacity:
    keys = {r.github: r.key for r in config.repos}
    per_repo: dict[str, int] = {}
    running = list(active)
    for ref in running:
        per_repo[keys[ref.repo]] = per_repo.get(keys[ref.repo], 0) + 1
    return dispatch.Capacity(
        total=config.limits.max_parallel_workers,
        per_repo={r.key: r.max_parallel_tasks for r in config.repos},
        active_total=len(running),
        active_per_repo=per_repo,
        review=review,
    )


def _queue(
    deps: Deps, config: Config, briefs: Briefs, ready: ReadyIssue, reason: str, now: datetime
) -> bool:
    """Write the task file (the claim), then move the card; a lost race queues nothing."""
    repo, issue = ready.repo, ready.issue
    existing = deps.mailbox.for_issue(repo.key, issue.number)
    if any(state.active for state in existing.values()):  # queued since this tick read the mailbox
        deps.log.info(
            "task.skipped",
            extra={"issue": issue.number, "repo": repo.key, "reason": "already_queued"},
        )
        return False
    generation = 1 + max((p[2] for tid in existing if (p := parse_id(tid)) is not None), default=0)
    task = Task(
        id=task_id(repo.key, issue.number, generation, 1),
        repo_key=repo.key,
        repo=repo.github,
        issue=issue.number,
        title=issue.title,
        branch=branch_name(issue.number, issue.title),
        base=repo.base_branch,
        task_type=TaskType.IMPLEMENTATION,
        chain=tuple(b.name for b in config.agents.chain_for(TaskType.IMPLEMENTATION)),
        attempt=1,
        max_attempts=config.limits.max_attempts,
        generation=generation,
        priority=dag.priority(issue.labels),
        created_at=now,
        reason=reason,
        body=brief.render(briefs.brief(issue)),
    )
    if not deps.mailbox.create(task):
        deps.log.info(
            "task.skipped",
            extra={"issue": issue.number, "repo": repo.key, "reason": "already_queued"},
        )
        return False
    deps.log.info(
        "task.queued",
        extra={
            "issue": issue.number,
            "repo": repo.key,
            "task_id": task.id,
            "reason": reason,
            "priority": task.priority,
        },
    )
    if ready.trust_reason.startswith("approved_by:"):  # an outsider's issue, on a writer's word
        approver = ready.trust_reason.partition(":")[2]
        deps.audit.record(
            "approval.honoured",
            actor=f"github:{approver}",
            repo=repo.github,
            issue=issue.number,
            author=issue.author,
            task=task.id,
        )
    try:
        deps.board_for(repo).set_status(ready.item, BoardStatus.IN_PROGRESS)
    except TrackerError as error:  # the task stands; the next tick repairs the card
        deps.log.warning(
            "board.update_failed", extra={"issue": issue.number, "error": str(error)[:200]}
        )
    return True


def _finish_epic(deps: Deps, backlog: Backlog, epic: ReadyIssue) -> bool:
    """Close a Ready epic once every sub-issue is closed: its children were the work."""
    children = [backlog.issues.get(ref) for ref in epic.sub_issues]
    if not children or any(child is None or child.is_open for child in children):
        return False
    try:
        deps.tracker.upsert_comment(
            epic.ref,
            dispatch_report.EPIC_DONE,
            "Agent OS: every sub-issue is closed, so this epic is done.",
        )
        deps.tracker.close_issue(epic.ref, "completed")
        deps.board_for(epic.repo).set_status(epic.item, BoardStatus.DONE)
    except TrackerError as error:  # the next tick tries again: each step is idempotent
        deps.log.warning(
            "epic.close_failed", extra={"issue": epic.ref.number, "error": str(error)[:200]}
        )
        return False
    deps.log.info(
        "epic.closed",
        extra={"issue": epic.ref.number, "repo": epic.ref.repo, "sub_issues": len(children)},
    )
    return True

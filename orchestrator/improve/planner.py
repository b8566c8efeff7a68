"""Propose a sprint per repo: objectives, backlog and what merged → a model → a checked plan.

A repo is planned when its cadence has passed since its last plan (`planner.cadence_days`), or
when `/plan` asked, and never while a plan of it waits for an answer. No model call otherwise:
a tick with nothing due reads two small files per repo. A model that fails, or answers what
`core.planning.parse_plan` rejects, records the failure and is not asked again before a backoff
of one hour doubling with each failure in a row (at most the cadence): no retry storm, and no
hourly re-planning. The plan is posted on the repo's planning issue and sent to the chat with
Approve / Approve without new issues / Skip (`improve.plan_apply` carries the rest out); with
`autonomy: auto` it is applied at once.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from orchestrator.config.model import Autonomy, Config, RepoConfig
from orchestrator.config.objectives import Objectives, load_objectives
from orchestrator.control.planning import render
from orchestrator.core import labels, notify
from orchestrator.core.answers import UnusableAnswer
from orchestrator.core.model import BoardStatus, IssueRef
from orchestrator.core.planning import (
    PRIMARY,
    BacklogIssue,
    in_dag_order,
    parse_plan,
    plan_prompt,
)
from orchestrator.core.redact import redact
from orchestrator.deps import Deps
from orchestrator.errors import AgentOSError, ConfigError
from orchestrator.improve import metrics, plan_apply
from orchestrator.store import plans
from orchestrator.store.ledger import Ledger
from orchestrator.store.plans import PlanRecord, Plans, PlanState

MAX_TOKENS = 4096
BACKOFF = timedelta(hours=1)  # after the first failure; doubled after each one in a row
NOT_PLANNED = (labels.BLOCKED, labels.PLAN)  # escalated, or the planning issue itself


def tick(deps: Deps, config: Config, now: datetime, *, dry_run: bool = False) -> dict[str, int]:
    """One planner tick over every repo; returns what it did."""
    counts = {"proposed": 0, "applied": 0, "expired": 0, "failed": 0, "moved": 0, "drafted": 0}
    store = Plans(config.paths.state_dir)
    for repo in config.repos:
        cadence = config.planner.cadence(repo.key)
        if not cadence.enabled or not deps.switches.repo_on(repo.key):
            continue
        state = store.read(repo.key)
        if not dry_run:
            state = plan_apply.settle(deps, config, repo, store, state, now, counts)
        if config.planner.with_backend is None or not _due(state, cadence.cadence_days, now):
            continue
        _propose(deps, config, repo, store, state, now, counts, dry_run)
    return counts


def _due(state: PlanState, cadence_days: int, now: datetime) -> bool:
    plan = state.plan
    if plan is not None and plan.state in (plans.PROPOSED, *plans.DECIDED):
        return bool(state.requested_by) and plan.state == plans.PROPOSED
    if state.next_try and now < _when(state.next_try):
        return False
    if state.requested_by or not state.last_plan_at:
        return True
    return now - _when(state.last_plan_at) >= timedelta(days=cadence_days)


def _propose(
    deps: Deps,
    config: Config,
    repo: RepoConfig,
    store: Plans,
    state: PlanState,
    now: datetime,
    counts: dict[str, int],
    dry_run: bool,
) -> None:
    try:
        objectives = load_objectives(config, repo.key)
    except ConfigError as error:
        _once(deps, store, repo, "objectives", str(error.problems[0] if error.problems else error))
        return
    if objectives is None:
        _once(deps, store, repo, "objectives", "no objectives file")
        return
    cadence = config.planner.cadence(repo.key)
    backlog = _backlog(deps, repo)
    merged = _merged(config, repo, state, now)
    text, ids = _objectives_text(objectives, config, now)
    system, prompt = plan_prompt(
        text, ids, backlog, merged, max_ready=cadence.max_ready, max_new=cadence.max_new
    )
    assert config.planner.with_backend is not None
    offered = {issue.number: issue for issue in backlog}
    try:
        answer = deps.llm_for(config.planner.with_backend).complete(system, prompt, MAX_TOKENS)
        plan = parse_plan(
            answer, offered, ids, max_ready=cadence.max_ready, max_new=cadence.max_new
        )
    except (AgentOSError, UnusableAnswer) as error:
        counts["failed"] += 1
        if not dry_run:
            _failed(deps, config, store, repo, state, now, error)
        return
    picks, dropped = in_dag_order(plan.picks, offered)
    record = PlanRecord(
        id=f"{repo.key}-{now.strftime('%Y%m%dT%H%M%S')}",
        repo=repo.key,
        state=plans.PROPOSED,
        created_at=now.isoformat(timespec="seconds"),
        expires_at=(now + timedelta(hours=config.planner.expires_hours)).isoformat(
            timespec="seconds"
        ),
        picks=picks,
        drafts=plan.drafts,
        dropped=dropped,
    )
    counts["proposed"] += 1
    if dry_run:
        print(render(record))
        return
    previous = state.plan
    if previous is not None and previous.state == plans.PROPOSED:  # `/plan` replaced it
        plan_apply.expire(deps, repo, store, previous, "replaced", counts)
    record = replace(record, planning_issue=plan_apply.post(deps, repo, record))
    auto = cadence.autonomy is Autonomy.AUTO
    if auto:
        record = replace(record, state=plans.APPROVED, decided_by="autonomy: auto")
    stamp = now.isoformat(timespec="seconds")
    state = store.change(
        repo.key,
        lambda s: replace(
            s, plan=record, last_plan_at=stamp, failures=0, next_try="", requested_by=""
        ),
    )
    deps.log.info(
        "plan.proposed",
        extra={
            "repo": repo.key,
            "plan": record.id,
            "picks": len(picks),
            "dropped": len(dropped),
            "drafts": len(plan.drafts),
            "autonomy": cadence.autonomy.value,
        },
    )
    if auto:
        plan_apply.settle(deps, config, repo, store, state, now, counts)
    else:
        ref = IssueRef(repo.github, record.planning_issue or 0)
        head = f"{repo.key}: a sprint plan ({len(picks)} to Ready, {len(plan.drafts)} new)"
        deps.notifier.notify(notify.plan(ref, record.id, head, render(record)))


def _backlog(deps: Deps, repo: RepoConfig) -> list[BacklogIssue]:
    """The repo's open issues in Backlog or Ready, with their open blockers (same repo)."""
    wanted = (BoardStatus.BACKLOG, BoardStatus.READY)
    items = deps.board_for(repo).items(detail=wanted)
    open_numbers = {i.number for i in deps.tracker.open_issues(repo.github)}
    found = []
    for item in items:
        issue = item.content
        if item.status not in wanted or issue is None or not issue.is_open:
            continue
        if issue.ref.repo != repo.github or set(issue.labels) & set(NOT_PLANNED):
            continue
        blockers = item.dependencies.blocked_by if item.dependencies else ()
        found.append(
            BacklogIssue(
                issue.ref.number,
                issue.title,
                item.status.value,
                issue.body or "",
                tuple(
                    b.number for b in blockers if b.repo == repo.github and b.number in open_numbers
                ),
            )
        )
    return sorted(found, key=lambda b: b.number)


def _merged(config: Config, repo: RepoConfig, state: PlanState, now: datetime) -> list[str]:
    since = state.last_plan_at or (now - timedelta(days=14)).isoformat(timespec="seconds")
    rows = Ledger.of(config).merges()
    return [
        f"PR #{row['pr']} for issue #{row['issue']} merged {str(row['merged_at'])[:10]}"
        for row in rows
        if row["repo"] == repo.github and str(row["merged_at"]) >= since[:19]
    ][-50:]


def _objectives_text(
    objectives: Objectives, config: Config, now: datetime
) -> tuple[str, list[str]]:
    values = {v.metric: v for v in metrics.read_metrics(objectives, config, now)}
    lines = [
        f"Product: {objectives.product_name}",
        f"Primary outcome (id {PRIMARY}): {objectives.primary_outcome}",
        "Metrics:",
    ]
    for metric in objectives.metrics:
        value = values.get(metric.id)
        now_is = "unknown" if value is None or value.value is None else f"{value.value:g}"
        lines.append(
            f"- {metric.id}: {metric.name}; {metric.direction.value} is better; "
            f"weight {metric.weight:g}; now {now_is}"
        )
    if objectives.constraints:
        lines += ["Constraints (never break these):", *(f"- {c}" for c in objectives.constraints)]
    return "\n".join(lines), [PRIMARY, *(m.id for m in objectives.metrics)]


def _failed(
    deps: Deps,
    config: Config,
    store: Plans,
    repo: RepoConfig,
    state: PlanState,
    now: datetime,
    error: Exception,
) -> None:
    failures = state.failures + 1
    cadence = timedelta(days=config.planner.cadence(repo.key).cadence_days)
    wait = min(BACKOFF * 2 ** (failures - 1), cadence)
    next_try = (now + wait).isoformat(timespec="seconds")
    store.change(
        repo.key, lambda s: replace(s, failures=failures, next_try=next_try, requested_by="")
    )
    line = " ".join(redact(str(error) or type(error).__name__).split())[:300]
    deps.log.warning(
        "plan.failed",
        extra={"repo": repo.key, "error": line, "failures": failures, "next_try": next_try},
    )


def _once(deps: Deps, store: Plans, repo: RepoConfig, topic: str, why: str) -> None:
    """Log `plan.skipped` when its reason changed; the plan file remembers what was said."""
    said = store.read(repo.key).notes.get(topic)
    if said == why:
        return
    store.change(repo.key, lambda s: replace(s, notes={**s.notes, topic: why}, requested_by=""))
    deps.log.info("plan.skipped", extra={"repo": repo.key, "reason": why[:200]})


def _when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)

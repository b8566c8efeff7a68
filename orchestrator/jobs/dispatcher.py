"""Queue the Ready issues whose blockers are closed, in dependency order, within capacity."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from orchestrator.config.model import Config, RepoConfig
from orchestrator.core import brief, dag, dispatch, footprint, labels
from orchestrator.core.awaiting import ReviewBudget
from orchestrator.core.lifecycle import State
from orchestrator.core.model import BoardStatus, IssueRef
from orchestrator.core.tasks import ACTIVE, MailboxState, Task, TaskType, parse_id, task_id
from orchestrator.core.worktree import branch_name
from orchestrator.delivery import approval, board_watch, dispatch_report, spending
from orchestrator.delivery.backlog import Backlog, ReadyIssue, gather
from orchestrator.delivery.briefs import Briefs
from orchestrator.deps import Deps
from orchestrator.errors import TrackerError
from orchestrator.review import awaiting
from orchestrator.store import rooms
from orchestrator.store.mailbox import Mailbox
from orchestrator.store.memo import Memo

PAST = "footprints"  # the memo's section: delivered task id -> what its merged PR changed
NOT_MERGED = "-"  # in that section: the task's PR ended without merging
MAX_PAST = 100  # the newest delivered tasks of a repo that similar issues learn from


def run(deps: Deps, config: Config, now: datetime, *, dry_run: bool = False) -> dict[str, int]:
    """One tick: gather the backlog, plan, queue; comment on cycles and waits once.

    Nothing is read in full when no board's stamp and nothing of the tick's own changed since
    the last full read, less than `dispatcher.full_read_minutes` ago (delivery.board_watch).
    """
    repos = [r for r in config.repos if deps.switches.repo_on(r.key)]
    # a day's cost cap reached: nothing more is queued for its repos today
    repos = spending.dispatchable(deps, config, repos, now, announce=not dry_run)
    reads = deps.memo("board_reads")
    active = active_tasks(deps, config)
    seen = board_watch.look(deps, reads, config, repos, _ids(active), now)
    if not seen.reason and not dry_run:
        deps.log.info("board.unchanged", extra={"repos": len(repos)})
        return {"unchanged": 1}
    backlog = gather(deps.tracker, deps.board_for, repos, config.github.trusted_users)
    for key, error in backlog.failed_repos.items():
        deps.log.warning("board.unreadable", extra={"repo": key, "error": error[:200]})
    graph = backlog.graph()
    memo = deps.memo("dispatcher")
    past = learned(deps.mailbox, memo, config, [r for r in repos if r.serialize_overlaps])
    if not dry_run:
        memo.save()  # before dispatch_report reads the memo again
    plan = dispatch.plan(
        _candidates(backlog, past),
        graph,
        active=active,
        repo_on={r.key: True for r in repos},
        capacity=_capacity(config, active, _review_budgets(deps, config, repos, backlog, active)),
        blockers={r.ref: r.blockers for r in backlog.ready},
        running=footprint.in_flight(
            backlog.statuses, backlog.issues, _task_texts(deps, active, backlog), past, set(past)
        ),
        serialize={r.key: r.serialize_overlaps for r in repos},
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
    after = _ids(active_tasks(deps, config))
    board_watch.remember(deps, reads, config, repos, seen, backlog.failed_repos, after, now)
    reads.save()
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


def _ids(active: Mapping[IssueRef, str]) -> list[str]:
    """Return the task ids of `active_tasks` (queued or running alike: a claim changes nothing)."""
    return [where.partition(" ")[2] for where in active.values()]


def _candidates(
    backlog: Backlog, past: Mapping[str, list[footprint.Past]]
) -> list[dispatch.Candidate]:
    """The Ready issues; those of repos that serialise overlaps with their footprints."""
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
            footprint=footprint.predict(r.issue.title, r.issue.body, past[r.ref.repo])
            if r.ref.repo in past
            else footprint.Footprint(),
        )
        for r in backlog.ready
    ]


def _task_texts(
    deps: Deps, active: Mapping[IssueRef, str], backlog: Backlog
) -> dict[IssueRef, tuple[str, str]]:
    """Return the title and brief of each queued or running task whose issue was not read."""
    texts = {}
    for ref, where in active.items():
        state, _, tid = where.partition(" ")
        if ref in backlog.issues:
            texts[ref] = ("", "")  # footprint.in_flight reads the issue itself
            continue
        try:
            task = deps.mailbox.read(MailboxState(state), tid)
        except FileNotFoundError:  # moved meanwhile: the board says where it went
            continue
        texts[ref] = (task.title, task.body)
    return texts


def learned(
    mailbox: Mailbox, memo: Memo, config: Config, repos: list[RepoConfig]
) -> dict[str, list[footprint.Past]]:
    """Return, per repo ("owner/name"), what its newest merged deliveries teach: the words of
    each issue and the files its PR changed, as its room recorded them (`attempt.judged`).

    A room is read once, when the lifecycle of the task that opened the PR says `passed`; the
    lesson is kept in `memo` (the dispatcher's: `memo_of`). No GitHub request.
    """
    delivered = mailbox.ids(MailboxState.DELIVERED)  # oldest first
    found: dict[str, list[footprint.Past]] = {}
    keep: set[str] = set()
    for repo in config.repos:
        newest = [t for t in delivered if (p := parse_id(t)) and p[0] == repo.key][-MAX_PAST:]
        keep.update(newest)
        if repo in repos:
            found[repo.github] = [
                lesson for tid in newest if (lesson := _lesson(mailbox, config, memo, tid))
            ]
    memo.keep_only(PAST, keep)
    return found


def memo_of(config: Config) -> Memo:
    """Return the dispatcher's memo, for /why to read what it learned."""
    return Memo(config.paths.state_dir / "dispatcher.memo.json")


def _lesson(mailbox: Mailbox, config: Config, memo: Memo, tid: str) -> footprint.Past | None:
    cached = memo.get(PAST, tid)
    if cached is not None:
        return footprint.decode(cached)
    life = rooms.Room(config.paths.rooms_dir, tid).lifecycle()
    if life is None or not life.state.terminal:  # not the PR's task, or the PR is open
        return None
    if life.state is not State.PASSED:
        memo.changed(PAST, tid, NOT_MERGED)
        return None
    try:
        task = mailbox.read(MailboxState.DELIVERED, tid)
    except FileNotFoundError:
        return None
    events = rooms.read(config.paths.rooms_dir, tid).events
    judged = [e for e in events if e.get("event") == "attempt.judged"]
    files = judged[-1].get("files") if judged else None
    changed = [str(f) for f in files] if isinstance(files, list) else []
    lesson = footprint.past(f"#{task.issue}", task.title, task.body, changed)
    memo.changed(PAST, tid, footprint.encode(lesson), digest=False)
    return lesson


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
        total=config.task_slots,  # the local workers and the remote executors' slots
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

"""The commands about one issue: /why (from tracker, board, mailbox, switches), /retry, and Close.

/retry re-queues an escalated or failed issue as the next generation of its task, with a
fresh attempt budget and the lineage (history) kept; the derived id makes a second /retry find
the first one's task instead of queueing twice. The old task leaves escalated/ for retried/;
Close moves it to dropped/.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from orchestrator.config.model import Config, RepoConfig
from orchestrator.core import dispatch, footprint, labels
from orchestrator.core.awaiting import person_wait, phrase
from orchestrator.core.chat import Target
from orchestrator.core.dependencies import blockers
from orchestrator.core.explain import Facts, TaskFact, explain, latest
from orchestrator.core.model import BoardItem, BoardStatus, Issue, IssueRef, PullRequest
from orchestrator.core.tasks import ACTIVE, MailboxState, Task, task_id
from orchestrator.errors import AgentOSError, TrackerError, Unauthorized
from orchestrator.jobs import dispatcher
from orchestrator.ports import Board, Tracker
from orchestrator.review import awaiting
from orchestrator.store.mailbox import Mailbox
from orchestrator.store.memo import Memo
from orchestrator.store.switches import Switches

MAX_BLOCKER_READS = 10


def task_fact(task: Task, state: MailboxState) -> TaskFact:
    """Return what /why and /queue need of a task file."""
    return TaskFact(task.id, state, task.generation, task.attempt, task.max_attempts, task.reason)


def resolve(
    config: Config, mailbox: Mailbox, target: Target, command: str
) -> tuple[RepoConfig, IssueRef] | str:
    """Return the repo and issue a target names, or the reply asking which repo was meant."""
    if target.repo is not None:
        for repo in config.repos:
            if target.repo in (repo.key, repo.github) or target.repo.lower() == repo.github.lower():
                return repo, IssueRef(repo.github, target.number)
        return f"Unknown repo {target.repo!r} (known: {', '.join(r.key for r in config.repos)})."
    candidates = [r for r in config.repos if mailbox.for_issue(r.key, target.number)]
    if len(config.repos) == 1:
        candidates = list(config.repos)
    if len(candidates) == 1:
        return candidates[0], IssueRef(candidates[0].github, target.number)
    choices = candidates or list(config.repos)
    return "Which repo? " + " or ".join(f"/{command} {r.key}#{target.number}" for r in choices)


def repo_of(config: Config, ref: IssueRef) -> RepoConfig:
    """Return the configured repo an issue belongs to; AgentOSError when it no longer is one."""
    for repo in config.repos:
        if repo.github.lower() == ref.repo.lower():
            return repo
    raise AgentOSError(f"{ref.repo} is no longer in the config")


def _tasks(mailbox: Mailbox, key: str, number: int) -> list[tuple[Task, MailboxState]]:
    found = []
    for tid, state in mailbox.for_issue(key, number).items():
        try:
            found.append((mailbox.read(state, tid), state))
        except FileNotFoundError:
            continue  # moved while we looked: it shows up on the next /why
    return found


def why(
    config: Config,
    repo: RepoConfig,
    ref: IssueRef,
    mailbox: Mailbox,
    switches: Switches,
    tracker: Tracker | None,
    board: Board | None,
) -> str:
    """Return /why: the verdict and the facts it rests on."""
    tasks = tuple(task_fact(t, s) for t, s in _tasks(mailbox, repo.key, ref.number))
    facts = Facts(
        label=f"{repo.key}#{ref.number}",
        tasks=tasks,
        capacity=_capacity(config, repo, mailbox),
        switches={
            "Agent OS": switches.is_on(),
            f"repo {repo.key}": switches.repo_on(repo.key),
            "dispatcher": switches.job_on("dispatcher"),
            "queue": switches.job_on("queue"),
        },
    )
    unknown: list[str] = []
    if tracker is None:
        unknown.append("GitHub (no access configured)")
    else:
        facts = _github_facts(facts, config, repo, ref, tracker, mailbox, unknown)
    if board is not None:
        try:
            items = board.items(detail=())
            item = next((i for i in items if i.issue == ref), None)
            status = (
                ""
                if item is None
                else (item.status_name or (item.status.value if item.status else "none"))
            )
            waits = _overlaps(config, repo, items, ref, mailbox)
            facts = replace(facts, board_status=status, overlaps=waits)
        except Unauthorized:  # not a fact about the issue: the round ends with it
            raise
        except AgentOSError as exc:
            unknown.append(f"board ({exc})")
    return explain(replace(facts, unknown=tuple(unknown)))


def _github_facts(
    facts: Facts,
    config: Config,
    repo: RepoConfig,
    ref: IssueRef,
    tracker: Tracker,
    mailbox: Mailbox,
    unknown: list[str],
) -> Facts:
    try:
        issue = tracker.issue(ref)
        recorded = tracker.dependencies(issue)
        waits = [b for b in blockers(ref, issue.body, recorded) if b not in recorded.sub_issues]
        open_ones = [b for b in waits[:MAX_BLOCKER_READS] if tracker.issue(b).is_open]
        if len(waits) > MAX_BLOCKER_READS:
            unknown.append(f"{len(waits) - MAX_BLOCKER_READS} more blockers not read")
        open_subs = [s for s in recorded.sub_issues[:MAX_BLOCKER_READS] if tracker.issue(s).is_open]
        pulls = tracker.open_pulls(ref.repo)  # every agent PR: its own, and the review budget's
    except Unauthorized:
        raise
    except TrackerError as exc:
        unknown.append(f"GitHub ({exc})")
        return facts
    memo = awaiting.monitor_memo(config.paths.state_dir)
    mine = [p for p in pulls if p.head.startswith(f"agent/{ref.number}-")]
    budget = (
        None if mine else awaiting.budget(repo, pulls, memo, _active(mailbox, repo) - {ref.number})
    )
    return replace(
        facts,
        title=issue.title,
        is_open=issue.is_open,
        state_reason=issue.state_reason,
        open_blockers=tuple(_shorten(b, ref) for b in open_ones),
        is_epic=bool(open_subs),
        pull=_pull(mine[0], memo) if mine else None,
        review_budget=budget.detail() if budget is not None and budget.exhausted() else None,
        held_by=next((h for h in labels.HOLDING if h in issue.labels), ""),
    )


def _overlaps(
    config: Config, repo: RepoConfig, items: list[BoardItem], ref: IssueRef, mailbox: Mailbox
) -> str | None:
    """Return which issue in flight a Ready issue waits for, as the dispatcher decides it.

    From the board and the mailbox, and what the dispatcher learned of merged issues (its memo).
    """
    item = next((i for i in items if i.issue == ref), None)
    issue = item.content if item is not None else None
    if not repo.serialize_overlaps or issue is None or not issue.is_open:
        return None
    if item is None or item.status is not BoardStatus.READY:
        return None
    tasks = {
        IssueRef(repo.github, t.issue): (t.title, t.body)
        for state in ACTIVE
        for t in mailbox.tasks(state)
        if t.repo_key == repo.key
    }
    if ref in tasks:
        return None
    past = dispatcher.learned(mailbox, dispatcher.memo_of(config), config, [repo])[repo.github]
    running = footprint.in_flight(
        {i.issue: i.status for i in items},
        {i.issue: i.content for i in items if i.content is not None},
        tasks,
        {repo.github: past},
        {repo.github},
    )
    mine = footprint.predict(issue.title, issue.body, past)
    return dispatch.waits_for(ref, mine, running) or None


def _pull(pr: PullRequest, memo: Memo) -> str:
    """Return the issue's PR, and what it waits for when only a person can move it on."""
    reason = person_wait(awaiting.last_decision(memo, pr))
    said = f"PR #{pr.number} ({pr.head})"
    return f"{said}, waiting for a person: {phrase(reason)}" if reason else said


def _active(mailbox: Mailbox, repo: RepoConfig) -> set[int]:
    """Return the repo's issues with a task queued or running."""
    states = (MailboxState.INBOX, MailboxState.PROCESSING)
    return {t.issue for state in states for t in mailbox.tasks(state) if t.repo_key == repo.key}


def _shorten(ref: IssueRef, home: IssueRef) -> str:
    return f"#{ref.number}" if ref.repo == home.repo else str(ref)


def _capacity(config: Config, repo: RepoConfig, mailbox: Mailbox) -> str | None:
    running = list(mailbox.tasks(MailboxState.PROCESSING))
    mine = sum(1 for t in running if t.repo_key == repo.key)
    if mine >= repo.max_parallel_tasks:
        return f"repo {repo.key} has {mine} of {repo.max_parallel_tasks} running"
    if len(running) >= config.limits.max_parallel_workers:
        return f"all {config.limits.max_parallel_workers} workers busy"
    return None


@dataclass(frozen=True, slots=True)
class Outcome:
    text: str
    task_id: str = ""  # the new task, when one was queued


def retry(
    config: Config,
    repo: RepoConfig,
    number: int,
    mailbox: Mailbox,
    tracker: Tracker | None,
    board: Board | None,
    now: datetime,
    who: str,
) -> Outcome:
    """Re-queue the issue's escalated or failed task as a fresh generation; else say why not."""
    label = f"{repo.key}#{number}"
    found = _tasks(mailbox, repo.key, number)
    newest = latest([task_fact(t, s) for t, s in found])
    if newest is None:
        return Outcome(
            f"{label}: no task to retry; it was never queued (move it to Ready instead)."
        )
    old, state = next((t, s) for t, s in found if t.id == newest.task_id)
    if state.active:
        # a retry killed after queueing: finish its move now
        _retire(mailbox, found, MailboxState.RETRIED)
        where = "running" if state is MailboxState.PROCESSING else state.value
        return Outcome(f"{label}: already {where} as task {old.id}.")
    if state is MailboxState.DELIVERED:
        return Outcome(f"{label}: its last task {old.id} is done; nothing to retry.")
    issue = tracker.issue(IssueRef(repo.github, number)) if tracker is not None else None
    if issue is not None and not issue.is_open:
        return Outcome(f"{label} is closed on GitHub; reopen it first.")
    generation = old.generation + 1
    fresh = replace(
        old,
        id=task_id(repo.key, number, generation, 1),
        generation=generation,
        attempt=1,
        max_attempts=config.limits.max_attempts,
        created_at=now,
        reason="retried_from_chat",
        chain=tuple(b.name for b in config.agents.chain_for(old.task_type)),
    )
    if not mailbox.create(fresh):
        return Outcome(f"{label}: already re-queued as task {fresh.id}.")
    _retire(mailbox, found, MailboxState.RETRIED)
    note = _unblock(tracker, board, issue) if tracker is not None and issue is not None else ""
    return Outcome(
        f"{label}: re-queued as task {fresh.id} with {fresh.max_attempts} fresh attempts "
        f"(by {who}){note}.",
        fresh.id,
    )


def _unblock(tracker: Tracker, board: Board | None, issue: Issue) -> str:
    """Undo what the escalation did on GitHub: label off, card In Progress.

    The dispatcher does the same when it queues.
    """
    try:
        tracker.remove_label(issue.ref, labels.BLOCKED)
        if board is not None:
            board.set_status(board.add(issue), BoardStatus.IN_PROGRESS)
    except TrackerError as exc:
        return f" (GitHub not updated: {exc})"
    return ""


def _retire(mailbox: Mailbox, found: list[tuple[Task, MailboxState]], to: MailboxState) -> None:
    """Move the issue's escalated tasks to `to`: a human decided, they no longer wait for one."""
    for task, state in found:
        if state is MailboxState.ESCALATED:
            mailbox.move(task.id, MailboxState.ESCALATED, to)


def close(
    config: Config,
    repo: RepoConfig,
    ref: IssueRef,
    mailbox: Mailbox,
    tracker: Tracker | None,
    board: Board | None,
    who: str,
) -> str:
    """Close the issue as not planned, mark it Done on the board, and retire its escalated task."""
    if tracker is None:
        raise AgentOSError("no GitHub access configured")
    tracker.close_issue(ref, "not_planned")
    note = ""
    if board is not None:
        try:
            board.set_status(board.add(tracker.issue(ref)), BoardStatus.DONE)
        except AgentOSError as exc:
            note = f" (the board could not be updated: {exc})"
    _retire(mailbox, _tasks(mailbox, repo.key, ref.number), MailboxState.DROPPED)
    return f"{repo.key}#{ref.number} closed as not planned (by {who}){note}."

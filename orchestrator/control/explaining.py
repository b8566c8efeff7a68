"""Why an issue is or is not running: the facts `/why` and `agentos why` answer from, read once.

`why` is the one function both call. It reads GitHub through the ports (the issue, its
blockers and theirs, its author's standing, the repo's open PRs, the board) and runtime/ (the
mailbox, the switches, the agents' cooldowns, the dispatcher's and the PR monitor's memos), and
`core.explain` words what it found. It writes nothing. Each fact is read the way the job that
acts on it reads it: trust (core.trust), cycles (core.dag), the review budget and the overlaps
as the dispatcher does; capacity as the dispatcher counts it for an issue not queued yet
(queued and running tasks) and as the queue counts it for a queued task (running ones).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

from orchestrator.config.model import Config, RepoConfig
from orchestrator.core import dag, dispatch, footprint, labels, trust
from orchestrator.core.awaiting import person_wait, phrase
from orchestrator.core.dependencies import blockers
from orchestrator.core.explain import UNREADABLE, Facts, TaskFact, explain, latest, moment
from orchestrator.core.model import (
    BoardItem,
    BoardStatus,
    Dependencies,
    Issue,
    IssueRef,
    Permission,
    PullRequest,
)
from orchestrator.core.tasks import ACTIVE, MailboxState, Task, TaskType
from orchestrator.errors import AgentOSError, TrackerError, Unauthorized
from orchestrator.jobs import dispatcher
from orchestrator.ports import Board, Cooldowns, Tracker
from orchestrator.review import awaiting
from orchestrator.store.cooldowns import CooldownStore
from orchestrator.store.mailbox import Mailbox
from orchestrator.store.memo import Memo
from orchestrator.store.switches import Switches

MAX_GRAPH_READS = 20  # issues read following blockers and their blockers (a cycle's search)
SETTLED = (MailboxState.PROCESSING, MailboxState.ESCALATED, MailboxState.RETRIED)


def task_fact(task: Task, state: MailboxState) -> TaskFact:
    """Return what /why and /queue need of a task file."""
    return TaskFact(
        task.id,
        state,
        task.generation,
        task.attempt,
        task.max_attempts,
        task.reason,
        task.not_before,
    )


def tasks_of(mailbox: Mailbox, key: str, number: int) -> list[tuple[Task, MailboxState]]:
    """Return the issue's task files, each with the mailbox folder it is in."""
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
    *,
    now: datetime | None = None,
    cooldowns: Cooldowns | None = None,
) -> str:
    """Return why the issue is or is not running: the verdict, then the facts it rests on.

    The answer of `/why` and of `agentos why`. A refused credential is raised (Unauthorized);
    anything else that cannot be read is a fact of its own ("- unknown: …").
    """
    now = now or datetime.now(UTC)
    found = tasks_of(mailbox, repo.key, ref.number)
    newest = latest([task_fact(t, s) for t, s in found])
    facts = Facts(
        label=f"{repo.key}#{ref.number}",
        tasks=tuple(task_fact(t, s) for t, s in found),
        capacity=None
        if newest is not None and newest.state in SETTLED
        else _capacity(config, repo, mailbox, queued=newest is not None and newest.state.active),
        switches={
            "Agent OS": switches.is_on(),
            f"repo {repo.key}": switches.repo_on(repo.key),
            "dispatcher": switches.job_on("dispatcher"),
            "queue": switches.job_on("queue"),
        },
        now=now,
    )
    chain = next((t.chain for t, _ in found if t.id == newest.task_id), ()) if newest else ()
    facts = _resting(facts, chain or _chain(config), cooldowns or _store(config), now)
    unknown: list[str] = []
    if tracker is None:
        unknown.append("GitHub (no access configured)")
    else:
        running = newest is not None and newest.state is MailboxState.PROCESSING
        facts = _github_facts(facts, config, repo, ref, tracker, mailbox, running, unknown)
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
            ready = item is not None and item.status is BoardStatus.READY
            facts = replace(facts, board_status=status, board_ready=ready, overlaps=waits)
        except Unauthorized:  # not a fact about the issue: the round ends with it
            raise
        except AgentOSError as exc:
            unknown.append(f"board ({exc})")
    if newest is None or not newest.state.active:
        facts = replace(facts, spend_cap=_spend_cap(config, repo, now, unknown))
    if facts.is_open is False or facts.pull:
        facts = replace(facts, capacity=None, resting=(), chain_resting=False, spend_cap=None)
    return explain(replace(facts, unknown=tuple(unknown)))


def _github_facts(
    facts: Facts,
    config: Config,
    repo: RepoConfig,
    ref: IssueRef,
    tracker: Tracker,
    mailbox: Mailbox,
    running: bool,
    unknown: list[str],
) -> Facts:
    try:
        issue = tracker.issue(ref)
        recorded = tracker.dependencies(issue)
        pulls = tracker.open_pulls(ref.repo)  # every agent PR: its own, and the review budget's
    except Unauthorized:
        raise
    except TrackerError as exc:
        unknown.append(f"GitHub ({exc})")
        return facts
    graph = _Graph(tracker, ref, unknown)
    graph.follow(issue, recorded)
    memo = awaiting.monitor_memo(config.paths.state_dir)
    mine = [p for p in pulls if p.head.startswith(f"agent/{ref.number}-")]
    budget = (
        None if mine else awaiting.budget(repo, pulls, memo, _active(mailbox, repo) - {ref.number})
    )
    waits = [b for b in graph.first if b not in recorded.sub_issues]
    cycle, in_cycle = graph.cycle() if issue.is_open else ((), False)
    facts = replace(
        facts,
        title=issue.title,
        is_open=issue.is_open,
        state_reason=issue.state_reason,
        open_blockers=tuple(_shorten(b, ref) for b in waits if graph.open(b)),
        is_epic=any(graph.open(s) for s in recorded.sub_issues),
        cycle=tuple(_shorten(c, ref) for c in cycle),
        in_cycle=in_cycle,
        pull=_pull(mine[0], memo) if mine else None,
        review_budget=budget.detail() if budget is not None and budget.exhausted() else None,
        held_by=next((h for h in labels.HOLDING if h in issue.labels), ""),
    )
    if issue.is_open and not mine and not running:  # what the dispatcher asks before it queues
        standing = _standing(config, tracker, issue, unknown)
        facts = replace(facts, author=issue.author, trust=standing)
    return facts


class _Graph:
    """The issue's blockers, and theirs, read breadth first up to MAX_GRAPH_READS issues.

    A blocker that cannot be read counts as open, as the dispatcher counts it.
    """

    def __init__(self, tracker: Tracker, home: IssueRef, unknown: list[str]) -> None:
        self.tracker, self.home, self.unknown = tracker, home, unknown
        self.nodes: dict[IssueRef, dag.Node] = {}
        self.read: dict[IssueRef, bool] = {}  # issue -> open (True when unreadable)
        self.first: tuple[IssueRef, ...] = ()

    def follow(self, issue: Issue, recorded: Dependencies) -> None:
        """Read the blockers; past the issue's own, only while it is open (a cycle matters)."""
        self.first = blockers(issue.ref, issue.body, recorded)
        self.nodes[issue.ref] = dag.Node(issue.ref, issue.is_open, self.first)
        todo = list(self.first)
        while todo and len(self.read) < MAX_GRAPH_READS:
            ref = todo.pop(0)
            if ref not in self.nodes and ref not in self.read:
                todo += self._read(ref, deep=issue.is_open)
        left = [r for r in dict.fromkeys(todo) if r not in self.read and r not in self.nodes]
        unread = [r for r in left if r in self.first]
        if unread:
            self.unknown.append(f"{len(unread)} more blockers not read")
        elif left:
            self.unknown.append(
                f"blockers of blockers past {MAX_GRAPH_READS} issues (a cycle there is not seen)"
            )

    def _read(self, ref: IssueRef, *, deep: bool) -> tuple[IssueRef, ...]:
        """Read one blocker; return its own blockers when it is open (and `deep`)."""
        try:
            other = self.tracker.issue(ref)
            edges = (
                blockers(ref, other.body, self.tracker.dependencies(other))
                if other.is_open and deep
                else ()
            )
        except Unauthorized:
            raise
        except TrackerError as exc:  # deleted, transferred, no access: it stays a blocker
            self.read[ref] = True
            self.unknown.append(f"blocker {_shorten(ref, self.home)} ({exc})")
            return ()
        self.read[ref] = other.is_open
        self.nodes[ref] = dag.Node(ref, other.is_open, edges)
        return edges

    def open(self, ref: IssueRef) -> bool:
        return self.read.get(ref, False)

    def cycle(self) -> tuple[tuple[IssueRef, ...], bool]:
        """Return the cycle the issue is in, else one its blockers wait on, and which it was."""
        cycles = dag.analyse(self.nodes).cycles
        mine = next((c for c in cycles if self.home in c), None)
        if mine is not None:
            return mine, True
        return (cycles[0] if cycles else ()), False


def _standing(config: Config, tracker: Tracker, issue: Issue, unknown: list[str]) -> str:
    """Return the author's standing as the dispatcher decides it (core.trust's reason)."""
    asked: dict[str, Permission] = {}

    def permission(login: str) -> Permission:
        if login.lower() not in asked:
            asked[login.lower()] = tracker.permission(issue.ref.repo, login)
        return asked[login.lower()]

    try:
        return trust.trust(
            issue.author,
            permission(issue.author),
            config.github.trusted_users,
            lambda: tracker.label_events(issue.ref),
            permission,
            lambda: tracker.edited_at(issue.ref),
        )[1]
    except Unauthorized:
        raise
    except TrackerError as exc:  # what cannot be checked does not run
        unknown.append(f"the author's standing ({exc})")
        return UNREADABLE


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
    return {t.issue for state in ACTIVE for t in mailbox.tasks(state) if t.repo_key == repo.key}


def _shorten(ref: IssueRef, home: IssueRef) -> str:
    return f"#{ref.number}" if ref.repo == home.repo else str(ref)


def _capacity(config: Config, repo: RepoConfig, mailbox: Mailbox, *, queued: bool) -> str | None:
    """Return what is full, or None.

    For a queued task, the queue's count: running tasks. For an issue not queued yet, the
    dispatcher's: queued and running tasks, against the same limits.
    """
    states = (MailboxState.PROCESSING,) if queued else ACTIVE
    busy = [t for state in states for t in mailbox.tasks(state)]
    mine = sum(1 for t in busy if t.repo_key == repo.key)
    doing = "running" if queued else "queued or running"
    cap = repo.max_parallel_tasks
    if mine >= cap:
        return f"repo {repo.key} has {mine} of {cap} {doing} (max_parallel_tasks)"
    limit = config.task_slots
    if len(busy) >= limit:
        taken = "busy" if queued else f"taken, {len(busy)} tasks {doing}"
        what = "max_parallel_workers" + (" and executors' slots" if config.executors else "")
        return f"all {limit} workers {taken} ({what})"
    return None


def _spend_cap(config: Config, repo: RepoConfig, now: datetime, unknown: list[str]) -> str | None:
    """Say which day's cost cap holds the repo's new tasks back, if one does (delivery.spending)."""
    from orchestrator.core import spend
    from orchestrator.delivery import spending

    if not spending.has_day_caps(config):
        return None
    try:
        spends = spending.today(config, now)
    except (OSError, sqlite3.Error) as exc:
        unknown.append(f"today's spend ({exc})")
        return None
    if repo.key not in spend.held(spends, [repo.key]):
        return None
    reached = next(s for s in spends if s.reached and s.scope in (spend.GLOBAL, repo.key))
    return f"the day's cost cap is reached ({reached.scope}: {reached.describe()})"


def _chain(config: Config) -> tuple[str, ...]:
    """Return the backends a new task of the issue would run through."""
    return tuple(b.name for b in config.agents.chain_for(TaskType.IMPLEMENTATION))


def _store(config: Config) -> Cooldowns:
    return CooldownStore(config.paths.state_dir)


def _resting(facts: Facts, chain: Sequence[str], cooldowns: Cooldowns, now: datetime) -> Facts:
    """Add the agents of the issue's chain that rest, and whether all of them do."""
    rests = cooldowns.active(now)
    names = list(dict.fromkeys(chain))
    resting = tuple(
        f"{name} until {moment(rests[name].until)}"
        + (f" ({rests[name].reason[:80]})" if rests[name].reason else "")
        for name in names
        if name in rests
    )
    return replace(facts, resting=resting, chain_resting=bool(names) and len(resting) == len(names))

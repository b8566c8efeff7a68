"""The commands about one issue: which issue a chat target names, /retry, and Close.

/why's answer is `control.explaining.why`, the same function `agentos why` calls.

/retry re-queues an escalated or failed issue as the next generation of its task, with a
fresh attempt budget and the lineage (history) kept; the derived id makes a second /retry find
the first one's task instead of queueing twice. The old task leaves escalated/ for retried/;
Close moves it to dropped/.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from orchestrator.config.model import Config, RepoConfig
from orchestrator.control.explaining import task_fact, tasks_of
from orchestrator.core import labels
from orchestrator.core.chat import Target
from orchestrator.core.explain import latest
from orchestrator.core.model import BoardStatus, Issue, IssueRef
from orchestrator.core.tasks import MailboxState, Task, task_id
from orchestrator.errors import AgentOSError, TrackerError
from orchestrator.ports import Board, Tracker
from orchestrator.store.mailbox import Mailbox


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
    found = tasks_of(mailbox, repo.key, number)
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
    _retire(mailbox, tasks_of(mailbox, repo.key, ref.number), MailboxState.DROPPED)
    return f"{repo.key}#{ref.number} closed as not planned (by {who}){note}."

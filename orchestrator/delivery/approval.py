"""An outsider's approval, checked again where it matters, and the one comment asking for a new one.

The dispatcher decides trust on the backlog it read (backlog.py); an attempt starts minutes or
hours later, so it asks again (`recheck`) on the issue as it reads it then. An approval older than
the last edit of the issue's title or body is stale (core.trust): the issue waits, and one comment
per issue, edited in place and never repeated, says a writer must approve it again.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from orchestrator.config.model import RepoConfig
from orchestrator.core import trust
from orchestrator.core.model import BoardStatus, Issue, IssueRef, Permission
from orchestrator.core.tasks import Task, TaskType
from orchestrator.delivery import cards, escalation
from orchestrator.delivery.backlog import ReadyIssue
from orchestrator.deps import Deps
from orchestrator.errors import TrackerError
from orchestrator.store.memo import Memo

MARKER = "<!-- agentos:reapproval -->"
STALE_TEXT = (
    "Agent OS: this issue's title or body changed after a user with write access approved it, "
    "so it waits. To run it as it reads now, a user with write access removes the "
    "`agentos:approved` label and adds it again."
)
REAPPROVED_TEXT = "Agent OS: approved again after the last edit; this issue is queued."


def recheck(deps: Deps, issue: Issue) -> tuple[bool, str]:
    """Return (trusted, reason) for `issue` as GitHub has it now, as the dispatcher decides it.

    `issue` is the attempt's own fresh read. A writer's issue costs one permission read; an
    outsider's adds its label trail and, when a writer's approval stands, its last edit.
    """
    repo, asked = issue.ref.repo, dict[str, Permission]()

    def permission(login: str) -> Permission:
        if login.lower() not in asked:
            asked[login.lower()] = deps.tracker.permission(repo, login)
        return asked[login.lower()]

    try:
        return trust.trust(
            issue.author,
            permission(issue.author),
            deps.config.github.trusted_users,
            lambda: deps.tracker.label_events(issue.ref),
            permission,
            lambda: deps.tracker.edited_at(issue.ref),
        )
    except TrackerError as error:  # what cannot be checked does not run
        deps.log.warning(
            "trust.unreadable", extra={"issue": issue.number, "error": str(error)[:200]}
        )
        return False, "trust_unreadable"


def hold(deps: Deps, repo: RepoConfig, task: Task, reason: str) -> None:
    """Hand GitHub back an issue whose attempt `recheck` refused; the caller drops the task.

    An implementation's card goes back to Ready, where the dispatcher keeps it waiting (and
    queues it once a writer approves again). A fixing task's PR is open, so a new implementation
    is no answer: the issue is escalated, and the PR monitor leaves the PR alone until a person
    removes `agentos:blocked`. A stale approval gets the one re-approval comment either way.
    """
    ref = IssueRef(task.repo, task.issue)
    if reason == trust.STALE:
        try:
            deps.tracker.upsert_comment(ref, MARKER, STALE_TEXT)
        except TrackerError as error:  # the dispatcher says it again when it sees the issue
            deps.log.warning(
                "comment.failed", extra={"issue": ref.number, "error": str(error)[:200]}
            )
    deps.log.warning(
        "task.held",
        extra={"issue": ref.number, "repo": ref.repo, "task_id": task.id, "reason": reason},
    )
    if task.task_type is TaskType.FIXING:
        escalation.escalate(deps, repo, ref, task.id, task.title, reason)
    else:
        cards.move(deps, repo, ref, BoardStatus.READY)


def remind(deps: Deps, ready: Sequence[ReadyIssue], queued: Collection[IssueRef]) -> int:
    """Keep the re-approval comment on each Ready issue whose approval is stale; return how many.

    Said once per issue and stance (a memo, runtime/state/approval.memo.json, keeps what was
    said), so a stale issue that waits a week costs no request per tick. When a re-approved
    issue is queued, the same comment says so.
    """
    memo = deps.memo("approval")
    stale = [r.ref for r in ready if r.trust_reason == trust.STALE]
    for ref in stale:
        _say(deps, memo, ref, STALE_TEXT)
    for ref in queued:
        if memo.get("comments", str(ref)) is not None:
            _say(deps, memo, ref, REAPPROVED_TEXT)
    memo.keep_only("comments", {str(r.ref) for r in ready})
    memo.save()
    return len(stale)


def _say(deps: Deps, memo: Memo, ref: IssueRef, text: str) -> None:
    if not memo.changed("comments", str(ref), text):
        return
    try:
        deps.tracker.upsert_comment(ref, MARKER, text)
    except TrackerError as error:  # said again next tick: forget that it was said
        memo.changed("comments", str(ref), "")
        deps.log.warning("comment.failed", extra={"issue": ref.number, "error": str(error)[:200]})

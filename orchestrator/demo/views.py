"""What the demo shows about each issue, read in-process from the GitHub sandbox and the mailbox.

Reading the sandbox's store directly (under its lock) costs no request, so watching the demo does
not change the request count it reports. `state_of` turns one view into the words a progress line
shows; it is pure, and tested as a table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.core import labels
from orchestrator.core.tasks import MailboxState, TaskType, parse_id
from orchestrator.sandbox.github import Sandbox
from orchestrator.store.mailbox import Mailbox


@dataclass(frozen=True, slots=True)
class IssueView:
    """One demo issue as GitHub and the mailbox have it now."""

    number: int
    title: str
    is_open: bool
    escalated: bool  # carries the escalation label
    column: str | None  # its Status on the board
    pr: int | None = None  # the agent PR from its branch, the latest one
    pr_state: str = ""  # open | merged | closed
    ci: str = ""  # queued | in_progress | success | failure (the PR head's sandbox-ci)
    task: MailboxState | None = None  # the mailbox folder of its latest task
    attempt: int = 0
    task_type: TaskType | None = None  # of that task, while it is queued or running

    @property
    def merged(self) -> bool:
        """Tell whether the issue was closed by a merged PR."""
        return not self.is_open and self.pr_state == "merged"


def state_of(view: IssueView, waiting_for: Iterable[int] = ()) -> str:
    """Return what a progress line says about an issue; `waiting_for` are its open blockers."""
    pr = f"PR #{view.pr}" if view.pr else ""
    if view.merged:
        return f"{pr} merged, issue closed"
    if not view.is_open:
        return "closed"
    if view.escalated:
        return "escalated: a person must look (see the issue's comment)"
    fixing = view.task_type is TaskType.FIXING
    if view.task is MailboxState.PROCESSING:
        return f"{'agent fixing ' + pr if fixing else 'agent at work'} (attempt {view.attempt})"
    if view.task is MailboxState.INBOX:
        return f"fixing task for {pr} queued" if fixing else "queued"
    if view.pr_state == "open":
        return f"{pr} open, sandbox-ci {_CI.get(view.ci, view.ci or 'not started')}"
    blockers = sorted(waiting_for)
    if blockers:
        return "waiting for " + ", ".join(f"#{n}" for n in blockers)
    return "ready"


_CI = {"queued": "queued", "in_progress": "running", "success": "passed", "failure": "failed"}


def read_views(
    github: Sandbox, repo: str, issues: Mapping[int, str], mailbox_dir: Path
) -> dict[int, IssueView]:
    """Return every demo issue's view, by number; `issues` maps numbers to titles."""
    tasks = _latest_tasks(Mailbox(mailbox_dir))
    with github.store.lock:
        record = github.store.repo(*repo.split("/", 1))
        assert record is not None, f"the sandbox has no repository {repo}"
        columns = _columns(github.store.data.get("graphql", {}).get("projects", []))
        views = {
            n: _view(record, n, title, columns, tasks.get(n, (None, 0, None)))
            for n, title in issues.items()
        }
    return views


def _view(
    repo: dict[str, Any],
    number: int,
    title: str,
    columns: Mapping[int, str],
    task: tuple[MailboxState | None, int, TaskType | None],
) -> IssueView:
    issue = repo["issues"][str(number)]
    pulls = [
        p
        for p in repo["issues"].values()
        if p["pull"] and p["pull"]["head"].startswith(f"agent/{number}-")
    ]
    latest = max(pulls, key=lambda p: int(p["number"])) if pulls else None
    pr_state, ci = "", ""
    if latest is not None:
        pr_state = "merged" if latest["pull"]["merged"] else latest["state"]
        ci = _ci(repo, str(latest["pull"].get("head_sha") or ""))
    return IssueView(
        number,
        title,
        issue["state"] == "open",
        labels.BLOCKED in issue["labels"],
        columns.get(int(issue["id"])),
        int(latest["number"]) if latest else None,
        pr_state,
        ci,
        *task,
    )


def _ci(repo: dict[str, Any], sha: str) -> str:
    runs = [
        r for r in repo["check_runs"].values() if r["head_sha"] == sha and r["name"] == "sandbox-ci"
    ]
    if not runs:
        return ""
    run = max(runs, key=lambda r: int(r["id"]))
    return str(run["conclusion"] or run["status"])


def _columns(projects: list[dict[str, Any]]) -> dict[int, str]:
    """Return each item's Status option name, by the issue id it holds."""
    found: dict[int, str] = {}
    for project in projects:
        status = next((f for f in project["fields"] if f["name"] == "Status"), None)
        if status is None:
            continue
        names = {o["id"]: o["name"] for o in status["options"] or ()}
        for item in project["items"]:
            chosen = item["values"].get(str(status["id"]))
            if chosen in names:
                found[int(item["content"])] = names[chosen]
    return found


def _latest_tasks(mailbox: Mailbox) -> dict[int, tuple[MailboxState, int, TaskType | None]]:
    """Return, per issue, the folder, attempt and (while it waits or runs) type of its last task."""
    newest: dict[int, tuple[tuple[int, int], MailboxState, str]] = {}
    for state in MailboxState:
        for task_id in _ids(mailbox, state):
            parsed = parse_id(task_id)
            if parsed is None:
                continue
            _, issue, generation, attempt = parsed
            if issue not in newest or (generation, attempt) >= newest[issue][0]:
                newest[issue] = ((generation, attempt), state, task_id)
    return {
        issue: (state, rank[1], _kind(mailbox, state, task_id))
        for issue, (rank, state, task_id) in newest.items()
    }


def _ids(mailbox: Mailbox, state: MailboxState) -> list[str]:
    """Return a folder's task ids; a file moved while it was listed means: list again."""
    for _ in range(3):
        try:
            return mailbox.ids(state)
        except FileNotFoundError:
            continue
    return []


def _kind(mailbox: Mailbox, state: MailboxState, task_id: str) -> TaskType | None:
    """Return the type of a task that waits or runs (None once settled, or moved meanwhile)."""
    if not state.active:
        return None
    try:
        return mailbox.read(state, task_id).task_type
    except FileNotFoundError:
        return None

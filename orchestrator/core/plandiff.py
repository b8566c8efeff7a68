"""What a plan import changes on GitHub: a plan (core.planfile) against the plan's issues found.

`issue_text` renders an item as its issue's title and body (the plan's text defused and redacted,
then a footer and the hidden marker that finds the issue again). `diff` returns the changes in the
order they are made, so an import killed at any point converges when run again: creations (epics
first, each issue born with its marker and label), edits, sub-issue links, dependencies added,
dependencies removed; then what is only reported (an issue the plan no longer has, a task under
another parent, a second issue carrying one item's marker). Nothing is ever closed or deleted,
and only links between plan issues are removed: a blocker a person added stays.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from orchestrator.core.markdown import defuse
from orchestrator.core.model import IssueRef
from orchestrator.core.planfile import MarkdownPlan, PlanItem
from orchestrator.core.redact import redact

MARKER = "<!-- agentos:plan={} -->"
_MARKER = re.compile(r"<!-- agentos:plan=([a-z0-9][a-z0-9._/-]{0,129}) -->")
FOOTER = (
    "_Imported from the plan (item `{}`): edit the plan, not this text; "
    "the next import rewrites the title and this description._"
)


def plan_id(body: str | None) -> str | None:
    """Return the plan item an issue's body names (its last marker), or None."""
    found = _MARKER.findall(body or "")
    return found[-1] if found else None


def issue_text(item: PlanItem) -> tuple[str, str]:
    """Return the issue's title and body for an item: no mention, closing keyword or forged
    marker of the plan's text survives, secrets are redacted, and the marker comes last."""
    title = redact(defuse(item.title))
    own = redact(defuse(item.body)).strip()
    body = "\n\n".join(p for p in (own, FOOTER.format(item.id), MARKER.format(item.id)) if p)
    return title, body


@dataclass(frozen=True, slots=True)
class PlanIssue:
    """A plan issue on GitHub as the import read it; links are read for the plan's tasks only."""

    number: int
    item: str  # the plan id its marker names
    title: str
    body: str
    parent: IssueRef | None = None
    blocked_by: tuple[IssueRef, ...] = ()


class ChangeKind(StrEnum):
    CREATE = "create"
    EDIT = "edit"
    LINK = "link"
    BLOCK = "add_dependency"
    UNBLOCK = "remove_dependency"
    NOT_MOVED = "not_moved"
    DUPLICATE = "duplicate"
    UNLISTED = "not_in_plan"


WRITES = (ChangeKind.CREATE, ChangeKind.EDIT, ChangeKind.LINK, ChangeKind.BLOCK, ChangeKind.UNBLOCK)


@dataclass(frozen=True, slots=True)
class IssueTarget:
    """An issue a change names: by number once it exists, by plan id and title before."""

    item: str
    number: int | None
    title: str

    def __str__(self) -> str:
        return f'"{self.title}"' if self.number is None else f"#{self.number}"


@dataclass(frozen=True, slots=True)
class PlanChange:
    """One write (kinds in WRITES) or one thing reported.

    `other` is the epic of LINK and NOT_MOVED, the blocker of BLOCK and UNBLOCK, the issue
    kept for DUPLICATE; `parent` is the issue a NOT_MOVED task is under. CREATE and EDIT carry
    the new `title` and `body` ("" for what an EDIT leaves as is); `subject.title` is the title
    GitHub has now.
    """

    kind: ChangeKind
    subject: IssueTarget
    other: IssueTarget | None = None
    title: str = ""
    body: str = ""
    epic: bool = False
    parent: str = ""

    @property
    def writes(self) -> bool:
        return self.kind in WRITES


def diff(plan: MarkdownPlan, found: Sequence[PlanIssue], repo: str) -> list[PlanChange]:
    """Return the changes that bring the plan's issues in `repo` in line with `plan`."""
    kept: dict[str, PlanIssue] = {}
    reported: list[PlanChange] = []
    for issue in sorted(found, key=lambda f: f.number):
        first = kept.setdefault(issue.item, issue)
        if first is not issue:
            reported.append(PlanChange(ChangeKind.DUPLICATE, _found(issue), _found(first)))
    planned = {item.id for item in plan.items}
    targets = {item.id: _target(item, kept) for item in plan.items}
    plan_issues = {IssueRef(repo, f.number) for f in found}
    changes = [_create(item, targets) for item in plan.epics + plan.tasks if item.id not in kept]
    changes += [c for item in plan.items if item.id in kept if (c := _edit(item, kept[item.id]))]
    links: list[PlanChange] = []
    blocks: list[PlanChange] = []
    unblocks: list[PlanChange] = []
    for task in plan.tasks:
        have = kept.get(task.id)
        links += _link(task, have, targets, repo)
        blocks += [
            PlanChange(ChangeKind.BLOCK, targets[task.id], targets[after])
            for after in task.after
            if not _blocks(have, kept.get(after), repo)
        ]
        wanted = {IssueRef(repo, kept[a].number) for a in task.after if a in kept}
        unblocks += [
            PlanChange(ChangeKind.UNBLOCK, targets[task.id], _blocker(ref, found))
            for ref in (have.blocked_by if have else ())
            if ref in plan_issues and ref not in wanted
        ]
    moved = [c for c in links if c.kind is ChangeKind.NOT_MOVED]
    unlisted = [
        PlanChange(ChangeKind.UNLISTED, _found(f)) for f in kept.values() if f.item not in planned
    ]
    return (
        changes
        + [c for c in links if c.kind is ChangeKind.LINK]
        + blocks
        + unblocks
        + moved
        + reported
        + sorted(unlisted, key=lambda c: c.subject.number or 0)
    )


def _found(issue: PlanIssue) -> IssueTarget:
    return IssueTarget(issue.item, issue.number, issue.title)


def _target(item: PlanItem, kept: dict[str, PlanIssue]) -> IssueTarget:
    have = kept.get(item.id)
    return IssueTarget(item.id, have.number if have else None, have.title if have else item.title)


def _create(item: PlanItem, targets: dict[str, IssueTarget]) -> PlanChange:
    title, body = issue_text(item)
    return PlanChange(
        ChangeKind.CREATE, targets[item.id], title=title, body=body, epic=item.is_epic
    )


def _edit(item: PlanItem, have: PlanIssue) -> PlanChange | None:
    title, body = issue_text(item)
    new_title = title if title != have.title else ""
    new_body = body if body != have.body.replace("\r\n", "\n") else ""
    if not (new_title or new_body):
        return None
    return PlanChange(
        ChangeKind.EDIT, _found(have), title=new_title, body=new_body, epic=item.is_epic
    )


def _link(
    task: PlanItem, have: PlanIssue | None, targets: dict[str, IssueTarget], repo: str
) -> list[PlanChange]:
    assert task.epic is not None
    epic = targets[task.epic]
    if have is None or have.parent is None:
        return [PlanChange(ChangeKind.LINK, targets[task.id], epic)]
    if epic.number is not None and have.parent == IssueRef(repo, epic.number):
        return []
    parent = have.parent
    where = f"#{parent.number}" if parent.repo == repo else str(parent)
    return [PlanChange(ChangeKind.NOT_MOVED, targets[task.id], epic, parent=where)]


def _blocks(have: PlanIssue | None, blocker: PlanIssue | None, repo: str) -> bool:
    """Tell whether GitHub already records that `blocker` blocks `have`."""
    if have is None or blocker is None:
        return False
    return IssueRef(repo, blocker.number) in have.blocked_by


def _blocker(ref: IssueRef, found: Sequence[PlanIssue]) -> IssueTarget:
    issue = next(f for f in found if f.number == ref.number)
    return _found(issue)

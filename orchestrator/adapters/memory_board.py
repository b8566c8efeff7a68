"""In-memory Board and BoardAdmin twins on a MemoryTracker, with a Projects board's semantics.

Their writes are kept as values.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from orchestrator.core.board import (
    DEFAULT_NAMES,
    LABEL_COLOURS,
    Option,
    options_to_send,
    status_for,
)
from orchestrator.core.model import BoardField, BoardItem, BoardStatus, Issue, IssueRef, Project
from orchestrator.errors import TrackerError

# memory.py re-exports this module's twins, so importing it here would be circular
if TYPE_CHECKING:
    from orchestrator.adapters.memory import MemoryTracker

# The Status options GitHub gives a new board.
GITHUB_DEFAULT_OPTIONS = ("Todo", "In Progress", "Done")
_IDS = itertools.count(1)


# -- the writes, as values -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class AddItem:
    issue: IssueRef


@dataclass(frozen=True, slots=True)
class SetStatus:
    issue: IssueRef
    status: BoardStatus


@dataclass(frozen=True, slots=True)
class CreateProject:
    owner: str
    title: str


@dataclass(frozen=True, slots=True)
class LinkProject:
    owner: str
    number: int
    repo: str


@dataclass(frozen=True, slots=True)
class SetOptions:
    owner: str
    number: int
    names: tuple[str, ...]


BoardWrite = AddItem | SetStatus | CreateProject | LinkProject | SetOptions


@dataclass
class _Options:
    """A Status field's options (id, name), shared by a project and the boards made from it."""

    field_id: str = field(default_factory=lambda: f"PVTSSF_{next(_IDS)}")
    options: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def named(cls, names: Collection[str]) -> _Options:
        return cls(options=[(f"{next(_IDS):08x}", name) for name in names])


class MemoryBoard:
    """The Board port in memory.

    Items hold an issue of `tracker` and an option of the board's Status field.
    """

    def __init__(
        self,
        tracker: MemoryTracker,
        repo: str | None = None,
        names: Mapping[BoardStatus, str] | None = None,
        *,
        project_id: str = "PVT_memory",
        status: _Options | None = None,
        writes: list[BoardWrite] | None = None,
        items: dict[IssueRef, tuple[str, str | None]] | None = None,
    ) -> None:
        self.tracker, self.repo, self.project_id = tracker, repo, project_id
        self.names = dict(names or DEFAULT_NAMES)
        self.writes: list[BoardWrite] = writes if writes is not None else []
        self._status = status or _Options.named(list(self.names.values()))
        # issue -> (item id, option id); shared by the boards a MemoryBoardAdmin makes of
        # one project
        self._items: dict[IssueRef, tuple[str, str | None]] = items if items is not None else {}

    def place(self, issue: Issue, status: BoardStatus | None = None) -> BoardItem:
        """Put an issue on the board with a status, as if someone had (seeding: not recorded)."""
        self._items[issue.ref] = (f"PVTI_{next(_IDS)}", self._option_id(status) if status else None)
        return self._item(issue.ref)

    def stamp(self, previous: str | None = None) -> str | None:
        """None: reading this board costs no GraphQL (it is in memory), so it is simply read."""
        return None

    def items(self, detail: Collection[BoardStatus] = (BoardStatus.READY,)) -> list[BoardItem]:
        """Return the items in board order.

        Open issues in `detail` carry the tracker's dependencies.
        """
        found = [self._item(ref) for ref in self._items if self.repo in (None, ref.repo)]
        return [self._detailed(item) if item.status in detail else item for item in found]

    def add(self, issue: Issue) -> BoardItem:
        """Add the issue with no status; adding it again returns its item unchanged."""
        self.writes.append(AddItem(issue.ref))
        self.tracker.issue(issue.ref)
        self._items.setdefault(issue.ref, (f"PVTI_{next(_IDS)}", None))
        return self._item(issue.ref)

    def set_status(self, item: BoardItem, status: BoardStatus) -> BoardItem:
        """Set the item's Status option; the board must have an option for `status`."""
        self.writes.append(SetStatus(item.issue, status))
        if item.issue not in self._items:
            raise TrackerError(f"{item.issue} is not on the board")
        self._items[item.issue] = (self._items[item.issue][0], self._option_id(status))
        return self._item(item.issue)

    def _option_id(self, status: BoardStatus) -> str:
        found = next(
            (oid for oid, name in self._status.options if status_for(name, self.names) is status),
            None,
        )
        if found is None:
            raise TrackerError(f"the board has no Status option named {self.names[status]!r}")
        return found

    def _item(self, ref: IssueRef) -> BoardItem:
        item_id, option_id = self._items[ref]
        name = next((n for oid, n in self._status.options if oid == option_id), None)
        issue = self.tracker.issue(ref)
        return BoardItem(
            item_id,
            ref,
            status_for(name, self.names),
            name,
            content=None if issue.is_pull_request else issue,
        )

    def _detailed(self, item: BoardItem) -> BoardItem:
        if item.content is None or not item.content.is_open:
            return item
        return BoardItem(
            item.item_id,
            item.issue,
            item.status,
            item.status_name,
            item.content,
            self.tracker.dependencies(item.content),
        )


@dataclass
class _Project:
    value: Project
    status: _Options
    repos: list[str] = field(default_factory=list)
    items: dict[IssueRef, tuple[str, str | None]] = field(default_factory=dict)


class MemoryBoardAdmin:
    """The BoardAdmin port in memory.

    New boards get GitHub's default Status options (Todo, In Progress, Done).
    """

    def __init__(self, tracker: MemoryTracker) -> None:
        self.tracker = tracker
        self.writes: list[BoardWrite] = []
        self._projects: list[_Project] = []

    def add_project(
        self, owner: str, title: str, options: Collection[str] = GITHUB_DEFAULT_OPTIONS
    ) -> Project:
        """Create a board as if someone had (seeding: not recorded)."""
        number = 1 + max(
            (p.value.number for p in self._projects if p.value.owner == owner), default=0
        )
        project = Project(
            owner,
            number,
            f"PVT_{next(_IDS)}",
            title,
            f"https://github.com/users/{owner}/projects/{number}",
        )
        self._projects.append(_Project(project, _Options.named(options)))
        return project

    def board(
        self,
        project: Project,
        repo: str | None = None,
        names: Mapping[BoardStatus, str] | None = None,
    ) -> MemoryBoard:
        """Return a Board on this project, sharing its Status options and its writes."""
        record = self._record(project)
        return MemoryBoard(
            self.tracker,
            repo,
            names,
            project_id=project.id,
            status=record.status,
            writes=self.writes,
            items=record.items,
        )

    def project(self, owner: str, number: int) -> Project:
        found = next(
            (p.value for p in self._projects if (p.value.owner, p.value.number) == (owner, number)),
            None,
        )
        if found is None:
            raise TrackerError(f"board {owner}/{number} not found")
        return found

    def find_or_create(self, owner: str, title: str) -> Project:
        found = next(
            (p.value for p in self._projects if (p.value.owner, p.value.title) == (owner, title)),
            None,
        )
        if found is not None:
            return found
        self.writes.append(CreateProject(owner, title))
        return self.add_project(owner, title)

    def link(self, project: Project, repo: str) -> None:
        self.writes.append(LinkProject(project.owner, project.number, repo))
        self.tracker.open_issues(repo)  # the repository must exist
        record = self._record(project)
        if repo not in record.repos:
            record.repos.append(repo)

    def linked(self, project: Project) -> list[str]:
        """Return the repositories linked to a board."""
        return list(self._record(project).repos)

    def ensure_statuses(
        self, project: Project, names: Mapping[BoardStatus, str] | None = None
    ) -> BoardField:
        names = dict(names or DEFAULT_NAMES)
        status = self._record(project).status
        existing = [Option(name, "GRAY", "", oid) for oid, name in status.options]
        wanted = options_to_send(existing, names)
        if wanted is not None:
            self.writes.append(
                SetOptions(project.owner, project.number, tuple(o.name for o in wanted))
            )
            status.options[:] = [(o.id or f"{next(_IDS):08x}", o.name) for o in wanted]
        options = {
            s: oid for oid, name in status.options if (s := status_for(name, names)) is not None
        }
        return BoardField(project.id, status.field_id, options)

    def ensure_status_labels(self, repo: str) -> None:
        self.tracker.ensure_labels(
            repo, {status.label: colour for status, colour in LABEL_COLOURS.items()}
        )

    def _record(self, project: Project) -> _Project:
        found = next((p for p in self._projects if p.value.id == project.id), None)
        if found is None:
            raise TrackerError(f"board {project.owner}/{project.number} not found")
        return found

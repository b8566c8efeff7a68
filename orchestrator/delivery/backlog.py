"""Read the backlog through the ports into plain values: Ready issues, blockers, trust, the graph.

The dispatcher decides on this, and `/why N` explains from it, so both read GitHub the same
way. Every issue is read at most once per gathering: board items bring their issue's content
(and, on a Projects board, their blockers with each one's state), and only open blockers that
are on no board are fetched one by one; a blocker the board read saw closed needs no read.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

from orchestrator.config.model import RepoConfig
from orchestrator.core import dag, trust
from orchestrator.core.dependencies import blockers, body_blockers
from orchestrator.core.model import (
    BoardItem,
    BoardStatus,
    Dependencies,
    Issue,
    IssueRef,
    Permission,
)
from orchestrator.errors import TrackerError, Unauthorized
from orchestrator.ports import Board, Tracker


@dataclass(frozen=True, slots=True)
class ReadyIssue:
    """A Ready issue and what the dispatcher needs to know about it."""

    issue: Issue
    repo: RepoConfig
    item: BoardItem
    blockers: tuple[IssueRef, ...]
    sub_issues: tuple[IssueRef, ...]
    trusted: bool
    trust_reason: str

    @property
    def ref(self) -> IssueRef:
        return self.issue.ref


@dataclass(frozen=True, slots=True)
class Backlog:
    ready: tuple[ReadyIssue, ...]
    nodes: Mapping[IssueRef, dag.Node]
    issues: Mapping[IssueRef, Issue]  # every issue read, blockers included
    statuses: Mapping[IssueRef, BoardStatus | None]  # board status of every item read
    unreadable: Mapping[IssueRef, str] = field(default_factory=dict)  # blocker -> why unreadable
    failed_repos: Mapping[str, str] = field(default_factory=dict)  # repo key -> error

    def graph(self) -> dag.Graph:
        """Return the analysed graph of everything read."""
        return dag.analyse(self.nodes)


def gather(
    tracker: Tracker,
    boards: Callable[[RepoConfig], Board],
    repos: Sequence[RepoConfig],
    trusted_users: Collection[str],
) -> Backlog:
    """Read every repo's board, the Ready issues' blockers and their authors' standing."""
    reader = _Reader(tracker, trusted_users)
    ready: list[ReadyIssue] = []
    items: dict[IssueRef, BoardItem] = {}
    failed: dict[str, str] = {}
    for repo in repos:
        try:
            board_items = boards(repo).items()
        except Unauthorized:  # the token, not the repo: every other repo would fail the same
            raise
        except TrackerError as error:  # one unreadable board must not stop the other repos
            failed[repo.key] = str(error)
            continue
        for item in board_items:
            items[item.issue] = item
            if item.content is not None:
                reader.known[item.issue] = item.content
        ready += [r for item in board_items if (r := reader.ready(repo, item)) is not None]
    nodes = reader.nodes(items, ready)
    return Backlog(
        tuple(ready),
        nodes,
        dict(reader.known),
        {ref: i.status for ref, i in items.items()},
        dict(reader.unreadable),
        failed,
    )


class _Reader:
    """Reads each issue, permission and approval trail once; remembers what it could not read.

    An outsider's issue costs its label trail, and when a writer's approval stands, its last edit.
    """

    def __init__(self, tracker: Tracker, trusted_users: Collection[str]) -> None:
        self.tracker = tracker
        self.trusted_users = trusted_users
        self.known: dict[IssueRef, Issue] = {}
        self.unreadable: dict[IssueRef, str] = {}
        self.closed: set[IssueRef] = set()  # blockers a board read saw closed, not read
        self._permissions: dict[tuple[str, str], Permission] = {}

    def ready(self, repo: RepoConfig, item: BoardItem) -> ReadyIssue | None:
        issue = item.content
        if (
            item.status is not BoardStatus.READY
            or issue is None
            or not issue.is_open
            or issue.is_pull_request
        ):
            return None
        recorded = item.dependencies or self.tracker.dependencies(issue)
        for ref in (
            *recorded.blocked_by,
            *recorded.sub_issues,
            *body_blockers(issue.body, issue.ref.repo),
        ):
            if ref in recorded.closed_blockers and ref not in recorded.sub_issues:
                self.closed.add(ref)  # an epic's children are read: closing the epic needs them
            else:
                self.issue(ref)
        trusted, reason = self.standing(issue)
        return ReadyIssue(
            issue,
            repo,
            item,
            blockers(issue.ref, issue.body, recorded),
            recorded.sub_issues,
            trusted,
            reason,
        )

    def issue(self, ref: IssueRef) -> Issue | None:
        if ref not in self.known and ref not in self.unreadable:
            try:
                self.known[ref] = self.tracker.issue(ref)
            except Unauthorized:
                raise
            except TrackerError as error:  # deleted, transferred, or no access: it stays a blocker
                self.unreadable[ref] = str(error)
        return self.known.get(ref)

    def standing(self, issue: Issue) -> tuple[bool, str]:
        """Return the author's standing; what cannot be read does not run (`trust_unreadable`)."""
        repo = issue.ref.repo
        try:
            return trust.trust(
                issue.author,
                self.permission(repo, issue.author),
                self.trusted_users,
                lambda: self.tracker.label_events(issue.ref),
                lambda login: self.permission(repo, login),
                lambda: self.tracker.edited_at(issue.ref),
            )
        except Unauthorized:
            raise
        except TrackerError:  # one issue's unreadable trail must not stop the others
            return False, "trust_unreadable"

    def permission(self, repo: str, login: str) -> Permission:
        key = (repo, login.lower())
        if key not in self._permissions:
            self._permissions[key] = self.tracker.permission(repo, login)
        return self._permissions[key]

    def nodes(
        self, items: Mapping[IssueRef, BoardItem], ready: Sequence[ReadyIssue]
    ) -> dict[IssueRef, dag.Node]:
        """Return a node for every issue read, with the blockers known for it.

        Ready issues have all theirs; other board items have what their body says and what the
        board read of their dependencies, which is enough to count the work waiting downstream.
        """
        full = {r.ref: r.blockers for r in ready}
        nodes = {}
        for ref, issue in self.known.items():
            item = items.get(ref)
            recorded = (
                item.dependencies
                if item is not None and item.dependencies is not None
                else Dependencies()
            )
            edges = full[ref] if ref in full else blockers(ref, issue.body, recorded)
            nodes[ref] = dag.Node(
                ref, issue.is_open, edges, dag.priority(issue.labels), issue.created_at
            )
        for ref in self.closed - nodes.keys():
            nodes[ref] = dag.Node(ref, is_open=False)
        return nodes

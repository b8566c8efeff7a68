"""What gathering the backlog reads: a board read's blockers are used as they came.

A Projects board brings each Ready issue's blockers with their state, so a blocker it saw closed
costs no read of its own; an open blocker off the board is read (its title goes into the waiting
comment), and so is an epic's closed child (closing the epic needs it).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from pathlib import Path

import pytest

from orchestrator.adapters.github import GitHubTracker
from orchestrator.adapters.github_board import GitHubBoard
from orchestrator.adapters.github_board_admin import GitHubBoardAdmin
from orchestrator.adapters.memory import MemoryTracker
from orchestrator.config.model import AutomationMode, RepoConfig
from orchestrator.core.model import BoardItem, BoardStatus, Dependencies, Issue, IssueRef
from orchestrator.delivery.backlog import gather
from orchestrator.sandbox.github import Sandbox
from tests.contract.board_worlds import graphql_client
from tests.contract.worlds import github_tracker
from tests.support.github_sandbox import running_sandbox

APP = RepoConfig("app", "acme/app", None, "main", None, None, AutomationMode.FULL, 1)


class Reading(MemoryTracker):
    """The memory twin, remembering which issues were read one by one."""

    def __init__(self) -> None:
        super().__init__(login="acme")
        self.add_repo(APP.github)
        self.read: list[IssueRef] = []

    def issue(self, ref: IssueRef) -> Issue:
        self.read.append(ref)
        return super().issue(ref)


class Listed:
    """A board that lists the items it is given."""

    def __init__(self, *items: BoardItem) -> None:
        self._items = list(items)

    def items(self, detail: Collection[BoardStatus] = (BoardStatus.READY,)) -> list[BoardItem]:
        return self._items


def test_a_blocker_the_board_saw_closed_is_not_read_and_counts_as_closed() -> None:
    tracker = Reading()
    ready, waiting_on, done, child = (
        tracker.create_issue(APP.github, title, "") for title in ("ready", "open", "done", "child")
    )
    for closed in (done, child):
        tracker.close_issue(closed.ref)
    recorded = Dependencies(
        blocked_by=(waiting_on.ref, done.ref, child.ref),
        sub_issues=(child.ref,),
        closed_blockers=frozenset({done.ref, child.ref}),
    )
    board = Listed(BoardItem("item", ready.ref, BoardStatus.READY, "Ready", ready, recorded))
    tracker.read.clear()
    backlog = gather(tracker, lambda _: board, [APP], ["acme"])
    assert tracker.read == [waiting_on.ref, child.ref]
    assert done.ref not in backlog.issues and child.ref in backlog.issues
    graph = backlog.graph()
    assert graph.waiting == {ready.ref: (waiting_on.ref,)}  # the closed ones block nothing
    tracker.close_issue(waiting_on.ref)
    again = gather(tracker, lambda _: board, [APP], ["acme"])
    assert again.graph().free == (ready.ref,)


# -- on the GitHub sandbox: what a gathering costs in requests -------------------------------------
@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with running_sandbox(tmp_path / "github") as sandbox:
        sandbox.create_repo("agentos/app")
        sandbox.create_repo("agentos/lib")
        yield sandbox


@pytest.fixture
def tracker(sandbox: Sandbox) -> Iterator[GitHubTracker]:
    tracker = github_tracker(sandbox.api_url, sandbox.token)
    yield tracker
    tracker.close()


def test_a_projects_board_gathering_reads_no_blocker_by_rest(
    sandbox: Sandbox, tracker: GitHubTracker
) -> None:
    graphql = graphql_client(sandbox.graphql_url, sandbox.token)
    admin = GitHubBoardAdmin(graphql, tracker)
    project = admin.find_or_create("agentos", "Delivery")
    admin.ensure_statuses(project)
    board = GitHubBoard(graphql, "agentos", project.number, tracker=tracker, repo="agentos/app")
    first, second, third = (tracker.create_issue("agentos/app", t, "") for t in "abc")
    upstream = tracker.create_issue("agentos/lib", "upstream, on no board", "")
    tracker.add_blocker(second.ref, first)  # on the board, open
    tracker.add_blocker(third.ref, upstream)  # another repository's, closed
    tracker.close_issue(upstream.ref)
    for issue in (first, second, third):
        board.set_status(board.add(issue), BoardStatus.READY)
    repo = RepoConfig("app", "agentos/app", None, "main", None, None, AutomationMode.FULL, 1)
    sandbox.clear_requests()
    backlog = gather(tracker, lambda _: board, [repo], [])
    rest = [
        f"{r.method} {r.path.removeprefix('/api/v3')}"
        for r in sandbox.requests
        if r.path != "/api/graphql"
    ]
    graphql_sent = sum(1 for r in sandbox.requests if r.path == "/api/graphql")
    assert graphql_sent == 1  # the board's one page, blockers included
    assert rest == ["GET /repos/agentos/app/collaborators/agentos/permission"]  # trust only
    assert backlog.graph().free == (first.ref, third.ref)
    assert backlog.graph().waiting == {second.ref: (first.ref,)}
    graphql.close()

"""GitHubBoard under GitHub's failure modes on /api/graphql.

Each is retried, waited out, or one clear error.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from orchestrator.adapters.github import GitHubTracker
from orchestrator.adapters.github_board import GitHubBoard
from orchestrator.adapters.github_board_admin import GitHubBoardAdmin
from orchestrator.adapters.github_graphql import GraphQL
from orchestrator.core.model import BoardStatus, Project
from orchestrator.errors import RateLimited, TrackerUnavailable
from orchestrator.sandbox.github import Sandbox
from tests.adapters.conftest import REPO
from tests.contract.board_worlds import graphql_client
from tests.contract.worlds import FAST_RETRY

GRAPHQL = "/api/graphql"


@pytest.fixture
def graphql(sandbox: Sandbox) -> Iterator[GraphQL]:
    client = graphql_client(sandbox.graphql_url, sandbox.token)
    yield client
    client.close()


@pytest.fixture
def project(graphql: GraphQL, tracker: GitHubTracker) -> Project:
    admin = GitHubBoardAdmin(graphql, tracker)
    project = admin.find_or_create("agentos", "Agent OS")
    admin.ensure_statuses(project)
    return project


@pytest.fixture
def board(
    sandbox: Sandbox, graphql: GraphQL, tracker: GitHubTracker, project: Project
) -> GitHubBoard:
    board = GitHubBoard(graphql, "agentos", project.number, tracker=tracker, repo=REPO)
    board.set_status(board.add(tracker.create_issue(REPO, "on the board", "")), BoardStatus.BACKLOG)
    sandbox.clear_requests()
    return board


def graphql_statuses(sandbox: Sandbox) -> list[int | None]:
    return [r.status for r in sandbox.requests if r.path == GRAPHQL]


def test_server_errors_and_drops_are_retried_until_github_answers(
    sandbox: Sandbox, board: GitHubBoard
) -> None:
    sandbox.add_fault("error", path=GRAPHQL, status=502, times=1)
    sandbox.add_fault("drop", path=GRAPHQL, times=1)
    sandbox.add_fault("error", path=GRAPHQL, status=500, times=1)
    assert [i.status for i in board.items()] == [BoardStatus.BACKLOG]
    assert graphql_statuses(sandbox) == [502, None, 500, 200]


def test_a_secondary_rate_limit_is_waited_out_for_its_retry_after(
    sandbox: Sandbox, board: GitHubBoard
) -> None:
    sandbox.add_fault("secondary_rate_limit", path=GRAPHQL, retry_after=1, times=1)
    started = time.monotonic()
    board.items()
    assert time.monotonic() - started >= 0.9 and graphql_statuses(sandbox) == [403, 200]


def test_a_secondary_rate_limit_that_persists_is_rate_limited(
    sandbox: Sandbox, board: GitHubBoard
) -> None:
    sandbox.add_fault("secondary_rate_limit", path=GRAPHQL, retry_after=0)
    with pytest.raises(
        RateLimited,
        match=r"^GitHub rate limit hit trying to read board agentos/1: retry after 0 s$",
    ):
        board.items()
    assert len(graphql_statuses(sandbox)) == FAST_RETRY.total + 1


def test_a_spent_primary_limit_fails_at_once_with_its_reset_time(
    sandbox: Sandbox, board: GitHubBoard
) -> None:
    sandbox.add_fault("rate_limit", path=GRAPHQL, status=403, retry_after=3600)
    with pytest.raises(RateLimited, match="the limit resets at"):
        board.items()
    assert graphql_statuses(sandbox) == [403]


def test_a_persistent_bad_gateway_is_unavailable_after_the_retries(
    sandbox: Sandbox, board: GitHubBoard
) -> None:
    sandbox.add_fault("error", path=GRAPHQL, status=502)
    with pytest.raises(
        TrackerUnavailable, match=r"^GitHub failed to read board agentos/1 \(502, after retries\)$"
    ):
        board.items()
    assert len(graphql_statuses(sandbox)) == FAST_RETRY.total + 1


def test_status_writes_survive_faults_and_land_once(
    sandbox: Sandbox, board: GitHubBoard, tracker: GitHubTracker
) -> None:
    [item] = board.items()
    sandbox.add_fault("drop", path=GRAPHQL, times=1)
    sandbox.add_fault("error", path=GRAPHQL, status=502, times=1)
    board.set_status(item, BoardStatus.READY)
    sandbox.add_fault("drop", path=GRAPHQL, times=1)
    again = board.add(tracker.issue(item.issue))
    assert (again.item_id, again.status) == (item.item_id, BoardStatus.READY)
    assert [(i.item_id, i.status) for i in board.items()] == [(item.item_id, BoardStatus.READY)]


def test_creating_a_board_is_never_repeated_blindly(
    sandbox: Sandbox, graphql: GraphQL, tracker: GitHubTracker
) -> None:
    """A 502 may come after GitHub made the board: retrying could make two.

    Fail; the next run finds it.
    """
    admin = GitHubBoardAdmin(graphql, tracker)
    sandbox.clear_requests()
    sandbox.add_fault("error", path=GRAPHQL, status=502, times=1, contains="OwnerProjects")
    sandbox.add_fault("error", path=GRAPHQL, status=502, times=1, contains="createProjectV2")
    with pytest.raises(
        TrackerUnavailable, match="^GitHub failed to create a board 'Made once' for agentos"
    ):
        admin.find_or_create("agentos", "Made once")
    # the listing was retried, the creation was not
    assert graphql_statuses(sandbox) == [502, 200, 502]
    made = admin.find_or_create("agentos", "Made once")
    assert admin.find_or_create("agentos", "Made once") == made

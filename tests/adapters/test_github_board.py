"""GitHubBoard on the sandbox.

What each call costs in requests, caching, renames, and its one-line errors.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from graphql import parse, validate

from orchestrator.adapters.github import GitHubTracker
from orchestrator.adapters.github_board import GitHubBoard
from orchestrator.adapters.github_board_admin import GitHubBoardAdmin
from orchestrator.adapters.github_board_normalize import status_field, status_options
from orchestrator.adapters.github_graphql import GraphQL, document, document_names
from orchestrator.config.model import GitHubConfig, Secret
from orchestrator.core.board import DEFAULT_NAMES, status_names
from orchestrator.core.model import BoardStatus, Dependencies, IssueRef, Project
from orchestrator.errors import TrackerError
from orchestrator.sandbox.github import Sandbox
from orchestrator.sandbox.github.graph import schema
from tests.adapters.conftest import REPO
from tests.contract.board_worlds import graphql_client
from tests.contract.worlds import FAST_RETRY, SandboxWorld

RECORDED = Path(__file__).resolve().parents[1] / "data" / "github" / "projects-v2-recorded"


@pytest.fixture
def graphql(sandbox: Sandbox) -> Iterator[GraphQL]:
    client = graphql_client(sandbox.graphql_url, sandbox.token)
    yield client
    client.close()


@pytest.fixture
def admin(graphql: GraphQL, tracker: GitHubTracker) -> GitHubBoardAdmin:
    return GitHubBoardAdmin(graphql, tracker)


@pytest.fixture
def project(admin: GitHubBoardAdmin) -> Project:
    project = admin.find_or_create("agentos", "Agent OS")
    admin.ensure_statuses(project)
    return project


def board_of(
    graphql: GraphQL, tracker: GitHubTracker, project: Project, **options: Any
) -> GitHubBoard:
    return GitHubBoard(
        graphql, project.owner, project.number, tracker=tracker, repo=REPO, **options
    )


def graphql_requests(sandbox: Sandbox) -> int:
    return sum(1 for r in sandbox.requests if r.path == "/api/graphql")


def rest_requests(sandbox: Sandbox) -> list[str]:
    return [
        f"{r.method} {r.path.removeprefix('/api/v3')}"
        for r in sandbox.requests
        if r.path != "/api/graphql"
    ]


@pytest.mark.parametrize("name", document_names())
def test_every_document_is_valid_against_githubs_schema(name: str) -> None:
    assert validate(schema(), document(name).document) == []


def test_a_read_costs_one_request_per_hundred_items_and_brings_the_blockers(
    sandbox: Sandbox, graphql: GraphQL, tracker: GitHubTracker, project: Project
) -> None:
    board = board_of(graphql, tracker, project)
    issues = [tracker.create_issue(REPO, f"issue {n}", "") for n in range(205)]
    for n, issue in enumerate(issues):
        item = board.add(issue)
        if n < 3:
            board.set_status(item, BoardStatus.READY)
    tracker.add_blocker(issues[0].ref, issues[3])
    tracker.add_blocker(issues[0].ref, issues[4])
    tracker.add_blocker(issues[1].ref, issues[4])
    tracker.close_issue(issues[4].ref)
    sandbox.clear_requests()
    items = board_of(graphql, tracker, project).items()
    assert len(items) == 205 and graphql_requests(sandbox) == 3
    assert rest_requests(sandbox) == []  # GitHub's GraphQL has blockedBy since 2025
    found = {i.issue: i.dependencies for i in items if i.dependencies is not None}
    assert found == {
        issues[0].ref: Dependencies(blocked_by=(issues[3].ref, issues[4].ref)),
        issues[1].ref: Dependencies(blocked_by=(issues[4].ref,)),
        issues[2].ref: Dependencies(),
    }
    assert [found[i.ref].blocked_by for i in issues[:3]] == [
        tracker.blocked_by(i.ref) for i in issues[:3]
    ]  # REST's list, in REST's order
    assert [found[i.ref].closed_blockers for i in issues[:3]] == [
        {issues[4].ref},
        {issues[4].ref},
        set(),
    ]


def test_more_blockers_than_a_page_holds_are_read_by_rest_for_that_issue_alone(
    sandbox: Sandbox, graphql: GraphQL, tracker: GitHubTracker, project: Project
) -> None:
    board = board_of(graphql, tracker, project)
    many, few = tracker.create_issue(REPO, "many", ""), tracker.create_issue(REPO, "few", "")
    blockers = [tracker.create_issue(REPO, f"blocker {n}", "") for n in range(51)]
    for blocker in blockers:
        tracker.add_blocker(many.ref, blocker)
    tracker.add_blocker(few.ref, blockers[0])
    for issue in (many, few):
        board.set_status(board.add(issue), BoardStatus.READY)
    sandbox.clear_requests()
    found = {i.issue: i.dependencies for i in board.items()}
    assert graphql_requests(sandbox) == 1
    assert rest_requests(sandbox) == [
        f"GET /repos/{REPO}/issues/{many.ref.number}/dependencies/blocked_by?per_page=100"
    ]
    assert found[many.ref] == Dependencies(blocked_by=tuple(b.ref for b in blockers))
    assert found[few.ref] == Dependencies(blocked_by=(blockers[0].ref,))


def test_the_status_field_is_read_once_and_then_cached(
    sandbox: Sandbox, graphql: GraphQL, tracker: GitHubTracker, project: Project
) -> None:
    issue = tracker.create_issue(REPO, "move me", "")
    sandbox.clear_requests()
    board = board_of(graphql, tracker, project)
    item = board.add(issue)  # reads the field, then adds: 2
    board.set_status(item, BoardStatus.READY)  # 1
    board.set_status(item, BoardStatus.BLOCKED)  # 1
    board.items()  # 1, and no REST (Blocked is not detailed)
    assert graphql_requests(sandbox) == 5 and rest_requests(sandbox) == []


def test_stale_option_ids_are_read_again_once(
    sandbox: Sandbox,
    graphql: GraphQL,
    tracker: GitHubTracker,
    admin: GitHubBoardAdmin,
    project: Project,
) -> None:
    board = board_of(graphql, tracker, project)
    item = board.add(tracker.create_issue(REPO, "t", ""))
    assert board.field is not None
    # Someone recreates the options by hand (the hazard GitHub's API has): every id changes.
    field = next(iter(board.field.options.values()))
    raw = graphql.run(
        "status_field",
        {"owner": "agentos", "number": project.number, "status": "Status"},
        subject="board",
        action="read",
    )["repositoryOwner"]["projectV2"]["field"]
    fresh = [
        {"name": o["name"], "color": o["color"], "description": o["description"]}
        for o in raw["options"]
    ]
    graphql.run(
        "set_status_options",
        {"field": raw["id"], "options": fresh},
        subject="board",
        action="reset",
    )
    assert field not in board_of(graphql, tracker, project)._field().options.values()
    sandbox.clear_requests()
    moved = board.set_status(item, BoardStatus.IN_REVIEW)
    assert moved.status is BoardStatus.IN_REVIEW and graphql_requests(sandbox) == 3
    assert [i.status for i in board.items()] == [BoardStatus.IN_REVIEW]


def test_a_default_github_board_works_once_ready_is_named_todo(
    graphql: GraphQL, tracker: GitHubTracker, admin: GitHubBoardAdmin
) -> None:
    plain = admin.find_or_create("agentos", "GitHub's defaults")  # Todo, In Progress, Done
    board = board_of(graphql, tracker, plain, names=status_names({"ready": "Todo"}))
    item = board.set_status(board.add(tracker.create_issue(REPO, "t", "")), BoardStatus.READY)
    assert (item.status, item.status_name) == (BoardStatus.READY, "Todo")
    with pytest.raises(TrackerError) as raised:
        board.set_status(item, BoardStatus.BLOCKED)
    assert str(raised.value) == (
        f"board agentos/{plain.number} has no Status option named 'Blocked': add it on the "
        "board, run `agentos init`, or map the status to an option with board.status_names"
    )


def test_an_issue_with_more_labels_than_a_page_holds_comes_whole(
    sandbox: Sandbox, graphql: GraphQL, tracker: GitHubTracker, project: Project
) -> None:
    labels = [f"label-{n:02}" for n in range(60)]
    issue = tracker.create_issue(REPO, "many labels", "", labels=labels)
    board = board_of(graphql, tracker, project)
    board.add(issue)
    sandbox.clear_requests()
    [item] = board.items()
    assert (
        item.content is not None
        and sorted(item.content.labels) == labels
        and graphql_requests(sandbox) == 2
    )


def test_a_pull_request_on_the_board_has_no_content(
    sandbox: Sandbox, graphql: GraphQL, tracker: GitHubTracker, project: Project, tmp_path: Path
) -> None:
    SandboxWorld(sandbox, tmp_path).push(REPO, "agent/1-x")
    pull = tracker.open_pull(REPO, "agent/1-x", "main", "a pull", "")
    board = board_of(graphql, tracker, project)
    board.add(tracker.issue(IssueRef(REPO, pull.number)))
    [item] = board.items(detail=list(BoardStatus))
    assert (item.issue.number, item.content, item.dependencies) == (pull.number, None, None)


def test_the_board_keeps_to_its_repository(
    sandbox: Sandbox, graphql: GraphQL, tracker: GitHubTracker, project: Project
) -> None:
    sandbox.create_repo("agentos/other")
    board = board_of(graphql, tracker, project)
    board.add(tracker.create_issue("agentos/other", "elsewhere", ""))
    mine = board.add(tracker.create_issue(REPO, "here", ""))
    assert [i.issue for i in board.items()] == [mine.issue]
    assert len(GitHubBoard(graphql, "agentos", project.number, tracker=tracker).items()) == 2


# -- errors ----------------------------------------------------------------------------------------
def test_a_board_that_does_not_exist_is_named(graphql: GraphQL, tracker: GitHubTracker) -> None:
    with pytest.raises(
        TrackerError, match=r"^board agentos/7 not found, or the token cannot see it$"
    ):
        GitHubBoard(graphql, "agentos", 7, tracker=tracker).items()
    with pytest.raises(
        TrackerError, match=r"^board nobody/1: there is no user or organization named 'nobody'$"
    ):
        GitHubBoard(graphql, "nobody", 1, tracker=tracker).items()


def test_a_token_without_the_project_scope_says_so(
    sandbox: Sandbox, tracker: GitHubTracker, project: Project
) -> None:
    token = sandbox.add_user("agentos", token="ghp_" + "r" * 36, scopes=["repo"])
    client = graphql_client(sandbox.graphql_url, token)
    with pytest.raises(TrackerError) as raised:
        GitHubBoard(client, "agentos", project.number, tracker=tracker).items()
    assert str(raised.value) == (
        f"the token lacks the 'project' scope, needed to read board agentos/"
        f"{project.number} (add it to the token, or use a fine-grained token with Projects "
        "access)"
    )


def test_a_wrong_token_is_one_line_that_never_shows_the_token(
    sandbox: Sandbox, tracker: GitHubTracker
) -> None:
    token = "ghp_" + "x1" * 18
    with pytest.raises(TrackerError) as raised:
        GitHubBoard(
            graphql_client(sandbox.graphql_url, token), "agentos", 1, tracker=tracker
        ).items()
    assert str(raised.value) == (
        "GitHub rejected the token (401 Bad credentials) trying to read board agentos/1: "
        "check github.token"
    )
    assert token not in repr(raised.value)


def test_a_github_without_option_ids_gets_instructions_not_lost_statuses(
    tracker: GitHubTracker,
) -> None:
    """GitHub Enterprise releases older than the option `id` would recreate every option.

    Refuse instead.
    """
    field = {
        "__typename": "ProjectV2SingleSelectField",
        "id": "F1",
        "name": "Status",
        "options": [{"id": "a1", "name": "Todo", "color": "GREEN", "description": ""}],
    }
    project = {
        "id": "P1",
        "number": 1,
        "title": "t",
        "url": "u",
        "closed": False,
        "owner": {"__typename": "User", "login": "acme"},
        "field": field,
    }
    sent: list[str] = []

    def answer(request: httpx2.Request) -> httpx2.Response:
        query = json.loads(request.content)["query"]
        sent.append(query.split("(")[0].split()[-1])
        if query.lstrip().startswith("query"):
            owner = {"__typename": "User", "projectV2": project}
            return httpx2.Response(200, json={"data": {"repositoryOwner": owner}})
        return httpx2.Response(
            200,
            json={
                "errors": [
                    {
                        "message": "InputObject 'ProjectV2SingleSelectFieldOptionInput' "
                        "doesn't accept argument 'id'"
                    }
                ]
            },
        )

    config = GitHubConfig(
        Secret("T", "t0ken"), "https://ghe.example/api/v3", "https://ghe.example/api/graphql", ()
    )
    admin = GitHubBoardAdmin(
        GraphQL(config, retry=FAST_RETRY, transport=httpx2.MockTransport(answer)), tracker
    )
    with pytest.raises(TrackerError) as raised:
        admin.ensure_statuses(Project("acme", 1, "P1", "t", "u"))
    assert str(raised.value) == (
        "this GitHub cannot add Status options without clearing every item's Status (its API "
        "takes no option ids); add these options on board acme/1 by hand: Backlog, Ready, "
        "In Progress, In Review, Blocked, Done"
    )
    assert sent == ["StatusField", "SetStatusOptions"]


# -- normalisation on GitHub's own payloads --------------------------------------------------------
def test_the_status_field_of_a_recorded_board_maps_by_name() -> None:
    exchange = json.loads((RECORDED / "api.items.list.json").read_text())[0]
    assert validate(schema(), parse(exchange["query"])) == []
    project = exchange["response"]["data"]["data"]["userOrOrganization"]["projectV2"]
    raw_field = next(f for f in project["fields"]["nodes"] if f.get("name") == "Status")
    recorded = {**project, "field": {"__typename": "ProjectV2SingleSelectField", **raw_field}}
    assert [o.name for o in status_options(recorded["field"])] == ["Todo", "In Progress", "Done"]
    assert status_field(recorded, DEFAULT_NAMES).options == {
        BoardStatus.IN_PROGRESS: "47fc9ee4",
        BoardStatus.DONE: "98236657",
    }
    renamed = status_field(recorded, status_names({"ready": "Todo"}))
    assert (renamed.project_id, renamed.field_id, renamed.options[BoardStatus.READY]) == (
        "PVT_1",
        "PVTSSF_1",
        "f75ad846",
    )


@pytest.mark.parametrize("kind", ["RATE_LIMITED", "RATE_LIMIT"])
def test_a_spent_graphql_budget_is_rate_limited_in_either_spelling(kind: str) -> None:
    """GitHub documents RATE_LIMITED; it has also answered RATE_LIMIT (githubkit#271)."""
    from orchestrator.errors import RateLimited

    def answer(request: httpx2.Request) -> httpx2.Response:
        error = {"type": kind, "message": "API rate limit exceeded for user ID 1."}
        return httpx2.Response(
            200, json={"errors": [error]}, headers={"X-RateLimit-Remaining": "0"}
        )

    config = GitHubConfig(
        Secret("T", "t0ken"), "https://ghe.example/api/v3", "https://ghe.example/api/graphql", ()
    )
    client = GraphQL(config, retry=FAST_RETRY, transport=httpx2.MockTransport(answer))
    with pytest.raises(RateLimited):
        client.run(
            "status_field",
            {"owner": "a", "number": 1, "status": "Status"},
            subject="board a/1",
            action="read",
        )

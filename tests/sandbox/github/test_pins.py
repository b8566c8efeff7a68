"""Pinned issues as GitHub has them: at most three per repository, a fourth pin and a second pin
of one issue refused in GitHub's words, closed issues pinnable, writers only.

The strict sandbox checks every REST exchange against GitHub's description; graphql-core runs
GitHub's schema, and the client validates each document against it too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from github.Repository import Repository
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXTransport

from orchestrator.sandbox.github import Sandbox
from orchestrator.sandbox.github.graph import schema
from tests.sandbox.github.helpers import Git, push_branch

PINS = """query($owner: String!, $name: String!) {
  repository(owner: $owner, name: $name) {
    pinnedIssues(first: 3) {
      totalCount
      pageInfo { hasNextPage }
      nodes {
        __typename id databaseId fullDatabaseId
        issue { number isPinned state }
        pinnedBy { login }
        repository { nameWithOwner }
      }
    }
  }
}"""
PIN = """mutation($id: ID!) {
  pinIssue(input: {issueId: $id, clientMutationId: "pin"}) {
    clientMutationId
    issue { number isPinned }
  }
}"""


def session(sandbox: Sandbox, token: str) -> Client:
    transport = HTTPXTransport(
        url=sandbox.graphql_url, headers={"Authorization": f"bearer {token}"}
    )
    return Client(schema=schema(), transport=transport)


@pytest.fixture
def graphql(sandbox: Sandbox) -> Iterator[Any]:
    with session(sandbox, sandbox.token) as opened:
        yield opened


def pin(graphql: Any, node_id: str) -> Any:
    return graphql.execute(GraphQLRequest(PIN, variable_values={"id": node_id}))["pinIssue"]


def pinned(graphql: Any, repo: Repository) -> Any:
    owner, name = repo.full_name.split("/")
    variables = {"owner": owner, "name": name}
    return graphql.execute(GraphQLRequest(PINS, variable_values=variables))["repository"]


def refusal(graphql: Any, node_id: str) -> dict[str, Any]:
    with pytest.raises(TransportQueryError) as raised:
        pin(graphql, node_id)
    [error] = raised.value.errors or []
    return {k: error[k] for k in ("type", "path", "message")}


def test_three_pins_fill_the_slots_and_a_fourth_is_refused_in_githubs_words(
    graphql: Any, repo: Repository
) -> None:
    issues = [repo.create_issue(f"issue {n}") for n in range(4)]
    assert pinned(graphql, repo)["pinnedIssues"]["totalCount"] == 0
    for issue in issues[:3]:
        answer = pin(graphql, issue.node_id)
        assert answer == {
            "clientMutationId": "pin",
            "issue": {"number": issue.number, "isPinned": True},
        }
    assert refusal(graphql, issues[3].node_id) == {
        "type": "UNPROCESSABLE",
        "path": ["pinIssue"],
        "message": "Maximum 3 pinned issues per repository",  # checked first, as GitHub does
    }
    assert refusal(graphql, issues[0].node_id)["message"] == (
        "Maximum 3 pinned issues per repository"
    )
    slots = pinned(graphql, repo)["pinnedIssues"]
    assert slots["totalCount"] == 3 and slots["pageInfo"] == {"hasNextPage": False}
    first = slots["nodes"][0]
    assert first["__typename"] == "PinnedIssue" and first["fullDatabaseId"] == str(
        first["databaseId"]
    )
    assert [(n["issue"]["number"], n["issue"]["isPinned"]) for n in slots["nodes"]] == [
        (i.number, True) for i in issues[:3]
    ]
    assert {(n["pinnedBy"]["login"], n["repository"]["nameWithOwner"]) for n in slots["nodes"]} == {
        ("agentos", repo.full_name)
    }
    assert [e.event for e in repo.get_issue(issues[0].number).get_events()] == ["pinned"]


def test_a_second_pin_of_one_issue_is_refused_and_a_closed_issue_pins(
    graphql: Any, repo: Repository
) -> None:
    issue, closed = repo.create_issue("pinned twice"), repo.create_issue("closed")
    pin(graphql, issue.node_id)
    assert refusal(graphql, issue.node_id) == {
        "type": "UNPROCESSABLE",
        "path": ["pinIssue"],
        "message": "The issue is already pinned or could not be pinned at this time",
    }
    closed.edit(state="closed")
    assert pin(graphql, closed.node_id)["issue"] == {"number": closed.number, "isPinned": True}
    issue.edit(state="closed")  # closing keeps the pin
    states = [
        (n["issue"]["state"], n["issue"]["isPinned"])
        for n in pinned(graphql, repo)["pinnedIssues"]["nodes"]
    ]
    assert states == [("CLOSED", True), ("CLOSED", True)]


def test_only_writers_pin_and_pull_requests_are_no_issues(
    sandbox: Sandbox, graphql: Any, repo: Repository, clone: Path, git: Git
) -> None:
    issue = repo.create_issue("wanted pinned")
    token = sandbox.add_user("reader")
    repo.add_to_collaborators("reader", "pull")
    with session(sandbox, token) as reader:
        assert refusal(reader, issue.node_id) == {
            "type": "FORBIDDEN",
            "path": ["pinIssue"],
            "message": "reader does not have the correct permissions to execute `PinIssue`",
        }
    push_branch(git, clone, "feature")
    pull = repo.create_pull(base="main", head="feature", title="a pull request", body="")
    assert refusal(graphql, pull.node_id)["type"] == "NOT_FOUND"  # pinIssue takes issues only
    assert pinned(graphql, repo)["pinnedIssues"]["totalCount"] == 0

"""Issue dependencies over GraphQL, as GitHub serves them since 2025: `Issue.blockedBy`,
`blocking` and `issueDependenciesSummary`, `addBlockedBy` and `removeBlockedBy`.

A real GraphQL client (gql, validating each document against the patched schema) on the strict
sandbox; REST through PyGithub's requester. Both APIs show one store, so every test checks that
they agree.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from github import Github
from github.Issue import Issue
from github.Repository import Repository
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXTransport
from graphql import GraphQLObjectType

from orchestrator.sandbox.github import Sandbox
from orchestrator.sandbox.github.graph import schema
from tests.sandbox.github.helpers import Git, push_branch

DEPENDENCIES = """query($owner: String!, $name: String!, $number: Int!, $first: Int!,
    $after: String, $order: IssueDependencyOrder) {
  repository(owner: $owner, name: $name) {
    issue(number: $number) {
      blockedBy(first: $first, after: $after, orderBy: $order) {
        totalCount
        pageInfo { hasNextPage endCursor }
        nodes { number state repository { nameWithOwner } }
      }
      blocking(first: 100) { totalCount nodes { number } }
      issueDependenciesSummary { blockedBy blocking totalBlockedBy totalBlocking }
    }
  }
}"""
ADD = """mutation($issue: ID!, $blocking: ID!) {
  addBlockedBy(input: {issueId: $issue, blockingIssueId: $blocking, clientMutationId: "add"}) {
    clientMutationId
    issue { number issueDependenciesSummary { totalBlockedBy } }
    blockingIssue { number blocking(first: 10) { nodes { number } } }
  }
}"""
REMOVE = """mutation($issue: ID!, $blocking: ID!) {
  removeBlockedBy(input: {issueId: $issue, blockingIssueId: $blocking}) {
    issue { number blockedBy(first: 10) { totalCount } }
    blockingIssue { number }
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


def dependencies(graphql: Any, issue: Issue, first: int = 100, **variables: Any) -> dict[str, Any]:
    owner, name = issue.repository.full_name.split("/")
    given = {"owner": owner, "name": name, "number": issue.number, "first": first, **variables}
    return graphql.execute(GraphQLRequest(DEPENDENCIES, variable_values=given))["repository"][
        "issue"
    ]


def add(graphql: Any, issue: Issue, blocking: Issue | str) -> Any:
    node = blocking if isinstance(blocking, str) else blocking.node_id
    given = {"issue": issue.node_id, "blocking": node}
    return graphql.execute(GraphQLRequest(ADD, variable_values=given))["addBlockedBy"]


def remove(graphql: Any, issue: Issue, blocking: Issue) -> Any:
    given = {"issue": issue.node_id, "blocking": blocking.node_id}
    return graphql.execute(GraphQLRequest(REMOVE, variable_values=given))["removeBlockedBy"]


def refusal(call: Any, *args: Any) -> dict[str, Any]:
    with pytest.raises(TransportQueryError) as raised:
        call(*args)
    [error] = raised.value.errors or []
    return {k: error[k] for k in ("type", "message")}


def rest_numbers(gh: Github, issue: Issue, which: str) -> list[int]:
    _, listed = gh.requester.requestJsonAndCheck("GET", f"{issue.url}/dependencies/{which}")
    return [i["number"] for i in listed]


def rest_summary(repo: Repository, issue: Issue) -> dict[str, int]:
    raw = repo.get_issue(issue.number).raw_data["issue_dependencies_summary"]
    return {
        "blockedBy": raw["blocked_by"],
        "blocking": raw["blocking"],
        "totalBlockedBy": raw["total_blocked_by"],
        "totalBlocking": raw["total_blocking"],
    }


def rest_add(gh: Github, issue: Issue, blocker: Issue) -> None:
    url = f"{issue.url}/dependencies/blocked_by"
    gh.requester.requestJsonAndCheck("POST", url, input={"issue_id": blocker.id})


def fields(name: str) -> dict[str, Any]:
    kind = schema().type_map[name]
    assert isinstance(kind, GraphQLObjectType)
    return kind.fields


def test_the_schema_has_githubs_dependency_fields_with_their_descriptions() -> None:
    issue = fields("Issue")
    assert issue["blockedBy"].description == "A list of issues that are blocking this issue."
    assert issue["blocking"].description == "A list of issues that this issue is blocking."
    assert str(issue["issueDependenciesSummary"].type) == "IssueDependenciesSummary!"
    summary = fields("IssueDependenciesSummary")
    assert summary["totalBlockedBy"].description == (
        "Total count of issues this issue is blocked by (open and closed)"
    )
    mutation = fields("Mutation")
    assert mutation["addBlockedBy"].description == "Adds a 'blocked by' relationship to an issue."
    assert set(mutation["removeBlockedBy"].args["input"].type.of_type.fields) == {
        "issueId",
        "blockingIssueId",
        "clientMutationId",
    }


def test_rest_links_read_the_same_over_graphql(graphql: Any, gh: Github, repo: Repository) -> None:
    task, one, two, three = (repo.create_issue(t) for t in ("task", "one", "two", "three"))
    for blocker in (one, two, three):
        rest_add(gh, task, blocker)
    two.edit(state="closed")
    read = dependencies(graphql, task)
    # GitHub's default order: the newest link first
    assert [n["number"] for n in read["blockedBy"]["nodes"]] == [
        three.number,
        two.number,
        one.number,
    ]
    assert sorted(n["number"] for n in read["blockedBy"]["nodes"]) == sorted(
        rest_numbers(gh, task, "blocked_by")
    )
    assert [n["state"] for n in read["blockedBy"]["nodes"]] == ["OPEN", "CLOSED", "OPEN"]
    assert {n["repository"]["nameWithOwner"] for n in read["blockedBy"]["nodes"]} == {
        repo.full_name
    }
    assert read["issueDependenciesSummary"] == rest_summary(repo, task)
    assert read["issueDependenciesSummary"] == {
        "blockedBy": 2,
        "blocking": 0,
        "totalBlockedBy": 3,
        "totalBlocking": 0,
    }
    blocker = dependencies(graphql, one)
    assert blocker["blocking"] == {"totalCount": 1, "nodes": [{"number": task.number}]}
    assert rest_numbers(gh, one, "blocking") == [task.number]
    assert blocker["issueDependenciesSummary"] == rest_summary(repo, one)


def test_blocked_by_pages_and_orders_as_asked(graphql: Any, gh: Github, repo: Repository) -> None:
    task = repo.create_issue("task")
    blockers = [repo.create_issue(f"blocker {n}") for n in range(5)]
    for blocker in (blockers[3], blockers[0], blockers[4], blockers[1], blockers[2]):
        rest_add(gh, task, blocker)
    first = dependencies(graphql, task, first=2)["blockedBy"]
    assert first["totalCount"] == 5 and first["pageInfo"]["hasNextPage"]
    rest = dependencies(graphql, task, first=10, after=first["pageInfo"]["endCursor"])
    newest_first = [n["number"] for n in first["nodes"] + rest["blockedBy"]["nodes"]]
    assert newest_first == [b.number for b in (blockers[2], blockers[1], blockers[4])] + [
        blockers[0].number,
        blockers[3].number,
    ]
    added = dependencies(graphql, task, order={"field": "DEPENDENCY_ADDED_AT", "direction": "ASC"})
    assert [n["number"] for n in added["blockedBy"]["nodes"]] == rest_numbers(
        gh, task, "blocked_by"
    )
    oldest = dependencies(graphql, task, order={"field": "CREATED_AT", "direction": "ASC"})
    assert [n["number"] for n in oldest["blockedBy"]["nodes"]] == [b.number for b in blockers]


def test_add_and_remove_blocked_by_change_what_rest_lists(
    graphql: Any, gh: Github, repo: Repository
) -> None:
    task, blocker = repo.create_issue("task"), repo.create_issue("blocker")
    assert add(graphql, task, blocker) == {
        "clientMutationId": "add",
        "issue": {"number": task.number, "issueDependenciesSummary": {"totalBlockedBy": 1}},
        "blockingIssue": {
            "number": blocker.number,
            "blocking": {"nodes": [{"number": task.number}]},
        },
    }
    assert rest_numbers(gh, task, "blocked_by") == [blocker.number]
    assert rest_numbers(gh, blocker, "blocking") == [task.number]
    assert remove(graphql, task, blocker) == {
        "issue": {"number": task.number, "blockedBy": {"totalCount": 0}},
        "blockingIssue": {"number": blocker.number},
    }
    assert rest_numbers(gh, task, "blocked_by") == []
    assert dependencies(graphql, task)["issueDependenciesSummary"]["totalBlockedBy"] == 0


def test_a_blocker_in_another_repository_of_the_owner_is_allowed(
    graphql: Any, gh: Github, repo: Repository
) -> None:
    other = gh.get_user().create_repo("library")
    task, blocker = repo.create_issue("task"), other.create_issue("upstream")
    add(graphql, task, blocker)
    [node] = dependencies(graphql, task)["blockedBy"]["nodes"]
    assert (node["number"], node["repository"]["nameWithOwner"]) == (
        blocker.number,
        other.full_name,
    )
    assert rest_numbers(gh, other.get_issue(blocker.number), "blocking") == [task.number]


def test_refusals_are_rests_in_graphqls_shape(
    sandbox: Sandbox,
    graphql: Any,
    gh: Github,
    outsider: Github,
    repo: Repository,
    clone: Path,
    git: Git,
) -> None:
    task, blocker = repo.create_issue("task"), repo.create_issue("blocker")
    assert refusal(add, graphql, task, task) == {
        "type": "UNPROCESSABLE",
        "message": "Dependency already exists or is the issue itself",
    }
    add(graphql, task, blocker)
    assert refusal(add, graphql, task, blocker)["type"] == "UNPROCESSABLE"  # twice
    foreign = outsider.get_user().create_repo("theirs").create_issue("elsewhere")
    assert refusal(add, graphql, task, foreign) == {  # another owner's issue, as REST says
        "type": "UNPROCESSABLE",
        "message": "The provided issue_id is not a valid issue",
    }
    token = sandbox.add_user("reader")
    repo.add_to_collaborators("reader", "pull")
    with session(sandbox, token) as reader:
        assert refusal(add, reader, task, blocker) == {
            "type": "FORBIDDEN",
            "message": "reader does not have the correct permissions to execute `AddBlockedBy`",
        }
        assert refusal(remove, reader, task, blocker)["type"] == "FORBIDDEN"
    push_branch(git, clone, "feature")
    pull = repo.create_pull(base="main", head="feature", title="a pull request", body="")
    assert refusal(add, graphql, task, pull.node_id) == {
        "type": "NOT_FOUND",
        "message": f"Could not resolve to Issue node with the global id of '{pull.node_id}'",
    }
    remove(graphql, task, blocker)
    assert refusal(remove, graphql, task, blocker)["type"] == "NOT_FOUND"  # no such link
    assert rest_numbers(gh, task, "blocked_by") == []

"""What closed an issue, as GitHub records it: a ClosedEvent whose closer is the merged pull request
that named the issue with a closing keyword, or null when someone closed it by hand; and the
listing and reopening the improvement jobs read it with.

The strict sandbox checks every REST exchange against GitHub's description; graphql-core runs
GitHub's schema, and the client validates each document against it too.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from github import Github
from github.Repository import Repository
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXTransport

from orchestrator.sandbox.github import Sandbox
from orchestrator.sandbox.github.graph import schema
from tests.sandbox.github.helpers import Git, push_branch

CLOSED = """query($owner: String!, $name: String!, $number: Int!) {
  repository(owner: $owner, name: $name) {
    issue(number: $number) {
      state
      stateReason
      timelineItems(itemTypes: [CLOSED_EVENT], last: 1) {
        totalCount
        nodes {
          __typename
          ... on ClosedEvent {
            id
            createdAt
            stateReason
            url
            resourcePath
            actor { login }
            closable { __typename ... on Issue { number } }
            closer {
              __typename
              ... on PullRequest { number merged repository { nameWithOwner } }
            }
          }
        }
      }
    }
  }
}"""


@pytest.fixture
def graphql(sandbox: Sandbox) -> Iterator[Any]:
    transport = HTTPXTransport(
        url=sandbox.graphql_url, headers={"Authorization": f"bearer {sandbox.token}"}
    )
    with Client(schema=schema(), transport=transport) as session:
        yield session


def closed(graphql: Any, number: int, repo: str = "agentos/backlog") -> dict[str, Any]:
    owner, name = repo.split("/")
    variables = {"owner": owner, "name": name, "number": number}
    data = graphql.execute(GraphQLRequest(CLOSED, variable_values=variables))
    return data["repository"]["issue"]  # type: ignore[no-any-return]


def last_closer(graphql: Any, number: int, repo: str = "agentos/backlog") -> Any:
    [event] = closed(graphql, number, repo)["timelineItems"]["nodes"]
    return event["closer"]


def merged_pull(repo: Repository, clone: Path, git: Git, branch: str, body: str) -> int:
    push_branch(git, clone, branch, path=f"{branch}.txt")
    pr = repo.create_pull(base="main", head=branch, title=branch, body=body)
    assert pr.merge(merge_method="squash").merged
    return pr.number


def test_a_merged_pull_request_is_the_closer_of_the_issue_it_names(
    graphql: Any, repo: Repository, clone: Path, git: Git, sandbox: Sandbox
) -> None:
    issue = repo.create_issue("Crash on start")
    number = merged_pull(
        repo, clone, git, "fix-crash", f"Fixes the crash.\n\ncloses #{issue.number}"
    )
    found = closed(graphql, issue.number)
    assert (found["state"], found["stateReason"]) == ("CLOSED", "COMPLETED")
    [event] = found["timelineItems"]["nodes"]
    assert event["closer"] == {
        "__typename": "PullRequest",
        "number": number,
        "merged": True,
        "repository": {"nameWithOwner": "agentos/backlog"},
    }
    [rest] = [e for e in repo.get_issue(issue.number).get_events() if e.event == "closed"]
    path = f"/agentos/backlog/issues/{issue.number}#event-{rest.id}"
    assert (event["__typename"], event["stateReason"], event["actor"]) == (
        "ClosedEvent",
        "COMPLETED",
        {"login": "agentos"},
    )
    assert (event["resourcePath"], event["url"]) == (path, f"{sandbox.base_url}{path}")
    assert event["closable"] == {"__typename": "Issue", "number": issue.number}
    assert event["createdAt"].endswith("Z")


@pytest.mark.parametrize("keyword", ["Close", "FIXED", "Resolves:", "fix"])
def test_every_closing_keyword_names_the_pull_request_as_closer(
    graphql: Any, repo: Repository, clone: Path, git: Git, keyword: str
) -> None:
    issue = repo.create_issue("Flaky")
    number = merged_pull(repo, clone, git, "fix-flaky", f"{keyword} #{issue.number}")
    assert last_closer(graphql, issue.number)["number"] == number


def test_closing_by_hand_over_rest_or_graphql_has_no_closer(graphql: Any, repo: Repository) -> None:
    by_rest, by_graphql = repo.create_issue("By REST"), repo.create_issue("By GraphQL")
    assert closed(graphql, by_rest.number)["timelineItems"]["nodes"] == []  # open: none yet
    by_rest.edit(state="closed", state_reason="not_planned")
    graphql.execute(
        GraphQLRequest(
            "mutation($id: ID!) { closeIssue(input: {issueId: $id}) { issue { state } } }",
            variable_values={"id": by_graphql.node_id},
        )
    )
    assert last_closer(graphql, by_rest.number) is None
    assert last_closer(graphql, by_graphql.number) is None
    assert closed(graphql, by_rest.number)["timelineItems"]["nodes"][0]["stateReason"] == (
        "NOT_PLANNED"
    )


def test_a_pull_request_closed_without_merging_closes_nothing(
    graphql: Any, repo: Repository, clone: Path, git: Git
) -> None:
    issue = repo.create_issue("Still broken")
    push_branch(git, clone, "abandoned")
    repo.create_pull(base="main", head="abandoned", title="t", body=f"Closes #{issue.number}").edit(
        state="closed"
    )
    found = closed(graphql, issue.number)
    assert (found["state"], found["timelineItems"]["nodes"]) == ("OPEN", [])


def test_the_last_closed_event_counts_after_a_reopening(
    graphql: Any, repo: Repository, clone: Path, git: Git
) -> None:
    issue = repo.create_issue("Came back")
    merged_pull(repo, clone, git, "first-fix", f"Fixes #{issue.number}")
    repo.get_issue(issue.number).edit(state="open")
    reopened = repo.get_issue(issue.number)
    assert (reopened.state, reopened.state_reason, reopened.closed_at) == ("open", "reopened", None)
    assert [e.event for e in reopened.get_events()] == ["closed", "reopened"]
    reopened.edit(state="closed")
    found = closed(graphql, issue.number)
    assert found["timelineItems"]["totalCount"] == 2 and last_closer(graphql, issue.number) is None


def test_an_issue_closed_already_keeps_its_close_when_a_merge_names_it(
    graphql: Any, repo: Repository, clone: Path, git: Git
) -> None:
    issue = repo.create_issue("Won't fix")
    issue.edit(state="closed", state_reason="not_planned")
    merged_pull(repo, clone, git, "late-fix", f"Fixes #{issue.number}")
    found = closed(graphql, issue.number)
    assert (found["stateReason"], found["timelineItems"]["totalCount"]) == ("NOT_PLANNED", 1)
    assert last_closer(graphql, issue.number) is None


def test_a_pull_request_of_another_repository_is_named_with_its_repository(
    graphql: Any, repo: Repository, gh: Github, clone: Path, git: Git
) -> None:
    other = gh.get_user().create_repo("tracker", auto_init=True)
    issue = other.create_issue("Reported elsewhere")
    number = merged_pull(repo, clone, git, "cross", f"Fixes agentos/tracker#{issue.number}")
    assert last_closer(graphql, issue.number, "agentos/tracker") == {
        "__typename": "PullRequest",
        "number": number,
        "merged": True,
        "repository": {"nameWithOwner": "agentos/backlog"},
    }


def test_a_close_recorded_without_its_closer_is_refused_not_read_as_by_hand(
    graphql: Any, repo: Repository, sandbox: Sandbox
) -> None:
    repo.create_issue("Old record").edit(state="closed")
    with sandbox.store.lock:  # a state.json written before closers were recorded
        for event in sandbox.store.repos["agentos/backlog"]["events"]:
            event.pop("closer", None)
    with pytest.raises(TransportQueryError, match="does not implement ClosedEvent.closer"):
        last_closer(graphql, 1)


def test_the_listing_filters_by_state_labels_and_since_across_pages(
    repo: Repository, sandbox: Sandbox
) -> None:
    with sandbox.store.batch():
        for n in range(105):
            made = repo.create_issue(f"incident {n}", labels=["agentos:incident"])
            if n % 2:
                made.edit(state="closed")
        repo.create_issue("unrelated", labels=["bug"])
    old = repo.create_issue("old", labels=["agentos:incident"])
    old.edit(state="closed")
    since = datetime.now(UTC) - timedelta(hours=1)
    with sandbox.store.lock:  # as if it were last touched a year ago
        sandbox.store.repos["agentos/backlog"]["issues"][str(old.number)]["updated_at"] = (
            "2025-01-01T00:00:00Z"
        )
    listed = list(repo.get_issues(state="all", labels=["agentos:incident"], since=since))
    assert len(listed) == 105 and {i.state for i in listed} == {"open", "closed"}
    assert old.number not in {i.number for i in listed}
    # `since` in another zone (+02:00) means the same instant
    local = (since + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S+02:00")
    answer = httpx.get(
        f"{sandbox.api_url}/repos/agentos/backlog/issues",
        params={"state": "closed", "labels": "agentos:incident", "since": local, "per_page": 100},
        headers={"Authorization": f"token {sandbox.token}"},
    )
    assert answer.status_code == 200 and len(answer.json()) == 52
    assert 'rel="next"' not in answer.headers.get("link", "")

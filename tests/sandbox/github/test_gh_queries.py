"""gh 2.23's own GraphQL documents, replayed against the sandbox.

The documents are the ones `gh issue`, `gh pr` and `gh label` sent (recorded with GH_DEBUG=api,
tests/data/github/gh-2.23.0/queries.json); here they run with this test's variables and are
checked for GitHub's answers and GitHub's errors.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import parse, validate

from orchestrator.sandbox.github import Sandbox
from orchestrator.sandbox.github.gqlrefuse import GITHUB_RULES
from orchestrator.sandbox.github.graph import schema
from tests.sandbox.github.helpers import Git, push_branch

RECORDED = Path(__file__).resolve().parents[2] / "data" / "github" / "gh-2.23.0" / "queries.json"
QUERIES: dict[str, Any] = json.loads(RECORDED.read_text(encoding="utf-8"))
WHERE = {"owner": "agentos", "repo": "demo"}


def answer(sandbox: Sandbox, document: str, token: str | None = None, **variables: Any) -> Any:
    """Send gh's `document` (by operation name); return the JSON answer (data and errors)."""
    response = httpx.post(
        sandbox.graphql_url,
        headers={"Authorization": f"token {token or sandbox.token}"},
        json={"query": QUERIES[document]["query"], "variables": variables},
    )
    assert response.status_code == 200, response.text
    return response.json()


def ask(sandbox: Sandbox, document: str, **variables: Any) -> Any:
    """Send gh's `document` and return its data, failing on any error."""
    body = answer(sandbox, document, **variables)
    assert "errors" not in body, (document, body["errors"])
    return body["data"]


@pytest.fixture
def demo(sandbox: Sandbox) -> Sandbox:
    schema()  # built once per process before the first request, not inside its time-out
    sandbox.create_repo("agentos/demo")
    return sandbox


def test_gh_documents_validate_with_githubs_rules_and_only_there() -> None:
    """`gh issue view` asks `state` of Issue and of PullRequest, with two enum types.

    GitHub accepts it; graphql-core's full rules (kept for our own documents) do not.
    """
    for name, recorded in QUERIES.items():
        assert validate(schema(), parse(recorded["query"]), GITHUB_RULES) == [], name
    (problem,) = validate(schema(), parse(QUERIES["IssueByNumber"]["query"]))
    assert "conflicting types 'IssueState!' and 'PullRequestState!'" in problem.message


def test_a_type_conflict_on_one_parent_type_is_still_refused() -> None:
    document = parse("{ viewer { a: login a: id } }")
    (problem,) = validate(schema(), document, GITHUB_RULES)
    assert "'login' and 'id' are different fields" in problem.message


def new_issue(sandbox: Sandbox, title: str, *labels: str, assignee: bool = False) -> Any:
    """Create an issue as `gh issue create` does: resolve ids, then createIssue."""
    repo_id = ask(sandbox, "RepositoryInfo", owner="agentos", name="demo")["repository"]["id"]
    ids = ask(sandbox, "RepositoryResolveMetadataIDs")
    made = ask(
        sandbox,
        "IssueCreate",
        input={
            "repositoryId": repo_id,
            "title": title,
            "body": f"About {title}",
            "labelIds": [ids["repository"]["l000"]["id"]] if labels else None,
            "assigneeIds": [ids["u000"]["id"]] if assignee else None,
            "projectIds": None,
        },
    )
    return made["createIssue"]["issue"]


def test_issue_list_view_comment_edit_close_reopen(demo: Sandbox) -> None:
    first = new_issue(demo, "First bug", "bug", assignee=True)
    new_issue(demo, "Second: docs")
    listed = ask(demo, "IssueList", limit=30, states=["OPEN"], **WHERE)["repository"]
    assert [n["number"] for n in listed["issues"]["nodes"]] == [2, 1]
    assert listed["issues"]["nodes"][1]["labels"]["nodes"][0]["name"] == "bug"
    ask(demo, "CommentCreate", input={"subjectId": first["id"], "body": "Thanks @agentos"})
    viewed = ask(demo, "IssueByNumber", number=1, **WHERE)["repository"]["issue"]
    assert (viewed["__typename"], viewed["state"], viewed["author"]["login"]) == (
        "Issue",
        "OPEN",
        "agentos",
    )
    assert viewed["comments"]["totalCount"] == 1
    assert viewed["comments"]["nodes"][0]["body"] == "Thanks @agentos"
    comments = ask(demo, "CommentsForIssue", id=first["id"], endCursor=None)
    assert comments["node"]["comments"]["nodes"][0]["authorAssociation"] == "OWNER"
    labels = ask(demo, "RepositoryLabelList", name="demo", owner="agentos", endCursor=None)
    by_name = {n["name"]: n["id"] for n in labels["repository"]["labels"]["nodes"]}
    ask(demo, "IssueUpdate", input={"id": first["id"], "title": "Renamed"})
    ask(demo, "LabelAdd", input={"labelableId": first["id"], "labelIds": [by_name["enhancement"]]})
    ask(demo, "LabelRemove", input={"labelableId": first["id"], "labelIds": [by_name["bug"]]})
    ask(demo, "IssueClose", input={"issueId": first["id"], "stateReason": "NOT_PLANNED"})
    closed = ask(demo, "IssueByNumber", number=1, **WHERE)["repository"]["issue"]
    assert (closed["title"], closed["state"], closed["stateReason"]) == (
        "Renamed",
        "CLOSED",
        "NOT_PLANNED",
    )
    assert [n["name"] for n in closed["labels"]["nodes"]] == ["enhancement"]
    ask(demo, "IssueReopen", input={"issueId": first["id"]})
    record = demo.store.repos["agentos/demo"]["issues"]["1"]
    assert (record["state"], record["labels"]) == ("open", ["enhancement"])
    status = ask(demo, "IssueStatus", viewer="agentos", **WHERE)["repository"]
    assert [n["number"] for n in status["assigned"]["nodes"]] == [1]
    assert [n["number"] for n in status["mentioned"]["nodes"]] == [1]
    assert status["authored"]["totalCount"] == 2


def test_issue_search_and_label_list(demo: Sandbox) -> None:
    new_issue(demo, "First bug", "bug")
    new_issue(demo, "Second: docs")
    found = ask(
        demo,
        "IssueSearch",
        limit=30,
        type="ISSUE",
        query="label:bug repo:agentos/demo type:issue",
        **WHERE,
    )["search"]
    assert (found["issueCount"], found["nodes"][0]["title"]) == (1, "First bug")
    words = ask(
        demo,
        "IssueSearch",
        limit=30,
        type="ISSUE",
        query="docs in:title repo:agentos/demo state:open type:issue",
        **WHERE,
    )["search"]
    assert [n["number"] for n in words["nodes"]] == [2]
    refused = answer(demo, "IssueSearch", limit=5, type="ISSUE", query="milestone:v1", **WHERE)
    assert refused["errors"][0]["type"] == "NOT_IMPLEMENTED"
    labels = ask(
        demo,
        "LabelList",
        limit=3,
        query="",
        orderBy={"direction": "ASC", "field": "CREATED_AT"},
        **WHERE,
    )["repository"]["labels"]
    assert [n["name"] for n in labels["nodes"]] == ["bug", "documentation", "duplicate"]
    assert labels["totalCount"] == 9 and labels["pageInfo"]["hasNextPage"]


def test_a_missing_issue_is_not_found_in_githubs_words(demo: Sandbox) -> None:
    body = answer(demo, "IssueByNumber", number=99, **WHERE)
    assert body["data"]["repository"] == {"hasIssuesEnabled": True, "issue": None}
    assert body["errors"][0]["type"] == "NOT_FOUND"
    assert body["errors"][0]["path"] == ["repository", "issue"]
    assert body["errors"][0]["message"] == (
        "Could not resolve to an issue or pull request with the number of 99."
    )


def test_closing_without_triage_is_forbidden(demo: Sandbox) -> None:
    first = new_issue(demo, "First bug")
    outsider = demo.add_user("outsider")
    body = answer(demo, "IssueClose", token=outsider, input={"issueId": first["id"]})
    assert body["errors"][0]["type"] == "FORBIDDEN"
    assert body["errors"][0]["message"] == (
        "outsider does not have the correct permissions to execute `CloseIssue`"
    )
    assert demo.store.repos["agentos/demo"]["issues"]["1"]["state"] == "open"


@pytest.fixture
def pushed(demo: Sandbox, git: Git, tmp_path: Path) -> Sandbox:
    """The demo repository with a branch `feature` one commit ahead of main."""
    clone = tmp_path / "clone"
    git("clone", "-q", demo.clone_url("agentos/demo"), str(clone))
    push_branch(git, clone, "feature")
    return demo


def test_pull_request_create_view_check_review_merge(pushed: Sandbox) -> None:
    new_issue(pushed, "Docs")
    repo_id = ask(pushed, "RepositoryInfo", owner="agentos", name="demo")["repository"]["id"]
    before = ask(pushed, "PullRequestForBranch", headRefName="feature", states=["OPEN"], **WHERE)
    assert before["repository"]["pullRequests"]["nodes"] == []
    made = ask(
        pushed,
        "PullRequestCreate",
        input={
            "repositoryId": repo_id,
            "baseRefName": "main",
            "headRefName": "feature",
            "title": "Add feature",
            "body": "Closes #1",
            "draft": False,
            "maintainerCanModify": True,
        },
    )["createPullRequest"]["pullRequest"]
    head = pushed.store.repos["agentos/demo"]["issues"]["2"]["pull"]["head_sha"]
    httpx.post(
        f"{pushed.api_url}/repos/agentos/demo/statuses/{head}",
        headers={"Authorization": f"token {pushed.token}"},
        json={"state": "success", "context": "ci/test"},
    ).raise_for_status()
    listed = ask(pushed, "PullRequestList", limit=30, state=["OPEN"], **WHERE)["repository"]
    assert [(n["number"], n["headRefName"]) for n in listed["pullRequests"]["nodes"]] == [
        (2, "feature")
    ]
    viewed = ask(pushed, "PullRequestByNumber", pr_number=2, **WHERE)["repository"]["pullRequest"]
    assert (viewed["mergeable"], viewed["additions"], viewed["commits"]["totalCount"]) == (
        "MERGEABLE",
        1,
        1,
    )
    checks = ask(pushed, "PullRequestStatusChecks", id=made["id"])["node"]
    rollup = checks["statusCheckRollup"]["nodes"][0]["commit"]["statusCheckRollup"]
    assert rollup["contexts"]["nodes"][0]["context"] == "ci/test"
    state = ask(
        pushed,
        "PullRequestStatus",
        headRefName="feature",
        viewerQuery="repo:agentos/demo state:open is:pr author:agentos",
        reviewerQuery="repo:agentos/demo state:open review-requested:agentos",
        **WHERE,
    )
    assert state["viewerCreated"]["totalCount"] == 1
    assert state["viewerCreated"]["edges"][0]["node"]["mergeStateStatus"] == "CLEAN"
    ask(
        pushed,
        "PullRequestReviewAdd",
        input={"pullRequestId": made["id"], "event": "COMMENT", "body": "ok"},
    )
    reviews = pushed.store.repos["agentos/demo"]["issues"]["2"]["pull"]["reviews"]
    assert [(r["state"], r["body"]) for r in reviews] == [("COMMENTED", "ok")]
    ask(pushed, "PullRequestMerge", input={"pullRequestId": made["id"], "mergeMethod": "SQUASH"})
    merged = ask(pushed, "IssueByNumber", number=2, **WHERE)["repository"]["issue"]
    assert merged["state"] == "MERGED"
    closed = ask(pushed, "IssueByNumber", number=1, **WHERE)["repository"]["issue"]
    assert closed["state"] == "CLOSED"


def test_a_second_pull_request_for_a_branch_is_unprocessable(pushed: Sandbox) -> None:
    repo_id = ask(pushed, "RepositoryInfo", owner="agentos", name="demo")["repository"]["id"]
    pull = {"repositoryId": repo_id, "baseRefName": "main", "headRefName": "feature", "title": "t"}
    made = ask(pushed, "PullRequestCreate", input=pull)["createPullRequest"]["pullRequest"]
    again = answer(pushed, "PullRequestCreate", input=pull)
    assert again["errors"][0]["type"] == "UNPROCESSABLE"
    assert again["errors"][0]["message"] == "A pull request already exists for agentos:feature."
    ask(pushed, "PullRequestClose", input={"pullRequestId": made["id"]})
    refused = answer(pushed, "PullRequestMerge", input={"pullRequestId": made["id"]})
    assert refused["errors"][0]["message"] == "Pull Request is not mergeable"
    ask(pushed, "PullRequestReopen", input={"pullRequestId": made["id"]})
    ask(pushed, "PullRequestUpdate", input={"pullRequestId": made["id"], "title": "Retitled"})
    assert pushed.store.repos["agentos/demo"]["issues"]["1"]["title"] == "Retitled"


def test_search_orders_across_repositories_and_sees_only_what_the_caller_may(
    demo: Sandbox,
) -> None:
    new_issue(demo, "Public one")
    demo.create_repo("agentos/secret", private=True)
    httpx.post(
        f"{demo.api_url}/repos/agentos/secret/issues",
        headers={"Authorization": f"token {demo.token}"},
        json={"title": "Private one"},
    ).raise_for_status()
    new_issue(demo, "Public two")

    def titles(query: str, token: str | None = None) -> list[str]:
        body = answer(demo, "IssueSearch", token, limit=10, type="ISSUE", query=query, **WHERE)
        return [n["title"] for n in body["data"]["search"]["nodes"]]

    assert titles("is:issue sort:created-asc") == ["Public one", "Private one", "Public two"]
    assert titles("is:issue") == ["Public two", "Private one", "Public one"]
    assert titles("is:issue", demo.add_user("outsider")) == ["Public two", "Public one"]
    assert titles("one in:title repo:agentos/demo") == ["Public one"]
    refused = answer(demo, "IssueSearch", limit=5, type="ISSUE", query="x in:comments", **WHERE)
    assert refused["errors"][0]["message"] == (
        "The sandbox does not implement the search qualifier `in:comments`"
    )


def test_issues_by_any_label_in_the_order_asked(demo: Sandbox) -> None:
    """GraphQL's `labels` keeps an issue carrying any of them (REST's keeps one with all)."""
    new_issue(demo, "Bug", "bug")
    new_issue(demo, "Plain")
    new_issue(demo, "Another bug", "bug")
    query = """{ repository(owner: "agentos", name: "demo") {
      any: issues(first: 5, labels: ["bug", "nope"], orderBy: {field: CREATED_AT, direction: DESC})
        { nodes { title } }
      all: issues(first: 5) { totalCount nodes { title } } } }"""
    body = httpx.post(
        demo.graphql_url,
        headers={"Authorization": f"bearer {demo.token}"},
        json={"query": query},
    ).json()
    assert "errors" not in body, body
    repository = body["data"]["repository"]
    assert [n["title"] for n in repository["any"]["nodes"]] == ["Another bug", "Bug"]
    assert [n["title"] for n in repository["all"]["nodes"]] == ["Bug", "Plain", "Another bug"]

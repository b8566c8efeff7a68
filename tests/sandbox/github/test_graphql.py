"""gql over HTTP drives Projects (v2), sub-issues and node lookups.

All of it on GitHub's published GraphQL schema.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from github.Repository import Repository
from gql import Client, GraphQLRequest, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXTransport
from graphql import parse, validate

from orchestrator.sandbox.github import Sandbox
from orchestrator.sandbox.github.graph import schema
from tests.sandbox.github.helpers import missing_keys

PROJECT = gql("""
query($login: String!, $number: Int!, $after: String) {
  user(login: $login) {
    projectV2(number: $number) {
      id title number url
      field(name: "Status") { __typename ... on ProjectV2SingleSelectField \
{ id options { id name } } }
      items(first: 2, after: $after) {
        pageInfo { hasNextPage endCursor }
        totalCount
        nodes {
          id type
          content { __typename ... on Issue { number title state } }
          fieldValueByName(name: "Status") {
            __typename ... on ProjectV2ItemFieldSingleSelectValue { name optionId }
          }
        }
      }
    }
  }
}""")


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[Client]:
    transport = HTTPXTransport(
        url=sandbox.graphql_url, headers={"Authorization": f"bearer {sandbox.token}"}
    )
    with Client(schema=schema(), transport=transport) as session:
        yield session  # type: ignore[misc]


def run(client: Any, text: str, **variables: Any) -> Any:
    return client.execute(GraphQLRequest(text, variable_values=variables))


def project_page(client: Any, after: str | None = None) -> Any:
    return client.execute(
        GraphQLRequest(PROJECT, variable_values={"login": "agentos", "number": 1, "after": after})
    )


def new_project(client: Any) -> dict[str, Any]:
    viewer = run(client, "{ viewer { id login } }")["viewer"]
    made = run(
        client,
        """mutation($owner: ID!) { createProjectV2(input: {ownerId: $owner, title: "Backlog"}) {
                 projectV2 { id number title } } }""",
        owner=viewer["id"],
    )
    return made["createProjectV2"]["projectV2"]


def test_board_add_items_set_status_and_page_through(client: Any, repo: Repository) -> None:
    issues = [repo.create_issue(f"task {n}") for n in range(3)]
    project = new_project(client)
    assert (project["number"], project["title"]) == (1, "Backlog")
    first = project_page(client)["user"]["projectV2"]
    status = first["field"]
    assert [o["name"] for o in status["options"]] == ["Todo", "In Progress", "Done"]
    items = []
    for issue in issues:
        added = run(
            client,
            "mutation($p: ID!, $c: ID!) { "
            """addProjectV2ItemById(input: {projectId: $p, contentId: $c})
                    { item { id } } }""",
            p=project["id"],
            c=issue.node_id,
        )
        items.append(added["addProjectV2ItemById"]["item"]["id"])
    doing = next(o["id"] for o in status["options"] if o["name"] == "In Progress")
    run(
        client,
        """mutation($p: ID!, $i: ID!, $f: ID!, $o: String!) { updateProjectV2ItemFieldValue(input:
        {projectId: $p, itemId: $i, fieldId: $f, value: {singleSelectOptionId: $o}}) """
        "{ projectV2Item { id } } }",
        p=project["id"],
        i=items[2],
        f=status["id"],
        o=doing,
    )
    seen, after = [], None
    while True:
        page = project_page(client, after)
        connection = page["user"]["projectV2"]["items"]
        assert connection["totalCount"] == 3
        seen += connection["nodes"]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert [n["content"]["number"] for n in seen] == [1, 2, 3]
    assert [n["fieldValueByName"] and n["fieldValueByName"]["name"] for n in seen] == [
        None,
        None,
        "In Progress",
    ]
    run(
        client,
        "mutation($p: ID!, $i: ID!) { deleteProjectV2Item(input: {projectId: $p, itemId: $i}) "
        "{ deletedItemId } }",
        p=project["id"],
        i=items[0],
    )
    page = project_page(client)
    assert page["user"]["projectV2"]["items"]["totalCount"] == 2
    on_issue = run(
        client,
        """{ repository(owner: "agentos", name: "backlog") { issue(number: 3) {
        projectItems(first: 5) { nodes { project { number }
        fieldValueByName(name: "Status") { ... on ProjectV2ItemFieldSingleSelectValue { name } } """
        "} } } } }",
    )
    assert on_issue["repository"]["issue"]["projectItems"]["nodes"] == [
        {"project": {"number": 1}, "fieldValueByName": {"name": "In Progress"}}
    ]


def test_status_options_are_replaced_and_custom_fields_hold_values(
    client: Any, repo: Repository
) -> None:
    project = new_project(client)
    item = run(
        client,
        """mutation($p: ID!, $c: ID!) { addProjectV2ItemById(input: {projectId: $p, contentId: $c})
               { item { id } } }""",
        p=project["id"],
        c=repo.create_issue("t").node_id,
    )["addProjectV2ItemById"]["item"]
    fields = run(
        client,
        """query($id: ID!) { node(id: $id) { ... on ProjectV2 { fields(first: 20) { nodes {
        __typename ... on ProjectV2FieldCommon { id name dataType } } } } } }""",
        id=project["id"],
    )
    status = next(f for f in fields["node"]["fields"]["nodes"] if f["name"] == "Status")
    options = [
        {"name": n, "color": "GRAY", "description": ""}
        for n in ("Ready", "In Progress", "Done", "Blocked")
    ]
    updated = run(
        client,
        """mutation($f: ID!, $o: [ProjectV2SingleSelectFieldOptionInput!]) {
        updateProjectV2Field(input: {fieldId: $f, singleSelectOptions: $o}) {
        projectV2Field { ... on ProjectV2SingleSelectField { options { name } } } } }""",
        f=status["id"],
        o=options,
    )
    assert [o["name"] for o in updated["updateProjectV2Field"]["projectV2Field"]["options"]] == [
        "Ready",
        "In Progress",
        "Done",
        "Blocked",
    ]
    made = run(
        client,
        """mutation($p: ID!) { createProjectV2Field(input: {projectId: $p, dataType: TEXT,
        name: "Agent"}) { projectV2Field { ... on ProjectV2Field { id } } } }""",
        p=project["id"],
    )
    field_id = made["createProjectV2Field"]["projectV2Field"]["id"]
    run(
        client,
        "mutation($p: ID!, $i: ID!, $f: ID!) { "
        """updateProjectV2ItemFieldValue(input: {projectId: $p,
        itemId: $i, fieldId: $f, value: {text: "claude"}}) { projectV2Item { id } } }""",
        p=project["id"],
        i=item["id"],
        f=field_id,
    )
    values = run(
        client,
        """query($id: ID!) { node(id: $id) { ... on ProjectV2Item { fieldValues(first: 10) {
        nodes { __typename ... on ProjectV2ItemFieldTextValue { text """
        """field { ... on ProjectV2Field { name } } } } }
        } } }""",
        id=item["id"],
    )
    texts = [
        (v["field"]["name"], v["text"])
        for v in values["node"]["fieldValues"]["nodes"]
        if "text" in v
    ]
    assert texts == [("Title", "t"), ("Agent", "claude")]


def test_sub_issues_and_parent(client: Any, repo: Repository) -> None:
    epic, child = repo.create_issue("epic"), repo.create_issue("child")
    epic.add_sub_issue(child)
    data = run(
        client,
        """{ repository(owner: "agentos", name: "backlog") {
        epic: issue(number: 1) { subIssues(first: 10) { nodes { number } } """
        """subIssuesSummary { total } }
        child: issue(number: 2) { parent { number } } } }""",
    )["repository"]
    assert data["epic"]["subIssues"]["nodes"] == [{"number": 2}]
    assert data["child"]["parent"] == {"number": 1}


def test_link_project_to_repository(client: Any, repo: Repository) -> None:
    project = new_project(client)
    repo_id = run(client, '{ repository(owner: "agentos", name: "backlog") { id } }')["repository"][
        "id"
    ]
    linked = run(
        client,
        """mutation($p: ID!, $r: ID!) { linkProjectV2ToRepository(input: {projectId: $p,
        repositoryId: $r}) { repository { nameWithOwner } } }""",
        p=project["id"],
        r=repo_id,
    )
    assert linked["linkProjectV2ToRepository"]["repository"]["nameWithOwner"] == "agentos/backlog"


def test_missing_project_is_not_found(client: Any) -> None:
    with pytest.raises(TransportQueryError) as raised:
        run(client, '{ user(login: "agentos") { projectV2(number: 9) { id } } }')
    assert raised.value.errors[0]["type"] == "NOT_FOUND"
    assert raised.value.errors[0]["path"] == ["user", "projectV2"]


def test_invalid_query_comes_back_in_githubs_error_shape(sandbox: Sandbox) -> None:
    response = httpx.post(
        sandbox.graphql_url,
        headers={"Authorization": f"bearer {sandbox.token}"},
        json={"query": "{ viewer { nope } }"},
    )
    assert response.status_code == 200
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["locations"] == [{"line": 1, "column": 12}]
    assert "nope" in body["errors"][0]["message"]


def test_unpaginated_connection_is_refused(client: Any) -> None:
    new_project(client)
    with pytest.raises(TransportQueryError) as raised:
        run(client, '{ user(login: "agentos") { projectV2(number: 1) { items { totalCount } } } }')
    assert "must provide a `first`" in raised.value.errors[0]["message"]


def test_graphql_needs_the_token(sandbox: Sandbox) -> None:
    assert (
        httpx.post(sandbox.graphql_url, json={"query": "{ viewer { login } }"}).status_code == 401
    )


RECORDED = Path(__file__).resolve().parents[2] / "data" / "github" / "projects-v2-recorded"


def recorded_exchanges() -> list[dict[str, Any]]:
    return [x for f in sorted(RECORDED.glob("*.json")) for x in json.loads(f.read_text())]


def test_recorded_real_queries_validate_against_the_vendored_schema() -> None:
    for exchange in recorded_exchanges():
        assert validate(schema(), parse(exchange["query"])) == [], exchange["query"][:80]


def test_recorded_real_query_runs_with_the_same_keys(
    sandbox: Sandbox, client: Any, repo: Repository
) -> None:
    """gr2m/github-project's getProjectWithItems, recorded on github.com, asked of the sandbox."""
    sandbox.add_org("github-project-fixtures", {"agentos": "admin"})
    org = run(client, '{ organization(login: "github-project-fixtures") { id } }')["organization"][
        "id"
    ]
    for title in ("first", "second"):
        project = run(
            client,
            """mutation($o: ID!, $t: String!) { createProjectV2(input: {ownerId: $o, title: $t})
                      { projectV2 { id } } }""",
            o=org,
            t=title,
        )["createProjectV2"]["projectV2"]
    run(
        client,
        "mutation($p: ID!, $c: ID!) { addProjectV2ItemById(input: {projectId: $p, contentId: $c}) "
        "{ item { id } } }",
        p=project["id"],
        c=repo.create_issue("Issue 1").node_id,
    )
    exchange = json.loads((RECORDED / "api.items.list.json").read_text())[0]
    response = httpx.post(
        sandbox.graphql_url,
        headers={"Authorization": f"bearer {sandbox.token}"},
        json={"query": exchange["query"], "variables": exchange["variables"]},
    )
    body = response.json()
    assert "errors" not in body, body
    assert missing_keys(exchange["response"]["data"]["data"], body["data"]) == []


def test_a_resolver_bug_fails_loudly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestrator.sandbox.github import gqlqueries
    from tests.support.github_sandbox import running_sandbox

    monkeypatch.setattr(gqlqueries, "owner", lambda *a: {}["missing"])
    with pytest.raises(AssertionError, match="internal POST /api/graphql"):
        with running_sandbox(tmp_path) as sandbox:
            response = httpx.post(
                sandbox.graphql_url,
                headers={"Authorization": f"bearer {sandbox.token}"},
                json={"query": "{ viewer { login } }"},
            )
            assert response.status_code == 500


def test_options_keep_their_items_only_when_sent_with_their_id(
    client: Any, repo: Repository
) -> None:
    """GitHub's hazard, reproduced: an option sent back without its id is a new option.

    The items that had the option lose it.
    """
    project = new_project(client)
    item = run(
        client,
        """mutation($p: ID!, $c: ID!) { addProjectV2ItemById(input: {projectId: $p, contentId: $c})
               { item { id } } }""",
        p=project["id"],
        c=repo.create_issue("t").node_id,
    )["addProjectV2ItemById"]["item"]
    status = project_page(client)["user"]["projectV2"]["field"]
    doing = next(o for o in status["options"] if o["name"] == "In Progress")
    run(
        client,
        """mutation($p: ID!, $i: ID!, $f: ID!, $o: String!) { updateProjectV2ItemFieldValue(input:
        {projectId: $p, itemId: $i, fieldId: $f, value: {singleSelectOptionId: $o}}) """
        "{ projectV2Item { id } } }",
        p=project["id"],
        i=item["id"],
        f=status["id"],
        o=doing["id"],
    )
    replace = """mutation($f: ID!, $o: [ProjectV2SingleSelectFieldOptionInput!]) {
        updateProjectV2Field(input: {fieldId: $f, singleSelectOptions: $o}) {
        projectV2Field { ... on ProjectV2SingleSelectField { options { id name } } } } }"""
    kept = run(
        client,
        replace,
        f=status["id"],
        o=[
            {"id": doing["id"], "name": "In Progress", "color": "YELLOW", "description": ""},
            {"name": "Ready", "color": "GREEN", "description": ""},
        ],
    )
    assert kept["updateProjectV2Field"]["projectV2Field"]["options"][0]["id"] == doing["id"]
    assert (
        project_page(client)["user"]["projectV2"]["items"]["nodes"][0]["fieldValueByName"]["name"]
        == "In Progress"
    )
    renewed = run(
        client,
        replace,
        f=status["id"],
        o=[{"name": "In Progress", "color": "YELLOW", "description": ""}],
    )
    assert renewed["updateProjectV2Field"]["projectV2Field"]["options"][0]["id"] != doing["id"]
    assert (
        project_page(client)["user"]["projectV2"]["items"]["nodes"][0]["fieldValueByName"] is None
    )


def test_projects_need_the_project_scopes(sandbox: Sandbox, client: Any) -> None:
    new_project(client)
    query = {"query": '{ user(login: "agentos") { projectV2(number: 1) { id } } }'}
    for scopes, readable in (
        (["repo"], False),
        (["repo", "read:project"], True),
        (["project"], True),
    ):
        token = sandbox.add_user(
            "agentos", token=f"ghp_{'_'.join(scopes).replace(':', '')}{'0' * 20}", scopes=scopes
        )
        body = httpx.post(
            sandbox.graphql_url, headers={"Authorization": f"bearer {token}"}, json=query
        ).json()
        assert ("errors" not in body) is readable, (scopes, body)
        if not readable:
            assert body["errors"][0]["type"] == "INSUFFICIENT_SCOPES"
            assert (
                "requires one of the following scopes: ['read:project']"
                in body["errors"][0]["message"]
            )
    token = sandbox.add_user("agentos", token="ghp_readonly" + "0" * 28, scopes=["read:project"])
    viewer = httpx.post(
        sandbox.graphql_url,
        headers={"Authorization": f"bearer {token}"},
        json={"query": "{ viewer { id } }"},
    ).json()["data"]["viewer"]["id"]
    made = httpx.post(
        sandbox.graphql_url,
        headers={"Authorization": f"bearer {token}"},
        json={
            "query": (
                'mutation($o: ID!) { createProjectV2(input: {ownerId: $o, title: "x"}) '
                "{ projectV2 { id } } }"
            ),
            "variables": {"o": viewer},
        },
    ).json()
    assert made["errors"][0]["type"] == "INSUFFICIENT_SCOPES"

"""A board's items and fields over REST (GitHub's Projects endpoints of September 2025), through
httpx on the strict sandbox: the same board, ids and values GraphQL shows, cursor pages, ETags."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import httpx
from github.Repository import Repository

from orchestrator.sandbox.github import Sandbox
from tests.contract.board_worlds import graphql_client
from tests.sandbox.github.helpers import Git, push_branch

BOARD = """query($login: String!, $number: Int!) {
  repositoryOwner(login: $login) { ... on ProjectV2Owner { projectV2(number: $number) {
    id
    fields(first: 20) { nodes { ... on ProjectV2Field { databaseId name }
      ... on ProjectV2SingleSelectField { id databaseId name options { id name } } } }
    items(first: 100) { nodes { id databaseId fullDatabaseId updatedAt } }
  } } }
}"""


def get(url: str, **options: Any) -> httpx.Response:
    """GET with a timeout that outlasts a loaded test machine."""
    return httpx.get(url, timeout=60, **options)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"token {token}", "Accept": "application/vnd.github+json"}


def graphql(sandbox: Sandbox, query: str, **variables: Any) -> Any:
    answer = httpx.post(
        sandbox.graphql_url,
        headers={"Authorization": f"bearer {sandbox.token}"},
        json={"query": query, "variables": variables},
        timeout=60,
    ).json()
    assert "errors" not in answer, answer
    return answer["data"]


def new_board(sandbox: Sandbox, login: str, contents: list[str]) -> dict[str, Any]:
    """Create a board owned by `login` holding `contents` (node ids); return it as GraphQL reads
    it: {id, fields: {name: field}, items: [...]}, items in board order."""
    owner = graphql(sandbox, "query($l: String!) { repositoryOwner(login: $l) { id } }", l=login)
    made = graphql(
        sandbox,
        'mutation($o: ID!) { createProjectV2(input: {ownerId: $o, title: "Board"}) '
        "{ projectV2 { id number } } }",
        o=owner["repositoryOwner"]["id"],
    )["createProjectV2"]["projectV2"]
    for start in range(0, len(contents), 100):
        adds = " ".join(
            f'a{n}: addProjectV2ItemById(input: {{projectId: "{made["id"]}", contentId: "{c}"}}) '
            "{ item { id } }"
            for n, c in enumerate(contents[start : start + 100])
        )
        graphql(sandbox, f"mutation {{ {adds} }}")
    return read_board(sandbox, login, made["number"])


def read_board(sandbox: Sandbox, login: str, number: int = 1) -> dict[str, Any]:
    board = graphql(sandbox, BOARD, login=login, number=number)["repositoryOwner"]["projectV2"]
    return {
        "id": board["id"],
        "fields": {f["name"]: f for f in board["fields"]["nodes"]},
        "items": board["items"]["nodes"],
    }


def set_status(sandbox: Sandbox, board: dict[str, Any], item: str, name: str) -> None:
    """Set an item's Status with the product's own document, as the dispatcher does."""
    status = board["fields"]["Status"]
    option = next(o["id"] for o in status["options"] if o["name"] == name)
    client = graphql_client(sandbox.graphql_url, sandbox.token)
    try:
        client.run(
            "set_status",
            {"project": board["id"], "item": item, "field": status["id"], "option": option},
            subject="an item",
            action="set its status",
        )
    finally:
        client.close()


def items_url(sandbox: Sandbox, owner: str = "users/agentos", number: int = 1) -> str:
    return f"{sandbox.api_url}/{owner}/projectsV2/{number}/items"


def title(issue: Any, number: int, state: str = "open") -> dict[str, Any]:
    return {
        "raw": issue.title,
        "html": issue.title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"),
        "number": number,
        "url": issue.html_url,
        "issue_id": issue.id,
        "state": state,
        "state_reason": "completed" if state == "closed" else None,
    }


def test_items_hold_their_content_and_the_values_of_the_fields_asked_for(
    sandbox: Sandbox, repo: Repository, clone: Path, git: Git
) -> None:
    first = repo.create_issue("Fix <the> parser & more", labels=["bug"], assignees=["agentos"])
    second = repo.create_issue("Second")
    push_branch(git, clone, "feature")
    pull = repo.create_pull(base="main", head="feature", title="A change", body="")
    board = new_board(sandbox, "agentos", [first.node_id, second.node_id, pull.node_id])
    fields, items = board["fields"], board["items"]
    set_status(sandbox, board, items[0]["id"], "In Progress")

    plain = get(items_url(sandbox), headers=auth(sandbox.token))
    assert plain.status_code == 200 and "Link" not in plain.headers
    got = plain.json()
    assert [i["id"] for i in got] == [int(i["fullDatabaseId"]) for i in items]
    assert [i["id"] for i in got] == [i["databaseId"] for i in items]
    assert [i["node_id"] for i in got] == [i["id"] for i in items]
    assert [i["content_type"] for i in got] == ["Issue", "Issue", "PullRequest"]
    assert got[0]["fields"] == [
        {
            "id": fields["Title"]["databaseId"],
            "name": "Title",
            "data_type": "title",
            "value": title(first, 1),
        }
    ]
    assert got[2]["fields"][0]["value"]["is_draft"] is False
    assert got[0]["content"]["labels"][0]["name"] == "bug"
    assert got[0]["content"]["assignees"][0]["login"] == "agentos"
    assert (got[2]["content"]["number"], got[2]["content"]["head"]["ref"]) == (3, "feature")
    assert got[0]["creator"]["login"] == "agentos" and got[0]["archived_at"] is None
    board_url = f"{sandbox.api_url}/users/agentos/projectsV2/1"
    assert (got[1]["project_url"], got[1]["item_url"]) == (
        board_url,
        f"{board_url}/items/{got[1]['id']}",
    )

    status_id, labels_id = fields["Status"]["databaseId"], fields["Labels"]["databaseId"]
    comma = get(
        items_url(sandbox),
        params={"fields": f"{labels_id},{status_id}"},
        headers=auth(sandbox.token),
    ).json()
    repeated = get(
        items_url(sandbox),
        params=[("fields[]", str(status_id)), ("fields[]", str(labels_id))],
        headers=auth(sandbox.token),
    ).json()
    assert comma == repeated
    doing = next(o for o in fields["Status"]["options"] if o["name"] == "In Progress")
    assert comma[0]["fields"][0] == {
        "id": status_id,
        "name": "Status",
        "data_type": "single_select",
        "value": {
            "id": doing["id"],
            "name": {"raw": "In Progress", "html": "In Progress"},
            "color": "YELLOW",
            "description": {
                "raw": "This is actively being worked on",
                "html": "This is actively being worked on",
            },
        },
    }
    assert [f["value"] for f in comma[1]["fields"]] == [None, []]
    assert [label["name"] for label in comma[0]["fields"][1]["value"]] == ["bug"]


def test_the_fields_endpoint_lists_graphqls_fields(sandbox: Sandbox, repo: Repository) -> None:
    board = new_board(sandbox, "agentos", [repo.create_issue("one").node_id])
    listed = get(
        f"{sandbox.api_url}/users/agentos/projectsV2/1/fields?per_page=4",
        headers=auth(sandbox.token),
    )
    assert [f["name"] for f in listed.json()] == ["Title", "Assignees", "Status", "Labels"]
    status = listed.json()[2]
    assert (status["id"], status["node_id"]) == (
        board["fields"]["Status"]["databaseId"],
        board["fields"]["Status"]["id"],
    )
    assert [(o["id"], o["name"]["raw"]) for o in status["options"]] == [
        (o["id"], o["name"]) for o in board["fields"]["Status"]["options"]
    ]
    rest = get(listed.links["next"]["url"], headers=auth(sandbox.token)).json()
    assert [f["data_type"] for f in rest][:3] == ["linked_pull_requests", "milestone", "repository"]


def test_cursor_pages_hold_every_item_once_in_board_order(
    sandbox: Sandbox, repo: Repository
) -> None:
    api = httpx.Client(base_url=sandbox.api_url, headers=auth(sandbox.token), timeout=60)
    with sandbox.store.batch():
        made = [
            api.post(f"/repos/{repo.full_name}/issues", json={"title": f"t{n}"}) for n in range(250)
        ]
    board = new_board(sandbox, "agentos", [m.json()["node_id"] for m in made])
    order = [i["databaseId"] for i in board["items"]]
    assert len(order) == 100  # GraphQL's first page: the rest is read by REST below
    pages, url = [], f"{items_url(sandbox)}?per_page=100"
    while url:
        page = api.get(url)
        assert page.status_code == 200
        pages.append(page.json())
        url = page.links.get("next", {}).get("url")
    assert [len(p) for p in pages] == [100, 100, 50]
    seen = [i["id"] for p in pages for i in p]
    assert seen[:100] == order and len(set(seen)) == 250 and seen == sorted(seen)
    assert [i["content"]["title"] for p in pages for i in p] == [f"t{n}" for n in range(250)]

    back, url = [], page.links["prev"]["url"]
    while url:
        page = api.get(url)
        back.insert(0, [i["id"] for i in page.json()])
        url = page.links.get("prev", {}).get("url")
    assert [len(p) for p in back] == [100, 100] and sum(back, []) == seen[:200]
    assert len(api.get(items_url(sandbox)).json()) == 30  # per_page defaults to 30
    bad = api.get(items_url(sandbox), params={"after": "bm90IGEgY3Vyc29y"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "after"
    api.close()


def test_an_unchanged_page_is_304_and_every_change_gives_a_new_etag(
    sandbox: Sandbox, repo: Repository
) -> None:
    issue = repo.create_issue("Watched")
    board = new_board(sandbox, "agentos", [issue.node_id, repo.create_issue("Other").node_id])
    status_id = board["fields"]["Status"]["databaseId"]
    with sandbox.store.lock:  # an old stamp, so "moved" does not depend on the clock's second
        for item in sandbox.store.data["graphql"]["projects"][0]["items"]:
            item["updatedAt"] = "2020-01-01T00:00:00Z"
    url, headers = f"{items_url(sandbox)}?fields={status_id}", auth(sandbox.token)
    first = get(url, headers=headers)
    again = get(url, headers={**headers, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["X-RateLimit-Used"] == first.headers["X-RateLimit-Used"]

    set_status(sandbox, board, board["items"][0]["id"], "Done")
    moved = get(url, headers={**headers, "If-None-Match": first.headers["ETag"]})
    assert moved.status_code == 200 and moved.headers["ETag"] != first.headers["ETag"]
    item = moved.json()[0]
    assert item["fields"][0]["value"]["name"]["raw"] == "Done"
    assert item["updated_at"] != "2020-01-01T00:00:00Z"
    assert moved.json()[1]["updated_at"] == "2020-01-01T00:00:00Z"
    assert read_board(sandbox, "agentos")["items"][0]["updatedAt"] == item["updated_at"]

    issue.edit(state="closed")
    closed = get(url, headers={**headers, "If-None-Match": moved.headers["ETag"]})
    assert closed.status_code == 200 and closed.headers["ETag"] != moved.headers["ETag"]
    assert closed.json()[0]["content"]["state"] == "closed"
    issue.add_to_labels("later")
    labelled = get(url, headers={**headers, "If-None-Match": closed.headers["ETag"]})
    assert labelled.status_code == 200
    assert labelled.json()[0]["content"]["labels"][0]["name"] == "later"

    graphql(
        sandbox,
        "mutation($p: ID!, $i: ID!) { deleteProjectV2Item(input: {projectId: $p, itemId: $i}) "
        "{ deletedItemId } }",
        p=board["id"],
        i=board["items"][1]["id"],
    )
    removed = get(url, headers={**headers, "If-None-Match": labelled.headers["ETag"]})
    assert removed.status_code == 200 and len(removed.json()) == 1


def test_an_organizations_board(sandbox: Sandbox) -> None:
    sandbox.add_org("acme", {"agentos": "admin"})
    sandbox.create_repo("acme/tools")
    made = httpx.post(
        f"{sandbox.api_url}/repos/acme/tools/issues",
        json={"title": "Org work"},
        headers=auth(sandbox.token),
        timeout=60,
    ).json()
    board = new_board(sandbox, "acme", [made["node_id"]])
    got = get(items_url(sandbox, "orgs/acme"), headers=auth(sandbox.token))
    assert got.status_code == 200
    assert [(i["id"], i["content"]["title"]) for i in got.json()] == [
        (board["items"][0]["databaseId"], "Org work")
    ]
    assert got.json()[0]["project_url"] == f"{sandbox.api_url}/orgs/acme/projectsV2/1"
    wrong_kind = get(items_url(sandbox, "users/acme"), headers=auth(sandbox.token))
    outsider = get(items_url(sandbox, "orgs/acme"), headers=auth(sandbox.add_user("eve")))
    assert (wrong_kind.status_code, outsider.status_code) == (404, 404)


def test_a_missing_board_is_404_and_a_bad_field_422(sandbox: Sandbox, repo: Repository) -> None:
    for owner, number in (("users/agentos", 1), ("users/nobody", 1), ("orgs/nobody", 1)):
        missing = get(items_url(sandbox, owner, number), headers=auth(sandbox.token))
        assert (missing.status_code, missing.json()["message"]) == (404, "Not Found")
    board = new_board(sandbox, "agentos", [repo.create_issue("one").node_id])
    title_id = board["fields"]["Title"]["databaseId"]
    bad = get(
        items_url(sandbox), params={"fields": f"{title_id},999999"}, headers=auth(sandbox.token)
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["message"] == "The project has no field with the ID 999999"
    graphql(
        sandbox,
        "mutation($p: ID!) { createProjectV2Field(input: "
        '{projectId: $p, dataType: TEXT, name: "Agent"}) '
        "{ projectV2Field { ... on ProjectV2Field { databaseId } } } }",
        p=board["id"],
    )
    text_id = read_board(sandbox, "agentos")["fields"]["Agent"]["databaseId"]
    text = get(items_url(sandbox), params={"fields": text_id}, headers=auth(sandbox.token))
    assert text.status_code == 501 and "'Agent' (text)" in text.json()["message"]


def test_reading_a_board_needs_a_project_scope(sandbox: Sandbox, repo: Repository) -> None:
    new_board(sandbox, "agentos", [repo.create_issue("one").node_id])
    for scopes, status in ((["repo"], 403), (["repo", "read:project"], 200), (["project"], 200)):
        token = sandbox.add_user(
            "agentos",
            token="ghp_" + base64.b16encode(",".join(scopes).encode()).decode(),
            scopes=scopes,
        )
        assert get(items_url(sandbox), headers=auth(token)).status_code == status, scopes

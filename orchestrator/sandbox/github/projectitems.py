"""Serve a Projects (v2) board over REST: its items, with the values of chosen fields, and its
fields (the endpoints GitHub added in September 2025).

The board is the one GraphQL keeps (projects.py), so both APIs show the same numbers: an item's
`id` is ProjectV2Item.fullDatabaseId, a field's `id` is its databaseId, a single-select value's
`id` the option's id. Pages are cursor pages (`before`/`after` in the Link header).
"""

from __future__ import annotations

import base64
import binascii
import html
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from orchestrator.sandbox.github import accounts, issues, pulls, shapes
from orchestrator.sandbox.github.api import ApiError, Call, Reply, invalid, not_found
from orchestrator.sandbox.github.gqlcore import Context
from orchestrator.sandbox.github.projects import all_projects, may_write
from orchestrator.sandbox.github.routing import ROUTES
from orchestrator.sandbox.github.server import Incoming
from orchestrator.sandbox.github.state import Json, node_id
from orchestrator.sandbox.github.validation import ALLOWED_RESPONSE_DEVIATIONS

ITEMS = ("projects/list-items-for-user", "projects/list-items-for-org")
FIELDS = ("projects/list-fields-for-user", "projects/list-fields-for-org")
# Field types whose REST value the description documents (its example item) and the sandbox keeps.
# Milestones: the sandbox has none, so the value is always null.
VALUED = ("TITLE", "SINGLE_SELECT", "ASSIGNEES", "LABELS", "MILESTONE")
_CURSOR = "sandbox-cursor:"

# Answers GitHub gives that these operations' responses (200, 304, 401, 403) do not list: 404 for
# an owner or board that is not there or not visible to the caller, as GitHub answers everywhere;
# 422 for a `fields` id the board does not have, or a cursor that is none (GitHub's own answer to
# those is not documented). validation.py keeps the list; this module adds its operations' rows.
ALLOWED_RESPONSE_DEVIATIONS.update({(op, 404) for op in ITEMS + FIELDS})
ALLOWED_RESPONSE_DEVIATIONS.update({(op, 422) for op in ITEMS + FIELDS})


def board_for(call: Call, kind: str) -> Json:
    """Return the route's board if the caller may read it.

    A classic token needs `read:project` (or `project`), as GraphQL's boards do: 403 otherwise.
    An owner that is not a `kind` ("User", "Organization"), a board that is not there or that the
    caller may not see: GitHub's 404.
    """
    request = Incoming("GET", call.path, "", call.headers, b"")
    scopes = accounts.scopes(call.store, request)
    if scopes is not None and not {"read:project", "project"} & set(scopes):
        raise ApiError(
            403,
            "Your token has not been granted the required scopes to read this project: it "
            f"requires one of ['read:project', 'project'], but has only {list(scopes)}.",
        )
    who = call.store.user(call.params["username" if kind == "User" else "org"])
    if who is None or who["type"] != kind:
        raise not_found()
    try:
        number = int(call.params["project_number"])
    except ValueError:
        raise not_found() from None
    context = Context(call.store, call.login, call.base)
    board = next(
        (p for p in all_projects(context) if p["owner"] == who["login"] and p["number"] == number),
        None,
    )
    if board is None or not may_write(context, who["login"]):
        raise not_found()
    return board


def board_url(call: Call, board: Json) -> str:
    """Return the board's REST URL: API/users/LOGIN/projectsV2/N (orgs/ for an organization)."""
    who = call.store.users[board["owner"]]
    kind = "orgs" if who["type"] == "Organization" else "users"
    return f"{call.api}/{kind}/{who['login']}/projectsV2/{board['number']}"


def cursor(record_id: int) -> str:
    """Return the opaque cursor of the record with `record_id` (an item's or a field's id).

    Records keep the order they were added in (the sandbox has no reordering), and ids only
    grow, so "after this id" stays right when records around it come and go.
    """
    return base64.urlsafe_b64encode(f"{_CURSOR}{record_id}".encode()).decode().rstrip("=")


def _cursor_id(call: Call, name: str) -> int | None:
    raw = call.arg(name)
    if raw is None:
        return None
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        if text.startswith(_CURSOR):
            return int(text.removeprefix(_CURSOR))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise invalid("Query", name, message=f"`{raw}` does not appear to be a valid cursor.")


def cursor_page(call: Call, records: list[Json], render: Callable[[Json], Json]) -> Reply:
    """Return one page of `records` (`per_page`, at most 100, default 30) after `after` or before
    `before`, with a Link header whose rel="next" and rel="prev" carry the cursors."""
    per_page = max(1, min(call.int_arg("per_page", 30), 100))
    after, before = _cursor_id(call, "after"), _cursor_id(call, "before")
    window = [
        r
        for r in records
        if (after is None or r["id"] > after) and (before is None or r["id"] < before)
    ]
    page = window[-per_page:] if before is not None and after is None else window[:per_page]
    links = []
    if page and any(r["id"] > page[-1]["id"] for r in records):
        links.append(f'<{_page_url(call, "after", page[-1]["id"])}>; rel="next"')
    if page and any(r["id"] < page[0]["id"] for r in records):
        links.append(f'<{_page_url(call, "before", page[0]["id"])}>; rel="prev"')
    return Reply(200, [render(r) for r in page], {"Link": ", ".join(links)} if links else {})


def _page_url(call: Call, direction: str, record_id: int) -> str:
    query = [
        (k, v)
        for k, values in call.query.items()
        if k not in ("before", "after", "per_page")
        for v in values
    ]
    query += [("per_page", str(max(1, min(call.int_arg("per_page", 30), 100))))]
    query += [(direction, cursor(record_id))]
    return f"{call.api}{call.path}?{urlencode(query)}"


def chosen_fields(call: Call, board: Json) -> list[Json]:
    """Return the fields `fields` names (comma-separated ids, or repeated `fields[]=`), in the
    board's order; without it, the Title field, as the description says.

    An id the board does not have: 422 naming it. A field whose REST value the sandbox does not
    serve (text, number, date, repository, reviewers, ...): 501 naming it.
    """
    asked = [
        part.strip()
        for name in ("fields", "fields[]")
        for value in call.query.get(name, [])
        for part in value.split(",")
        if part.strip()
    ]
    if not asked:
        return [f for f in board["fields"] if f["dataType"] == "TITLE"]
    known = {str(f["id"]) for f in board["fields"]}
    for wanted in asked:
        if wanted not in known:
            raise invalid(
                "ProjectV2Item", "fields", message=f"The project has no field with the ID {wanted}"
            )
    fields = [f for f in board["fields"] if str(f["id"]) in asked]
    for field in fields:
        if field["dataType"] not in VALUED:
            raise ApiError(
                501,
                f"The sandbox does not implement the REST value of the field {field['name']!r} "
                f"({field['dataType'].lower()}) of project items",
            )
    return fields


def _text(value: str) -> Json:
    """Return GitHub's {raw, html} pair (the sandbox renders no Markdown: HTML is escaped text)."""
    return {"raw": value, "html": html.escape(value, quote=False)}


def field_value(call: Call, field: Json, item: Json, found: tuple[Json, Json] | None) -> Json:
    """Return one entry of an item's `fields`: {id, name, data_type, value} (null: no value)."""
    entry: Json = {"id": field["id"], "name": field["name"], "data_type": field["dataType"].lower()}
    repo, issue = found if found else ({}, None)
    users = call.store.users
    value: Any = None
    if field["dataType"] == "TITLE" and issue is not None:
        value = {
            **_text(issue["title"]),
            "number": issue["number"],
            "url": f"{call.base}/{repo['owner']}/{repo['name']}/"
            f"{'pull' if issue['pull'] else 'issues'}/{issue['number']}",
            "issue_id": issue["id"],
            "state": issue["state"],
            "state_reason": issue["state_reason"],
        }
        if issue["pull"]:
            value["is_draft"] = issue["pull"]["draft"]
    elif field["dataType"] == "SINGLE_SELECT":
        chosen = item["values"].get(str(field["id"]))
        option = next((o for o in field["options"] if o["id"] == chosen), None)
        if option is not None:
            value = {
                "id": option["id"],
                "name": _text(option["name"]),
                "color": option["color"],
                "description": _text(option["description"]),
            }
    elif field["dataType"] == "ASSIGNEES" and issue is not None:
        value = [shapes.simple_user(call.api, call.base, users[a]) for a in issue["assignees"]]
    elif field["dataType"] == "LABELS" and issue is not None:
        value = [shapes.label(call.api, repo, repo["labels"][n.lower()]) for n in issue["labels"]]
    return {**entry, "value": value}


def render_item(call: Call, board: Json, item: Json, fields: list[Json]) -> Json:
    """Return GitHub's `projects-v2-item-with-content`: the issue or pull request in REST's shape
    (`issue`, `pull-request-simple`) and the values of `fields`."""
    found = call.store.issue_by_id(item["content"])
    is_pull = bool(found and found[1]["pull"])
    content = None
    if found is not None:
        content = (
            pulls.render(call, found[0], found[1], full=False)
            if is_pull
            else issues.render(call, *found)
        )
    url = board_url(call, board)
    body: Json = {
        "id": item["id"],
        "node_id": node_id("ProjectV2Item", item["id"]),
        "project_url": url,
        "content": content,
        "content_type": "PullRequest" if is_pull else "Issue",
    }
    if item.get("creator"):  # items added before the sandbox kept creators have none
        creator = call.store.users[item["creator"]]
        body["creator"] = shapes.simple_user(call.api, call.base, creator)
    return {
        **body,
        "created_at": item["createdAt"],
        "updated_at": item["updatedAt"],
        "archived_at": None,  # the sandbox does not archive items
        "item_url": f"{url}/items/{item['id']}",
        "fields": [field_value(call, f, item, found) for f in fields],
    }


def render_field(call: Call, board: Json, field: Json) -> Json:
    """Return GitHub's `projects-v2-field` (its node id is GraphQL's)."""
    kind = (
        "ProjectV2SingleSelectField" if field["dataType"] == "SINGLE_SELECT" else "ProjectV2Field"
    )
    body: Json = {
        "id": field["id"],
        "node_id": node_id(kind, field["id"]),
        "project_url": board_url(call, board),
        "name": field["name"],
        "data_type": field["dataType"].lower(),
    }
    if field["dataType"] == "SINGLE_SELECT":
        body["options"] = [
            {
                "id": o["id"],
                "name": _text(o["name"]),
                "color": o["color"],
                "description": _text(o["description"]),
            }
            for o in field["options"]
        ]
    return {**body, "created_at": field["createdAt"], "updated_at": field["createdAt"]}


def _items(call: Call, kind: str) -> Reply:
    board = board_for(call, kind)
    if call.arg("q") is not None:
        raise ApiError(501, "The sandbox does not implement the `q` filter of project items")
    fields = chosen_fields(call, board)
    return cursor_page(call, board["items"], lambda i: render_item(call, board, i, fields))


def _fields(call: Call, kind: str) -> Reply:
    board = board_for(call, kind)
    return cursor_page(call, board["fields"], lambda f: render_field(call, board, f))


@ROUTES.route("GET", "/users/{username}/projectsV2/{project_number}/items", ITEMS[0])
def list_user_items(call: Call) -> Reply:
    """List a user's board's items, with the values of the fields asked for."""
    return _items(call, "User")


@ROUTES.route("GET", "/orgs/{org}/projectsV2/{project_number}/items", ITEMS[1])
def list_org_items(call: Call) -> Reply:
    """List an organization's board's items, with the values of the fields asked for."""
    return _items(call, "Organization")


@ROUTES.route("GET", "/users/{username}/projectsV2/{project_number}/fields", FIELDS[0])
def list_user_fields(call: Call) -> Reply:
    """List a user's board's fields."""
    return _fields(call, "User")


@ROUTES.route("GET", "/orgs/{org}/projectsV2/{project_number}/fields", FIELDS[1])
def list_org_fields(call: Call) -> Reply:
    """List an organization's board's fields."""
    return _fields(call, "Organization")

"""Keep Projects (v2) boards: projects, fields, items and their values, served through GraphQL."""

from __future__ import annotations

import secrets
from typing import Any

from orchestrator.sandbox.github.gqlcore import (
    Context,
    NotFound,
    actor,
    connection,
    issue,
    lookup,
    need_scope,
    owner,
    repository,
    resolves,
)
from orchestrator.sandbox.github.state import Json, node_id, now_iso

# A new project's Status field, as GitHub creates it.
DEFAULT_STATUS = (
    ("Todo", "GREEN", "This item hasn't been started"),
    ("In Progress", "YELLOW", "This is actively being worked on"),
    ("Done", "PURPLE", "This has been completed"),
)
DEFAULT_FIELDS = (
    ("Title", "TITLE"),
    ("Assignees", "ASSIGNEES"),
    ("Status", "SINGLE_SELECT"),
    ("Labels", "LABELS"),
    ("Linked pull requests", "LINKED_PULL_REQUESTS"),
    ("Milestone", "MILESTONE"),
    ("Repository", "REPOSITORY"),
    ("Reviewers", "REVIEWERS"),
    ("Parent issue", "PARENT_ISSUE"),
    ("Sub-issues progress", "SUB_ISSUES_PROGRESS"),
)


def all_projects(context: Context) -> list[Json]:
    """Return the list of project records (kept in the state under "graphql")."""
    return context.store.data["graphql"].setdefault("projects", [])  # type: ignore[no-any-return]


def option(name: str, color: str, description: str, option_id: str | None = None) -> Json:
    """Return a single-select option record (GitHub's option ids are 8 hex digits)."""
    return {
        "id": option_id or secrets.token_hex(4),
        "name": name,
        "color": color,
        "description": description,
    }


def new_field(
    context: Context, name: str, data_type: str, options: list[Json] | None = None
) -> Json:
    """Return a new field record."""
    return {
        "id": context.store.new_id(),
        "name": name,
        "dataType": data_type,
        "options": options,
        "createdAt": now_iso(),
    }


def render_project(context: Context, record: Json) -> Json:
    """Return a ProjectV2."""
    who = context.store.users[record["owner"]]
    kind = "orgs" if who["type"] == "Organization" else "users"
    return {
        "__typename": "ProjectV2",
        "id": node_id("ProjectV2", record["id"]),
        "databaseId": record["id"],
        "number": record["number"],
        "title": record["title"],
        "closed": False,
        "public": False,
        "shortDescription": None,
        "readme": None,
        "template": False,
        "url": f"{context.base}/{kind}/{who['login']}/projects/{record['number']}",
        "createdAt": record["createdAt"],
        "updatedAt": record["updatedAt"],
        "owner": owner(context, who),
        "_record": record,
    }


def render_field(context: Context, project: Json, field: Json) -> Json:
    """Return a ProjectV2Field or ProjectV2SingleSelectField."""
    kind = (
        "ProjectV2SingleSelectField" if field["dataType"] == "SINGLE_SELECT" else "ProjectV2Field"
    )
    return {
        "__typename": kind,
        "id": node_id(kind, field["id"]),
        "databaseId": field["id"],
        "name": field["name"],
        "dataType": field["dataType"],
        "createdAt": field["createdAt"],
        "updatedAt": field["createdAt"],
        "_field": field,
        "_project": project,
    }


def render_item(context: Context, project: Json, item: Json) -> Json:
    """Return a ProjectV2Item."""
    found = context.store.issue_by_id(item["content"])
    is_pull = bool(found and found[1]["pull"])
    rendered: Json = {
        "__typename": "ProjectV2Item",
        "id": node_id("ProjectV2Item", item["id"]),
        "databaseId": item["id"],
        "fullDatabaseId": str(item["id"]),
        "type": "PULL_REQUEST" if is_pull else "ISSUE",
        "isArchived": False,
        "createdAt": item["createdAt"],
        "updatedAt": item["updatedAt"],
        "_item": item,
        "_project": project,
    }
    if item.get("creator"):  # items added before the sandbox kept creators have none
        rendered["creator"] = actor(context, item["creator"])
    return rendered


def _value(context: Context, project: Json, item: Json, field: Json) -> Json | None:
    """Return the item's value for `field` as the matching ProjectV2ItemField*Value, or None."""
    base = {
        "id": node_id("ProjectV2ItemFieldValue", item["id"] * 1000 + field["id"] % 1000),
        "createdAt": item["createdAt"],
        "updatedAt": item["updatedAt"],
        "field": render_field(context, project, field),
    }
    if field["dataType"] == "TITLE":
        found = context.store.issue_by_id(item["content"])
        return {
            **base,
            "__typename": "ProjectV2ItemFieldTextValue",
            "text": found[1]["title"] if found else None,
        }
    stored = item["values"].get(str(field["id"]))
    if stored is None:
        return None
    if field["dataType"] == "SINGLE_SELECT":
        option = next((o for o in field["options"] if o["id"] == stored), None)
        if option is None:
            return None
        return {
            **base,
            "__typename": "ProjectV2ItemFieldSingleSelectValue",
            "optionId": option["id"],
            "name": option["name"],
            "nameHTML": option["name"],
            "color": option["color"],
            "description": option["description"],
            "descriptionHTML": option["description"],
        }
    kinds = {
        "TEXT": ("ProjectV2ItemFieldTextValue", "text"),
        "NUMBER": ("ProjectV2ItemFieldNumberValue", "number"),
        "DATE": ("ProjectV2ItemFieldDateValue", "date"),
    }
    kind, key = kinds[field["dataType"]]
    return {**base, "__typename": kind, key: stored}


def project_for(context: Context, project_id: Any) -> Json:
    """Return the project a node id names, if the caller may change it; else NOT_FOUND."""
    found = lookup(context, project_id, ("ProjectV2",))
    record = next((p for p in all_projects(context) if found and p["id"] == found[1]), None)
    if record is None or not may_write(context, record["owner"]):
        raise NotFound(f"Could not resolve to a node with the global id of '{project_id}'")
    return record


def may_write(context: Context, login: str) -> bool:
    """Return whether the caller may use projects of `login` (itself, or an org it belongs to)."""
    who = context.store.users[login]
    return login == context.login or context.login in who.get("members", {})


@resolves("User", "projectV2")
@resolves("Organization", "projectV2")
def resolve_project(source: Json, info: Any, number: int) -> Json:
    """Return the owner's project by number; NOT_FOUND otherwise.

    Raise INSUFFICIENT_SCOPES without read:project.
    """
    need_scope(info.context, "projectV2", "read:project")
    record = next(
        (
            p
            for p in all_projects(info.context)
            if p["owner"] == source["login"] and p["number"] == number
        ),
        None,
    )
    if record is None or not may_write(info.context, source["login"]):
        raise NotFound(f"Could not resolve to a ProjectV2 with the number {number}.")
    return render_project(info.context, record)


@resolves("User", "projectsV2")
@resolves("Organization", "projectsV2")
def resolve_projects(
    source: Json,
    info: Any,
    first: int | None = None,
    after: str | None = None,
    query: str | None = None,
    **_: Any,
) -> Json:
    """Return the owner's projects, newest first, whose title contains `query` (any case)."""
    need_scope(info.context, "projectsV2", "read:project")
    context: Context = info.context
    found = [
        p
        for p in all_projects(context)
        if p["owner"] == source["login"]
        and may_write(context, p["owner"])
        and (not query or query.lower() in p["title"].lower())
    ]
    found.sort(key=lambda p: p["number"], reverse=True)
    return connection(found, first, after, "projectsV2", lambda p: render_project(context, p))


@resolves("ProjectV2", "fields")
def resolve_fields(
    source: Json, info: Any, first: int | None = None, after: str | None = None, **_: Any
) -> Json:
    """Return the project's fields, paginated."""
    record = source["_record"]
    return connection(
        [render_field(info.context, record, f) for f in record["fields"]], first, after, "fields"
    )


@resolves("ProjectV2", "field")
def resolve_field(source: Json, info: Any, name: str) -> Json | None:
    """Return the project's field by name, or null."""
    record = source["_record"]
    field = next((f for f in record["fields"] if f["name"] == name), None)
    return render_field(info.context, record, field) if field else None


@resolves("ProjectV2SingleSelectField", "options")
def resolve_options(source: Json, info: Any, names: list[str] | None = None) -> list[Json]:
    """Return a single-select field's options, optionally by name."""
    return [
        {**o, "nameHTML": o["name"], "descriptionHTML": o["description"]}
        for o in source["_field"]["options"]
        if names is None or o["name"] in names
    ]


@resolves("ProjectV2", "items")
def resolve_items(
    source: Json, info: Any, first: int | None = None, after: str | None = None, **_: Any
) -> Json:
    """Return the project's items, paginated."""
    record = source["_record"]
    return connection(
        record["items"], first, after, "items", lambda i: render_item(info.context, record, i)
    )


@resolves("ProjectV2", "repositories")
def resolve_repositories(
    source: Json, info: Any, first: int | None = None, after: str | None = None, **_: Any
) -> Json:
    """Return the repositories linked to the project."""
    repos = [
        r for r in info.context.store.repos.values() if r["id"] in source["_record"]["repositories"]
    ]
    return connection([repository(info.context, r) for r in repos], first, after, "repositories")


@resolves("ProjectV2Item", "content")
def resolve_content(source: Json, info: Any) -> Json | None:
    """Return the issue or pull request an item holds."""
    found = info.context.store.issue_by_id(source["_item"]["content"])
    return issue(info.context, *found) if found else None


@resolves("ProjectV2Item", "project")
@resolves("ProjectV2Field", "project")
@resolves("ProjectV2SingleSelectField", "project")
def resolve_item_project(source: Json, info: Any) -> Json:
    """Return the project an item or field belongs to."""
    return render_project(info.context, source["_project"])


@resolves("ProjectV2Item", "fieldValueByName")
def resolve_value_by_name(source: Json, info: Any, name: str) -> Json | None:
    """Return the item's value for the field called `name`, or null."""
    project = source["_project"]
    field = next((f for f in project["fields"] if f["name"] == name), None)
    return _value(info.context, project, source["_item"], field) if field else None


@resolves("ProjectV2Item", "fieldValues")
def resolve_values(
    source: Json, info: Any, first: int | None = None, after: str | None = None, **_: Any
) -> Json:
    """Return the item's set values, paginated."""
    project, item = source["_project"], source["_item"]
    values = [v for f in project["fields"] if (v := _value(info.context, project, item, f))]
    return connection(values, first, after, "fieldValues")


@resolves("Issue", "projectItems")
@resolves("PullRequest", "projectItems")
def resolve_project_items(
    source: Json, info: Any, first: int | None = None, after: str | None = None, **_: Any
) -> Json:
    """List the board items holding this issue, in projects the caller may see."""
    context: Context = info.context
    items = [
        render_item(context, p, i)
        for p in all_projects(context)
        if may_write(context, p["owner"])
        for i in p["items"]
        if i["content"] == source["_issue"]["id"]
    ]
    return connection(items, first, after, "projectItems")

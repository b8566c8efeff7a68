"""Resolve the Projects (v2) mutations, and node(id).

The mutations: create project and fields, add, set, delete items, link.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError

from orchestrator.sandbox.github.access import can
from orchestrator.sandbox.github.gqlcore import (
    Context,
    NotFound,
    issue,
    lookup,
    need_scope,
    owner,
    repository,
    resolves,
)
from orchestrator.sandbox.github.projects import (
    DEFAULT_FIELDS,
    DEFAULT_STATUS,
    all_projects,
    may_write,
    new_field,
    option,
    project_for,
    render_field,
    render_item,
    render_project,
)
from orchestrator.sandbox.github.state import Json, now_iso


def _payload(data: Json, input: Json) -> Json:  # noqa: A002 (GraphQL's argument name)
    return {"clientMutationId": input.get("clientMutationId"), **data}


@resolves("Mutation", "createProjectV2")
def create_project(_: Any, info: Any, input: Json) -> Json:  # noqa: A002
    """Create a project with GitHub's default fields (Status: Todo, In Progress, Done)."""
    context: Context = info.context
    need_scope(context, "createProjectV2", "project")
    found = lookup(context, input["ownerId"], ("User", "Organization"))
    who = next((u for u in context.store.users.values() if found and u["id"] == found[1]), None)
    if who is None or not may_write(context, who["login"]):
        raise NotFound(f"Could not resolve to a node with the global id of '{input['ownerId']}'")
    now = now_iso()
    number = 1 + max(
        (p["number"] for p in all_projects(context) if p["owner"] == who["login"]), default=0
    )
    record: Json = {
        "id": context.store.new_id(),
        "number": number,
        "owner": who["login"],
        "title": input["title"],
        "createdAt": now,
        "updatedAt": now,
        "fields": [],
        "items": [],
        "repositories": [],
    }
    for name, data_type in DEFAULT_FIELDS:
        options = [option(*o) for o in DEFAULT_STATUS] if data_type == "SINGLE_SELECT" else None
        record["fields"].append(new_field(context, name, data_type, options))
    all_projects(context).append(record)
    if input.get("repositoryId"):
        _link(context, record, input["repositoryId"])
    return _payload({"projectV2": render_project(context, record)}, input)


def _field_for(context: Context, project: Json, field_id: Any) -> Json:
    found = lookup(context, field_id, ("ProjectV2Field", "ProjectV2SingleSelectField"))
    field: Json | None = next((f for f in project["fields"] if found and f["id"] == found[1]), None)
    if field is None:
        raise NotFound(f"Could not resolve to a node with the global id of '{field_id}'")
    return field


def _options(given: list[Json], old: list[Json]) -> list[Json]:
    """Build options from input, as GitHub does.

    One sent with an existing option's `id` keeps that id (and so the items set to it); any other is
    created afresh, even under an old name, and its old items lose the value.
    """
    ids = {o["id"] for o in old}
    return [
        option(o["name"], o["color"], o["description"], o.get("id") if o.get("id") in ids else None)
        for o in given
    ]


@resolves("Mutation", "createProjectV2Field")
def create_field(_: Any, info: Any, input: Json) -> Json:  # noqa: A002
    """Add a custom field to a project."""
    context: Context = info.context
    need_scope(context, "createProjectV2Field", "project")
    project = project_for(context, input["projectId"])
    if any(f["name"].lower() == input["name"].lower() for f in project["fields"]):
        raise GraphQLError("Name has already been taken")
    if input["dataType"] == "SINGLE_SELECT" and not input.get("singleSelectOptions"):
        raise GraphQLError("Single select fields must have at least one option")
    options = (
        _options(input.get("singleSelectOptions") or [], [])
        if input["dataType"] == "SINGLE_SELECT"
        else None
    )
    field = new_field(context, input["name"], input["dataType"], options)
    project["fields"].append(field)
    return _payload({"projectV2Field": render_field(context, project, field)}, input)


@resolves("Mutation", "updateProjectV2Field")
def update_field(_: Any, info: Any, input: Json) -> Json:  # noqa: A002
    """Rename a field or replace its single-select options."""
    context: Context = info.context
    need_scope(context, "updateProjectV2Field", "project")
    project = next(
        (
            p
            for p in all_projects(context)
            for f in p["fields"]
            if (
                found := lookup(
                    context, input["fieldId"], ("ProjectV2Field", "ProjectV2SingleSelectField")
                )
            )
            and f["id"] == found[1]
        ),
        None,
    )
    if project is None or not may_write(context, project["owner"]):
        raise NotFound(f"Could not resolve to a node with the global id of '{input['fieldId']}'")
    field = _field_for(context, project, input["fieldId"])
    if input.get("name"):
        field["name"] = input["name"]
    if input.get("singleSelectOptions") and field["dataType"] == "SINGLE_SELECT":
        field["options"] = _options(input["singleSelectOptions"], field["options"])
        kept = {o["id"] for o in field["options"]}
        for item in project["items"]:
            if item["values"].get(str(field["id"])) not in kept:
                item["values"].pop(str(field["id"]), None)
    return _payload({"projectV2Field": render_field(context, project, field)}, input)


@resolves("Mutation", "addProjectV2ItemById")
def add_item(_: Any, info: Any, input: Json) -> Json:  # noqa: A002
    """Add an issue or pull request to a project (again: the existing item)."""
    context: Context = info.context
    need_scope(context, "addProjectV2ItemById", "project")
    project = project_for(context, input["projectId"])
    found = lookup(context, input["contentId"], ("Issue", "PullRequest"))
    content = context.store.issue_by_id(found[1]) if found else None
    if content is None or not can(context.store, content[0], context.login, "pull"):
        raise NotFound(f"Could not resolve to a node with the global id of '{input['contentId']}'")
    item = next((i for i in project["items"] if i["content"] == content[1]["id"]), None)
    if item is None:  # adding twice returns the existing item, as GitHub does
        now = now_iso()
        item = {
            "id": context.store.new_id(),
            "content": content[1]["id"],
            "values": {},
            "createdAt": now,
            "updatedAt": now,
            "creator": context.login,
        }
        project["items"].append(item)
    return _payload({"item": render_item(context, project, item)}, input)


def _item_for(context: Context, project: Json, item_id: Any) -> Json:
    found = lookup(context, item_id, ("ProjectV2Item",))
    item: Json | None = next((i for i in project["items"] if found and i["id"] == found[1]), None)
    if item is None:
        raise NotFound(f"Could not resolve to a node with the global id of '{item_id}'")
    return item


@resolves("Mutation", "updateProjectV2ItemFieldValue")
def set_value(_: Any, info: Any, input: Json) -> Json:  # noqa: A002
    """Set an item's value for a field."""
    context: Context = info.context
    need_scope(context, "updateProjectV2ItemFieldValue", "project")
    project = project_for(context, input["projectId"])
    item, field = (
        _item_for(context, project, input["itemId"]),
        _field_for(context, project, input["fieldId"]),
    )
    value = input["value"]
    if field["dataType"] == "SINGLE_SELECT":
        chosen = value.get("singleSelectOptionId")
        if chosen not in {o["id"] for o in field["options"]}:
            raise GraphQLError(
                f"The single select option Id does not belong to the field: {chosen}"
            )
    else:
        key = {"TEXT": "text", "NUMBER": "number", "DATE": "date"}.get(field["dataType"])
        if key is None or key not in value:
            raise GraphQLError(
                f"The field of type {field['dataType']} cannot be updated with this value"
            )
        chosen = value[key]
    item["values"][str(field["id"])] = chosen
    item["updatedAt"] = now_iso()  # GitHub records the item as updated: REST's updated_at too
    return _payload({"projectV2Item": render_item(context, project, item)}, input)


@resolves("Mutation", "clearProjectV2ItemFieldValue")
def clear_value(_: Any, info: Any, input: Json) -> Json:  # noqa: A002
    """Clear an item's value for a field."""
    context: Context = info.context
    need_scope(context, "clearProjectV2ItemFieldValue", "project")
    project = project_for(context, input["projectId"])
    item, field = (
        _item_for(context, project, input["itemId"]),
        _field_for(context, project, input["fieldId"]),
    )
    if item["values"].pop(str(field["id"]), None) is not None:
        item["updatedAt"] = now_iso()  # GitHub records the item as updated
    return _payload({"projectV2Item": render_item(context, project, item)}, input)


@resolves("Mutation", "deleteProjectV2Item")
def delete_item(_: Any, info: Any, input: Json) -> Json:  # noqa: A002
    """Remove an item from a project."""
    context: Context = info.context
    need_scope(context, "deleteProjectV2Item", "project")
    project = project_for(context, input["projectId"])
    item = _item_for(context, project, input["itemId"])
    project["items"].remove(item)
    return _payload({"deletedItemId": input["itemId"]}, input)


def _link(context: Context, project: Json, repository_id: Any) -> Json:
    found = lookup(context, repository_id, ("Repository",))
    repo = next((r for r in context.store.repos.values() if found and r["id"] == found[1]), None)
    if repo is None or not can(context.store, repo, context.login, "admin"):
        raise NotFound(f"Could not resolve to a node with the global id of '{repository_id}'")
    if repo["id"] not in project["repositories"]:
        project["repositories"].append(repo["id"])
    return repo


@resolves("Mutation", "linkProjectV2ToRepository")
def link_repository(_: Any, info: Any, input: Json) -> Json:  # noqa: A002
    """Link a project to a repository."""
    context: Context = info.context
    need_scope(context, "linkProjectV2ToRepository", "project")
    repo = _link(context, project_for(context, input["projectId"]), input["repositoryId"])
    return _payload({"repository": repository(context, repo)}, input)


@resolves("Query", "node")
def resolve_node(_: Any, info: Any, id: str) -> Json | None:  # noqa: A002
    """Return whatever a node id names, if the caller may see it."""
    context: Context = info.context
    found = lookup(
        context,
        id,
        (
            "Issue",
            "PullRequest",
            "ProjectV2",
            "ProjectV2Item",
            "User",
            "Organization",
            "Repository",
        ),
    )
    if found is None:
        raise NotFound(f"Could not resolve to a node with the global id of '{id}'")
    kind, number = found
    if kind in ("Issue", "PullRequest"):
        hit = context.store.issue_by_id(number)
        return (
            issue(context, *hit)
            if hit and can(context.store, hit[0], context.login, "pull")
            else None
        )
    if kind in ("User", "Organization"):
        who = next((u for u in context.store.users.values() if u["id"] == number), None)
        return owner(context, who) if who else None
    if kind == "Repository":
        repo = next((r for r in context.store.repos.values() if r["id"] == number), None)
        return (
            repository(context, repo)
            if repo and can(context.store, repo, context.login, "pull")
            else None
        )
    for project in all_projects(context):
        if kind == "ProjectV2" and project["id"] == number and may_write(context, project["owner"]):
            return render_project(context, project)
        item = next((i for i in project["items"] if i["id"] == number), None)
        if kind == "ProjectV2Item" and item and may_write(context, project["owner"]):
            return render_item(context, project, item)
    return None

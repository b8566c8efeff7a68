"""Serve repository labels and the labels on an issue."""

from __future__ import annotations

import re
from typing import Any

from orchestrator.sandbox.github import shapes
from orchestrator.sandbox.github.access import repo_for
from orchestrator.sandbox.github.api import ApiError, Call, Reply, invalid, not_found, paginate
from orchestrator.sandbox.github.issues import apply_labels, issue_for, remove_label
from orchestrator.sandbox.github.routing import ROUTES
from orchestrator.sandbox.github.state import Json

_COLOR = re.compile(r"^[0-9a-fA-F]{6}$")


def _label_for(call: Call, repo: Json) -> Json:
    record: Json | None = repo["labels"].get(call.params["name"].lower())
    if record is None:
        raise not_found()
    return record


def _check_lengths(name: Any, description: Any) -> None:
    """Refuse a name over 50 or a description over 100 characters, in GitHub's words."""
    for field_name, value, limit in (("name", name, 50), ("description", description, 100)):
        if isinstance(value, str) and len(value) > limit:
            message = f"{field_name} is too long (maximum is {limit} characters)"
            raise invalid("Label", field_name, "custom", message)


def _color(value: Any) -> str:
    color = str(value).lstrip("#")
    if not _COLOR.match(color):
        raise invalid("Label", "color")
    return color.lower()


@ROUTES.route("GET", "/repos/{owner}/{repo}/labels", "issues/list-labels-for-repo")
def list_labels(call: Call) -> Reply:
    """List the repository's labels by name."""
    repo = repo_for(call)
    records = sorted(repo["labels"].values(), key=lambda r: r["name"].lower())
    return paginate(call, records, lambda r: shapes.label(call.api, repo, r))


@ROUTES.route("POST", "/repos/{owner}/{repo}/labels", "issues/create-label")
def create_label(call: Call) -> Reply:
    """Create a label; 422 already_exists if the name is taken (case-insensitively)."""
    repo = repo_for(call, "push")
    name = str(call.field("name") or "").strip()
    if not name:
        raise invalid("Label", "name", "missing_field")
    _check_lengths(name, call.field("description"))
    if name.lower() in repo["labels"]:
        raise invalid("Label", "name", "already_exists")
    record = {
        "id": call.store.new_id(),
        "name": name,
        "color": _color(call.field("color", "ededed")),
        "description": call.field("description"),
        "default": False,
    }
    repo["labels"][name.lower()] = record
    return Reply(
        201,
        shapes.label(call.api, repo, record),
        {"Location": shapes.label(call.api, repo, record)["url"]},
    )


@ROUTES.route("GET", "/repos/{owner}/{repo}/labels/{name}", "issues/get-label")
def get_label(call: Call) -> Reply:
    """Return one label."""
    repo = repo_for(call)
    return Reply(200, shapes.label(call.api, repo, _label_for(call, repo)))


@ROUTES.route("PATCH", "/repos/{owner}/{repo}/labels/{name}", "issues/update-label")
def update_label(call: Call) -> Reply:
    """Rename or recolour a label; issues carrying it follow the rename."""
    repo = repo_for(call, "push")
    record = _label_for(call, repo)
    _check_lengths(call.field("new_name"), call.field("description"))
    if "color" in call.body:
        record["color"] = _color(call.body["color"])
    if "description" in call.body:
        record["description"] = call.body["description"]
    new_name = call.field("new_name")
    if new_name and new_name != record["name"]:
        if new_name.lower() in repo["labels"] and new_name.lower() != record["name"].lower():
            raise invalid("Label", "name", "already_exists")
        old = repo["labels"].pop(record["name"].lower())["name"]
        record["name"] = new_name
        repo["labels"][new_name.lower()] = record
        for issue in repo["issues"].values():
            issue["labels"] = [new_name if n == old else n for n in issue["labels"]]
    return Reply(200, shapes.label(call.api, repo, record))


@ROUTES.route("DELETE", "/repos/{owner}/{repo}/labels/{name}", "issues/delete-label")
def delete_label(call: Call) -> Reply:
    """Delete a label and take it off every issue."""
    repo = repo_for(call, "push")
    record = repo["labels"].pop(_label_for(call, repo)["name"].lower())
    for issue in repo["issues"].values():
        issue["labels"] = [n for n in issue["labels"] if n.lower() != record["name"].lower()]
    return Reply(204)


def _issue_labels(call: Call, repo: Json, issue: Json) -> list[Json]:
    return [shapes.label(call.api, repo, repo["labels"][n.lower()]) for n in issue["labels"]]


def _names(body: Any) -> list[Any]:
    """Accept {"labels": [...]} or a bare array (PyGithub sends the array; GitHub accepts both)."""
    names = body.get("labels", []) if isinstance(body, dict) else body
    return list(names or [])


@ROUTES.route(
    "GET", "/repos/{owner}/{repo}/issues/{issue_number}/labels", "issues/list-labels-on-issue"
)
def list_issue_labels(call: Call) -> Reply:
    """List the labels on an issue."""
    repo = repo_for(call)
    issue = issue_for(call, repo)
    return paginate(call, _issue_labels(call, repo, issue))


@ROUTES.route("POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels", "issues/add-labels")
def add_labels(call: Call) -> Reply:
    """Add labels to an issue, creating unknown ones; returns all its labels."""
    repo = repo_for(call, "triage")
    issue = issue_for(call, repo)
    apply_labels(call, repo, issue, _names(call.body), replace=False)
    return Reply(200, _issue_labels(call, repo, issue))


@ROUTES.route("PUT", "/repos/{owner}/{repo}/issues/{issue_number}/labels", "issues/set-labels")
def set_labels(call: Call) -> Reply:
    """Replace an issue's labels."""
    repo = repo_for(call, "triage")
    issue = issue_for(call, repo)
    apply_labels(call, repo, issue, _names(call.body), replace=True)
    return Reply(200, _issue_labels(call, repo, issue))


@ROUTES.route(
    "DELETE", "/repos/{owner}/{repo}/issues/{issue_number}/labels", "issues/remove-all-labels"
)
def remove_all_labels(call: Call) -> Reply:
    """Take every label off an issue."""
    repo = repo_for(call, "triage")
    issue = issue_for(call, repo)
    for name in list(issue["labels"]):
        remove_label(call, repo, issue, name)
    return Reply(204)


@ROUTES.route(
    "DELETE", "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}", "issues/remove-label"
)
def remove_one_label(call: Call) -> Reply:
    """Take one label off an issue; 404 "Label does not exist" if it is not on it."""
    repo = repo_for(call, "triage")
    issue = issue_for(call, repo)
    if call.params["name"].lower() not in {n.lower() for n in issue["labels"]}:
        raise ApiError(404, "Label does not exist")
    remove_label(call, repo, issue, call.params["name"])
    return Reply(200, _issue_labels(call, repo, issue))

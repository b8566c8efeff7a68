"""Resolve the issue mutations: create, close, reopen, update, comment, add and remove labels.

Each finds its records by node id and runs the REST handler making the same change.
"""

from __future__ import annotations

from typing import Any

from orchestrator.sandbox.github import comments, issues, labels
from orchestrator.sandbox.github.gqlcore import Context, cursor, issue, resolves
from orchestrator.sandbox.github.gqlissues import comment
from orchestrator.sandbox.github.gqlrefuse import refuse_unserved
from orchestrator.sandbox.github.gqlrest import (
    issue_params,
    label_names,
    payload,
    run,
    user_logins,
    visible_issue,
    visible_repo,
)
from orchestrator.sandbox.github.state import Json

ISSUES = ("Issue",)
LABELABLE = ("Issue", "PullRequest")


def edits(context: Context, repo: Json, given: Json) -> Json:
    """Return the REST body for the title, body, labels and assignees `given` sets."""
    body: Json = {k: given[k] for k in ("title", "body") if given.get(k) is not None}
    if given.get("labelIds") is not None:
        body["labels"] = label_names(context, repo, given["labelIds"])
    if given.get("assigneeIds") is not None:
        body["assignees"] = user_logins(context, given["assigneeIds"])
    return body


@resolves("Mutation", "createIssue")
def create_issue(_: Any, info: Any, input: Json) -> Json:  # noqa: A002 (GraphQL's name)
    """Open an issue (labels and assignees, as on REST, only with push access)."""
    context: Context = info.context
    refuse_unserved(
        input, "CreateIssueInput", {"repositoryId", "title", "body", "labelIds", "assigneeIds"}
    )
    repo = visible_repo(context, input["repositoryId"])
    body = {"title": input["title"], **edits(context, repo, {**input, "title": None})}
    where = {"owner": repo["owner"], "repo": repo["name"]}
    made = run(context, issues.create, "CreateIssue", where, body).body
    return payload({"issue": issue(context, repo, repo["issues"][str(made["number"])])}, input)


def _set_state(context: Context, given: Json, state: str, operation: str) -> Json:
    repo, record = visible_issue(context, given["issueId"], ISSUES)
    body: Json = {"state": state}
    if given.get("stateReason"):
        body["state_reason"] = given["stateReason"].lower()
    run(context, issues.update, operation, issue_params(repo, record), body)
    return payload({"issue": issue(context, repo, record)}, given)


@resolves("Mutation", "closeIssue")
def close_issue(_: Any, info: Any, input: Json) -> Json:  # noqa: A002
    """Close an issue, as completed unless `stateReason` says NOT_PLANNED."""
    refuse_unserved(input, "CloseIssueInput", {"issueId", "stateReason"})
    return _set_state(info.context, input, "closed", "CloseIssue")


@resolves("Mutation", "reopenIssue")
def reopen_issue(_: Any, info: Any, input: Json) -> Json:  # noqa: A002
    """Reopen an issue."""
    refuse_unserved(input, "ReopenIssueInput", {"issueId"})
    return _set_state(info.context, input, "open", "ReopenIssue")


@resolves("Mutation", "updateIssue")
def update_issue(_: Any, info: Any, input: Json) -> Json:  # noqa: A002
    """Edit an issue's title, body, state, labels (all of them) or assignees."""
    context: Context = info.context
    refuse_unserved(
        input, "UpdateIssueInput", {"id", "title", "body", "state", "labelIds", "assigneeIds"}
    )
    repo, record = visible_issue(context, input["id"], ISSUES)
    body = edits(context, repo, input)
    if input.get("state"):
        body["state"] = input["state"].lower()
    run(context, issues.update, "UpdateIssue", issue_params(repo, record), body)
    return payload({"issue": issue(context, repo, record)}, input)


@resolves("Mutation", "addComment")
def add_comment(_: Any, info: Any, input: Json) -> Json:  # noqa: A002
    """Comment on an issue or pull request."""
    context: Context = info.context
    refuse_unserved(input, "AddCommentInput", {"subjectId", "body"})
    repo, record = visible_issue(context, input["subjectId"], LABELABLE)
    made = run(
        context,
        comments.create_comment,
        "AddComment",
        issue_params(repo, record),
        {"body": input["body"]},
    ).body
    node = comment(context, repo, repo["comments"][str(made["id"])])
    at = cursor(sum(1 for c in repo["comments"].values() if c["issue"] == record["number"]) - 1)
    edge = {"cursor": at, "node": node}
    return payload(
        {"commentEdge": edge, "timelineEdge": edge, "subject": issue(context, repo, record)},
        input,
    )


@resolves("Mutation", "addLabelsToLabelable")
def add_labels(_: Any, info: Any, input: Json) -> Json:  # noqa: A002
    """Add labels (by id) to an issue or pull request."""
    context: Context = info.context
    refuse_unserved(input, "AddLabelsToLabelableInput", {"labelableId", "labelIds"})
    repo, record = visible_issue(context, input["labelableId"], LABELABLE)
    names = label_names(context, repo, input["labelIds"])
    run(
        context,
        labels.add_labels,
        "AddLabelsToLabelable",
        issue_params(repo, record),
        {"labels": names},
    )
    return payload({"labelable": issue(context, repo, record)}, input)


@resolves("Mutation", "removeLabelsFromLabelable")
def remove_labels(_: Any, info: Any, input: Json) -> Json:  # noqa: A002
    """Take labels (by id) off an issue or pull request; one it does not carry is no change."""
    context: Context = info.context
    refuse_unserved(input, "RemoveLabelsFromLabelableInput", {"labelableId", "labelIds"})
    repo, record = visible_issue(context, input["labelableId"], LABELABLE)
    gone = {n.lower() for n in label_names(context, repo, input["labelIds"])}
    kept = [n for n in record["labels"] if n.lower() not in gone]
    run(
        context,
        labels.set_labels,
        "RemoveLabelsFromLabelable",
        issue_params(repo, record),
        {"labels": kept},
    )
    return payload({"labelable": issue(context, repo, record)}, input)

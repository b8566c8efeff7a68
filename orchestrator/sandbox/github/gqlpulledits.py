"""Resolve the pull request mutations: create, update, close, reopen and merge.

Each finds its records by node id and runs the REST handler making the same change.
"""

from __future__ import annotations

from typing import Any

from orchestrator.sandbox.github import issues, pulls, reviews
from orchestrator.sandbox.github.gqlcore import Context, actor, issue, resolves
from orchestrator.sandbox.github.gqlissueedits import edits
from orchestrator.sandbox.github.gqlpulls import review
from orchestrator.sandbox.github.gqlrefuse import Unimplemented, refuse_unserved
from orchestrator.sandbox.github.gqlrest import (
    issue_params,
    payload,
    run,
    visible_issue,
    visible_repo,
)
from orchestrator.sandbox.github.state import Json

PULLS = ("PullRequest",)


@resolves("Mutation", "createPullRequest")
def create_pull(_: Any, info: Any, input: Json) -> Json:  # noqa: A002 (GraphQL's name)
    """Open a pull request from a branch of the same repository (the sandbox has no forks)."""
    context: Context = info.context
    refuse_unserved(
        input,
        "CreatePullRequestInput",
        {"repositoryId", "baseRefName", "headRefName", "headRepositoryId", "title", "body"}
        | {"draft", "maintainerCanModify"},
    )
    repo = visible_repo(context, input["repositoryId"])
    if input.get("headRepositoryId") not in (None, input["repositoryId"]):
        raise Unimplemented("CreatePullRequestInput", "headRepositoryId")
    body = {
        "head": input["headRefName"],
        "base": input["baseRefName"],
        "title": input["title"],
        "body": input.get("body"),
        "draft": bool(input.get("draft")),
        "maintainer_can_modify": input.get("maintainerCanModify") is not False,
    }
    where = {"owner": repo["owner"], "repo": repo["name"]}
    made = run(context, pulls.create, "CreatePullRequest", where, body).body
    record = repo["issues"][str(made["number"])]
    return payload({"pullRequest": issue(context, repo, record)}, input)


@resolves("Mutation", "updatePullRequest")
def update_pull(_: Any, info: Any, input: Json) -> Json:  # noqa: A002
    """Edit a pull request's title, body, base, state, labels (all of them) or assignees."""
    context: Context = info.context
    refuse_unserved(
        input,
        "UpdatePullRequestInput",
        {"pullRequestId", "title", "body", "baseRefName", "state", "maintainerCanModify"}
        | {"labelIds", "assigneeIds"},
    )
    repo, record = visible_issue(context, input["pullRequestId"], PULLS)
    where = issue_params(repo, record)
    body = {k: v for k, v in edits(context, repo, input).items() if k in ("title", "body")}
    if input.get("baseRefName"):
        body["base"] = input["baseRefName"]
    if input.get("state"):
        body["state"] = input["state"].lower()
    if input.get("maintainerCanModify") is not None:
        body["maintainer_can_modify"] = input["maintainerCanModify"]
    run(context, pulls.update, "UpdatePullRequest", where, body)
    tags = {k: v for k, v in edits(context, repo, input).items() if k in ("labels", "assignees")}
    if tags:
        run(context, issues.update, "UpdatePullRequest", where, tags)
    return payload(
        {"pullRequest": issue(context, repo, record), "actor": actor(context, context.login)},
        input,
    )


def _set_state(context: Context, given: Json, state: str, operation: str) -> Json:
    repo, record = visible_issue(context, given["pullRequestId"], PULLS)
    run(context, pulls.update, operation, issue_params(repo, record), {"state": state})
    return payload({"pullRequest": issue(context, repo, record)}, given)


@resolves("Mutation", "closePullRequest")
def close_pull(_: Any, info: Any, input: Json) -> Json:  # noqa: A002
    """Close a pull request without merging it."""
    refuse_unserved(input, "ClosePullRequestInput", {"pullRequestId"})
    return _set_state(info.context, input, "closed", "ClosePullRequest")


@resolves("Mutation", "reopenPullRequest")
def reopen_pull(_: Any, info: Any, input: Json) -> Json:  # noqa: A002
    """Reopen a closed pull request."""
    refuse_unserved(input, "ReopenPullRequestInput", {"pullRequestId"})
    return _set_state(info.context, input, "open", "ReopenPullRequest")


@resolves("Mutation", "mergePullRequest")
def merge_pull(_: Any, info: Any, input: Json) -> Json:  # noqa: A002
    """Merge a pull request by MERGE, SQUASH or REBASE; close the issues its body names."""
    context: Context = info.context
    refuse_unserved(
        input,
        "MergePullRequestInput",
        {"pullRequestId", "mergeMethod", "commitHeadline", "commitBody", "expectedHeadOid"},
    )
    repo, record = visible_issue(context, input["pullRequestId"], PULLS)
    body = {
        "merge_method": (input.get("mergeMethod") or "MERGE").lower(),
        "commit_title": input.get("commitHeadline"),
        "commit_message": input.get("commitBody"),
        "sha": input.get("expectedHeadOid"),
    }
    run(context, reviews.merge, "MergePullRequest", issue_params(repo, record), body)
    return payload(
        {"pullRequest": issue(context, repo, record), "actor": actor(context, context.login)},
        input,
    )


@resolves("Mutation", "addPullRequestReview")
def add_review(_: Any, info: Any, input: Json) -> Json:  # noqa: A002
    """Review a pull request: APPROVE, REQUEST_CHANGES or COMMENT (none: a pending review)."""
    context: Context = info.context
    refuse_unserved(
        input, "AddPullRequestReviewInput", {"pullRequestId", "event", "body", "commitOID"}
    )
    repo, record = visible_issue(context, input["pullRequestId"], PULLS)
    body = {
        "event": input.get("event"),
        "body": input.get("body"),
        "commit_id": input.get("commitOID"),
    }
    made = run(
        context, reviews.create_review, "AddPullRequestReview", issue_params(repo, record), body
    ).body
    item = next(r for r in record["pull"]["reviews"] if r["id"] == made["id"])
    return payload({"pullRequestReview": review(context, repo, record, item)}, input)

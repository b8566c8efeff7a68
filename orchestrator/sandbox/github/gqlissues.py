"""Resolve issue and pull request comments, and look issues up by number."""

from __future__ import annotations

from typing import Any

from orchestrator.sandbox.github.gqlcore import (
    Context,
    NotFound,
    actor,
    connection,
    everything,
    issue,
    reaction_groups,
    resolves,
)
from orchestrator.sandbox.github.issues import association
from orchestrator.sandbox.github.state import Json, node_id


def comment(context: Context, repo: Json, record: Json) -> Json:
    """Return an IssueComment."""
    on = repo["issues"][str(record["issue"])]
    page = f"{repo['owner']}/{repo['name']}/{'pull' if on['pull'] else 'issues'}/{on['number']}"
    edited = record["updated_at"] != record["created_at"]
    return {
        "__typename": "IssueComment",
        "id": node_id("IssueComment", record["id"]),
        "databaseId": record["id"],
        "author": actor(context, record["user"]),
        "authorAssociation": association(context.store, repo, record["user"]),
        "body": record["body"],
        "createdAt": record["created_at"],
        "updatedAt": record["updated_at"],
        "lastEditedAt": record["updated_at"] if edited else None,
        "includesCreatedEdit": edited,
        "isMinimized": False,
        "minimizedReason": None,
        "url": f"{context.base}/{page}#issuecomment-{record['id']}",
        "viewerDidAuthor": record["user"] == context.login,
        "viewerCanUpdate": record["user"] == context.login,
        "_comment": record,
        "_repo": repo,
    }


@resolves("Issue", "reactionGroups")
@resolves("PullRequest", "reactionGroups")
@resolves("IssueComment", "reactionGroups")
@resolves("PullRequestReview", "reactionGroups")
def resolve_reaction_groups(source: Json, info: Any) -> list[Json]:
    """Return the eight reaction groups, each empty (the sandbox serves no reactions)."""
    return reaction_groups()


@resolves("Issue", "projectCards")
@resolves("PullRequest", "projectCards")
def resolve_project_cards(source: Json, info: Any, **_: Any) -> Json:
    """Return no cards: GitHub retired Projects (classic), no issue is on such a board."""
    return everything([])


@resolves("Issue", "comments")
@resolves("PullRequest", "comments")
def resolve_comments(
    source: Json,
    info: Any,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    **_: Any,
) -> Json:
    """Return the conversation's comments, oldest first (`last`: the newest)."""
    repo, record = source["_repo"], source["_issue"]
    found = sorted(
        (c for c in repo["comments"].values() if c["issue"] == record["number"]),
        key=lambda c: c["id"],
    )
    return connection(
        found, first, after, "comments", lambda c: comment(info.context, repo, c), last=last
    )


@resolves("IssueComment", "issue")
def resolve_comment_issue(source: Json, info: Any) -> Json:
    """Return the issue (or the pull request's issue) a comment is on."""
    repo = source["_repo"]
    shown = issue(info.context, repo, repo["issues"][str(source["_comment"]["issue"])])
    return {**shown, "__typename": "Issue"}


@resolves("IssueComment", "pullRequest")
def resolve_comment_pull(source: Json, info: Any) -> Json | None:
    """Return the pull request a comment is on, or null for an issue's comment."""
    repo = source["_repo"]
    record = repo["issues"][str(source["_comment"]["issue"])]
    return issue(info.context, repo, record) if record["pull"] else None


def numbered(source: Json, number: int, kind: str) -> Json:
    """Return the repository's issue or pull request record `number`; NOT_FOUND in GitHub's words.

    `kind`: "Issue", "PullRequest", or "any" (issueOrPullRequest).
    """
    record: Json | None = source["_repo"]["issues"].get(str(number))
    if record is None or {"Issue": bool(record["pull"]), "PullRequest": not record["pull"]}.get(
        kind, False
    ):
        what = {"Issue": "an Issue", "PullRequest": "a PullRequest"}.get(
            kind, "an issue or pull request"
        )
        raise NotFound(f"Could not resolve to {what} with the number of {number}.")
    return record


@resolves("Repository", "issueOrPullRequest")
def resolve_issue_or_pull(source: Json, info: Any, number: int) -> Json:
    """Return the issue or pull request `number`."""
    return issue(info.context, source["_repo"], numbered(source, number, "any"))


@resolves("Repository", "pullRequest")
def resolve_pull(source: Json, info: Any, number: int) -> Json:
    """Return the pull request `number`."""
    return issue(info.context, source["_repo"], numbered(source, number, "PullRequest"))

"""Shared GraphQL pieces: the resolver registry, context, errors, connections and shapes.

The shapes are those of Issue, Repository and User.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from graphql import GraphQLError

from orchestrator.sandbox.github.api import Hooks
from orchestrator.sandbox.github.issues import association
from orchestrator.sandbox.github.state import Json, Store, node_id, parse_node_id

MAX_PAGE = 100
Resolver = Callable[..., Any]
RESOLVERS: dict[tuple[str, str], Resolver] = {}


def resolves(type_name: str, field: str) -> Callable[[Resolver], Resolver]:
    """Register the decorated function as the resolver of `type_name.field`."""

    def register(function: Resolver) -> Resolver:
        RESOLVERS[(type_name, field)] = function
        return function

    return register


@dataclass
class Context:
    """What every resolver may use: the state, the caller, the public URL and the REST hooks."""

    store: Store
    login: str
    base: str
    scopes: tuple[str, ...] | None = (
        None  # the token's OAuth scopes; None: not a classic token (no check)
    )
    hooks: Hooks | None = None  # what mutations run through the REST handlers need


class NotFound(GraphQLError):
    """GitHub's NOT_FOUND error (data for the field is null, the error says why)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"type": "NOT_FOUND"})


class InsufficientScopes(GraphQLError):
    """GitHub's INSUFFICIENT_SCOPES error, for a classic token without the scope a field needs."""

    def __init__(self, field: str, needed: tuple[str, ...], granted: tuple[str, ...]) -> None:
        super().__init__(
            "Your token has not been granted the required scopes to execute this query. "
            f"The '{field}' field requires one of the following scopes: {list(needed)}, "
            f"but your token has only been granted the: {list(granted)} scopes. "
            "Please modify your token's scopes at: https://github.com/settings/tokens.",
            extensions={"type": "INSUFFICIENT_SCOPES"},
        )


def need_scope(context: Context, field: str, *needed: str) -> None:
    """Raise INSUFFICIENT_SCOPES unless the caller's token has one of `needed`.

    `project` implies `read:project`.
    """
    if context.scopes is None:
        return
    have = set(context.scopes) | ({"read:project"} if "project" in context.scopes else set())
    if not have & set(needed):
        raise InsufficientScopes(field, needed, context.scopes)


def connection(
    nodes: list[Any],
    first: int | None,
    after: str | None,
    what: str,
    render: Callable[[Any], Any] | None = None,
    last: int | None = None,
) -> Json:
    """Return a GitHub connection: nodes, edges, pageInfo and totalCount.

    `first` (or, where a caller allows it, `last`: the final records) is required, at most 100.
    `render`, when given, turns only the records on the page into nodes (a board of thousands
    stays cheap).
    """
    if first is None and last is None:
        raise GraphQLError(
            "You must provide a `first` or `last` value to properly paginate the "
            f"`{what}` connection."
        )
    for name, asked in (("first", first), ("last", last)):
        if asked is not None and asked > MAX_PAGE:
            raise GraphQLError(
                f"Requesting {asked} records on the `{what}` connection exceeds the `{name}` "
                f"limit of {MAX_PAGE} records."
            )
    start = _cursor_index(after) + 1 if after else 0
    if first is None:
        assert last is not None
        start, first = max(start, len(nodes) - last), last
    page = (
        [render(n) for n in nodes[start : start + first]]
        if render
        else nodes[start : start + first]
    )
    cursors = [cursor(start + i) for i in range(len(page))]
    return {
        "nodes": page,
        "edges": [{"cursor": c, "node": n} for c, n in zip(cursors, page, strict=True)],
        "totalCount": len(nodes),
        "pageInfo": {
            "hasNextPage": start + first < len(nodes),
            "hasPreviousPage": start > 0,
            "startCursor": cursors[0] if cursors else None,
            "endCursor": cursors[-1] if cursors else None,
        },
    }


def cursor(index: int) -> str:
    """Return the opaque cursor of the record at `index` of a connection."""
    return base64.b64encode(f"cursor:{index}".encode()).decode()


def _cursor_index(value: str) -> int:
    try:
        return int(base64.b64decode(value).decode().removeprefix("cursor:"))
    except ValueError:
        raise GraphQLError(f"`{value}` does not appear to be a valid cursor.") from None


def owner(context: Context, record: Json) -> Json:
    """Return a User or Organization (a ProjectV2Owner / RepositoryOwner)."""
    kind = "Organization" if record["type"] == "Organization" else "User"
    return {
        "__typename": kind,
        "id": node_id(kind, record["id"]),
        "databaseId": record["id"],
        "login": record["login"],
        "name": record.get("name"),
        "url": f"{context.base}/{record['login']}",
        "_record": record,
    }


def actor(context: Context, login: str) -> Json:
    """Return the Actor behind `login`: a User, or a Bot for an app (GraphQL drops "[bot]")."""
    record = context.store.users[login]
    if record["type"] != "Bot":
        return owner(context, record)
    return {
        "__typename": "Bot",
        "id": node_id("Bot", record["id"]),
        "databaseId": record["id"],
        "login": login.removesuffix("[bot]"),
        "url": f"{context.base}/apps/{record.get('app', login)}",
        "_record": record,
    }


def label(context: Context, repo: Json, record: Json) -> Json:
    """Return a Label of `repo`."""
    full = f"{repo['owner']}/{repo['name']}"
    return {
        "__typename": "Label",
        "id": node_id("Label", record["id"]),
        "name": record["name"],
        "color": record["color"],
        "description": record["description"],
        "isDefault": record["default"],
        "url": f"{context.base}/{full}/labels/{quote(record['name'])}",
        "_label": record,
        "_repo": repo,
    }


# GitHub's reaction contents. The sandbox serves no reactions (REST shows zero counts too), so
# every group is empty: the truth of its state, not a guess.
REACTIONS = ("THUMBS_UP", "THUMBS_DOWN", "LAUGH", "HOORAY", "CONFUSED", "HEART", "ROCKET", "EYES")


def reaction_groups() -> list[Json]:
    """Return GitHub's eight reaction groups, each empty."""
    return [
        {
            "content": content,
            "createdAt": None,
            "viewerHasReacted": False,
            "users": everything([]),
            "reactors": everything([]),
        }
        for content in REACTIONS
    ]


def repository(context: Context, repo: Json) -> Json:
    """Return a Repository."""
    full = f"{repo['owner']}/{repo['name']}"
    return {
        "__typename": "Repository",
        "id": node_id("Repository", repo["id"]),
        "databaseId": repo["id"],
        "name": repo["name"],
        "nameWithOwner": full,
        "url": f"{context.base}/{full}",
        "isPrivate": repo["private"],
        "owner": owner(context, context.store.users[repo["owner"]]),
        "_repo": repo,
    }


def issue(context: Context, repo: Json, record: Json) -> Json:
    """Return an Issue (or a PullRequest for a pull request's record).

    A pull request's id and databaseId are those of REST's pull request (`node_id`, `id`).
    """
    kind = "PullRequest" if record["pull"] else "Issue"
    number_id = record["pull"]["id"] if record["pull"] else record["id"]
    users = context.store.users
    full = f"{repo['owner']}/{repo['name']}"
    subs = [s for i in record["sub_issues"] if (s := context.store.issue_by_id(i))]
    done = sum(1 for _, s in subs if s["state"] == "closed")
    return {
        "__typename": kind,
        "id": node_id(kind, number_id),
        "databaseId": number_id,
        "number": record["number"],
        "title": record["title"],
        "body": record["body"] or "",
        "state": "MERGED"
        if record["pull"] and record["pull"]["merged"]
        else record["state"].upper(),
        "stateReason": record["state_reason"].upper() if record["state_reason"] else None,
        "closed": record["state"] == "closed",
        "closedAt": record["closed_at"],
        "createdAt": record["created_at"],
        "updatedAt": record["updated_at"],
        "lastEditedAt": record.get("last_edited_at"),
        "editor": actor(context, record["editor"]) if record.get("editor") else None,
        "url": f"{context.base}/{full}/{'pull' if record['pull'] else 'issues'}/{record['number']}",
        "author": actor(context, record["user"]),
        "authorAssociation": association(context.store, repo, record["user"]),
        "viewerDidAuthor": record["user"] == context.login,
        "locked": False,
        "activeLockReason": None,
        "milestone": None,  # the sandbox has no milestones: none can be set
        "repository": repository(context, repo),
        "merged": bool(record["pull"] and record["pull"]["merged"]),
        "labels": everything(
            [label(context, repo, repo["labels"][n.lower()]) for n in record["labels"]]
        ),
        "assignees": everything([owner(context, users[a]) for a in record["assignees"]]),
        "subIssuesSummary": {
            "total": len(subs),
            "completed": done,
            "percentCompleted": done * 100 // len(subs) if subs else 0,
        },
        "_repo": repo,
        "_issue": record,
    }


def everything(nodes: list[Json]) -> Json:
    """Return a connection holding all of `nodes` on one page."""
    return {
        "nodes": nodes,
        "totalCount": len(nodes),
        "pageInfo": {
            "hasNextPage": False,
            "hasPreviousPage": False,
            "startCursor": None,
            "endCursor": None,
        },
    }


def lookup(context: Context, node: Any, kinds: tuple[str, ...]) -> tuple[str, int] | None:
    """Return (kind, id) for a node id of one of `kinds`, or None."""
    parsed = parse_node_id(node) if isinstance(node, str) else None
    return parsed if parsed and parsed[0] in kinds else None

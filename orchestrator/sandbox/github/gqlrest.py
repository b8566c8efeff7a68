"""Run the REST handlers for GraphQL: the same state and checks, GitHub's GraphQL errors.

A mutation finds its records by node id, then calls the REST handler that makes the same change,
so both APIs share one implementation. A handler's refusal (ApiError) becomes the error GitHub's
GraphQL API gives: NOT_FOUND, FORBIDDEN or UNPROCESSABLE.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLError

from orchestrator.sandbox.github.access import can
from orchestrator.sandbox.github.api import ApiError, Call, Reply
from orchestrator.sandbox.github.gqlcore import Context, NotFound, lookup
from orchestrator.sandbox.github.state import Json, parse_node_id


class Forbidden(GraphQLError):
    """GitHub's FORBIDDEN error: the caller sees the record but may not make this change."""

    def __init__(self, login: str, operation: str) -> None:
        super().__init__(
            f"{login} does not have the correct permissions to execute `{operation}`",
            extensions={"type": "FORBIDDEN"},
        )


class Unprocessable(GraphQLError):
    """GitHub's UNPROCESSABLE error: the change is refused as invalid."""

    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"type": "UNPROCESSABLE"})


def call(
    context: Context, params: dict[str, str], body: Json | None = None, query: Json | None = None
) -> Call:
    """Return the REST call a handler would see for this GraphQL caller."""
    if context.hooks is None:
        raise RuntimeError("a GraphQL mutation ran without the REST hooks")
    return Call(
        store=context.store,
        base=context.base,
        login=context.login,
        path="/graphql",
        params=params,
        query={k: [str(v)] for k, v in (query or {}).items()},
        body=body if body is not None else {},
        hooks=context.hooks,
    )


def run(
    context: Context,
    handler: Callable[[Call], Reply],
    operation: str,
    params: dict[str, str],
    body: Json | None = None,
) -> Reply:
    """Run a REST handler; its refusal becomes GitHub's GraphQL error for `operation`."""
    try:
        return handler(call(context, params, body))
    except ApiError as error:
        raise refusal(context, error, operation) from None


def refusal(context: Context, error: ApiError, operation: str) -> GraphQLError:
    """Return the GraphQL error GitHub gives where REST answers `error`.

    The record was found (and is visible) before the handler ran, so a 404 or 403 from it is
    a missing permission, as REST hides it.
    """
    if error.status in (403, 404):
        return Forbidden(context.login, operation)
    items = error.errors or []
    return Unprocessable(
        "; ".join(_describe(i) for i in items) if items else error.message.rstrip(".")
    )


def _describe(item: Any) -> str:
    """Return a REST validation item in the words GitHub's GraphQL errors use (Rails')."""
    if not isinstance(item, dict):
        return str(item)
    if item.get("message"):
        return str(item["message"])
    field = str(item.get("field", "")).replace("_", " ").capitalize()
    return {
        "missing_field": f"{field} can't be blank",
        "already_exists": f"{field} has already been taken",
    }.get(str(item.get("code")), f"{field} is invalid")


def payload(data: Json, given: Json) -> Json:
    """Return a mutation's payload: `data` and the caller's clientMutationId."""
    return {"clientMutationId": given.get("clientMutationId"), **data}


def issue_params(repo: Json, issue: Json) -> dict[str, str]:
    """Return the route parameters naming an issue (or a pull request)."""
    number = str(issue["number"])
    return {
        "owner": repo["owner"],
        "repo": repo["name"],
        "issue_number": number,
        "pull_number": number,
    }


def visible_issue(context: Context, node: Any, kinds: tuple[str, ...]) -> tuple[Json, Json]:
    """Return (repo, issue) of a node id of one of `kinds` the caller may see; else NOT_FOUND."""
    found = lookup(context, node, kinds)
    hit = context.store.issue_by_id(found[1]) if found else None
    if hit is None or not can(context.store, hit[0], context.login, "pull"):
        raise NotFound(f"Could not resolve to a node with the global id of '{node}'")
    return hit


def visible_repo(context: Context, node: Any) -> Json:
    """Return the repository a node id names, if the caller may see it; else NOT_FOUND."""
    found = lookup(context, node, ("Repository",))
    repo = next((r for r in context.store.repos.values() if found and r["id"] == found[1]), None)
    if repo is None or not can(context.store, repo, context.login, "pull"):
        raise NotFound(f"Could not resolve to a node with the global id of '{node}'")
    return repo


def label_names(context: Context, repo: Json, ids: list[Any] | None) -> list[str]:
    """Return the names of `repo`'s labels by node id; NOT_FOUND for one it does not have."""
    by_id = {r["id"]: r["name"] for r in repo["labels"].values()}
    names = []
    for label_id in ids or ():
        parsed = parse_node_id(label_id) if isinstance(label_id, str) else None
        if parsed is None or parsed[0] != "Label" or parsed[1] not in by_id:
            raise NotFound(f"Could not resolve to a node with the global id of '{label_id}'")
        names.append(by_id[parsed[1]])
    return names


def user_logins(context: Context, ids: list[Any] | None) -> list[str]:
    """Return the logins of users by node id; NOT_FOUND for an unknown one."""
    logins = []
    for user_id in ids or ():
        found = lookup(context, user_id, ("User", "Bot"))
        who = next((u for u in context.store.users.values() if found and u["id"] == found[1]), None)
        if who is None:
            raise NotFound(f"Could not resolve to a node with the global id of '{user_id}'")
        logins.append(who["login"])
    return logins

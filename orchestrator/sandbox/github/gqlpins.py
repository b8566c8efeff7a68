"""Resolve pinned issues: a repository's pin slots, an issue's `isPinned`, and `pinIssue`.

GitHub pins at most three issues per repository. Its pinIssue refuses, as UNPROCESSABLE, a pin
while three are pinned ("Maximum 3 pinned issues per repository", checked first) and a pin of an
issue pinned already; a closed issue may be pinned, and one stays pinned when closed. Pinning
needs write access and records a `pinned` issue event. Pins live on the repository record
(`pinned_issues`: id, issue number, who), oldest first; unpinning is not served.
"""

from __future__ import annotations

from typing import Any

from orchestrator.sandbox.github.access import can
from orchestrator.sandbox.github.gqlcore import (
    Context,
    actor,
    connection,
    issue,
    repository,
    resolves,
)
from orchestrator.sandbox.github.gqlrefuse import refuse_unserved
from orchestrator.sandbox.github.gqlrest import Forbidden, Unprocessable, payload, visible_issue
from orchestrator.sandbox.github.issues import add_event
from orchestrator.sandbox.github.state import Json, node_id

PIN_SLOTS = 3


def _pins(repo: Json) -> list[Json]:
    return repo.get("pinned_issues", [])  # type: ignore[no-any-return]  # none in an older state


def _pinned_issue(context: Context, repo: Json, pin: Json) -> Json:
    return {
        "__typename": "PinnedIssue",
        "id": node_id("PinnedIssue", pin["id"]),
        "databaseId": pin["id"],
        "fullDatabaseId": str(pin["id"]),  # a BigInt, which GitHub writes as a string
        "issue": issue(context, repo, repo["issues"][str(pin["issue"])]),
        "pinnedBy": actor(context, pin["by"]),
        "repository": repository(context, repo),
    }


@resolves("Repository", "pinnedIssues")
def resolve_pinned_issues(
    source: Json,
    info: Any,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    **_: Any,
) -> Json:
    """Return the repository's pinned issues, oldest pin first, paginated."""
    repo = source["_repo"]
    return connection(
        _pins(repo),
        first,
        after,
        "pinnedIssues",
        lambda pin: _pinned_issue(info.context, repo, pin),
        last=last,
    )


@resolves("Issue", "isPinned")
def resolve_is_pinned(source: Json, info: Any) -> bool:
    """Return whether the issue is pinned to its repository."""
    number = source["_issue"]["number"]
    return any(pin["issue"] == number for pin in _pins(source["_repo"]))


@resolves("Mutation", "pinIssue")
def pin_issue(_: Any, info: Any, input: Json) -> Json:  # noqa: A002 (GraphQL's name)
    """Pin an issue to its repository, in GitHub's order of checks and with its refusals."""
    context: Context = info.context
    refuse_unserved(input, "PinIssueInput", {"issueId"})
    repo, record = visible_issue(context, input["issueId"], ("Issue",))
    if not can(context.store, repo, context.login, "push"):
        raise Forbidden(context.login, "PinIssue")
    pins = repo.setdefault("pinned_issues", [])
    if len(pins) >= PIN_SLOTS:
        raise Unprocessable(f"Maximum {PIN_SLOTS} pinned issues per repository")
    if any(pin["issue"] == record["number"] for pin in pins):
        raise Unprocessable("The issue is already pinned or could not be pinned at this time")
    pins.append({"id": context.store.new_id(), "issue": record["number"], "by": context.login})
    add_event(context.store, repo, record, context.login, "pinned")
    return payload({"issue": issue(context, repo, record)}, input)

"""Resolve issue dependencies ("blocked by"): `Issue.blockedBy`, `blocking` and
`issueDependenciesSummary`, and the `addBlockedBy` and `removeBlockedBy` mutations.

One store serves both APIs: each issue record's `blocked_by` lists the ids of the issues blocking
it, oldest link first, as REST's dependency endpoints keep it (`relations.py`). The mutations run
those REST handlers, so they refuse what REST refuses: an issue blocking itself or blocking twice,
a blocker under another owner or one the caller cannot read (UNPROCESSABLE, in REST's words); a
caller without triage access gets FORBIDDEN. Both ids must name issues: a pull request's is
NOT_FOUND ("Could not resolve to Issue node ..."), as on GitHub. Removing a link that is not
there is NOT_FOUND, as REST's 404 (in the sandbox's words: GitHub's are not published).

The connections take GitHub's `orderBy` (default: DEPENDENCY_ADDED_AT, newest link first).
`blockedBy` knows when each link came (the list's order); the store keeps no time per link, so
`blocking` orders DEPENDENCY_ADDED_AT by the blocked issue's age instead. `before` is not served.
"""

from __future__ import annotations

from typing import Any

from orchestrator.sandbox.github import relations
from orchestrator.sandbox.github.access import can
from orchestrator.sandbox.github.gqlcore import (
    Context,
    NotFound,
    connection,
    issue,
    lookup,
    resolves,
)
from orchestrator.sandbox.github.gqlrefuse import Unimplemented, refuse_unserved
from orchestrator.sandbox.github.gqlrest import (
    Forbidden,
    issue_params,
    payload,
    run,
    visible_issue,
)
from orchestrator.sandbox.github.issues import dependency_summary
from orchestrator.sandbox.github.state import Json

DEFAULT_ORDER = {"field": "DEPENDENCY_ADDED_AT", "direction": "DESC"}


def _ordered(found: list[tuple[Json, Json]], order: Json | None) -> list[tuple[Json, Json]]:
    """Sort (repo, issue) pairs, given in the order their links came, by IssueDependencyOrder."""
    order = order or DEFAULT_ORDER
    if order["field"] == "CREATED_AT":
        found = sorted(found, key=lambda f: (f[1]["created_at"], f[1]["id"]))
    return found[::-1] if order["direction"] == "DESC" else found


def _page(
    info: Any,
    field: str,
    found: list[tuple[Json, Json]],
    arguments: Json,
) -> Json:
    if arguments.get("before") is not None:
        raise Unimplemented("Issue", f"{field}(before:)")
    return connection(
        _ordered(found, arguments.get("orderBy")),
        arguments.get("first"),
        arguments.get("after"),
        field,
        lambda f: issue(info.context, *f),
        last=arguments.get("last"),
    )


@resolves("Issue", "blockedBy")
def resolve_blocked_by(source: Json, info: Any, **arguments: Any) -> Json:
    """Return the issues blocking this one (REST's `dependencies/blocked_by`), paginated."""
    store = info.context.store
    found = [f for i in source["_issue"]["blocked_by"] if (f := store.issue_by_id(i))]
    return _page(info, "blockedBy", found, arguments)


@resolves("Issue", "blocking")
def resolve_blocking(source: Json, info: Any, **arguments: Any) -> Json:
    """Return the issues this one blocks (REST's `dependencies/blocking`), paginated."""
    own = source["_issue"]["id"]
    found = sorted(
        (
            (repo, record)
            for repo in info.context.store.repos.values()
            for record in repo["issues"].values()
            if own in record["blocked_by"]
        ),
        key=lambda f: int(f[1]["id"]),
    )
    return _page(info, "blocking", found, arguments)


@resolves("Issue", "issueDependenciesSummary")
def resolve_summary(source: Json, info: Any) -> Json:
    """Return REST's `issue_dependencies_summary` under GraphQL's names."""
    summary = dependency_summary(info.context.store, source["_issue"])
    return {
        "blockedBy": summary["blocked_by"],
        "blocking": summary["blocking"],
        "totalBlockedBy": summary["total_blocked_by"],
        "totalBlocking": summary["total_blocking"],
    }


def _issue_node(context: Context, node: Any) -> tuple[Json, Json]:
    """Return (repo, issue) for an Issue node id; NOT_FOUND for another kind of node, in GitHub's
    words, or for an issue the caller cannot see."""
    found = lookup(context, node, ("PullRequest",))
    if found is not None and context.store.issue_by_id(found[1]) is not None:
        raise NotFound(f"Could not resolve to Issue node with the global id of '{node}'")
    return visible_issue(context, node, ("Issue",))


def _link(context: Context, given: Json) -> tuple[tuple[Json, Json], tuple[Json, Json]]:
    """Return the blocked issue and the blocking one a mutation's input names."""
    return _issue_node(context, given["issueId"]), _issue_node(context, given["blockingIssueId"])


@resolves("Mutation", "addBlockedBy")
def add_blocked_by(_: Any, info: Any, input: Json) -> Json:  # noqa: A002 (GraphQL's name)
    """Record that `blockingIssueId` blocks `issueId`: REST's POST `dependencies/blocked_by`."""
    context: Context = info.context
    refuse_unserved(input, "AddBlockedByInput", {"issueId", "blockingIssueId"})
    (repo, record), (blocker_repo, blocker) = _link(context, input)
    params = issue_params(repo, record)
    run(context, relations.add_blocked_by, "AddBlockedBy", params, {"issue_id": blocker["id"]})
    return payload(
        {
            "issue": issue(context, repo, record),
            "blockingIssue": issue(context, blocker_repo, blocker),
        },
        input,
    )


@resolves("Mutation", "removeBlockedBy")
def remove_blocked_by(_: Any, info: Any, input: Json) -> Json:  # noqa: A002
    """Drop the link: REST's DELETE `dependencies/blocked_by/{issue_id}`."""
    context: Context = info.context
    refuse_unserved(input, "RemoveBlockedByInput", {"issueId", "blockingIssueId"})
    (repo, record), (blocker_repo, blocker) = _link(context, input)
    if not can(context.store, repo, context.login, "triage"):
        raise Forbidden(context.login, "RemoveBlockedBy")
    if blocker["id"] not in record["blocked_by"]:
        raise NotFound(f"Issue #{record['number']} is not blocked by that issue")
    params = {**issue_params(repo, record), "issue_id": str(blocker["id"])}
    run(context, relations.remove_blocked_by, "RemoveBlockedBy", params)
    return payload(
        {
            "issue": issue(context, repo, record),
            "blockingIssue": issue(context, blocker_repo, blocker),
        },
        input,
    )

"""Resolve GraphQL queries on users, organizations, repositories and issues.

An issue's sub-issues, parent, labels and timeline items.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLError

from orchestrator.sandbox.github.access import can
from orchestrator.sandbox.github.gqlcore import (
    Context,
    NotFound,
    actor,
    connection,
    issue,
    owner,
    repository,
    resolves,
)
from orchestrator.sandbox.github.gqlrefuse import Unimplemented
from orchestrator.sandbox.github.issues import utc_iso
from orchestrator.sandbox.github.state import Json, node_id


@resolves("Query", "viewer")
def resolve_viewer(_: Any, info: Any) -> Json:
    """Return the caller."""
    return owner(info.context, info.context.store.users[info.context.login])


def _owner_named(info: Any, login: str, kind: str) -> Json:
    record = info.context.store.user(login)
    if record is None or (kind != "any" and record["type"] != kind):
        raise NotFound(
            f"Could not resolve to a{'n' if kind[0] in 'OA' else ''} "
            f"{kind if kind != 'any' else 'User'}"
            f" with the login of '{login}'."
        )
    return owner(info.context, record)


@resolves("Query", "user")
def resolve_user(_: Any, info: Any, login: str) -> Json:
    """Return a user by login; NOT_FOUND otherwise."""
    return _owner_named(info, login, "User")


@resolves("Query", "organization")
def resolve_organization(_: Any, info: Any, login: str) -> Json:
    """Return an organization by login; NOT_FOUND otherwise."""
    return _owner_named(info, login, "Organization")


@resolves("Query", "repositoryOwner")
def resolve_repository_owner(_: Any, info: Any, login: str) -> Json | None:
    """Return a user or organization by login, or null."""
    record = info.context.store.user(login)
    return owner(info.context, record) if record else None


@resolves("Query", "repository")
def resolve_repository(_: Any, info: Any, owner: str, name: str, **__: Any) -> Json:
    """Return a repository the caller may see; NOT_FOUND otherwise."""
    repo = info.context.store.repo(owner, name)
    if repo is None or not can(info.context.store, repo, info.context.login, "pull"):
        raise NotFound(f"Could not resolve to a Repository with the name '{owner}/{name}'.")
    return repository(info.context, repo)


@resolves("Repository", "issue")
def resolve_issue(source: Json, info: Any, number: int) -> Json | None:
    """Return an issue of the repository by number."""
    record = source["_repo"]["issues"].get(str(number))
    if record is None or record["pull"]:
        raise NotFound(f"Could not resolve to an Issue with the number of {number}.")
    return issue(info.context, source["_repo"], record)


@resolves("Issue", "subIssues")
def resolve_sub_issues(
    source: Json, info: Any, first: int | None = None, after: str | None = None, **__: Any
) -> Json:
    """Return the issue's sub-issues, paginated."""
    found = [f for i in source["_issue"]["sub_issues"] if (f := info.context.store.issue_by_id(i))]
    return connection([issue(info.context, r, i) for r, i in found], first, after, "subIssues")


@resolves("Issue", "parent")
def resolve_parent(source: Json, info: Any) -> Json | None:
    """Return the issue's parent, or null."""
    parent = source["_issue"]["parent"]
    found = info.context.store.issue_by_id(parent) if parent is not None else None
    return issue(info.context, *found) if found else None


@resolves("Issue", "labels")
@resolves("PullRequest", "labels")
def resolve_labels(
    source: Json, info: Any, first: int | None = None, after: str | None = None, **__: Any
) -> Json:
    """Return the issue's labels, paginated (GitHub caps a page at 100 and needs `first`)."""
    return connection(source["labels"]["nodes"], first, after, "labels")


# The timeline items the sandbox records, by GitHub's item type: what its REST events call them.
TIMELINE_TYPES = {
    "RENAMED_TITLE_EVENT": "renamed",
    "LABELED_EVENT": "labeled",
    "UNLABELED_EVENT": "unlabeled",
    "CLOSED_EVENT": "closed",
}
_KINDS = {
    "renamed": "RenamedTitleEvent",
    "labeled": "LabeledEvent",
    "unlabeled": "UnlabeledEvent",
    "closed": "ClosedEvent",
}


@resolves("Issue", "timelineItems")
def resolve_timeline_items(source: Json, info: Any, **arguments: Any) -> Json:
    """Return the issue's renamed, labeled, unlabeled and closed events, oldest first, paginated.

    Other item types are not recorded here: asking for them (or for all) is refused rather than
    answered with a timeline that silently lacks them.
    """
    return timeline(source, info, TIMELINE_TYPES, timeline_item, **arguments)


def timeline(
    source: Json,
    info: Any,
    types: dict[str, str],
    render: Callable[[Context, Json, Json], Json],
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    itemTypes: list[str] | None = None,  # noqa: N803 - GitHub's argument name
    since: str | None = None,
    **__: Any,
) -> Json:
    """Return the events of `types` (GraphQL item type: recorded event) `source` has, rendered."""
    wanted = list(itemTypes or ())
    unserved = [t for t in wanted if t not in types] if wanted else ["(all)"]
    if unserved:
        raise GraphQLError(
            f"the sandbox serves timelineItems of {', '.join(types)} only, "
            f"not {', '.join(unserved)}"
        )
    kinds = {types[t] for t in wanted}
    repo, record = source["_repo"], source["_issue"]
    events = [
        e
        for e in repo["events"]
        if e["issue"] == record["number"]
        and e["event"] in kinds
        and (since is None or e["created_at"] >= utc_iso(since))
    ]
    page = connection(
        events,
        first,
        after,
        "timelineItems",
        lambda e: render(info.context, source, e),
        last=last,
    )
    return {
        **page,
        "filteredCount": len(events),
        "pageCount": len(page["nodes"]),
        "updatedAt": record["updated_at"],
    }


def timeline_item(context: Context, issue: Json, event: Json) -> Json:
    """Return a renamed, labeled, unlabeled or closed event as its GraphQL timeline item."""
    kind = _KINDS[event["event"]]
    item = {
        "__typename": kind,
        "id": node_id(kind, event["id"]),
        "actor": actor(context, event["actor"]),
        "createdAt": event["created_at"],
    }
    if kind == "RenamedTitleEvent":
        rename = event["rename"]
        return {
            **item,
            "previousTitle": rename["from"],
            "currentTitle": rename["to"],
            "subject": issue,
        }
    if kind == "ClosedEvent":
        return {**item, **_closed(context, issue, event)}
    return {**item, "label": event["label"], "labelable": issue}


def _closed(context: Context, issue: Json, event: Json) -> Json:
    """Return a ClosedEvent's own fields; its `closer` has a resolver of its own."""
    repo = issue["_repo"]
    path = f"/{repo['owner']}/{repo['name']}/issues/{issue['number']}#event-{event['id']}"
    reason = event.get("state_reason")
    return {
        "closable": issue,
        "stateReason": reason.upper() if reason else None,
        "resourcePath": path,
        "url": f"{context.base}{path}",
        "_event": event,
    }


@resolves("ClosedEvent", "closer")
def resolve_closer(source: Json, info: Any) -> Json | None:
    """Return the pull request whose merge closed the issue, or null when closed by hand.

    A close recorded before the sandbox kept closers, or by a pull request the caller cannot see,
    is refused (NOT_IMPLEMENTED) rather than answered with a null that would read "by hand".
    """
    event = source["_event"]
    if "closer" not in event:
        raise Unimplemented("ClosedEvent", "closer")
    closer = event["closer"]
    if closer is None:
        return None
    context: Context = info.context
    repo = context.store.repo(closer["owner"], closer["name"])
    record = repo["issues"].get(str(closer["number"])) if repo else None
    if repo is None or record is None or not can(context.store, repo, context.login, "pull"):
        raise Unimplemented("ClosedEvent", "closer")
    return issue(context, repo, record)

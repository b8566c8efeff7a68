"""Pin an issue to its repository: GraphQL only (REST has no pins), GitHub's limit read first.

GitHub pins at most three issues per repository and answers a fourth pin, or a pin of an issue
pinned already, with an error (`gh issue pin` reads `isPinned` first for the same reason). So
`pin` reads the slots and the issue (IssuePins), then sends PinIssue only when it is needed and
allowed. Only GitHub's payload shapes for pins are read here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchestrator.adapters.github_normalize import Json
from orchestrator.core.model import IssueRef
from orchestrator.errors import GraphQLRefused

if TYPE_CHECKING:  # gql is imported on first use, by the tracker that builds the client
    from orchestrator.adapters.github_graphql import GraphQL

PIN_SLOTS = 3  # GitHub's limit: "Maximum 3 pinned issues per repository"


def pin(graphql: GraphQL, ref: IssueRef) -> bool:
    """Pin `ref` while a slot is free: one read, then one mutation only when it is needed.

    True when the issue is pinned (already, or now), False when the three slots are taken. A
    refused pin is read again (someone pinned it, or took the last slot, in between): pinned or
    full answers as above, anything else is raised.
    """
    issue_id, pinned, full = pins(_read(graphql, ref), ref)
    if pinned or full:
        return pinned
    try:
        graphql.run("pin_issue", {"issueId": issue_id}, subject=str(ref), action="pin")
    except GraphQLRefused:
        _, pinned, full = pins(_read(graphql, ref), ref)
        if pinned or full:
            return pinned
        raise
    return True


def pins(data: Json, ref: IssueRef) -> tuple[str, bool, bool]:
    """Return the issue's node id, whether it is pinned, and whether every slot is taken."""
    repository = data.get("repository") or {}
    issue = repository.get("issue") or {}
    slots = repository.get("pinnedIssues") or {}
    numbers = {int(n["issue"]["number"]) for n in slots.get("nodes") or () if n and n.get("issue")}
    pinned = bool(issue.get("isPinned")) or ref.number in numbers
    return str(issue.get("id") or ""), pinned, int(slots.get("totalCount") or 0) >= PIN_SLOTS


def _read(graphql: GraphQL, ref: IssueRef) -> Json:
    owner, name = ref.repo.split("/", 1)
    return graphql.run(
        "issue_pins",
        {"owner": owner, "name": name, "number": ref.number},
        subject=str(ref),
        action="read the pins of",
    )

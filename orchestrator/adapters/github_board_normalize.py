"""Turn GitHub's Projects (v2) GraphQL payloads into core.model values.

They become boards, Status fields, board items and issues.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestrator.adapters.github_errors import one_line
from orchestrator.adapters.github_normalize import GHOST, label_name, text, timestamp
from orchestrator.core.board import Option, status_for
from orchestrator.core.model import BoardField, BoardItem, BoardStatus, Issue, IssueRef, Project
from orchestrator.errors import TrackerError

Json = Mapping[str, Any]


def project_node(data: Json, owner: str, number: int) -> dict[str, Any]:
    """Return `repositoryOwner.projectV2` of a response.

    Raise TrackerError when the owner or board is missing.
    """
    who = data.get("repositoryOwner")
    if who is None:
        raise TrackerError(
            one_line(f"board {owner}/{number}: there is no user or organization named {owner!r}")
        )
    project = who.get("projectV2")
    if project is None:
        raise TrackerError(
            one_line(f"board {owner}/{number} not found, or the token cannot see it")
        )
    return dict(project)


def project_value(raw: Json) -> Project:
    """Return a board as a Project."""
    return Project(
        owner=text((raw.get("owner") or {}).get("login")),
        number=int(raw["number"]),
        id=text(raw["id"]),
        title=text(raw.get("title")),
        url=text(raw.get("url")),
    )


def status_options(raw_field: Json | None) -> list[Option]:
    """Return a single-select field's options, with their ids.

    The list is empty for a missing field or a field of another kind.
    """
    if not raw_field or raw_field.get("__typename") != "ProjectV2SingleSelectField":
        return []
    return [
        Option(
            text(o.get("name")),
            text(o.get("color")) or "GRAY",
            text(o.get("description")),
            text(o["id"]),
        )
        for o in raw_field.get("options") or ()
    ]


def status_field(
    project: Json, names: Mapping[BoardStatus, str], field_name: str = "Status"
) -> BoardField:
    """Return the board's Status field with the option id of each status that has an option."""
    raw_field = project.get("field")
    if not raw_field or raw_field.get("__typename") != "ProjectV2SingleSelectField":
        raise TrackerError(
            one_line(f"board {_where(project)} has no single-select field named {field_name!r}")
        )
    options = {
        status: option.id
        for option in status_options(raw_field)
        if option.id and (status := status_for(option.name, names)) is not None
    }
    return BoardField(
        project_id=text(project["id"]), field_id=text(raw_field["id"]), options=options
    )


def board_item(raw: Json, names: Mapping[BoardStatus, str]) -> BoardItem | None:
    """Return an item as a BoardItem with its issue as content.

    None for drafts, archived and hidden items.
    """
    content = raw.get("content") or {}
    kind = content.get("__typename")
    if raw.get("isArchived") or kind not in ("Issue", "PullRequest"):
        return None  # a draft has no issue; REDACTED content is an item the token may not see
    status, name = status_of(raw, names)
    return BoardItem(
        item_id=text(raw["id"]),
        issue=ref_of(content),
        status=status,
        status_name=name,
        content=issue_value(content) if kind == "Issue" else None,
    )


def status_of(
    raw_item: Json, names: Mapping[BoardStatus, str]
) -> tuple[BoardStatus | None, str | None]:
    """Return an item payload's (status, option name) from `fieldValueByName`."""
    value = raw_item.get("fieldValueByName") or {}
    name = (
        value.get("name")
        if value.get("__typename") == "ProjectV2ItemFieldSingleSelectValue"
        else None
    )
    return status_for(name, names), name


def issue_value(raw: Json) -> Issue:
    """Return an Issue payload as the same Issue the REST normaliser makes of the REST payload."""
    labels = tuple(
        dict.fromkeys(n for n in map(label_name, (raw.get("labels") or {}).get("nodes") or ()) if n)
    )
    author = (raw.get("author") or {}).get("login")
    reason = raw.get("stateReason")
    return Issue(
        ref=IssueRef(text(raw["repository"]["nameWithOwner"]), int(raw["number"])),
        id=int(raw["databaseId"]),
        node_id=text(raw["id"]),
        title=text(raw.get("title")).strip(),
        body=text(raw.get("body")),
        author=str(author).strip().lower() if author else GHOST,
        labels=labels,
        is_open=raw.get("state") == "OPEN",
        created_at=timestamp(raw["createdAt"]),
        updated_at=timestamp(raw["updatedAt"]),
        state_reason=str(reason).lower() if reason else None,
        is_pull_request=False,
    )


def refs(connection: Json | None) -> tuple[IssueRef, ...]:
    """Return the issues of a connection of `{number, repository {nameWithOwner}}` nodes."""
    return tuple(ref_of(node) for node in (connection or {}).get("nodes") or () if node)


def board_blockers(content: Json) -> tuple[tuple[IssueRef, ...], frozenset[IssueRef]] | None:
    """Return an issue payload's blockers (`blockedBy`) and those of them that are closed.

    None when the page does not hold them all (`issueDependenciesSummary.totalBlockedBy` counts
    more: over 50, or any GitHub counts but does not show this token), or lacks the fields.
    """
    connection, summary = content.get("blockedBy"), content.get("issueDependenciesSummary")
    if connection is None or summary is None:
        return None
    nodes = [node for node in connection.get("nodes") or () if node]
    if int(summary.get("totalBlockedBy") or 0) > len(nodes):
        return None
    closed = frozenset(ref_of(node) for node in nodes if node.get("state") == "CLOSED")
    return tuple(ref_of(node) for node in nodes), closed


def ref_of(node: Json) -> IssueRef:
    """Return owner/name#N for a `{number, repository {nameWithOwner}}` node."""
    return IssueRef(text(node["repository"]["nameWithOwner"]), int(node["number"]))


def truncated(connection: Json | None) -> bool:
    """Return whether a connection holds fewer nodes than its totalCount.

    That is, a page did not hold them all.
    """
    if not connection:
        return False
    return int(connection.get("totalCount") or 0) > len(connection.get("nodes") or ())


def _where(project: Json) -> str:
    owner = (project.get("owner") or {}).get("login") or "?"
    return f"{owner}/{project.get('number')}"

"""Resolve a repository's issue and pull request connections, filtered and ordered."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from orchestrator.sandbox.github import issues
from orchestrator.sandbox.github.gqlcore import Context, connection, issue, resolves
from orchestrator.sandbox.github.gqlrefuse import Unimplemented
from orchestrator.sandbox.github.gqlrest import call
from orchestrator.sandbox.github.state import Json

# IssueFilters the sandbox applies; any other given (not null, not false) is refused.
SERVED_FILTERS = {"assignee", "createdBy", "labels", "mentioned", "since", "states"}


def state_of(record: Json) -> str:
    """Return the GraphQL state: OPEN, CLOSED, or MERGED for a merged pull request."""
    return "MERGED" if record["pull"] and record["pull"]["merged"] else str(record["state"]).upper()


def ordered(repo: Json, records: Iterable[Json], order: Json | None) -> list[Json]:
    """Sort by IssueOrder (CREATED_AT, UPDATED_AT or COMMENTS; oldest first by default)."""
    field = (order or {}).get("field", "CREATED_AT")
    if field == "COMMENTS":
        counts: dict[int, int] = {}
        for c in repo["comments"].values():
            counts[c["issue"]] = counts.get(c["issue"], 0) + 1
        key: Any = lambda r: (counts.get(r["number"], 0), r["number"])  # noqa: E731
    else:
        stamp = "updated_at" if field == "UPDATED_AT" else "created_at"
        key = lambda r: (r[stamp], r["number"])  # noqa: E731
    return sorted(records, key=key, reverse=(order or {}).get("direction") == "DESC")


def with_labels(record: Json, names: list[str] | None) -> bool:
    """Return whether the record carries any of `names` (GraphQL's `labels` is an OR)."""
    if not names:
        return True
    have = {n.lower() for n in record["labels"]}
    return any(n.lower() in have for n in names)


def mentions(repo: Json, record: Json, login: str) -> bool:
    """Return whether `@login` appears in the issue's body or one of its comments."""
    said = re.compile(rf"(?<![\w@])@{re.escape(login)}(?![\w-])", re.IGNORECASE)
    texts = [record["body"] or ""]
    texts += [c["body"] for c in repo["comments"].values() if c["issue"] == record["number"]]
    return any(said.search(t) for t in texts)


def _filtered(context: Context, repo: Json, records: Iterable[Json], filters: Json) -> list[Json]:
    """Apply IssueFilters' assignee, createdBy and since with the REST listing's own filter."""
    for name, value in filters.items():
        if name not in SERVED_FILTERS and value not in (None, False):
            raise Unimplemented("IssueFilters", name)
    query = {"state": "all", "creator": filters.get("createdBy")}
    query |= {"assignee": filters.get("assignee"), "since": filters.get("since")}
    rest = call(context, {}, query={k: v for k, v in query.items() if v is not None})
    mentioned = filters.get("mentioned")
    return [
        r
        for r in records
        if issues.matches(rest, r) and (not mentioned or mentions(repo, r, mentioned))
    ]


@resolves("Repository", "issues")
def resolve_issues(
    source: Json,
    info: Any,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    states: list[str] | None = None,
    labels: list[str] | None = None,
    filterBy: Json | None = None,  # noqa: N803 - GitHub's argument names
    orderBy: Json | None = None,  # noqa: N803
    **_: Any,
) -> Json:
    """Return the repository's issues (not pull requests) by state, labels and IssueFilters."""
    repo, filters = source["_repo"], filterBy or {}
    wanted = states or filters.get("states")
    found = [
        r
        for r in repo["issues"].values()
        if not r["pull"]
        and (not wanted or state_of(r) in wanted)
        and with_labels(r, labels)
        and with_labels(r, filters.get("labels"))
    ]
    found = ordered(repo, _filtered(info.context, repo, found, filters), orderBy)
    return connection(
        found, first, after, "issues", lambda r: issue(info.context, repo, r), last=last
    )


@resolves("Repository", "pullRequests")
def resolve_pull_requests(
    source: Json,
    info: Any,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    states: list[str] | None = None,
    labels: list[str] | None = None,
    headRefName: str | None = None,  # noqa: N803 - GitHub's argument names
    baseRefName: str | None = None,  # noqa: N803
    orderBy: Json | None = None,  # noqa: N803
    **_: Any,
) -> Json:
    """Return the repository's pull requests by state, labels, head and base branch."""
    repo = source["_repo"]
    found = ordered(
        repo,
        (
            r
            for r in repo["issues"].values()
            if r["pull"]
            and (not states or state_of(r) in states)
            and with_labels(r, labels)
            and headRefName in (None, r["pull"]["head"])
            and baseRefName in (None, r["pull"]["base"])
        ),
        orderBy,
    )
    return connection(
        found, first, after, "pullRequests", lambda r: issue(info.context, repo, r), last=last
    )

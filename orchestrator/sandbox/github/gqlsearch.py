"""Resolve `search(type: ISSUE)`: issues and pull requests by words and GitHub's qualifiers.

Words match the title or body (any case; GitHub also reads comments). Results are newest first
unless `sort:` says otherwise (GitHub's default is its own relevance). A qualifier the sandbox
does not apply is refused, never ignored.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import Any

from graphql import GraphQLError

from orchestrator.sandbox.github.access import can
from orchestrator.sandbox.github.gqlcore import Context, connection, issue, resolves
from orchestrator.sandbox.github.gqllists import mentions, state_of
from orchestrator.sandbox.github.state import Json

Test = Callable[[Json, Json], bool]  # (repo, record) -> whether it matches

_IS: dict[str, Test] = {
    "issue": lambda _, r: not r["pull"],
    "pr": lambda _, r: bool(r["pull"]),
    "open": lambda _, r: r["state"] == "open",
    "closed": lambda _, r: r["state"] == "closed",
    "merged": lambda _, r: state_of(r) == "MERGED",
    "unmerged": lambda _, r: bool(r["pull"]) and state_of(r) != "MERGED",
    "draft": lambda _, r: bool(r["pull"] and r["pull"]["draft"]),
}
_SORTS = {
    "created": "CREATED_AT",
    "updated": "UPDATED_AT",
    "comments": "COMMENTS",
}


def _qualifier(context: Context, name: str, value: str) -> Test:
    """Return the test for one `name:value` qualifier; refuse one the sandbox does not apply."""
    low = value.lower()
    tests: dict[str, Callable[[], Test]] = {
        "is": lambda: _IS[low],
        "type": lambda: _IS[{"pr": "pr", "pull-request": "pr"}.get(low, low)],
        "state": lambda: _IS[low],
        "repo": lambda: lambda repo, _: f"{repo['owner']}/{repo['name']}".lower() == low,
        "user": lambda: lambda repo, _: repo["owner"].lower() == low,
        "org": lambda: lambda repo, _: repo["owner"].lower() == low,
        "label": lambda: lambda _, r: low in {n.lower() for n in r["labels"]},
        "author": lambda: lambda _, r: r["user"].lower() == _me(context, low),
        "assignee": lambda: lambda _, r: _me(context, low) in {a.lower() for a in r["assignees"]},
        "no": lambda: {"label": lambda _, r: not r["labels"], "assignee": _unassigned}[low],
        "draft": lambda: lambda _, r: bool(r["pull"]) and r["pull"]["draft"] == (low == "true"),
        "base": lambda: lambda _, r: bool(r["pull"]) and r["pull"]["base"] == value,
        "head": lambda: lambda _, r: bool(r["pull"]) and r["pull"]["head"] == value,
        "archived": lambda: lambda _, r: low == "false",  # the sandbox archives nothing
        "mentions": lambda: lambda repo, r: mentions(repo, r, _me(context, value)),
        # The sandbox records no review requests (REST's requested_reviewers is always empty).
        "review-requested": lambda: lambda _, r: False,
    }
    try:
        return tests[name]()
    except KeyError:
        raise _unserved(name, value) from None


def _unserved(name: str, value: str) -> GraphQLError:
    return GraphQLError(
        f"The sandbox does not implement the search qualifier `{name}:{value}`",
        extensions={"type": "NOT_IMPLEMENTED"},
    )


def _unassigned(_: Json, record: Json) -> bool:
    return not record["assignees"]


def _me(context: Context, login: str) -> str:
    return context.login.lower() if login == "@me" else login.lower()


def parse(context: Context, query: str) -> tuple[list[Test], list[str], set[str], Json | None]:
    """Return (tests, words, where words are read, order) for a search query."""
    tests, words, where, order = [], [], {"title", "body"}, None
    try:
        tokens = shlex.split(query)
    except ValueError as error:
        raise GraphQLError(f"Invalid search query: {error}") from None
    for token in tokens:
        name, sep, value = token.partition(":")
        if not sep or not name:
            words.append(token.lower())
        elif name == "sort":
            field, _, direction = value.partition("-")
            if field not in _SORTS:
                raise GraphQLError(f"The sandbox does not implement the search order `{value}`")
            order = {"field": _SORTS[field], "direction": (direction or "desc").upper()}
        elif name == "in":  # where words are looked for: title, body (GitHub: also comments)
            where = set(value.lower().split(","))
            if not where <= {"title", "body"}:
                raise _unserved(name, value)
        else:
            tests.append(_qualifier(context, name, value))
    return tests, words, where, order


def _has_words(record: Json, words: list[str], where: set[str]) -> bool:
    text = " ".join(
        (
            record["title"] if "title" in where else "",
            record["body"] or "" if "body" in where else "",
        )
    ).lower()
    return all(w in text for w in words)


@resolves("Query", "search")
def resolve_search(
    _: Any,
    info: Any,
    query: str,
    type: str,  # noqa: A002 - GitHub's argument name
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    **__: Any,
) -> Json:
    """Search the issues and pull requests of repositories the caller may see.

    As on GitHub, `last` pages forward from `after` like `first` (gh asks `last: $limit`).
    """
    if type != "ISSUE":
        raise GraphQLError(
            f"The sandbox does not implement search of type {type}",
            extensions={"type": "NOT_IMPLEMENTED"},
        )
    context: Context = info.context
    tests, words, where, order = parse(context, query)
    found = _sorted(
        [
            (repo, record)
            for repo in context.store.repos.values()
            if can(context.store, repo, context.login, "pull")
            for record in repo["issues"].values()
            if all(t(repo, record) for t in tests) and _has_words(record, words, where)
        ],
        order or {"field": "CREATED_AT", "direction": "DESC"},
    )
    page = connection(
        found, first if first is not None else last, after, "search", lambda f: issue(context, *f)
    )
    return {**page, "issueCount": len(found)}


def _sorted(found: list[tuple[Json, Json]], order: Json) -> list[tuple[Json, Json]]:
    """Order results, from every repository together, by creation, update or comments."""

    def key(hit: tuple[Json, Json]) -> tuple[Any, int]:
        repo, record = hit
        if order["field"] == "COMMENTS":
            said = sum(1 for c in repo["comments"].values() if c["issue"] == record["number"])
            return said, record["id"]
        return record["updated_at" if order["field"] == "UPDATED_AT" else "created_at"], record[
            "id"
        ]

    return sorted(found, key=key, reverse=order["direction"] == "DESC")

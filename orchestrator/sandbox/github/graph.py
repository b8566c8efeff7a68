"""Serve GitHub's GraphQL API: graphql-core runs the published schema on the sandbox's resolvers."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    OperationType,
    build_schema,
    execute_sync,
    parse,
    validate,
)
from graphql.language import OperationDefinitionNode

# Importing the resolver modules registers their resolvers.
from orchestrator.sandbox.github import (  # noqa: F401
    gqlchecks,
    gqldependencies,
    gqlissueedits,
    gqlissues,
    gqllists,
    gqlmergequeue,
    gqlpins,
    gqlpulledits,
    gqlpulls,
    gqlqueries,
    gqlrepo,
    gqlsearch,
    projectedits,
    projects,
)
from orchestrator.sandbox.github.api import Hooks
from orchestrator.sandbox.github.gqlcore import RESOLVERS, Context
from orchestrator.sandbox.github.gqldependencies_sdl import DEPENDENCY_ADDITIONS
from orchestrator.sandbox.github.gqlrefuse import GITHUB_RULES, refuse_unresolved
from orchestrator.sandbox.github.state import Json, Store

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "graphql-schema.graphql"
# What GitHub added after the vendored snapshot (2025-02-27) and Agent OS relies on, applied in
# memory. Each entry: the exact SDL text to find, the text to put in its place, and why.
SCHEMA_ADDITIONS = (
    # An option sent with its `id` keeps that id, and so the items set to it; without, GitHub
    # recreates the option and clears those items' values. The live schema documents the optional
    # `id`.
    (
        "input ProjectV2SingleSelectFieldOptionInput {\n",
        'input ProjectV2SingleSelectFieldOptionInput {\n  """\n'
        '  The ID of an existing option to keep\n  """\n'
        "  id: String\n\n",
    ),
    # Issue dependencies ("blocked by"): Issue.blockedBy, blocking and issueDependenciesSummary,
    # the addBlockedBy and removeBlockedBy mutations and their types, in GitHub's schema since
    # 2025-07-30 (the summary's totalBlockedBy and totalBlocking since 2025-10-15). A board read
    # brings each Ready issue's blockers with it, so the dispatcher reads none by REST. GitHub's
    # SDL as published, in gqldependencies_sdl.py (provenance: ../schemas/README.md).
    *DEPENDENCY_ADDITIONS,
)


def schema_sdl() -> str:
    """Return the vendored schema with SCHEMA_ADDITIONS applied (each must apply exactly once)."""
    sdl = SCHEMA_PATH.read_text(encoding="utf-8")
    for find, replace in SCHEMA_ADDITIONS:
        if sdl.count(find) != 1:
            raise RuntimeError(f"schema addition no longer applies: {find!r}")
        sdl = sdl.replace(find, replace)
    return sdl


@functools.lru_cache(maxsize=1)
def schema() -> GraphQLSchema:
    """Build GitHub's published schema with SCHEMA_ADDITIONS once per process; add the resolvers.

    Every other field is answered from its parent's key, or refused (gqlrefuse).
    """
    built = build_schema(schema_sdl(), assume_valid_sdl=True, assume_valid=True)
    for (type_name, field), function in RESOLVERS.items():
        kind = built.type_map[type_name]
        assert isinstance(kind, GraphQLObjectType), type_name
        kind.fields[field].resolve = function
    refuse_unresolved(built)
    return built


def respond(
    store: Store,
    login: str,
    base: str,
    body: bytes,
    scopes: tuple[str, ...] | None = None,
    hooks: Hooks | None = None,
) -> tuple[int, Json]:
    """Run one GraphQL request; query errors come back with HTTP 200 in GitHub's `errors` shape.

    `hooks` are the REST handlers': resolvers run those handlers for what REST computes or changes
    (a merge, a new pull request), so without them such a field fails as a sandbox bug.
    """
    try:
        request = json.loads(body or b"{}")
        query = request["query"]
        assert isinstance(query, str)
    except (ValueError, KeyError, AssertionError, TypeError):
        return 400, {
            "message": "Problems parsing JSON",
            "documentation_url": "https://docs.github.com/graphql",
        }
    try:
        document = parse(query)
    except GraphQLError as error:
        return 200, {"errors": [_format(error)]}
    problems = validate(schema(), document, GITHUB_RULES)
    if problems:
        return 200, {"errors": [_format(e) for e in problems]}
    with store.lock:
        result = execute_sync(
            schema(),
            document,
            variable_values=request.get("variables"),
            operation_name=request.get("operationName"),
            context_value=Context(store, login, base, scopes, hooks),
        )
        if _is_mutation(document):
            store.save()
    for problem in result.errors or ():
        if problem.original_error is not None and not isinstance(
            problem.original_error, GraphQLError
        ):
            raise problem.original_error  # a resolver bug: the sandbox answers 500 and records it
    out: Json = {"data": result.data}
    if result.errors:
        out["errors"] = [_format(e) for e in result.errors]
    return 200, out


def _is_mutation(document: Any) -> bool:
    return any(
        isinstance(d, OperationDefinitionNode) and d.operation == OperationType.MUTATION
        for d in document.definitions
    )


def _format(error: GraphQLError) -> Json:
    """Return GitHub's error entry: type (when known), path, locations, message."""
    out: Json = {}
    if error.extensions and "type" in error.extensions:
        out["type"] = error.extensions["type"]
    if error.path:
        out["path"] = list(error.path)
    if error.locations:
        out["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    out["message"] = error.message
    return out

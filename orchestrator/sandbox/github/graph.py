"""Serve GitHub's GraphQL API: graphql-core runs the published schema; the sandbox supplies the resolvers."""
from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from graphql import (GraphQLError, GraphQLObjectType, GraphQLSchema, OperationType, build_schema, execute_sync,
                     parse, validate)
from graphql.language import OperationDefinitionNode

# Importing the resolver modules registers their resolvers.
from orchestrator.sandbox.github import gqlqueries, projectedits, projects  # noqa: F401
from orchestrator.sandbox.github.gqlcore import RESOLVERS, Context
from orchestrator.sandbox.github.state import Json, Store

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "graphql-schema.graphql"


@functools.lru_cache(maxsize=1)
def schema() -> GraphQLSchema:
    """Build GitHub's published schema once per process and attach the sandbox's resolvers."""
    built = build_schema(SCHEMA_PATH.read_text(encoding="utf-8"), assume_valid_sdl=True, assume_valid=True)
    for (type_name, field), function in RESOLVERS.items():
        kind = built.type_map[type_name]
        assert isinstance(kind, GraphQLObjectType), type_name
        kind.fields[field].resolve = function
    return built


def respond(store: Store, login: str, base: str, body: bytes) -> tuple[int, Json]:
    """Run one GraphQL request; query errors come back with HTTP 200 in GitHub's `errors` shape."""
    try:
        request = json.loads(body or b"{}")
        query = request["query"]
        assert isinstance(query, str)
    except (ValueError, KeyError, AssertionError, TypeError):
        return 400, {"message": "Problems parsing JSON", "documentation_url": "https://docs.github.com/graphql"}
    try:
        document = parse(query)
    except GraphQLError as error:
        return 200, {"errors": [_format(error)]}
    problems = validate(schema(), document)
    if problems:
        return 200, {"errors": [_format(e) for e in problems]}
    with store.lock:
        result = execute_sync(schema(), document, variable_values=request.get("variables"),
                              operation_name=request.get("operationName"), context_value=Context(store, login, base))
        if _is_mutation(document):
            store.save()
    for problem in result.errors or ():
        if problem.original_error is not None and not isinstance(problem.original_error, GraphQLError):
            raise problem.original_error  # a resolver bug: the sandbox answers 500 and records it
    out: Json = {"data": result.data}
    if result.errors:
        out["errors"] = [_format(e) for e in result.errors]
    return 200, out


def _is_mutation(document: Any) -> bool:
    return any(isinstance(d, OperationDefinitionNode) and d.operation == OperationType.MUTATION
               for d in document.definitions)


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

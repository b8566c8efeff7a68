"""Charge each GraphQL request its points against the caller's GraphQL budget, and serve
`rateLimit`.

GitHub keeps the GraphQL API's primary limit apart from REST's: points per hour (5,000 for a
user), a query's points counted from its connections (gqlcost.py). A spent budget is answered
with HTTP 200 and a `RATE_LIMITED` error, X-RateLimit-Remaining 0 ("Rate limits and query limits
for the GraphQL API": "the response status will still be 200, but you will receive an error
message"). The sandbox imports this module, which registers the `Query.rateLimit` resolver before
the schema is first built.
"""

from __future__ import annotations

import functools
import json
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from graphql import DocumentNode, GraphQLError, parse

from orchestrator.sandbox.github import graph
from orchestrator.sandbox.github.api import Hooks
from orchestrator.sandbox.github.faults import RateLimiter
from orchestrator.sandbox.github.gqlcore import resolves
from orchestrator.sandbox.github.gqlcost import QueryCost, query_cost
from orchestrator.sandbox.github.rest import json_response
from orchestrator.sandbox.github.server import Outgoing
from orchestrator.sandbox.github.state import Json, Store

# What `rateLimit` answers for the request being executed (set around graph.respond: GraphQL runs
# in the request's own thread, so each request sees its own).
CURRENT: ContextVar[Json | None] = ContextVar("graphql_rate_limit", default=None)


def cost_of(body: bytes) -> QueryCost | None:
    """Return the cost of a GraphQL request body; None when it is no parsable query (GitHub's
    error for it costs nothing here: graph.respond answers it)."""
    try:
        request = json.loads(body or b"{}")
        document = _parsed(request["query"])
    except (ValueError, KeyError, TypeError, GraphQLError):
        return None
    variables = request.get("variables")
    return query_cost(
        graph.schema(),
        document,
        variables if isinstance(variables, dict) else None,
        request.get("operationName") if isinstance(request.get("operationName"), str) else None,
    )


@functools.lru_cache(maxsize=256)
def _parsed(query: str) -> DocumentNode:
    """Parse a query once: clients send the same few documents again and again, and parsing one
    costs more than counting it (graph.respond parses its own copy to run it)."""
    return parse(query)


def respond(
    store: Store,
    limiter: RateLimiter,
    login: str,
    base: str,
    body: bytes,
    scopes: tuple[str, ...] | None,
    hooks: Hooks,
) -> Outgoing:
    """Answer one GraphQL request, charged to `login`'s budget in `limiter` (a dry run is free).

    The response carries that budget's X-RateLimit-* headers, after the charge.
    """
    cost = cost_of(body)
    if cost is None:
        code, answer = graph.respond(store, login, base, body, scopes, hooks=hooks)
    elif not cost.dry_run and not limiter.take(login, cost.points):
        code, answer = 200, rate_limited(store.users[login]["id"])
    else:
        token = CURRENT.set(figures(limiter, login, cost))
        try:
            code, answer = graph.respond(store, login, base, body, scopes, hooks=hooks)
        finally:
            CURRENT.reset(token)
    response = json_response(code, answer)
    response.headers.update(limiter.headers(login))
    return response


def rate_limited(user_id: int) -> Json:
    """Return GitHub's answer to a call over the GraphQL budget (HTTP 200, no data)."""
    message = f"API rate limit exceeded for user ID {user_id}."
    return {"errors": [{"type": "RATE_LIMITED", "message": message}]}


def figures(limiter: RateLimiter, login: str, cost: QueryCost) -> Json:
    """Return the RateLimit object for a query of `cost`, once charged (or not, for a dry run)."""
    status = limiter.status(login)
    return {
        "cost": cost.points,
        "limit": status["limit"],
        "nodeCount": cost.nodes,
        "remaining": status["remaining"],
        "used": status["used"],
        "resetAt": datetime.fromtimestamp(status["reset"], UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


@resolves("Query", "rateLimit")
def resolve_rate_limit(_: Any, info: Any, **__: Any) -> Json:
    """Return the caller's GraphQL budget and this query's cost (dryRun: the cost, unspent)."""
    found = CURRENT.get()
    if found is None:  # graph.respond called without the sandbox's budget (unit tests)
        raise GraphQLError(
            "The sandbox does not implement Query.rateLimit outside its GraphQL endpoint",
            extensions={"type": "NOT_IMPLEMENTED"},
        )
    return found

"""Run one REST request through GitHub's pipeline.

The steps: route, spec checks, handler, ETag and rate-limit headers.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable

# Importing the resource modules registers their routes.
from orchestrator.sandbox.github import (  # noqa: F401
    actions,
    checks,
    comments,
    contents,
    contentwrites,
    described,
    gitdata,
    issue_events,
    issues,
    labels,
    projectitems,
    protection,
    pulls,
    relations,
    repohooks,
    repos,
    reviews,
)
from orchestrator.sandbox.github.api import ApiError, Call, Hooks, Reply, dump
from orchestrator.sandbox.github.described import Operation
from orchestrator.sandbox.github.routing import ROUTES, Route
from orchestrator.sandbox.github.server import Incoming, Outgoing
from orchestrator.sandbox.github.state import Store
from orchestrator.sandbox.github.validation import (
    Exchange,
    Violation,
    check_request,
    check_response,
)

PREFIX = "/api/v3"
JSON_TYPE = "application/json; charset=utf-8"
log = logging.getLogger(__name__)


def json_response(status: int, body: object, headers: dict[str, str] | None = None) -> Outgoing:
    """Return a JSON response with GitHub's media-type headers."""
    return Outgoing(
        status,
        {
            "Content-Type": JSON_TYPE,
            "X-GitHub-Media-Type": "github.v3; format=json",
            **(headers or {}),
        },
        dump(body) if body is not None else b"",
    )


def error_response(error: ApiError) -> Outgoing:
    """Return GitHub's error document for an ApiError."""
    return json_response(error.status, error.body(), error.headers)


def route_for(method: str, path: str) -> tuple[Route, dict[str, str]] | Operation | None:
    """Return the route that serves `method path`, the described operation no route serves, or
    None when GitHub's description has no such operation either (GitHub's 404).

    The description decides first: /commits/SHA/comments is list-comments-for-commit (not served),
    even though the get-commit route, whose ref may hold slashes, would take it.
    """
    method = "GET" if method == "HEAD" else method
    operation = described.load().match(method, path)
    if operation is not None and not ROUTES.serves(method, operation.operation_id):
        return operation
    return ROUTES.match(method, path)


class Rest:
    """The REST API: dispatches to routed handlers, reports spec violations to `on_violation`."""

    def __init__(
        self, store: Store, hooks: Hooks, on_violation: Callable[[Violation], None], strict: bool
    ) -> None:
        self.store, self.hooks, self.on_violation, self.strict = store, hooks, on_violation, strict

    def respond(self, request: Incoming, login: str, base: str) -> Outgoing:
        """Answer an authenticated REST request (path still carries /api/v3)."""
        path = request.path[len(PREFIX) :] or "/"
        found = route_for(request.method, path)
        if found is None:
            return error_response(ApiError(404, "Not Found"))
        if isinstance(found, Operation):
            return error_response(found.unserved())
        route, params = found
        exchange = Exchange(
            route.operation_id or "",
            request.method,
            route.spec_path(params),
            request.query,
            request.headers,
            request.body,
        )
        problem = route.operation_id and check_request(exchange)
        if problem and (bad := self._violation("request", request, None, problem)):
            return bad
        response = self._run(route, params, request, login, base, path)
        # A response to a request already outside the description is not checked again, nor is
        # a 501: the sandbox saying what it does not do is no answer of GitHub's.
        if not route.operation_id or problem or response.status == 501:
            return response
        if problem := check_response(exchange, response.status, response.headers, response.body):
            if bad := self._violation("response", request, response.status, problem):
                return bad
        return response

    def _violation(
        self, direction: str, request: Incoming, status: int | None, problem: str
    ) -> Outgoing | None:
        violation = Violation(direction, request.method, request.path, status, problem)
        self.on_violation(violation)
        log.warning("sandbox.spec_violation %s", violation)
        if self.strict:
            return json_response(
                500,
                {
                    "message": f"Sandbox spec violation: {violation}",
                    "documentation_url": "https://docs.github.com/rest",
                },
            )
        return None

    def _run(
        self,
        route: Route,
        params: dict[str, str],
        request: Incoming,
        login: str,
        base: str,
        path: str,
    ) -> Outgoing:
        try:
            body = json.loads(request.body) if request.body.strip() else {}
        except ValueError:
            return error_response(ApiError(400, "Problems parsing JSON"))
        call = Call(
            self.store, base, login, path, params, request.query, body, self.hooks, request.headers
        )
        with self.store.lock:
            try:
                reply = route.handler(call)
            except ApiError as error:
                return error_response(error)
            if request.method not in ("GET", "HEAD"):
                self.store.save()
        return self._finish(reply, request)

    def _finish(self, reply: Reply, request: Incoming) -> Outgoing:
        if isinstance(reply.body, bytes):  # a raw media type: the handler set Content-Type
            response = Outgoing(reply.status, dict(reply.headers), reply.body)
        else:
            response = json_response(reply.status, reply.body, reply.headers)
        if request.method in ("GET", "HEAD") and reply.status == 200:
            response.headers["ETag"] = f'W/"{hashlib.sha256(response.body).hexdigest()}"'
            response.headers["Cache-Control"] = "private, max-age=60, s-maxage=60"
            response.headers["Vary"] = "Accept, Authorization, Cookie, X-GitHub-OTP"
        return response


def not_modified(request: Incoming, response: Outgoing) -> bool:
    """Return whether the request's If-None-Match names the response's ETag."""
    etag = response.headers.get("ETag", "").removeprefix("W/")
    wanted = [
        t.strip().removeprefix("W/")
        for t in request.header("if-none-match").split(",")
        if t.strip()
    ]
    return bool(etag) and (etag in wanted or "*" in wanted)

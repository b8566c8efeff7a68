"""Serve the sandbox's control API under /_sandbox: request log, faults, CI, merge queues,
violations, users."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any, Protocol

from orchestrator.sandbox.github.faults import Fault, Faults
from orchestrator.sandbox.github.rest import json_response
from orchestrator.sandbox.github.server import Incoming, Outgoing
from orchestrator.sandbox.github.validation import Violation

PREFIX = "/_sandbox"


class Controlled(Protocol):
    """What the control endpoints reach of the sandbox (sandbox.Sandbox is the one)."""

    faults: Faults
    violations: list[Violation]

    @property
    def requests(self) -> list[Any]: ...
    def clear_requests(self) -> None: ...
    def add_user(
        self,
        login: str,
        token: str | None = None,
        scopes: tuple[str, ...] | list[str] | None = None,
        name: str | None = None,
    ) -> str: ...
    def wait_ci_idle(self, timeout: float = 60.0) -> bool: ...
    def set_ci(
        self, full_name: str, command: str | None, push_branches: tuple[str, ...] | None = None
    ) -> None: ...
    def ci_command(self, full_name: str) -> str | None: ...
    def require_merge_queue(
        self, full_name: str, branch: str = "main", on: bool = True
    ) -> None: ...


def respond(sandbox: Controlled, request: Incoming) -> Outgoing:
    """Answer a control request (already authenticated)."""
    path, method = request.path[len(PREFIX) :], request.method
    try:
        body: Any = json.loads(request.body) if request.body.strip() else {}
        return _dispatch(sandbox, method, path, body, request)
    except (ValueError, TypeError, KeyError) as error:
        return json_response(400, {"message": str(error)})


def _dispatch(
    sandbox: Controlled, method: str, path: str, body: Any, request: Incoming
) -> Outgoing:
    if path == "/requests" and method == "GET":
        return json_response(200, [asdict(r) for r in sandbox.requests])
    if path == "/requests" and method == "DELETE":
        sandbox.clear_requests()
        return json_response(204, None)
    if path == "/violations" and method == "GET":
        return json_response(200, [asdict(v) for v in sandbox.violations])
    if path == "/faults":
        return _faults(sandbox, method, body)
    if path == "/users" and method == "POST":
        token = sandbox.add_user(body["login"], token=body.get("token"), scopes=body.get("scopes"))
        return json_response(201, {"login": body["login"], "token": token})
    if path == "/ci/idle" and method == "GET":
        timeout = float(request.query.get("timeout", ["60"])[0])
        return json_response(200, {"idle": sandbox.wait_ci_idle(timeout)})
    if path.startswith("/repos/") and path.endswith("/ci"):
        full_name = path[len("/repos/") : -len("/ci")]
        if method in ("PUT", "POST"):
            branches = body.get("push_branches")
            sandbox.set_ci(full_name, body.get("command"), tuple(branches or ()))
        elif method == "DELETE":
            sandbox.set_ci(full_name, None, ())
        return json_response(
            200, {"repository": full_name, "command": sandbox.ci_command(full_name)}
        )
    if path.startswith("/repos/") and "/branches/" in path and path.endswith("/merge-queue"):
        full_name, _, branch = path[len("/repos/") : -len("/merge-queue")].partition("/branches/")
        if method in ("PUT", "DELETE"):
            sandbox.require_merge_queue(full_name, branch, method == "PUT")
            return json_response(200, {"repository": full_name, "branch": branch})
    return json_response(404, {"message": "Not Found"})


def _faults(sandbox: Controlled, method: str, body: Any) -> Outgoing:
    if method == "POST":
        rules = body if isinstance(body, list) else [body]
        added = [sandbox.faults.add(Fault.from_json(rule)).to_json() for rule in rules]
        return json_response(201, added)
    if method == "DELETE":
        sandbox.faults.clear()
        return json_response(204, None)
    return json_response(200, [rule.to_json() for rule in sandbox.faults.rules()])

"""Inject GitHub's failure modes on chosen paths.

The modes: 5xx, rate limits (primary and secondary), slowness, drops.
"""

from __future__ import annotations

import fnmatch
import secrets
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

from orchestrator.sandbox.github.rest import json_response
from orchestrator.sandbox.github.server import Outgoing
from orchestrator.sandbox.github.state import Json, now_iso

KINDS = ("error", "secondary_rate_limit", "rate_limit", "slow", "drop")
RATE_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID {rid}."
)
PRIMARY_MESSAGE = (
    "API rate limit exceeded for user ID {uid}. If you reach out to GitHub Support for help, "
    "please include the request ID {rid} and timestamp {ts}."
)


@dataclass
class Fault:
    """One rule: requests whose method and path match `method`/`path` (fnmatch patterns) get `kind`.

    error: answer `status` (default 500; 502 too; 404 for an endpoint this GitHub lacks).
    secondary_rate_limit: 403 with Retry-After.
    rate_limit: `status` 403 (or 429) with X-RateLimit-Remaining 0 and a reset `retry_after` s away.
    slow: wait `delay` seconds, then answer normally. drop: close the socket without answering.
    `times` limits how many requests the rule hits (None: until cleared). `contains` narrows the
    rule to requests whose body holds that text: one GraphQL operation, such as "createProjectV2".
    """

    kind: str
    path: str = "*"
    method: str = "*"
    status: int | None = None
    delay: float = 0.0
    retry_after: int = 60
    times: int | None = None
    contains: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(
                f"unknown fault kind {self.kind!r}; expected one of {', '.join(KINDS)}"
            )

    @classmethod
    def from_json(cls, doc: Any) -> Fault:
        """Build a rule from the control endpoint's JSON; ValueError on bad input."""
        if not isinstance(doc, dict) or "kind" not in doc:
            raise ValueError('a fault needs at least {"kind": ...}')
        fields = {
            k: doc[k]
            for k in (
                "kind",
                "path",
                "method",
                "status",
                "delay",
                "retry_after",
                "times",
                "contains",
            )
            if k in doc
        }
        return cls(**fields)

    def matches(self, method: str, path: str, body: bytes = b"") -> bool:
        """Return whether this rule applies to a request."""
        return (
            fnmatch.fnmatchcase(method.upper(), self.method.upper())
            and fnmatch.fnmatchcase(path, self.path)
            and (self.contains is None or self.contains.encode() in body)
        )

    def to_json(self) -> Json:
        """Return the rule as JSON."""
        return asdict(self)


class Faults:
    """The active rules, consulted in order; a rule with `times` expires after that many hits."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        """Activate a rule."""
        with self._lock:
            self._rules.append(fault)
        return fault

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[Fault]:
        """Return the active rules."""
        with self._lock:
            return list(self._rules)

    def take(self, method: str, path: str, body: bytes = b"") -> Fault | None:
        """Return the first rule matching a request, counting the hit."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, path, body):
                    if rule.times is not None:
                        rule.times -= 1
                        if rule.times <= 0:
                            self._rules.remove(rule)
                    return rule
        return None


class RateLimiter:
    """One of GitHub's primary rate limits: `limit` units per token-owner per hour.

    `resource` names it as GitHub does: "core" counts REST requests, "graphql" GraphQL points.
    The count resets an hour after its first use.
    """

    def __init__(self, limit: int = 5000, window: int = 3600, resource: str = "core") -> None:
        self.limit, self.window, self.resource = limit, window, resource
        self._lock = threading.Lock()
        self._used: dict[str, tuple[int, int]] = {}

    def status(self, login: str) -> Json:
        """Return {limit, used, remaining, reset, resource} for a user."""
        with self._lock:
            used, reset = self._current(login)
        return {
            "limit": self.limit,
            "used": used,
            "remaining": max(0, self.limit - used),
            "reset": reset,
            "resource": self.resource,
        }

    def spend(self, login: str, amount: int = 1) -> None:
        """Count `amount` units against the user's budget."""
        with self._lock:
            used, reset = self._current(login)
            self._used[login] = (used + amount, reset)

    def take(self, login: str, amount: int) -> bool:
        """Spend `amount` units unless the budget is spent already; return whether it was taken.

        A call that costs more than what is left is served and empties the budget: GitHub refuses
        the next one, with X-RateLimit-Remaining 0 (its documented sign of a spent limit).
        """
        with self._lock:
            used, reset = self._current(login)
            if used >= self.limit:
                return False
            self._used[login] = (min(self.limit, used + amount), reset)
            return True

    def _current(self, login: str) -> tuple[int, int]:
        used, reset = self._used.get(login, (0, 0))
        if time.time() >= reset:
            used, reset = 0, int(time.time()) + self.window
            self._used[login] = (used, reset)
        return used, reset

    def headers(self, login: str) -> dict[str, str]:
        """Return the X-RateLimit-* headers GitHub sends on every response."""
        s = self.status(login)
        return {
            "X-RateLimit-Limit": str(s["limit"]),
            "X-RateLimit-Remaining": str(s["remaining"]),
            "X-RateLimit-Reset": str(s["reset"]),
            "X-RateLimit-Used": str(s["used"]),
            "X-RateLimit-Resource": self.resource,
        }


class RateLimits:
    """The primary rate limits the sandbox keeps per user, each with its own hourly window:
    `core` (REST requests, 5,000) and `graphql` (GraphQL points, 5,000 for a user)."""

    def __init__(self, core: int = 5000, graphql: int = 5000) -> None:
        self.core = RateLimiter(core)
        self.graphql = RateLimiter(graphql, resource="graphql")

    def status(self, login: str, resource: str = "core") -> Json:
        """Return {limit, used, remaining, reset, resource} of one resource for a user."""
        return self.limiter(resource).status(login)

    def limiter(self, resource: str) -> RateLimiter:
        """Return the limiter of "core" or "graphql"."""
        if resource not in ("core", "graphql"):
            raise ValueError(f"unknown rate-limit resource {resource!r}; expected core or graphql")
        return self.core if resource == "core" else self.graphql

    def overview(self, login: str) -> Json:
        """Return GET /rate_limit's entries for the user: {"core": ..., "graphql": ...}, each
        {limit, used, remaining, reset} as GitHub writes them."""
        return {
            name: {k: v for k, v in self.status(login, name).items() if k != "resource"}
            for name in ("core", "graphql")
        }


def fault_response(fault: Fault, user_id: int, limit: int) -> Outgoing:
    """Return what GitHub answers under `fault` (slow faults are waited out by the caller)."""
    rid = secrets.token_hex(8).upper()
    if fault.kind == "drop":
        return Outgoing(drop=True)
    if fault.kind == "error":
        status = fault.status or 500
        words = {404: "Not Found", 500: "Server Error"}.get(status, "Bad Gateway")
        return json_response(status, {"message": words})
    if fault.kind == "secondary_rate_limit":
        body = {
            "message": SECONDARY_MESSAGE.format(rid=rid),
            "documentation_url": f"{RATE_DOCS}#about-secondary-rate-limits",
        }
        return json_response(403, body, {"Retry-After": str(fault.retry_after)})
    body = {
        "message": PRIMARY_MESSAGE.format(uid=user_id, rid=rid, ts=now_iso()),
        "documentation_url": RATE_DOCS,
    }
    return json_response(
        fault.status or 403,
        body,
        {
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Used": str(limit),
            "X-RateLimit-Reset": str(int(time.time()) + fault.retry_after),
        },
    )

"""Describe one REST call as handlers see it, their replies, GitHub's error shape and pagination."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlencode

from orchestrator.sandbox.github.state import Json, Store

DOCS = "https://docs.github.com/rest"


class ApiError(Exception):
    """An error in GitHub's shape: {"message", "errors"?, "documentation_url", "status"}."""

    def __init__(
        self,
        status: int,
        message: str,
        errors: list[Any] | None = None,
        headers: dict[str, str] | None = None,
        docs: str = DOCS,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.headers = headers or {}
        self.docs = docs

    def body(self) -> Json:
        """Return the JSON error document GitHub sends for this error."""
        doc: Json = {"message": self.message}
        if self.errors is not None:
            doc["errors"] = self.errors
        doc["documentation_url"] = self.docs
        doc["status"] = str(self.status)
        return doc


def not_found() -> ApiError:
    """Return GitHub's 404, which it also gives for things the caller may not see."""
    return ApiError(404, "Not Found")


def invalid(
    resource: str, field_name: str, code: str = "invalid", message: str | None = None
) -> ApiError:
    """Return GitHub's 422 "Validation Failed" naming one field."""
    error: Json = {"resource": resource, "field": field_name, "code": code}
    if message:
        error["message"] = message
    return ApiError(422, "Validation Failed", [error])


@dataclass
class Reply:
    """A handler's answer: status, JSON body (None for an empty body) and extra headers."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


Update = tuple[str, str, str]  # a ref moved: (old sha, new sha, refname); ZERO for none


def _nothing(repo: Json, sha: str) -> None:
    """Do nothing (handlers run without a sandbox, in tests)."""


class Deliverer(Protocol):
    """Sends webhook deliveries and keeps their records (webhooks.Deliveries)."""

    def send(
        self, hook: Json, event: str, payload: Json, guid: str, redelivery: bool = False
    ) -> None: ...

    def deliveries(self, hook_id: int) -> list[Json]: ...


@dataclass
class Hooks:
    """What handlers may ask of the sandbox beyond the state (keeps handlers free of the server)."""

    pull_opened: Callable[[Json, int], None]
    pushed: Callable[[Json, list[Update], str], None]  # refs moved, and who moved them
    rate: Callable[[str], Json]
    run_ci: Callable[[Json, str], None] = _nothing  # queue the repository's CI on a commit
    checked: Callable[[Json, str], None] = _nothing  # a check or status on a commit changed
    checks_need_app: bool = True  # GitHub lets only GitHub Apps write check runs
    lazy_mergeable: bool = (
        False  # answer mergeable null once after each change, as GitHub's background job does
    )
    webhooks: Deliverer | None = None  # repository webhooks' deliveries; None: none are sent


@dataclass
class Call:
    """One authenticated REST request: who, which route parameters, query, body and the state."""

    store: Store
    base: str
    login: str
    path: str
    params: dict[str, str]
    query: dict[str, list[str]]
    body: Any
    hooks: Hooks
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names

    @property
    def api(self) -> str:
        """Return the REST root URL, e.g. http://127.0.0.1:PORT/api/v3."""
        return f"{self.base}/api/v3"

    def arg(self, name: str, default: str | None = None) -> str | None:
        """Return the first value of a query parameter."""
        values = self.query.get(name)
        return values[0] if values else default

    def header(self, name: str, default: str = "") -> str:
        """Return a request header, matched case-insensitively."""
        return self.headers.get(name.lower(), default)

    def field(self, name: str, default: Any = None) -> Any:
        """Return a field of the JSON object body."""
        return self.body.get(name, default) if isinstance(self.body, dict) else default

    def int_arg(self, name: str, default: int) -> int:
        """Return an integer query parameter, or 422 as GitHub does for junk."""
        raw = self.arg(name)
        if raw is None:
            return default
        try:
            return int(raw)
        except ValueError:
            raise invalid("Query", name) from None


def paginate(
    call: Call, items: Sequence[Any], render: Callable[[Any], Json] | None = None
) -> Reply:
    """Return one page of `items` with a GitHub `Link` header that points back at the sandbox."""
    per_page = max(1, min(call.int_arg("per_page", 30), 100))
    page = max(1, call.int_arg("page", 1))
    last = max(1, -(-len(items) // per_page))
    chunk = items[(page - 1) * per_page : page * per_page]
    body = [render(item) if render else item for item in chunk]
    links = []
    for rel, target in (("prev", page - 1), ("next", page + 1), ("last", last), ("first", 1)):
        if (rel in ("prev", "first") and page > 1) or (rel in ("next", "last") and page < last):
            links.append(f'<{page_url(call, target, per_page)}>; rel="{rel}"')
    return Reply(200, body, {"Link": ", ".join(links)} if links else {})


def page_url(call: Call, page: int, per_page: int) -> str:
    """Return the URL of another page of the same listing."""
    query = [
        (k, v) for k, values in call.query.items() if k not in ("page", "per_page") for v in values
    ]
    query += [("per_page", str(per_page)), ("page", str(page))]
    return f"{call.api}{call.path}?{urlencode(query)}"


def dump(body: Any) -> bytes:
    """Serialize a JSON body compactly, as GitHub does."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()

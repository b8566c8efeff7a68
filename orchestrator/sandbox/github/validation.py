"""Check every REST exchange against GitHub's published OpenAPI description, with openapi-core.

The description is a vendored subset.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openapi_core import Config, OpenAPI
from openapi_core.exceptions import OpenAPIError
from openapi_core.testing import MockRequest, MockResponse

SPEC_PATH = Path(__file__).resolve().parent.parent / "schemas" / "rest-openapi-subset.json"
# openapi-core matches paths against the description's server, so requests are validated as if
# sent there.
SPEC_HOST = "https://api.github.com"


@dataclass(frozen=True)
class Violation:
    """One place where a request or a response left GitHub's description."""

    direction: str  # "request" or "response"
    method: str
    path: str
    status: int | None
    message: str

    def __str__(self) -> str:
        status = f" -> {self.status}" if self.status else ""
        return f"{self.direction} {self.method} {self.path}{status}: {self.message}"


def _bare_label_array(body: Any) -> bool:
    return isinstance(body, list) and all(isinstance(item, str) for item in body)


# Known deviations of the description from what GitHub accepts: (operation, predicate on the
# request body).
ALLOWED_REQUEST_DEVIATIONS: dict[str, Callable[[Any], bool]] = {
    # PyGithub's Issue.add_to_labels / set_labels send ["bug"]; GitHub answers 200 (PyGithub
    # ReplayData), and the description's own prose allows "an array of labels directly", but its
    # schema does not.
    "issues/add-labels": _bare_label_array,
    "issues/set-labels": _bare_label_array,
}


# Responses GitHub sends that the description does not list: (operation, status).
ALLOWED_RESPONSE_DEVIATIONS = {
    # "OAuth apps and personal access tokens (classic) cannot use this endpoint" (the description's
    # own words), answered with 403; its responses list only 201/200.
    ("checks/create", 403),
    ("checks/update", 403),
    # "name is too long (maximum is 50 characters)", or a new name taken: GitHub answers 422
    # Validation Failed, as create-label's responses list; update-label's list only 200.
    ("issues/update-label", 422),
    # A job id that names no job (a check run of another app, say), or a job with no log yet:
    # GitHub answers its usual 404 Not Found; these two operations' responses list only 200/302.
    ("actions/get-job-for-workflow-run", 404),
    ("actions/download-job-logs-for-workflow-run", 404),
    # A hook or delivery id that names none: GitHub's 404 Not Found, as for the hook itself; the
    # deliveries' responses list only 200/202, 400 and 422.
    ("repos/list-webhook-deliveries", 404),
    ("repos/get-webhook-delivery", 404),
    ("repos/redeliver-webhook-delivery", 404),
}


# Media types an operation's prose documents but its responses do not list: (operation, type).
ALLOWED_RESPONSE_MEDIA_TYPES = {
    # "application/vnd.github.raw+json: Returns the raw file contents for files and symlinks"
    # (get-content's description); GitHub answers it as application/vnd.github.v3.raw (recorded).
    ("repos/get-content", "application/vnd.github.v3.raw"),
}


def patch_nullable(node: Any) -> None:
    """Make GitHub's `nullable: true` mean what GitHub sends: null (the two loader fixes).

    1. An enum under `nullable: true` gets None (e.g. issue state_reason, check-run conclusion).
    2. A `nullable: true` oneOf/anyOf without `type` (e.g. commit `author`) gets a null branch:
       openapi-core ignores `nullable` without `type`, yet GitHub sends null there.
    """
    if isinstance(node, dict):
        if (
            node.get("nullable") is True
            and isinstance(node.get("enum"), list)
            and None not in node["enum"]
        ):
            node["enum"].append(None)
        for key in ("oneOf", "anyOf"):
            if (
                node.get("nullable") is True
                and "type" not in node
                and isinstance(node.get(key), list)
            ):
                node[key].append({"enum": [None]})
        for value in node.values():
            patch_nullable(value)
    elif isinstance(node, list):
        for value in node:
            patch_nullable(value)


def patch_array_discriminators(node: Any) -> None:
    """Drop a discriminator that maps "array" (get-content's: a directory is a JSON array).

    A discriminator reads a property of an object, so an array never matches one: openapi-core
    refuses every directory listing. The oneOf branches tell the shapes apart without it.
    """
    if isinstance(node, dict):
        if "array" in (node.get("discriminator") or {}).get("mapping", {}):
            del node["discriminator"]
        for value in node.values():
            patch_array_discriminators(value)
    elif isinstance(node, list):
        for value in node:
            patch_array_discriminators(value)


@functools.lru_cache(maxsize=1)
def load_spec() -> OpenAPI:
    """Load the vendored description once per process, with the loader fixes applied."""
    document = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    patch_nullable(document)
    patch_array_discriminators(document)
    # The document is GitHub's, validated once by tests/sandbox/github/test_validation.py, not on
    # every start.
    return OpenAPI.from_dict(document, config=Config(spec_validator_cls=None))


def describe(error: Exception) -> str:
    """Flatten an openapi-core error and its schema errors (down to each oneOf branch) to a line."""
    parts = [str(error).split(":", 1)[0]]
    cause = error.__cause__
    schema_errors = list(getattr(cause, "schema_errors", None) or ())
    for item in schema_errors:
        parts.extend(_leaves(item))
    if cause is not None and not schema_errors:
        parts.append(str(cause))
    return "; ".join(parts[:12])


def _leaves(error: Any, branch: str = "") -> list[str]:
    context = getattr(error, "context", None)
    if not context:
        return [f"{branch}{getattr(error, 'json_path', '$')}: {getattr(error, 'message', error)}"]
    found: list[str] = []
    for item in context:
        found.extend(_leaves(item, f"{branch}[branch {list(item.schema_path)[:1]}] "))
    return found


@dataclass(frozen=True)
class Exchange:
    """What the validator needs of a REST exchange; `spec_path` has multi-segment values encoded."""

    operation_id: str
    method: str
    spec_path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


def _request(ex: Exchange) -> MockRequest:
    request = MockRequest(
        SPEC_HOST,
        ex.method,
        ex.spec_path,
        args=None,
        headers=ex.headers,
        data=ex.body or None,
        content_type="application/json",
    )
    from werkzeug.datastructures import ImmutableMultiDict

    request.parameters.query = ImmutableMultiDict(
        [(k, v) for k, vs in ex.query.items() for v in vs]
    )
    return request


def check_request(ex: Exchange) -> str | None:
    """Return why the request leaves the description, or None."""
    try:
        load_spec().validate_request(_request(ex))
    except OpenAPIError as error:
        allowed = ALLOWED_REQUEST_DEVIATIONS.get(ex.operation_id)
        if allowed and ex.body and allowed(json.loads(ex.body)):
            return None
        return describe(error)
    return None


def check_response(ex: Exchange, status: int, headers: dict[str, str], body: bytes) -> str | None:
    """Return why the response leaves the description, or None."""
    if (ex.operation_id, status) in ALLOWED_RESPONSE_DEVIATIONS:
        return None
    media_type = headers.get("Content-Type", "").split(";", 1)[0].strip()
    if (ex.operation_id, media_type) in ALLOWED_RESPONSE_MEDIA_TYPES:
        return None
    response = MockResponse(
        body, status, headers, content_type=headers.get("Content-Type", "application/json")
    )
    try:
        load_spec().validate_response(_request(ex), response)
    except OpenAPIError as error:
        return describe(error)
    return None

"""Translate PyGithub, requests and urllib3 failures into TrackerError and its kinds.

Each message is one line, redacted.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import requests
import urllib3.exceptions
from github import GithubException, RateLimitExceededException

from orchestrator.core.redact import redact
from orchestrator.errors import RateLimited, TrackerError, TrackerUnauthorized, TrackerUnavailable

TRANSPORT_ERRORS = (
    requests.RequestException,
    urllib3.exceptions.HTTPError,
    http.client.HTTPException,
)


@contextmanager
def translated(subject: str, action: str) -> Iterator[None]:
    """Raise our error for any GitHub failure in the block.

    The message names `action` (a verb) on `subject` (acme/app#12).
    """
    try:
        yield
    except GithubException as error:
        raise from_github(error, subject, action) from error
    except TRANSPORT_ERRORS as error:
        raise TrackerUnavailable(
            one_line(
                f"GitHub could not be reached to {action} {subject} "
                f"({type(error).__name__}, after retries)"
            )
        ) from error


def from_github(error: GithubException, subject: str, action: str) -> TrackerError:
    """Return the error for a GitHub answer.

    401 token, rate limit, 403 access, 5xx, 404 named, else refused.
    """
    status, message = error.status, describe(error.data)
    if status == 401:
        return TrackerUnauthorized(
            one_line(f"GitHub rejected the token ({status} {message}): check github.token")
        )
    if is_rate_limited(error):
        return RateLimited(
            one_line(
                f"GitHub rate limit hit trying to {action} {subject}: {wait_hint(error.headers)}"
            )
        )
    if status == 403:
        return access_refused(message, subject, action)
    if status >= 500:
        return TrackerUnavailable(
            one_line(f"GitHub failed to {action} {subject} ({status} {message}, after retries)")
        )
    if status == 404:
        return TrackerError(one_line(f"{subject} not found"))
    return TrackerError(one_line(f"GitHub refused to {action} {subject} ({status} {message})"))


def access_refused(message: str, subject: str, action: str) -> TrackerUnauthorized:
    """Return the error for a 403 that is no rate limit: the token may not do this."""
    return TrackerUnauthorized(
        one_line(
            f"GitHub refused the token trying to {action} {subject} (403 {message}): "
            "check the token's scopes and its access to the repository"
        )
    )


def is_rate_limited(error: GithubException) -> bool:
    """Return whether GitHub answered with a primary or secondary rate limit (403 or 429).

    A secondary limit may come as a 403 with neither Retry-After nor a spent budget: its
    message says so, and it must not read as a refused token.
    """
    if isinstance(error, RateLimitExceededException) or error.status == 429:
        return True
    return error.status == 403 and (
        header(error.headers, "x-ratelimit-remaining") == "0"
        or header(error.headers, "retry-after") is not None
        or says_rate_limit(describe(error.data))
    )


def says_rate_limit(message: str) -> bool:
    """Return whether GitHub's message names a rate limit (or its old name, abuse detection)."""
    said = message.lower()
    return "rate limit" in said or "abuse" in said


def wait_hint(headers: Mapping[str, Any] | None) -> str:
    """Say when to retry: a secondary limit's Retry-After, else the primary limit's reset time."""
    retry_after = header(headers, "retry-after")
    if retry_after is not None:
        return f"retry after {retry_after} s"
    reset = header(headers, "x-ratelimit-reset")
    if reset is not None and reset.isdigit():
        when = datetime.fromtimestamp(int(reset), UTC)
        return f"the limit resets at {when.strftime('%Y-%m-%dT%H:%M:%SZ')}"
    return "the reset time was not given"


def header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    """Return a response header whatever its case (PyGithub lower-cases them, urllib3 does not)."""
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return str(value)
    return None


def describe(data: object) -> str:
    """Return GitHub's error message, with the first validation error's detail when there is one."""
    if not isinstance(data, Mapping):
        return str(data or "no message")
    message = str(data.get("message") or "no message").strip()
    errors = data.get("errors")
    if isinstance(errors, list) and errors:
        first = errors[0]
        detail = first.get("message") or first.get("code") if isinstance(first, Mapping) else first
        message += f": {detail}"
    return message


def one_line(message: str) -> str:
    """Collapse whitespace and redact secrets, so an error prints as one safe line."""
    return redact(" ".join(message.split()))


def validation_says(error: GithubException, status: int, *phrases: str) -> bool:
    """Return whether GitHub answered `status`, saying one of `phrases`.

    A phrase counts in the message or in an error's detail.
    """
    if error.status != status:
        return False
    said = describe(error.data).lower()
    return any(phrase.lower() in said for phrase in phrases)

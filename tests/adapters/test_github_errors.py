"""Each GitHub failure becomes one redacted line of the right TrackerError kind."""

from __future__ import annotations

import pytest
import requests
from github import (
    BadCredentialsException,
    GithubException,
    RateLimitExceededException,
    UnknownObjectException,
)

from orchestrator.adapters.github_errors import translated
from orchestrator.errors import RateLimited, TrackerError, TrackerUnauthorized, TrackerUnavailable

TOKEN = "ghp_" + "A" * 36


@pytest.mark.parametrize(
    "error, kind, message",
    [
        (
            BadCredentialsException(401, {"message": "Bad credentials"}, {}),
            TrackerUnauthorized,
            "GitHub rejected the token (401 Bad credentials): check github.token",
        ),
        (
            UnknownObjectException(404, {"message": "Not Found"}, {}),
            TrackerError,
            "acme/app#12 not found",
        ),
        (
            RateLimitExceededException(
                403, {"message": "API rate limit exceeded"}, {"x-ratelimit-reset": "1800000000"}
            ),
            RateLimited,
            "GitHub rate limit hit trying to close acme/app#12: "
            "the limit resets at 2027-01-15T08:00:00Z",
        ),
        (
            GithubException(429, {"message": "Too many"}, {"Retry-After": "30"}),
            RateLimited,
            "GitHub rate limit hit trying to close acme/app#12: retry after 30 s",
        ),
        (
            GithubException(503, {"message": "Service Unavailable"}, {}),
            TrackerUnavailable,
            "GitHub failed to close acme/app#12 (503 Service Unavailable, after retries)",
        ),
        (
            GithubException(
                403, {"message": "Resource not accessible by personal access token"}, {}
            ),
            TrackerUnauthorized,
            "GitHub refused the token trying to close acme/app#12 "
            "(403 Resource not accessible by personal access token): "
            "check the token's scopes and its access to the repository",
        ),
        (
            GithubException(
                422,
                {
                    "message": "Validation Failed",
                    "errors": [{"resource": "Issue", "code": "invalid", "field": "state_reason"}],
                },
                {},
            ),
            TrackerError,
            "GitHub refused to close acme/app#12 (422 Validation Failed: invalid)",
        ),
        (
            GithubException(
                422, {"message": "Validation Failed\n\n", "errors": [f"token {TOKEN} leaked"]}, {}
            ),
            TrackerError,
            "GitHub refused to close acme/app#12 "
            "(422 Validation Failed: token [REDACTED:github-token] leaked)",
        ),
        (
            requests.ConnectionError("Max retries exceeded"),
            TrackerUnavailable,
            "GitHub could not be reached to close acme/app#12 (ConnectionError, after retries)",
        ),
    ],
)
def test_failures_become_one_line_of_the_right_kind(
    error: Exception, kind: type[TrackerError], message: str
) -> None:
    with pytest.raises(TrackerError) as raised, translated("acme/app#12", "close"):
        raise error
    assert (type(raised.value), str(raised.value)) == (kind, message)
    assert raised.value.__cause__ is error

"""Each injected fault is observable as configured, through httpx and through PyGithub."""

from __future__ import annotations

import time

import httpx
import pytest
from github import Github, GithubException, RateLimitExceededException

from orchestrator.sandbox.github import Fault, Sandbox


def auth(sandbox: Sandbox) -> dict[str, str]:
    return {"Authorization": f"token {sandbox.token}"}


@pytest.mark.parametrize("status", [500, 502])
def test_server_errors(sandbox: Sandbox, status: int) -> None:
    sandbox.add_fault("error", path="/api/v3/user", status=status, times=1)
    assert httpx.get(f"{sandbox.api_url}/user", headers=auth(sandbox)).status_code == status
    assert httpx.get(f"{sandbox.api_url}/user", headers=auth(sandbox)).status_code == 200


def test_secondary_rate_limit_has_retry_after(sandbox: Sandbox, gh: Github) -> None:
    sandbox.add_fault("secondary_rate_limit", path="/api/v3/user", retry_after=30)
    response = httpx.get(f"{sandbox.api_url}/user", headers=auth(sandbox))
    assert (response.status_code, response.headers["Retry-After"]) == (403, "30")
    assert "secondary rate limit" in response.json()["message"]
    with pytest.raises(RateLimitExceededException):
        _ = gh.get_user().login


def test_primary_rate_limit_fault(sandbox: Sandbox, gh: Github) -> None:
    sandbox.add_fault("rate_limit", path="/api/v3/user", status=429, retry_after=120)
    response = httpx.get(f"{sandbox.api_url}/user", headers=auth(sandbox))
    assert response.status_code == 429
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert int(response.headers["X-RateLimit-Reset"]) >= int(time.time()) + 110
    with pytest.raises(GithubException) as raised:
        _ = gh.get_user().login
    assert raised.value.status == 429


def test_slow_response(sandbox: Sandbox) -> None:
    sandbox.add_fault("slow", path="/api/v3/user", delay=0.3)
    started = time.monotonic()
    assert httpx.get(f"{sandbox.api_url}/user", headers=auth(sandbox)).status_code == 200
    assert time.monotonic() - started >= 0.3
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{sandbox.api_url}/user", headers=auth(sandbox), timeout=0.1)


def test_dropped_connection(sandbox: Sandbox) -> None:
    sandbox.add_fault("drop", path="/api/v3/repos/*", method="GET")
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(f"{sandbox.api_url}/repos/agentos/x", headers=auth(sandbox))
    assert httpx.get(f"{sandbox.api_url}/user", headers=auth(sandbox)).status_code == 200
    assert [(r.path, r.status) for r in sandbox.requests] == [
        ("/api/v3/repos/agentos/x", None),
        ("/api/v3/user", 200),
    ]


def test_faults_through_the_control_endpoint(sandbox: Sandbox) -> None:
    url = f"{sandbox.base_url}/_sandbox/faults"
    made = httpx.post(
        url, headers=auth(sandbox), json={"kind": "error", "path": "/api/v3/*", "status": 502}
    )
    assert made.status_code == 201
    assert httpx.get(f"{sandbox.api_url}/user", headers=auth(sandbox)).status_code == 502
    assert httpx.get(url, headers=auth(sandbox)).json()[0]["status"] == 502
    assert httpx.delete(url, headers=auth(sandbox)).status_code == 204
    assert httpx.get(f"{sandbox.api_url}/user", headers=auth(sandbox)).status_code == 200
    bad = httpx.post(url, headers=auth(sandbox), json={"kind": "meteor"})
    assert bad.status_code == 400


def test_fault_rules_match_method_and_path() -> None:
    rule = Fault("error", path="/api/v3/repos/*/issues", method="POST")
    assert rule.matches("post", "/api/v3/repos/o/r/issues")
    assert not rule.matches("GET", "/api/v3/repos/o/r/issues")
    with pytest.raises(ValueError):
        Fault("meteor")

"""Raw HTTP with httpx.

Authentication, GitHub's headers, ETags, error shapes, the request log and controls.
"""

from __future__ import annotations

import httpx
import pytest
from github import Github
from github.Repository import Repository

from orchestrator.sandbox.github import Sandbox
from tests.support.github_sandbox import running_sandbox


def auth(sandbox: Sandbox) -> dict[str, str]:
    return {"Authorization": f"token {sandbox.token}"}


def test_missing_or_wrong_token_is_401_bad_credentials(sandbox: Sandbox) -> None:
    for headers in ({}, {"Authorization": "token nope"}, {"Authorization": "Bearer nope"}):
        response = httpx.get(f"{sandbox.api_url}/user", headers=headers)
        assert response.status_code == 401
        assert response.json()["message"] == "Bad credentials"
        assert "documentation_url" in response.json()
        assert response.headers["X-RateLimit-Limit"] == "60"


def test_bearer_token_is_accepted(sandbox: Sandbox) -> None:
    response = httpx.get(
        f"{sandbox.api_url}/user", headers={"Authorization": f"Bearer {sandbox.token}"}
    )
    assert response.json()["login"] == "agentos"


def test_every_response_carries_rate_limit_headers_and_scopes(sandbox: Sandbox) -> None:
    first = httpx.get(f"{sandbox.api_url}/user", headers=auth(sandbox))
    second = httpx.get(f"{sandbox.api_url}/rate_limit", headers=auth(sandbox))
    assert first.headers["X-RateLimit-Limit"] == "5000"
    # GET /rate_limit does not count against the limit (GitHub's docs say so)
    assert first.headers["X-RateLimit-Remaining"] == second.headers["X-RateLimit-Remaining"]
    assert second.headers["X-RateLimit-Resource"] == "core"
    assert first.headers["X-OAuth-Scopes"] == "repo, project, read:org"
    assert second.json()["resources"]["core"]["used"] == 1


def test_configured_scopes(tmp_path) -> None:
    with running_sandbox(tmp_path, scopes=("repo",)) as sandbox:
        response = httpx.get(f"{sandbox.api_url}/user", headers=auth(sandbox))
    assert response.headers["X-OAuth-Scopes"] == "repo"


def test_etag_gives_304_that_does_not_count(sandbox: Sandbox, repo: Repository) -> None:
    url = f"{sandbox.api_url}/repos/{repo.full_name}/issues"
    first = httpx.get(url, headers=auth(sandbox))
    again = httpx.get(url, headers={**auth(sandbox), "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["X-RateLimit-Used"] == first.headers["X-RateLimit-Used"]
    repo.create_issue("changes the listing")
    changed = httpx.get(url, headers={**auth(sandbox), "If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and changed.headers["ETag"] != first.headers["ETag"]


def test_link_header_points_at_the_sandbox(sandbox: Sandbox, repo: Repository) -> None:
    for n in range(3):
        repo.create_issue(f"i{n}")
    response = httpx.get(
        f"{sandbox.api_url}/repos/{repo.full_name}/issues?per_page=2", headers=auth(sandbox)
    )
    assert response.links["next"]["url"].startswith(
        f"{sandbox.api_url}/repos/agentos/backlog/issues?"
    )
    assert response.json()[0]["url"].startswith(sandbox.api_url)


def test_unknown_things_are_githubs_404(sandbox: Sandbox) -> None:
    for path in ("/repos/agentos/nope", "/no/such/endpoint"):
        response = httpx.get(f"{sandbox.api_url}{path}", headers=auth(sandbox))
        assert response.status_code == 404 and response.json()["message"] == "Not Found"


def test_primary_rate_limit_runs_out(tmp_path) -> None:
    with running_sandbox(tmp_path, rate_limit=2) as sandbox:
        codes = [httpx.get(f"{sandbox.api_url}/user", headers=auth(sandbox)) for _ in range(3)]
        budget = httpx.get(f"{sandbox.api_url}/rate_limit", headers=auth(sandbox))
    assert [c.status_code for c in codes] == [200, 200, 403]
    assert codes[2].headers["X-RateLimit-Remaining"] == "0"
    assert budget.status_code == 200 and budget.json()["resources"]["core"]["remaining"] == 0
    assert codes[2].json()["message"].startswith("API rate limit exceeded for user ID")


def test_request_log_is_readable_over_http(sandbox: Sandbox, gh: Github) -> None:
    _ = gh.get_user().login  # one request for the log to hold
    log = httpx.get(f"{sandbox.base_url}/_sandbox/requests", headers=auth(sandbox)).json()
    assert (
        log[0]["method"] == "GET" and log[0]["path"] == "/api/v3/user" and log[0]["status"] == 200
    )
    assert log[0]["duration_ms"] >= 0
    assert sandbox.requests[0].path == "/api/v3/user"
    assert httpx.get(f"{sandbox.base_url}/_sandbox/requests").status_code == 401


def test_control_endpoints_for_users_and_ci(sandbox: Sandbox, repo: Repository) -> None:
    made = httpx.post(
        f"{sandbox.base_url}/_sandbox/users", headers=auth(sandbox), json={"login": "bob"}
    ).json()
    assert (
        httpx.get(
            f"{sandbox.api_url}/user", headers={"Authorization": f"token {made['token']}"}
        ).json()["login"]
        == "bob"
    )
    url = f"{sandbox.base_url}/_sandbox/repos/{repo.full_name}/ci"
    assert (
        httpx.put(url, headers=auth(sandbox), json={"command": "true"}).json()["command"] == "true"
    )
    assert sandbox.ci_command(repo.full_name) == "true"
    idle = httpx.get(f"{sandbox.base_url}/_sandbox/ci/idle?timeout=5", headers=auth(sandbox)).json()
    assert idle == {"idle": True}


def test_strict_mode_answers_500_and_records_a_violation(tmp_path, monkeypatch) -> None:
    """A handler that drifts from GitHub's description must fail loudly, not pass silently."""
    from orchestrator.sandbox.github import shapes

    real = shapes.label
    monkeypatch.setattr(shapes, "label", lambda *a: {**real(*a), "color": 7})
    with pytest.raises(AssertionError, match="color"):
        with running_sandbox(tmp_path) as sandbox:
            sandbox.create_repo("agentos/r")
            response = httpx.get(f"{sandbox.api_url}/repos/agentos/r/labels", headers=auth(sandbox))
            assert response.status_code == 500
            assert "Sandbox spec violation" in response.json()["message"]


def test_invalid_request_is_a_violation_too(tmp_path) -> None:
    with pytest.raises(AssertionError, match="request POST"):
        with running_sandbox(tmp_path) as sandbox:
            sandbox.create_repo("agentos/r")
            response = httpx.post(
                f"{sandbox.api_url}/repos/agentos/r/issues",
                headers=auth(sandbox),
                json={"title": "t", "labels": "not-a-list"},
            )
            assert response.status_code == 500


def test_outside_strict_mode_violations_are_only_recorded(tmp_path) -> None:
    with Sandbox(tmp_path) as sandbox:
        sandbox.create_repo("agentos/r")
        response = httpx.post(
            f"{sandbox.api_url}/repos/agentos/r/labels", headers=auth(sandbox), content=b"{not json"
        )
    assert (response.status_code, response.json()["message"]) == (400, "Problems parsing JSON")
    assert [v.direction for v in sandbox.violations] == ["request"]


def test_a_sandbox_bug_is_a_500_and_a_recorded_failure(tmp_path, monkeypatch) -> None:
    from orchestrator.sandbox.github import shapes

    def broken(*args):
        raise KeyError("boom")

    monkeypatch.setattr(shapes, "full_user", broken)
    with pytest.raises(AssertionError, match="internal GET /api/v3/user"):
        with running_sandbox(tmp_path) as sandbox:
            response = httpx.get(f"{sandbox.api_url}/user", headers=auth(sandbox))
            assert response.status_code == 500

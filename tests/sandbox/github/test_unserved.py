"""The sandbox never pretends: every operation of GitHub's REST description is either served or
answered 501 naming it, never GitHub's 404 (which reads "it is not there") and never a 500.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from orchestrator.sandbox.github import Sandbox, described, rest
from orchestrator.sandbox.github.described import Operation
from orchestrator.sandbox.github.server import Incoming

# Each parameter gets a value no literal segment of GitHub's paths has; owner/repo name one that
# exists, so served handlers run on a real repository.
VALUES = {"owner": "agentos", "repo": "demo"}
SERVED = {op for op in described.load() if rest.ROUTES.serves(op.method, op.operation_id)}


def concrete(template: str) -> str:
    return re.sub(r"\{(\w+)\+?\}", lambda m: VALUES.get(m.group(1), "1"), template)


def test_the_vendored_list_is_githubs_whole_description() -> None:
    operations = list(described.load())
    assert len(operations) == 1223
    assert len({op.operation_id for op in operations}) == len(operations)
    content = next(op for op in operations if op.operation_id == "repos/get-content")
    assert (content.method, content.template, content.path) == (
        "GET",
        "/repos/{owner}/{repo}/contents/{path+}",
        "/repos/{owner}/{repo}/contents/{path}",
    )


def test_every_described_operation_routes_to_its_handler_or_to_a_501_naming_it() -> None:
    wrong = []
    for op in described.load():
        found = rest.route_for(op.method, concrete(op.template))
        if isinstance(found, Operation):
            name = found.operation_id
        else:
            name = found[0].operation_id if found else "404"
        if name != op.operation_id:
            wrong.append(f"{op.method} {op.path} ({op.operation_id}) -> {name}")
    assert wrong == []


def test_every_described_operation_answers_served_or_501_through_the_whole_pipeline(
    tmp_path: Path,
) -> None:
    """Called on the sandbox directly (no sockets): about 1,200 requests in a few seconds."""
    sandbox = Sandbox(tmp_path, rate_limit=100_000)
    try:
        sandbox.create_repo("agentos/demo")
        headers = {"authorization": f"token {sandbox.token}", "content-type": "application/json"}
        served = unserved = 0
        problems = []
        for op in described.load():
            path = concrete(op.template)
            response = sandbox.respond(Incoming(op.method, f"/api/v3{path}", "", headers, b""))
            body = json.loads(response.body or b"{}")
            message = body.get("message", "") if isinstance(body, dict) else ""
            if rest.ROUTES.serves(op.method, op.operation_id):
                served += 1
                if response.status >= 500:
                    problems.append(f"{op.method} {path}: {response.status} {message}")
            else:
                unserved += 1
                wanted = f"The sandbox does not implement {op.operation_id} ({op.method} {op.path})"
                if (response.status, message) != (501, wanted):
                    problems.append(f"{op.method} {path}: {response.status} {message}")
        assert problems == []
        assert [v for v in sandbox.violations if v.direction == "internal"] == []
        assert (served, unserved) == (len(SERVED), 1223 - len(SERVED))
    finally:
        sandbox.stop()


def test_a_501_names_the_operation_and_links_githubs_documentation(sandbox: Sandbox) -> None:
    response = httpx.request(
        "DELETE",
        f"{sandbox.api_url}/repos/agentos/demo/contents/docs/a.md",
        headers={"Authorization": f"token {sandbox.token}"},
        json={"message": "m", "sha": "0" * 40},
    )
    assert response.status_code == 501
    assert response.json() == {
        "message": "The sandbox does not implement repos/delete-file "
        "(DELETE /repos/{owner}/{repo}/contents/{path})",
        "documentation_url": "https://docs.github.com/rest/repos/contents#delete-a-file",
        "status": "501",
    }


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/no/such/endpoint"),
        ("DELETE", "/repos/agentos/demo/issues/1"),  # a described path, a method it has not
        ("GET", "/repos/agentos/demo/contents-x"),
    ],
)
def test_what_githubs_description_does_not_have_is_still_githubs_404(
    sandbox: Sandbox, method: str, path: str
) -> None:
    response = httpx.request(
        method, f"{sandbox.api_url}{path}", headers={"Authorization": f"token {sandbox.token}"}
    )
    assert (response.status_code, response.json()["message"]) == (404, "Not Found")


def test_the_description_decides_before_a_route_whose_ref_may_hold_slashes() -> None:
    """GET /commits/SHA/comments is list-comments-for-commit: the get-commit route, whose ref may
    hold slashes, once answered it as the commit "SHA/comments" (422 No commit found)."""
    found = rest.route_for("GET", "/repos/o/r/commits/abc123/comments")
    assert isinstance(found, Operation)
    assert found.operation_id == "repos/list-comments-for-commit"
    served = rest.route_for("GET", "/repos/o/r/commits/heads/agent/12-x")
    assert isinstance(served, tuple)
    assert (served[0].operation_id, served[1]["ref"]) == ("repos/get-commit", "heads/agent/12-x")

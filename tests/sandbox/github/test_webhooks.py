"""Repository webhooks: hooks managed through PyGithub, deliveries sent as GitHub sends them
(signed, GitHub's headers, payloads valid against GitHub's own webhook schemas), recorded as its
"Recent Deliveries", and received end to end by Agent OS's receiver."""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from github import Github, GithubException
from github.Repository import Repository
from openapi_schema_validator import OAS30ReadValidator

from orchestrator.sandbox.github import Sandbox, webhooks
from orchestrator.sandbox.github.validation import patch_nullable
from orchestrator.sandbox.schemas.make_subset import refs_in, resolve
from orchestrator.sandbox.schemas.make_webhooks import UNWOKEN, WEBHOOKS
from orchestrator.serve.webhooks import WebhookReceiver
from orchestrator.store.webhook_deliveries import SeenDeliveries
from tests.sandbox.github.helpers import Git, client, commit, push_branch

SECRET = "sandbox-hook-secret"
SCHEMAS = (
    Path(__file__).resolve().parents[3] / "orchestrator" / "sandbox" / "schemas"
) / "webhook-schemas.json"


@functools.cache
def schemas() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(SCHEMAS.read_text(encoding="utf-8"))
    patch_nullable(document)  # GitHub's `nullable: true` enums send null (validation.py)
    return document


def schema_problems(event: str, payload: dict[str, Any]) -> list[str]:
    """Validate a payload against the vendored x-webhooks entry of its event and action."""
    action = payload.get("action")
    name = (f"{event}-{action}" if action else event).replace("_", "-")
    entry = schemas()["x-webhooks"][name]["post"]["requestBody"]["content"]["application/json"]
    root = {"$ref": entry["schema"]["$ref"], "components": schemas()["components"]}
    return [
        f"{e.json_path}: {e.message[:120]}" for e in OAS30ReadValidator(root).iter_errors(payload)
    ]


class Capture:
    """A hook's far end: records each request, checks its signature, answers `status`."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.status = 200
        self.arrived = threading.Condition()
        capture = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with capture.arrived:
                    capture.requests.append((dict(self.headers.items()), body))
                    capture.arrived.notify_all()
                self.send_response(capture.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[tuple[str, str | None]]:
        return [(h["X-GitHub-Event"], _payload(h, b).get("action")) for h, b in self.requests]

    def payloads(self, event: str) -> list[dict[str, Any]]:
        return [_payload(h, b) for h, b in self.requests if h["X-GitHub-Event"] == event]


def _payload(headers: dict[str, str], body: bytes) -> dict[str, Any]:
    if headers["Content-Type"] == "application/x-www-form-urlencoded":
        return dict(json.loads(parse_qs(body.decode())["payload"][0]))
    return dict(json.loads(body))


@pytest.fixture
def capture() -> Iterator[Capture]:
    far = Capture()
    yield far
    far.server.shutdown()
    far.server.server_close()


def add_hook(repo: Repository, url: str, events: list[str], secret: str | None = SECRET) -> Any:
    config = {"url": url, "content_type": "json", **({"secret": secret} if secret else {})}
    return repo.create_hook("web", config, events, True)


def settle(sandbox: Sandbox) -> None:
    assert sandbox.webhooks.wait_idle(10)


def test_hooks_are_created_listed_edited_and_deleted_through_pygithub(
    sandbox: Sandbox, repo: Repository, capture: Capture
) -> None:
    hook = add_hook(repo, capture.url, ["issues"])
    assert (hook.name, hook.type, hook.active, hook.events) == (
        "web",
        "Repository",
        True,
        ["issues"],
    )
    assert hook.config == {
        "url": capture.url,
        "content_type": "json",
        "insecure_ssl": "0",
        "secret": "********",  # as GitHub shows a secret: never the value
    }
    assert (hook.last_response.status, hook.ping_url) == ("unused", f"{hook.url}/pings")
    assert [h.id for h in repo.get_hooks()] == [hook.id]
    hook.edit("web", {"url": capture.url, "content_type": "json"}, add_events=["pull_request"])
    got = repo.get_hook(hook.id)
    assert got.events == ["issues", "pull_request"] and "secret" not in got.config
    hook.edit("web", {"url": capture.url}, remove_events=["issues"], active=False)
    got = repo.get_hook(hook.id)
    assert (got.events, got.active) == (["pull_request"], False)
    hook.delete()
    assert list(repo.get_hooks()) == []
    with pytest.raises(GithubException) as gone:
        repo.get_hook(hook.id).events  # noqa: B018 (the lazy object's first read)
    assert gone.value.status == 404


def test_a_new_hook_is_pinged_and_the_delivery_recorded(
    sandbox: Sandbox, repo: Repository, capture: Capture
) -> None:
    hook = add_hook(repo, capture.url, ["issues"])
    settle(sandbox)
    [(headers, body)] = capture.requests
    assert headers["X-GitHub-Event"] == "ping"
    ping = json.loads(body)
    assert (ping["hook_id"], ping["hook"]["id"], ping["repository"]["full_name"]) == (
        hook.id,
        hook.id,
        repo.full_name,
    )
    assert schema_problems("ping", ping) == []
    [delivery] = repo.get_hook_deliveries(hook.id)
    assert (delivery.event, delivery.status, delivery.status_code, delivery.redelivery) == (
        "ping",
        "OK",
        200,
        False,
    )
    assert delivery.guid == headers["X-GitHub-Delivery"] and delivery.duration is not None
    full = repo.get_hook_delivery(hook.id, delivery.id)
    assert full.request.payload == ping and full.response.payload == "ok"
    assert repo.get_hook(hook.id).last_response.status == "active"


def test_only_an_admin_sees_the_hooks(sandbox: Sandbox, repo: Repository, outsider: Github) -> None:
    with pytest.raises(GithubException) as refused:
        list(outsider.get_repo(repo.full_name).get_hooks())
    assert refused.value.status == 404


@pytest.mark.parametrize(
    "config, message",
    [
        ({"content_type": "json"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": "http://127.0.0.1/x", "content_type": "xml"}, "content_type"),
    ],
)
def test_a_hook_github_would_refuse_is_422(
    repo: Repository, config: dict[str, str], message: str
) -> None:
    with pytest.raises(GithubException) as refused:
        repo.create_hook("web", config, ["issues"], True)
    assert refused.value.status == 422 and refused.value.data["errors"][0]["field"] == message


def test_a_second_hook_to_the_same_url_is_refused(repo: Repository, capture: Capture) -> None:
    add_hook(repo, capture.url, ["issues"])
    with pytest.raises(GithubException) as refused:
        add_hook(repo, capture.url, ["pull_request"])
    assert refused.value.data["errors"][0]["message"] == "Hook already exists on this repository"


def test_issue_events_are_signed_with_githubs_headers_and_valid_payloads(
    sandbox: Sandbox, repo: Repository, capture: Capture
) -> None:
    add_hook(repo, capture.url, ["issues"])
    issue = repo.create_issue("Fix the parser", body="It fails", labels=["bug"])
    issue.add_to_labels("status:ready")
    issue.edit(title="Fix the parser, really", body="It fails on tabs")
    issue.remove_from_labels("bug")
    issue.edit(state="closed")
    issue.edit(state="open")
    settle(sandbox)
    assert capture.events()[1:] == [
        ("issues", "opened"),
        ("issues", "labeled"),
        ("issues", "labeled"),
        ("issues", "edited"),
        ("issues", "unlabeled"),
        ("issues", "closed"),
        ("issues", "reopened"),
    ]
    guids = set()
    for headers, body in capture.requests:
        assert (
            headers["X-Hub-Signature-256"]
            == "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        )
        assert headers["User-Agent"].startswith("GitHub-Hookshot/")
        assert headers["Content-Type"] == "application/json"
        assert headers["X-GitHub-Hook-Installation-Target-Type"] == "repository"
        guids.add(str(uuid.UUID(headers["X-GitHub-Delivery"])))
        payload = json.loads(body)
        assert schema_problems(headers["X-GitHub-Event"], payload) == []
        assert payload["sender"]["login"] == "agentos"
    assert len(guids) == len(capture.requests)
    opened, labeled, _, edited, unlabeled, closed, _ = capture.payloads("issues")
    assert [label["name"] for label in opened["issue"]["labels"]] == ["bug"]
    assert (labeled["label"]["name"], unlabeled["label"]["name"]) == ("bug", "bug")
    assert edited["changes"] == {
        "title": {"from": "Fix the parser"},
        "body": {"from": "It fails"},
    }
    assert (closed["issue"]["state"], closed["issue"]["state_reason"]) == ("closed", "completed")


def test_pull_request_check_run_and_status_events(
    sandbox: Sandbox, repo: Repository, capture: Capture, clone: Path, git: Git
) -> None:
    add_hook(repo, capture.url, ["pull_request", "check_run", "status"])
    sandbox.set_ci(repo.full_name, "true")
    first = push_branch(git, clone, "agent/1-x")
    pr = repo.create_pull(base="main", head="agent/1-x", title="X", body="Does x")
    second = commit(git, clone, "more.txt", "more\n", "More")
    git("push", "-q", "origin", "HEAD:refs/heads/agent/1-x", cwd=clone)
    assert sandbox.wait_ci_idle(30)
    repo.get_commit(second).create_status("success", context="lint")
    pr.add_to_labels("agent")
    pr.merge(merge_method="merge")
    settle(sandbox)
    seen = capture.events()
    for wanted in [
        ("pull_request", "opened"),
        ("pull_request", "synchronize"),
        ("check_run", "completed"),
        ("status", None),
        ("pull_request", "labeled"),
        ("pull_request", "closed"),
    ]:
        assert wanted in seen
    assert seen.count(("check_run", "completed")) == 2  # CI on each head
    for headers, body in capture.requests:
        assert schema_problems(headers["X-GitHub-Event"], json.loads(body)) == []
    synchronize = next(p for p in capture.payloads("pull_request") if p["action"] == "synchronize")
    assert (synchronize["before"], synchronize["after"]) == (first, second)
    closed = capture.payloads("pull_request")[-1]
    assert (closed["action"], closed["pull_request"]["merged"]) == ("closed", True)
    [status] = capture.payloads("status")
    assert (status["sha"], status["context"], status["state"]) == (second, "lint", "success")
    run = capture.payloads("check_run")[-1]["check_run"]
    assert (run["name"], run["conclusion"], run["head_sha"]) == ("sandbox-ci", "success", second)


def test_an_organizations_repository_says_so_and_form_content_is_encoded(
    sandbox: Sandbox, gh: Github, capture: Capture
) -> None:
    sandbox.add_org("acme", {"agentos": "admin"})
    sandbox.create_repo("acme/app")
    repo = gh.get_repo("acme/app")
    repo.create_hook("web", {"url": capture.url, "content_type": "form"}, ["issues"], True)
    repo.create_issue("Hello")
    settle(sandbox)
    headers, _ = capture.requests[-1]
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert "X-Hub-Signature-256" not in headers  # no secret, no signature
    [opened] = capture.payloads("issues")
    assert opened["organization"]["login"] == "acme" and schema_problems("issues", opened) == []


def test_a_hook_gets_only_its_events_and_an_inactive_one_nothing(
    sandbox: Sandbox, repo: Repository, capture: Capture
) -> None:
    add_hook(repo, capture.url, ["pull_request"])
    other = Capture()
    try:
        repo.create_hook("web", {"url": other.url, "content_type": "json"}, ["*"], False)
        repo.create_issue("Quiet")
        settle(sandbox)
        assert capture.events() == [("ping", None)] and other.requests == []
    finally:
        other.server.shutdown()
        other.server.server_close()


def test_failed_deliveries_are_recorded_as_github_records_them(
    sandbox: Sandbox, repo: Repository, capture: Capture
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    dead = add_hook(repo, f"http://127.0.0.1:{closed_port}/hook", ["issues"])
    far = add_hook(repo, "http://example.com/hook", ["issues"])
    capture.status = 500
    failing = add_hook(repo, capture.url, ["issues"])
    settle(sandbox)
    shown = {
        h.id: [(d.status, d.status_code) for d in repo.get_hook_deliveries(h.id)]
        for h in (dead, far, failing)
    }
    assert shown == {
        dead.id: [("failed to connect to host", 0)],
        far.id: [("The sandbox delivers to 127.0.0.1 and localhost only", 0)],
        failing.id: [("Invalid HTTP Response: 500", 500)],
    }
    assert repo.get_hook(failing.id).last_response.code == 500


class Agent:
    """Agent OS's receiver on a free port, and the wakes it made (as serve's scheduler would)."""

    def __init__(self, runtime: Path) -> None:
        self.woken: list[tuple[tuple[str, ...], str]] = []
        self.arrived = threading.Event()
        seen = SeenDeliveries(runtime / "state", runtime)
        log = logging.getLogger("sandbox-webhooks")
        self.receiver = WebhookReceiver(SECRET, self.wake, seen, log, port=0)
        self.url = self.receiver.start()

    def wake(self, jobs: Any, reason: str) -> None:
        self.woken.append((tuple(jobs), reason))
        self.arrived.set()


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[Agent]:
    real = Agent(tmp_path / "runtime")
    yield real
    real.receiver.stop()


def test_an_issue_labeled_in_the_sandbox_wakes_the_dispatcher_within_a_second(
    sandbox: Sandbox, repo: Repository, agent: Agent
) -> None:
    hook = add_hook(repo, agent.url, ["issues", "pull_request"])
    issue = repo.create_issue("Ready to go")
    settle(sandbox)
    agent.woken.clear()
    agent.arrived.clear()
    started = time.monotonic()
    issue.add_to_labels("status:ready")
    assert agent.arrived.wait(1.0)
    assert time.monotonic() - started < 1.0
    assert agent.woken == [(("dispatcher",), "webhook issues.labeled")]
    settle(sandbox)
    statuses = {(d.event, d.action): d.status_code for d in repo.get_hook_deliveries(hook.id)}
    assert statuses == {("ping", None): 200, ("issues", "opened"): 202, ("issues", "labeled"): 202}


def test_a_redelivery_keeps_its_guid_and_the_receiver_answers_duplicate(
    sandbox: Sandbox, repo: Repository, agent: Agent
) -> None:
    hook = add_hook(repo, agent.url, ["issues"])
    repo.create_issue("Once")
    settle(sandbox)
    opened = next(d for d in repo.get_hook_deliveries(hook.id) if d.event == "issues")
    response = httpx.post(
        f"{sandbox.api_url}/repos/{repo.full_name}/hooks/{hook.id}/deliveries/{opened.id}/attempts",
        headers={"Authorization": f"token {sandbox.token}"},
    )
    assert response.status_code == 202
    settle(sandbox)
    again = repo.get_hook_deliveries(hook.id)[0]
    assert (again.guid, again.redelivery, again.status_code) == (opened.guid, True, 200)
    full = repo.get_hook_delivery(hook.id, again.id)
    assert json.loads(str(full.response.payload))["status"] == "duplicate"
    assert agent.woken == [(("dispatcher",), "webhook issues.opened")]


def test_a_ping_through_the_api_reaches_the_receiver(
    sandbox: Sandbox, repo: Repository, agent: Agent
) -> None:
    hook = add_hook(repo, agent.url, ["issues"])
    hook.ping()
    settle(sandbox)
    assert [(d.event, d.status_code) for d in repo.get_hook_deliveries(hook.id)] == [
        ("ping", 200),
        ("ping", 200),
    ]
    assert agent.woken == []


def test_a_hook_with_another_secret_is_refused_by_the_receiver(
    sandbox: Sandbox, repo: Repository, agent: Agent
) -> None:
    hook = add_hook(repo, agent.url, ["issues"], secret="not the receiver's")
    repo.create_issue("Unsigned for us")
    settle(sandbox)
    assert {d.status_code for d in repo.get_hook_deliveries(hook.id)} == {401}
    assert agent.woken == []


@pytest.mark.parametrize("path", ["/hooks/999/deliveries", "/hooks/{hook}/deliveries/999"])
def test_a_hook_or_delivery_that_is_not_there_is_githubs_404(
    sandbox: Sandbox, repo: Repository, capture: Capture, path: str
) -> None:
    hook = add_hook(repo, capture.url, ["issues"])
    response = httpx.get(
        f"{sandbox.api_url}/repos/{repo.full_name}{path.format(hook=hook.id)}",
        headers={"Authorization": f"token {sandbox.token}"},
    )
    assert (response.status_code, response.json()["message"]) == (404, "Not Found")


def test_the_vendored_schemas_are_whole_and_name_what_they_hold() -> None:
    document = schemas()
    assert (
        document["info"]["x-webhook-names"]
        == list(WEBHOOKS + UNWOKEN)
        == list(document["x-webhooks"])
    )
    for ref in refs_in(document):
        assert resolve(document, ref) is not None


def test_a_payload_outside_githubs_schemas_is_a_violation(
    tmp_path: Path, capture: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sandbox checks what it sends, as it checks its REST answers (here made wrong)."""
    monkeypatch.setitem(webhooks.SHAPES, "issue", lambda call, repo, issue: {"number": "one"})
    with Sandbox(tmp_path / "github") as lax:
        gh = client(lax, lax.token)
        repo = gh.get_user().create_repo("demo", auto_init=True)
        add_hook(repo, capture.url, ["issues"])
        repo.create_issue("Broken")
        settle(lax)
        gh.close()
    [violation] = lax.violations
    assert (violation.direction, violation.path) == ("webhook", f"{capture.url} (issues-opened)")
    assert "$.issue: 'url' is a required property" in violation.message
    assert capture.events()[-1] == ("issues", "opened")  # sent all the same, as GitHub's would be

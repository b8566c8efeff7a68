"""The webhook receiver over real HTTP: signatures, methods and paths, sizes, duplicates after a
restart, which jobs each event wakes, and what it logs (never the secret or the body)."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import socket
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from orchestrator.config.load import load_config
from orchestrator.sandbox.github.webhooks import webhook_name
from orchestrator.sandbox.schemas.make_webhooks import WEBHOOKS
from orchestrator.serve.webhooks import WAKES, WebhookReceiver, jobs_for
from orchestrator.store.webhook_deliveries import FILE, SeenDeliveries
from tests.helpers import ENV, minimal_config, write_config

SECRET = "It's a Secret to Everybody"
LIMIT = 64 * 1024


class Events(logging.Handler):
    """Keep each record: its event name, level and fields."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def named(self, event: str) -> list[dict[str, Any]]:
        return [vars(r) for r in self.records if r.getMessage() == event]

    def text(self) -> str:
        return "\n".join(f"{r.getMessage()} {vars(r)}" for r in self.records)


class World:
    """A receiver on a free port, the wakes it made, its log, and its runtime folder."""

    def __init__(self, runtime: Path) -> None:
        self.runtime = runtime
        self.woken: list[tuple[tuple[str, ...], str]] = []
        self.events = Events()
        self.log = logging.getLogger(f"webhooks-test-{runtime.parent.name}")
        self.log.setLevel(logging.DEBUG)
        self.log.addHandler(self.events)
        self.receiver = self.start()

    def wake(self, jobs: Any, reason: str) -> None:
        self.woken.append((tuple(jobs), reason))

    def start(self) -> WebhookReceiver:
        seen = SeenDeliveries(self.runtime / "state", self.runtime)
        receiver = WebhookReceiver(SECRET, self.wake, seen, self.log, port=0, max_body_bytes=LIMIT)
        receiver.start()
        return receiver

    def restart(self) -> None:
        self.receiver.stop()
        self.receiver = self.start()

    def post(
        self,
        event: str,
        payload: dict[str, Any] | bytes,
        *,
        delivery: str | None = None,
        secret: str | None = SECRET,
        path: str = "/github",
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        sent = {
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/044aadd",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        }
        if secret is not None:
            sent["X-Hub-Signature-256"] = sign(secret, body)
        return request(self.receiver.port, "POST", path, body, {**sent, **(headers or {})})


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def request(
    port: int, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request(method, path, body or None, headers or {})
        response = connection.getresponse()
        data = response.read()
        return response.status, json.loads(data) if data else {}
    finally:
        connection.close()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    world = World(tmp_path / "runtime")
    yield world
    world.receiver.stop()


LABELED = {"action": "labeled", "issue": {"number": 12}, "label": {"name": "status:ready"}}


def test_a_signed_delivery_wakes_its_jobs_at_once(world: World) -> None:
    status, body = world.post("issues", LABELED)
    assert (status, body["status"], body["woke"]) == (202, "accepted", ["dispatcher"])
    assert world.woken == [(("dispatcher",), "webhook issues.labeled")]
    [received] = world.events.named("webhook.received")
    assert (received["github_event"], received["action"], received["jobs"]) == (
        "issues",
        "labeled",
        "dispatcher",
    )


@pytest.mark.parametrize(
    "signature, reason",
    [
        (None, "no_signature"),
        (sign("another secret", json.dumps(LABELED).encode()), "bad_signature"),
        (sign(SECRET, b"another body"), "bad_signature"),
        ("sha1=" + hmac.new(SECRET.encode(), b"x", hashlib.sha1).hexdigest(), "bad_signature"),
        ("sha256=", "bad_signature"),
        ("sha256=\u00e9", "bad_signature"),
    ],
)
def test_a_missing_or_wrong_signature_is_401_wakes_nothing_and_warns_once_per_delivery(
    world: World, signature: str | None, reason: str
) -> None:
    delivery = str(uuid.uuid4())
    headers = {"X-Hub-Signature-256": signature} if signature is not None else {}
    for _ in range(2):  # GitHub's redelivery of it: refused again, said once
        status, body = world.post(
            "issues", LABELED, delivery=delivery, secret=None, headers=headers
        )
        assert status == 401 and "error" in body
    assert world.woken == []
    refused = world.events.named("webhook.refused")
    assert [(r["reason"], r["delivery"], r["levelname"]) for r in refused] == [
        (reason, delivery, "WARNING")
    ]
    assert delivery not in SeenDeliveries(world.runtime / "state", world.runtime)


@pytest.mark.parametrize(
    "method, path, expected",
    [
        ("GET", "/github", 405),
        ("PUT", "/github", 405),
        ("DELETE", "/github", 405),
        ("POST", "/", 404),
        ("POST", "/github/x", 404),
        ("GET", "/other", 404),
    ],
)
def test_only_post_at_the_one_path_is_answered(
    world: World, method: str, path: str, expected: int
) -> None:
    status, body = request(world.receiver.port, method, path, b"{}")
    assert status == expected and "error" in body
    assert world.woken == []


def test_a_405_says_what_is_allowed(world: World) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", world.receiver.port, timeout=5)
    connection.request("GET", "/github?x=1")
    response = connection.getresponse()
    assert (response.status, response.getheader("Allow")) == (405, "POST")
    connection.close()


def raw(port: int, head: str, body: bytes = b"") -> tuple[int, bytes]:
    """Send a request as bytes and return the status and whatever else came back."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(head.encode() + b"\r\n" + body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return int(data.split(b" ", 2)[1]), data


def test_a_body_over_the_limit_is_413_before_it_is_read(world: World) -> None:
    head = (
        "POST /github HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: issues\r\n"
        f"X-GitHub-Delivery: {uuid.uuid4()}\r\nContent-Length: {LIMIT + 1}\r\n"
    )
    status, data = raw(world.receiver.port, head)  # the body is never sent: nothing waits for it
    assert status == 413 and b"over 65536 bytes" in data
    assert world.woken == [] and world.events.named("webhook.refused")[0]["reason"] == "too_large"


def test_a_body_at_the_limit_is_read(world: World) -> None:
    payload = {"action": "labeled", "padding": ""}
    payload["padding"] = "x" * (LIMIT - len(json.dumps(payload).encode()))
    assert len(json.dumps(payload).encode()) == LIMIT
    assert world.post("issues", payload)[0] == 202


def test_a_body_without_a_length_is_411(world: World) -> None:
    head = "POST /github HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
    status, _ = raw(world.receiver.port, head, b"2\r\n{}\r\n0\r\n\r\n")
    assert status == 411 and world.woken == []


def test_a_redelivery_is_a_duplicate_even_after_a_restart(world: World) -> None:
    delivery = str(uuid.uuid4())
    assert world.post("issues", LABELED, delivery=delivery)[0] == 202
    world.restart()
    status, body = world.post("issues", LABELED, delivery=delivery)
    assert (status, body["status"]) == (200, "duplicate")
    assert world.woken == [(("dispatcher",), "webhook issues.labeled")]  # once
    assert len(world.events.named("webhook.duplicate")) == 1
    assert delivery in json.loads((world.runtime / "state" / FILE).read_text())["ids"]


def test_the_set_of_deliveries_is_bounded_oldest_out(tmp_path: Path) -> None:
    seen = SeenDeliveries(tmp_path / "state", tmp_path, limit=3)
    assert all(seen.claim(d) for d in "abcd")
    seen.save()
    again = SeenDeliveries(tmp_path / "state", tmp_path, limit=3)
    assert ("a" in again, len(again), again.claim("d")) == (False, 3, False)


@pytest.mark.parametrize("damage", [b"{not json", b'{"ids": [1, 2]}', b"[]", b"\xff\xfe"])
def test_a_damaged_set_is_set_aside_and_the_receiver_starts_afresh(
    tmp_path: Path, damage: bytes
) -> None:
    state = tmp_path / "state"
    state.mkdir(parents=True)
    (state / FILE).write_bytes(damage)
    seen = SeenDeliveries(state, tmp_path)
    assert len(seen) == 0 and not (state / FILE).exists()
    [aside] = [p for p in (tmp_path / "quarantine").iterdir() if not p.name.endswith(".why")]
    assert aside.read_bytes() == damage
    assert seen.claim("x") and (seen.save() is None) and (state / FILE).exists()


# Each event and action, and the jobs it must wake; () is ignored (answered 202, nothing woken).
EXPECTED = [
    ("issues", "opened", ("dispatcher",)),
    ("issues", "labeled", ("dispatcher",)),
    ("issues", "unlabeled", ("dispatcher",)),
    ("issues", "edited", ("dispatcher",)),
    ("issues", "closed", ("dispatcher", "pr_monitor")),
    ("issues", "reopened", ("dispatcher",)),
    ("issues", "assigned", ()),
    ("issue_dependencies", "blocked_by_added", ("dispatcher",)),
    ("issue_dependencies", "blocking_removed", ("dispatcher",)),
    ("sub_issues", "sub_issue_added", ("dispatcher",)),
    ("projects_v2_item", "edited", ("dispatcher",)),
    ("projects_v2_item", "reordered", ("dispatcher",)),
    ("pull_request", "opened", ("pr_monitor",)),
    ("pull_request", "synchronize", ("pr_monitor",)),
    ("pull_request", "closed", ("pr_monitor", "dispatcher")),
    ("pull_request", "dequeued", ("pr_monitor",)),
    ("pull_request", "assigned", ()),
    ("pull_request_review", "submitted", ("pr_monitor",)),
    ("check_run", "completed", ("pr_monitor",)),
    ("check_run", "created", ()),
    ("check_suite", "completed", ("pr_monitor",)),
    ("status", None, ("pr_monitor",)),
    ("workflow_run", "completed", ("pr_monitor",)),
    ("workflow_run", "requested", ()),
    ("merge_group", "checks_requested", ("pr_monitor",)),
    ("push", None, ()),
    ("star", "created", ()),
]


@pytest.mark.parametrize("event, action, jobs", EXPECTED, ids=[f"{e}.{a}" for e, a, _ in EXPECTED])
def test_each_event_wakes_its_jobs(
    world: World, event: str, action: str | None, jobs: tuple[str, ...]
) -> None:
    status, body = world.post(event, {"action": action} if action else {"state": "success"})
    assert status == 202 and jobs_for(event, action) == jobs
    if jobs:
        assert body["status"] == "accepted"
        assert world.woken == [(jobs, f"webhook {event}.{action}" if action else "webhook status")]
    else:
        assert (body["status"], world.woken) == ("ignored", [])
        assert world.events.named("webhook.ignored")[0]["levelname"] == "DEBUG"


def test_a_ping_is_answered_and_wakes_nothing(world: World) -> None:
    status, body = world.post("ping", {"zen": "Design for failure.", "hook_id": 7})
    assert (status, body["status"], world.woken) == (200, "pong", [])
    assert world.events.named("webhook.ping")[0]["hook_id"] == 7


def test_the_table_names_only_webhooks_githubs_description_has_and_all_that_are_vendored() -> None:
    """The vendored schemas (make_webhooks.py) are exactly the table's events and `ping`."""
    named = {webhook_name(event, action) for event, actions in WAKES.items() for action in actions}
    assert named | {"ping"} == set(WEBHOOKS)


def test_a_form_encoded_delivery_is_read_as_github_sends_it(world: World) -> None:
    body = ("payload=" + json.dumps(LABELED).replace(" ", "+")).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    assert world.post("issues", body, headers=headers)[0] == 202
    assert world.woken == [(("dispatcher",), "webhook issues.labeled")]


@pytest.mark.parametrize(
    "event, body, headers",
    [
        ("issues", b"{not json", {}),
        ("issues", b"[1, 2]", {}),
        ("", b"{}", {}),
        ("issues", b"{}", {"X-GitHub-Delivery": "not/a guid"}),
    ],
)
def test_a_signed_but_malformed_delivery_is_400(
    world: World, event: str, body: bytes, headers: dict[str, str]
) -> None:
    assert world.post(event, body, headers=headers)[0] == 400
    assert world.woken == [] and world.events.named("webhook.refused")


def test_a_wake_that_fails_is_500_and_the_redelivery_is_handled(world: World) -> None:
    calls: list[str] = []

    def broken(jobs: Any, reason: str) -> None:
        calls.append(reason)
        if len(calls) == 1:
            raise RuntimeError("scheduler is gone")

    world.receiver.wake = broken
    delivery = str(uuid.uuid4())
    assert world.post("issues", LABELED, delivery=delivery)[0] == 500
    assert world.post("issues", LABELED, delivery=delivery)[0] == 202
    assert len(calls) == 2 and world.events.named("webhook.wake_failed")


def test_neither_the_secret_nor_the_body_is_logged(world: World) -> None:
    marker = "body-marker-7f3a"
    payload = {**LABELED, "issue": {"number": 1, "title": marker}}
    world.post("issues", payload)
    world.post("issues", payload, secret="wrong")
    world.post("star", payload)
    text = world.events.text()
    assert world.events.records and SECRET not in text and marker not in text


def test_it_is_built_from_the_configs_webhooks_section(tmp_path: Path) -> None:
    settings = minimal_config(
        webhooks={"secret": "$WEBHOOK_SECRET", "port": 8787},
        paths={"runtime_dir": str(tmp_path / "runtime")},
    )
    config = load_config(write_config(tmp_path, settings), {**ENV, "WEBHOOK_SECRET": SECRET})
    assert config.webhooks is not None
    config = replace(config, webhooks=replace(config.webhooks, port=0))  # a free port
    woken: list[str] = []
    receiver = WebhookReceiver.from_config(
        config, lambda j, r: woken.append(r), logging.getLogger()
    )
    with receiver:
        assert receiver.url == f"http://127.0.0.1:{receiver.port}/github"
        body = json.dumps(LABELED).encode()
        headers = {
            "X-GitHub-Event": "issues",
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": sign(SECRET, body),
        }
        assert request(receiver.port, "POST", "/github", body, headers)[0] == 202
    assert woken == ["webhook issues.labeled"]
    assert (config.paths.state_dir / FILE).exists()

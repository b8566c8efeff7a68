"""Send webhooks as GitHub does: signed, from a background thread, each delivery recorded.

A handler that changes something GitHub announces calls `emit` (or `issue_event`; check runs,
suites and workflow runs: check_events.py; sub-issues and dependencies: relations.py); each active
hook of the repository subscribed to the event (or to `*`) gets the payload, built once, at the
moment of the change. `Deliveries` posts them one at a time, in order, with GitHub's headers
(`X-GitHub-Event`, `X-GitHub-Delivery`, `X-Hub-Signature-256`, `User-Agent: GitHub-Hookshot/…`),
gives up after ten seconds as GitHub does, and keeps the recent deliveries of each hook as
GitHub's "Recent Deliveries" (`GET …/hooks/N/deliveries`) shows them. Each payload is checked
against GitHub's own webhook schemas (`../schemas/webhook-schemas.json`); one outside them is a
violation (direction `webhook`), as a REST exchange outside the description is.
"""

from __future__ import annotations

import functools
import hmac
import http.client
import json
import logging
import queue
import ssl
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, urlsplit

from openapi_schema_validator import OAS30ReadValidator

from orchestrator.sandbox.github import shapes
from orchestrator.sandbox.github.api import Call
from orchestrator.sandbox.github.state import Json, Store, now_iso
from orchestrator.sandbox.github.validation import Violation, patch_nullable

SCHEMAS_PATH = Path(__file__).resolve().parent.parent / "schemas" / "webhook-schemas.json"
HOOKSHOT = "GitHub-Hookshot/7e2d9f1"  # GitHub's User-Agent: its name and a build id
TIMEOUT = 10.0  # seconds: GitHub ends a delivery that has not been answered by then
KEEP = 100  # deliveries kept per hook, newest first (GitHub keeps those of the past 3 days)
RESPONSE_LIMIT = 65536  # bytes of a response body kept with its delivery
LOOPBACK = ("127.0.0.1", "localhost", "::1")
ORGANIZATION_KEYS = (  # GitHub's `organization-simple-webhooks`, of the organization's shape
    "login",
    "id",
    "node_id",
    "url",
    "repos_url",
    "events_url",
    "hooks_url",
    "issues_url",
    "members_url",
    "public_members_url",
    "avatar_url",
    "description",
)
log = logging.getLogger(__name__)

# The renderers of the objects payloads carry, registered by their modules when imported (as
# routes are): "issue" by issues.py, "pull_request" by pulls.py, which both import this module.
SHAPES: dict[str, Callable[[Call, Json, Json], Json]] = {}


def subscribed(repo: Json, event: str) -> list[Json]:
    """Return the repository's active hooks that want `event`."""
    return [
        hook
        for hook in repo.get("hooks", {}).values()
        if hook["active"] and (event in hook["events"] or "*" in hook["events"])
    ]


def emit(
    call: Call, repo: Json, event: str, action: str | None, fields: Callable[[], Json]
) -> None:
    """Deliver `event` to each hook of `repo` that wants it; `fields` is called only then.

    The payload is `action`, the fields, and the envelope every event carries: `repository`,
    `organization` (an organization's repository), `sender` (the caller).
    """
    sender = call.hooks.webhooks
    hooks = subscribed(repo, event) if sender is not None else []
    if sender is None or not hooks:
        return
    payload = {**({"action": action} if action else {}), **fields(), **envelope(call, repo)}
    guid = str(uuid.uuid4())  # one per event, shared by every hook it goes to, as on GitHub
    for hook in hooks:
        sender.send(hook, event, payload, guid)


def issue_event(call: Call, repo: Json, issue: Json, action: str, **extra: Any) -> None:
    """Announce an issue's change: `issues`, or `pull_request` when the issue is a pull request
    (GitHub sends a pull request's labels, closing and reopening as `pull_request` events)."""
    if issue["pull"]:
        emit(
            call,
            repo,
            "pull_request",
            action,
            lambda: {
                "number": issue["number"],
                "pull_request": _pull(call, repo, issue),
                **extra,
            },
        )
    else:
        emit(
            call,
            repo,
            "issues",
            action,
            lambda: {"issue": SHAPES["issue"](call, repo, issue), **extra},
        )


def _pull(call: Call, repo: Json, issue: Json) -> Json:
    """Return a pull request as its webhooks carry it: its branches' repositories without
    `organization`, which GitHub's schemas give as an object for some actions and as the login
    for others (`synchronize`, `labeled`)."""
    pull = SHAPES["pull_request"](call, repo, issue)
    for side in ("head", "base"):
        pull[side]["repo"].pop("organization", None)
    return pull


def opened(call: Call, repo: Json, issue: Json) -> None:
    """Announce a new issue or pull request: `opened`, then `labeled` for each of its labels."""
    issue_event(call, repo, issue, "opened")
    for name in issue["labels"]:
        label_event(call, repo, issue, "labeled", repo["labels"][name.lower()])


def label_event(call: Call, repo: Json, issue: Json, action: str, record: Json) -> None:
    """Announce a label put on (`labeled`) or taken off (`unlabeled`) an issue."""
    issue_event(call, repo, issue, action, label=shapes.label(call.api, repo, record))


def edited(call: Call, repo: Json, issue: Json, before: Json, base: Json | None = None) -> None:
    """Announce `edited` with GitHub's `changes` (`title`, `body`: `{"from": old}`; a pull
    request's new base: `base`, its `ref` and `sha` before), if anything changed."""
    # an empty body was null: the schemas give `from` as a string only
    changes = {k: {"from": v or ""} for k, v in before.items() if (issue[k] or "") != (v or "")}
    if base:
        changes["base"] = {k: {"from": v} for k, v in base.items()}
    if changes:
        issue_event(call, repo, issue, "edited", changes=changes)


def envelope(call: Call, repo: Json) -> Json:
    """Return `repository`, `organization` (for an organization's repository) and `sender`."""
    owner = call.store.users[repo["owner"]]
    body: Json = {"repository": shapes.repository(call.api, call.base, repo, owner)}
    if owner["type"] == "Organization":
        org = shapes.organization(call.api, call.base, owner)
        body["organization"] = {k: org[k] for k in ORGANIZATION_KEYS}
    who = call.store.user(call.login) or owner
    body["sender"] = shapes.simple_user(call.api, call.base, who)
    return body


def sign(secret: str, body: bytes, digest: str = "sha256") -> str:
    """Return the `X-Hub-Signature-256` value (`sha256=` and the hex HMAC of the body)."""
    return f"{digest}=" + hmac.new(secret.encode(), body, digest).hexdigest()


@functools.lru_cache(maxsize=1)
def load_schemas() -> Json:
    """Load the vendored webhook schemas once, with the loader fixes of validation.py."""
    document: Json = json.loads(SCHEMAS_PATH.read_text(encoding="utf-8"))
    patch_nullable(document)
    return document


@functools.lru_cache(maxsize=64)
def _validator(name: str) -> OAS30ReadValidator:
    document = load_schemas()
    schema = document["x-webhooks"][name]["post"]["requestBody"]["content"]["application/json"]
    root = {"$ref": schema["schema"]["$ref"], "components": document["components"]}
    return OAS30ReadValidator(root)


def webhook_name(event: str, action: str | None) -> str:
    """Return the description's name of an event and action: `issues-labeled`, `status`."""
    return f"{event}-{action}".replace("_", "-") if action else event.replace("_", "-")


def check_payload(event: str, action: str | None, payload: Json) -> str | None:
    """Return why a payload leaves GitHub's webhook schemas, or None."""
    name = webhook_name(event, action)
    if name not in load_schemas()["x-webhooks"]:
        return f"{name} is not among the vendored webhook schemas"
    errors = sorted(_validator(name).iter_errors(payload), key=lambda e: list(e.path))
    return "; ".join(f"{e.json_path}: {e.message[:200]}" for e in errors[:8]) or None


@dataclass(frozen=True)
class Job:
    """One delivery to make: what was sent to which hook, as the hook was then."""

    hook: Json  # a copy: url, content_type, secret, id
    event: str
    payload: Json
    guid: str
    redelivery: bool


class Deliveries:
    """Posts deliveries from one background thread, in order, and keeps the recent ones."""

    def __init__(self, store: Store, on_violation: Callable[[Violation], None]) -> None:
        self.store, self.on_violation = store, on_violation
        self._jobs: queue.Queue[Job | None] = queue.Queue()
        self._records: dict[int, deque[Json]] = {}
        self._lock = threading.Lock()
        self._idle = threading.Condition()
        self._busy = 0
        self._thread: threading.Thread | None = None

    def send(
        self, hook: Json, event: str, payload: Json, guid: str, redelivery: bool = False
    ) -> None:
        """Queue a delivery of `payload` to `hook` (as the hook is now) under the event's `guid`."""
        job = Job(json.loads(json.dumps(hook)), event, payload, guid, redelivery)
        with self._idle:
            self._busy += 1
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._work, name="sandbox-webhooks", daemon=True
                )
                self._thread.start()
        self._jobs.put(job)

    def deliveries(self, hook_id: int) -> list[Json]:
        """Return a hook's recent deliveries, newest first."""
        with self._lock:
            return list(self._records.get(hook_id, ()))

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until every queued delivery was attempted; False if `timeout` passed first."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)

    def stop(self) -> None:
        """Attempt what is queued (each within the timeout), then end the thread."""
        if self._thread is not None:
            self._jobs.put(None)
            self._thread.join(timeout=TIMEOUT + 2)

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                self._deliver(job)
            except Exception:  # a sandbox bug must not end deliveries
                log.exception("sandbox.webhook_crashed")
            finally:
                with self._idle:
                    self._busy -= 1
                    self._idle.notify_all()

    def _deliver(self, job: Job) -> None:
        action = job.payload.get("action")
        body, headers = request_of(job)
        started = time.monotonic()
        code, status, answer = post(job.hook["config"], body, headers)
        duration = round(time.monotonic() - started, 3)
        problem = check_payload(job.event, action, job.payload)  # after: deliveries stay prompt
        if problem:
            target = f"{job.hook['config'].get('url')} ({webhook_name(job.event, action)})"
            self.on_violation(Violation("webhook", "POST", target, None, problem))
        record = {
            "guid": job.guid,
            "delivered_at": now_iso(),
            "redelivery": job.redelivery,
            "duration": duration,
            "status": status,
            "status_code": code,
            "event": job.event,
            "action": action,
            "installation_id": None,
            "repository_id": (job.payload.get("repository") or {}).get("id"),
            "throttled_at": None,
            "url": job.hook["config"].get("url", ""),
            "request": {"headers": headers, "payload": job.payload},
            "response": answer,
        }
        with self.store.lock:
            record["id"] = self.store.new_id()
            self._last_response(job.hook["id"], code, status)
        with self._lock:
            kept = self._records.setdefault(job.hook["id"], deque(maxlen=KEEP))
            kept.appendleft(record)

    def _last_response(self, hook_id: int, code: int, status: str) -> None:
        for repo in self.store.repos.values():
            hook = repo.get("hooks", {}).get(str(hook_id))
            if hook is not None:
                ok = 200 <= code < 300
                hook["last_response"] = {
                    "code": code or None,
                    "status": "active" if ok else "failed",
                    "message": status,
                }


def request_of(job: Job) -> tuple[bytes, dict[str, str]]:
    """Return the body and headers GitHub sends for a delivery (signed when the hook has a
    secret: `X-Hub-Signature-256`, and the legacy SHA-1 `X-Hub-Signature`)."""
    text = json.dumps(job.payload, separators=(",", ":"), ensure_ascii=False)
    form = job.hook["config"].get("content_type") == "form"
    body = ("payload=" + quote_plus(text)).encode() if form else text.encode()
    headers = {
        "Accept": "*/*",
        "Content-Type": "application/x-www-form-urlencoded" if form else "application/json",
        "User-Agent": HOOKSHOT,
        "X-GitHub-Delivery": job.guid,
        "X-GitHub-Event": job.event,
        "X-GitHub-Hook-ID": str(job.hook["id"]),
        "X-GitHub-Hook-Installation-Target-ID": str(job.hook["repository_id"]),
        "X-GitHub-Hook-Installation-Target-Type": "repository",
    }
    secret = job.hook["config"].get("secret")
    if secret:
        headers["X-Hub-Signature"] = sign(secret, body, "sha1")
        headers["X-Hub-Signature-256"] = sign(secret, body)
    return body, headers


def post(config: Json, body: bytes, headers: dict[str, str]) -> tuple[int, str, Json]:
    """POST a delivery; return (status code, GitHub's status line for it, the response)."""
    url = urlsplit(str(config.get("url", "")))
    if url.scheme not in ("http", "https") or url.hostname not in LOOPBACK:
        return 0, "The sandbox delivers to 127.0.0.1 and localhost only", _no_answer()
    connection: http.client.HTTPConnection
    if url.scheme == "https":
        context = ssl.create_default_context()
        if str(config.get("insecure_ssl", "0")) == "1":
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        connection = http.client.HTTPSConnection(
            url.hostname, url.port, timeout=TIMEOUT, context=context
        )
    else:
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=TIMEOUT)
    try:
        target = (url.path or "/") + (f"?{url.query}" if url.query else "")
        connection.request("POST", target, body, headers)
        response = connection.getresponse()
        text = response.read(RESPONSE_LIMIT).decode("utf-8", errors="replace")
        answer = {"headers": dict(response.getheaders()), "payload": text}
        ok = 200 <= response.status < 300
        return response.status, "OK" if ok else f"Invalid HTTP Response: {response.status}", answer
    except TimeoutError:
        return 0, "timed out", _no_answer()
    except http.client.HTTPException:  # an answer that is no HTTP response
        return 0, "Invalid HTTP Response", _no_answer()
    except OSError:
        return 0, "failed to connect to host", _no_answer()
    finally:
        connection.close()


def _no_answer() -> Json:
    return {"headers": None, "payload": None}

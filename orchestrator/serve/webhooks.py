"""Receive GitHub's webhooks for `agentos serve`: check each, and wake the jobs it concerns.

GitHub POSTs each event of a hook to one URL (docs/webhooks.md). The receiver answers within
milliseconds (GitHub gives up after ten seconds) and never runs a job itself: it calls the
`wake(jobs, reason)` it was given (the scheduler's), and the job then reads GitHub as it always
does. A webhook is a hint to look now, never the data acted on, so a lost one costs only the
wait for the job's next scheduled tick.

In order: the path (404) and the method (405); a body of at most `max_body_bytes` with a
Content-Length (411, 413: nothing past the limit is read); the `X-Hub-Signature-256` HMAC of the
raw body with the secret, compared in constant time (401, logged once per delivery, nothing
woken); `X-GitHub-Event` and `X-GitHub-Delivery` (400); a delivery handled before (200
`duplicate`, even after a restart: store/webhook_deliveries.py); then `ping` (200), an event and
action some job cares about (202 `accepted`, the jobs woken), anything else (202 `ignored`).
Every answer is a small JSON object; the secret and the body are never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import socket
import threading
import traceback
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from orchestrator.config.model import Config
from orchestrator.store.webhook_deliveries import SeenDeliveries

Wake = Callable[[Sequence[str], str], None]
DISPATCHER, PR_MONITOR = "dispatcher", "pr_monitor"
READ_TIMEOUT = 10.0  # seconds a client may take to send its request (GitHub's own limit)
WARNED = 1024  # delivery ids remembered as refused already (a warning each, once)
_DELIVERY = re.compile(r"^[A-Za-z0-9-]{1,64}$")  # a GUID; what is stored must stay small
_UNPLAIN = re.compile(r"[^A-Za-z0-9_.-]")


def _each(actions: str, jobs: tuple[str, ...]) -> dict[str | None, tuple[str, ...]]:
    return {action: jobs for action in actions.split()}


# The events and actions that wake a job. Board and label changes, blockers and sub-issues move
# what is Ready (the dispatcher); pull request, review, check and merge queue activity moves
# what can merge (the PR monitor); a closed issue or pull request may do both (a merge frees
# the issues that waited on its files, and the review budget). Anything else is ignored.
WAKES: dict[str, dict[str | None, tuple[str, ...]]] = {
    "issues": {
        **_each("opened edited reopened labeled unlabeled deleted transferred", (DISPATCHER,)),
        "closed": (DISPATCHER, PR_MONITOR),
    },
    "issue_dependencies": _each(
        "blocked_by_added blocked_by_removed blocking_added blocking_removed", (DISPATCHER,)
    ),
    "sub_issues": _each(
        "parent_issue_added parent_issue_removed sub_issue_added sub_issue_removed", (DISPATCHER,)
    ),
    "projects_v2_item": _each(
        "created edited deleted archived restored converted reordered", (DISPATCHER,)
    ),
    "pull_request": {
        **_each(
            "opened reopened synchronize edited ready_for_review converted_to_draft labeled "
            "unlabeled enqueued dequeued auto_merge_enabled auto_merge_disabled",
            (PR_MONITOR,),
        ),
        "closed": (PR_MONITOR, DISPATCHER),
    },
    "pull_request_review": _each("submitted edited dismissed", (PR_MONITOR,)),
    "check_run": _each("completed", (PR_MONITOR,)),
    "check_suite": _each("completed", (PR_MONITOR,)),
    "status": {None: (PR_MONITOR,)},  # a commit status has no action
    "workflow_run": _each("completed", (PR_MONITOR,)),
    "merge_group": _each("checks_requested destroyed", (PR_MONITOR,)),
}


def jobs_for(event: str, action: str | None) -> tuple[str, ...]:
    """Return the jobs an event and action wake; () for one no job cares about."""
    return WAKES.get(event, {}).get(action, ())


def signature_ok(secret: bytes, body: bytes, header: str | None) -> bool:
    """Tell whether `X-Hub-Signature-256` is `sha256=` and the HMAC-SHA256 of the body."""
    expected = b"sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest().encode()
    return header is not None and hmac.compare_digest(expected, header.encode("utf-8", "replace"))


class WebhookAnswer:
    """What the receiver answers a request: a status, a small JSON body, extra headers."""

    __slots__ = ("status", "body", "headers")

    def __init__(self, status: int, body: dict[str, Any], **headers: str) -> None:
        self.status, self.body, self.headers = status, body, headers


class WebhookReceiver:
    """An HTTP server on `bind:port` that turns GitHub's webhooks into `wake` calls."""

    def __init__(
        self,
        secret: str,
        wake: Wake,
        seen: SeenDeliveries,
        log: logging.Logger,
        *,
        bind: str = "127.0.0.1",
        port: int = 8787,
        path: str = "/github",
        max_body_bytes: int = 5 * 1024 * 1024,
    ) -> None:
        if not secret:
            raise ValueError("a webhook receiver needs a secret")
        self._secret, self.wake, self.seen, self.log = secret.encode(), wake, seen, log
        self.bind, self.port, self.path, self.max_body_bytes = bind, port, path, max_body_bytes
        self._warned: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @classmethod
    def from_config(cls, config: Config, wake: Wake, log: logging.Logger) -> WebhookReceiver:
        """Build the receiver a config's `webhooks` section describes (its secret resolved)."""
        if config.webhooks is None:
            raise ValueError("the config has no webhooks section")
        hooks = config.webhooks
        return cls(
            hooks.secret.reveal(),
            wake,
            SeenDeliveries.of(config.paths),
            log,
            bind=hooks.bind,
            port=hooks.port,
            path=hooks.path,
            max_body_bytes=hooks.max_body_bytes,
        )

    @property
    def url(self) -> str:
        """Return the URL the receiver answers at (the port chosen when `port` was 0)."""
        host = f"[{self.bind}]" if ":" in self.bind else self.bind
        return f"http://{host}:{self.port}{self.path}"

    def start(self) -> str:
        """Listen (OSError when the port is taken) and serve from a thread; return the URL."""
        self._server = _Server((self.bind, self.port), _Handler, self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.2,), name="webhooks", daemon=True
        )
        self._thread.start()
        self.log.info(
            "webhooks.started", extra={"url": self.url, "max_body_bytes": self.max_body_bytes}
        )
        return self.url

    def stop(self) -> None:
        """Stop listening; a request being answered is finished first."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None
        self.log.info("webhooks.stopped", extra={"url": self.url})

    def __enter__(self) -> WebhookReceiver:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- one delivery ------------------------------------------------------------------------------
    def receive(self, headers: Mapping[str, str], body: bytes) -> WebhookAnswer:
        """Answer one POST at the receiver's path whose body was read whole (header names are
        matched in any case)."""
        headers = {name.lower(): value for name, value in headers.items()}
        delivery = headers.get("x-github-delivery", "")
        event = headers.get("x-github-event", "")
        if not signature_ok(self._secret, body, headers.get("x-hub-signature-256")):
            reason = "bad_signature" if "x-hub-signature-256" in headers else "no_signature"
            self.refused(reason, delivery, event)
            return WebhookAnswer(401, {"error": "signature missing or wrong"})
        if not _DELIVERY.match(delivery) or not event:
            self.refused("no_delivery", delivery, event)
            return WebhookAnswer(
                400, {"error": "X-GitHub-Event and X-GitHub-Delivery are required"}
            )
        payload = _payload(headers.get("content-type", ""), body)
        if payload is None:
            self.refused("bad_json", delivery, event)
            return WebhookAnswer(400, {"error": "the body is not a JSON object"})
        if not self.seen.claim(delivery):
            self.log.info("webhook.duplicate", extra={"github_event": event, "delivery": delivery})
            return WebhookAnswer(200, {"status": "duplicate", "delivery": delivery})
        answer = self._handle(event, payload, delivery)
        if answer.status >= 500:
            self.seen.forget(delivery)  # not handled: GitHub's redelivery should be
            return answer
        try:
            self.seen.save()
        except OSError as exc:
            self.log.error("webhook.unrecorded", extra={"delivery": delivery, "error": str(exc)})
        return answer

    def _handle(self, event: str, payload: dict[str, Any], delivery: str) -> WebhookAnswer:
        action = payload.get("action") if isinstance(payload.get("action"), str) else None
        fields = {"github_event": event, "action": action, "delivery": delivery}
        if event == "ping":
            self.log.info("webhook.ping", extra={**fields, "hook_id": payload.get("hook_id")})
            return WebhookAnswer(200, {"status": "pong", "delivery": delivery})
        jobs = jobs_for(event, action)
        if not jobs:
            self.log.debug("webhook.ignored", extra=fields)
            return WebhookAnswer(202, {"status": "ignored", "event": event, "action": action})
        reason = f"webhook {event}.{action}" if action else f"webhook {event}"
        try:
            self.wake(jobs, reason)
        except Exception as exc:  # the scheduler's bug: GitHub is told, and may send it again
            self.log.error("webhook.wake_failed", extra={**fields, "error": repr(exc)[:300]})
            return WebhookAnswer(500, {"error": "the jobs could not be woken"})
        self.log.info("webhook.received", extra={**fields, "jobs": ",".join(jobs)})
        return WebhookAnswer(
            202, {"status": "accepted", "event": event, "action": action, "woke": jobs}
        )

    def refused(self, reason: str, delivery: str, event: str) -> None:
        """Log a refused delivery, once per delivery id (its redeliveries say nothing new)."""
        with self._lock:
            if delivery in self._warned:
                return
            self._warned[delivery] = None
            while len(self._warned) > WARNED:
                self._warned.popitem(last=False)
        self.log.warning(
            "webhook.refused",
            extra={"reason": reason, "delivery": _shown(delivery), "github_event": _shown(event)},
        )


def _shown(header: str) -> str:
    """Return an unverified header's value as it may be logged: short, plain characters."""
    return _UNPLAIN.sub("?", header[:64])


def _payload(content_type: str, body: bytes) -> dict[str, Any] | None:
    """Return the JSON object a delivery carries: the body (`json`), or its `payload` field
    (`form`, GitHub's other content type)."""
    try:
        if content_type.split(";", 1)[0].strip() == "application/x-www-form-urlencoded":
            text = parse_qs(body.decode("utf-8"), max_num_fields=10).get("payload", [""])[0]
        else:
            text = body.decode("utf-8")
        value = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[_Handler], owner: Any) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, handler)
        self.owner: WebhookReceiver = owner

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Say nothing of a client gone mid-answer (socketserver would print a traceback)."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = READ_TIMEOUT
    server_version = "agentos-webhooks"
    sys_version = ""

    def do_POST(self) -> None:
        receiver = self.server.owner
        if not self._at_path(receiver):
            return
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self._answer(WebhookAnswer(411, {"error": "a Content-Length is required"}))
            return
        if int(length) > receiver.max_body_bytes:
            receiver.refused("too_large", self.headers.get("X-GitHub-Delivery", ""), "")
            limit = receiver.max_body_bytes
            self._answer(WebhookAnswer(413, {"error": f"the body is over {limit} bytes"}))
            return
        body = self.rfile.read(int(length))
        if len(body) != int(length):
            self._answer(WebhookAnswer(400, {"error": "the body ended early"}))
            return
        try:
            answer = receiver.receive(dict(self.headers.items()), body)
        except Exception as exc:  # a bug of ours: GitHub is told, and may send it again
            crash = {"error": repr(exc)[:300], "traceback": traceback.format_exc()}
            receiver.log.error("webhook.crashed", extra=crash)
            answer = WebhookAnswer(500, {"error": "the receiver failed"})
        self._answer(answer)

    def _other(self) -> None:
        if self._at_path(self.server.owner):
            self._answer(WebhookAnswer(405, {"error": "only POST is accepted"}, Allow="POST"))

    do_GET = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _other

    def _at_path(self, receiver: WebhookReceiver) -> bool:
        if urlsplit(self.path).path == receiver.path:
            return True
        self._answer(WebhookAnswer(404, {"error": "not found"}))
        return False

    def _answer(self, answer: WebhookAnswer) -> None:
        data = json.dumps(answer.body).encode()
        self.send_response(answer.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Say nothing: the receiver logs its own events, never a request line or a body."""

"""Serve repository webhooks: create, list, get, update, delete, ping, and their deliveries.

A hook is `{url, content_type, secret, insecure_ssl}` with the events it wants (`*` for all), as
GitHub keeps it; only a repository's admin sees or changes its hooks (others get 404). A new
active hook is sent a `ping`, as GitHub does. The deliveries themselves: webhooks.py.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

from orchestrator.sandbox.github import webhooks
from orchestrator.sandbox.github.access import repo_for
from orchestrator.sandbox.github.api import (
    ApiError,
    Call,
    Deliverer,
    Reply,
    invalid,
    not_found,
    paginate,
)
from orchestrator.sandbox.github.routing import ROUTES
from orchestrator.sandbox.github.state import Json, now_iso

HOOKS = "/repos/{owner}/{repo}/hooks"
ONE = HOOKS + "/{hook_id}"
DELIVERY = ONE + "/deliveries/{delivery_id}"
CONTENT_TYPES = ("json", "form")
ZEN = (
    "Design for failure.",
    "Keep it logically awesome.",
    "Speak like a human.",
    "Approachable is better than simple.",
    "Mind your words, they are important.",
)
UNUSED = {"code": None, "status": "unused", "message": None}


def render(call: Call, repo: Json, hook: Json) -> Json:
    """Return GitHub's `hook`; a secret is shown as asterisks, as GitHub shows it."""
    url = f"{call.api}/repos/{repo['owner']}/{repo['name']}/hooks/{hook['id']}"
    config = {k: v for k, v in hook["config"].items() if k != "secret"}
    if hook["config"].get("secret"):
        config["secret"] = "********"
    return {
        "type": "Repository",
        "id": hook["id"],
        "name": "web",
        "active": hook["active"],
        "events": list(hook["events"]),
        "config": config,
        "updated_at": hook["updated_at"],
        "created_at": hook["created_at"],
        "url": url,
        "test_url": f"{url}/test",
        "ping_url": f"{url}/pings",
        "deliveries_url": f"{url}/deliveries",
        "last_response": hook.get("last_response") or UNUSED,
    }


def _hooks(repo: Json) -> dict[str, Json]:
    hooks: dict[str, Json] = repo.setdefault("hooks", {})  # repositories older than hooks
    return hooks


def _hook_for(call: Call, repo: Json) -> Json:
    hook: Json | None = _hooks(repo).get(call.params["hook_id"])
    if hook is None:
        raise not_found()
    return hook


def _sender(call: Call) -> Deliverer:
    if call.hooks.webhooks is None:  # handlers run without a sandbox (tests of handlers alone)
        raise ApiError(503, "The sandbox sends no webhooks here")
    return call.hooks.webhooks


def _config(given: Any, old: Json | None = None) -> Json:
    """Return a hook's config from a request's, refusing what GitHub refuses."""
    if not isinstance(given, dict):
        raise invalid("Hook", "config", "missing_field")
    url = given.get("url", (old or {}).get("url"))
    parts = urlsplit(str(url or ""))
    if not url or parts.scheme not in ("http", "https") or not parts.netloc:
        raise invalid("Hook", "url", "custom", "url is not a valid URL")  # the sandbox's words
    content_type = given.get("content_type", (old or {}).get("content_type", "form"))
    if content_type not in CONTENT_TYPES:
        raise invalid("Hook", "content_type")
    config = {
        "url": str(url),
        "content_type": content_type,
        "insecure_ssl": str(given.get("insecure_ssl", (old or {}).get("insecure_ssl", "0"))),
    }
    if given.get("secret"):  # GitHub: a secret left out of an update is removed
        config["secret"] = str(given["secret"])
    return config


def _events(value: Any, default: list[str]) -> list[str]:
    if value is None:
        return default
    if not isinstance(value, list) or not all(isinstance(e, str) and e for e in value):
        raise invalid("Hook", "events")
    return list(dict.fromkeys(value))


@ROUTES.route("GET", HOOKS, "repos/list-webhooks")
def list_hooks(call: Call) -> Reply:
    """List the repository's hooks, oldest first."""
    repo = repo_for(call, "admin")
    return paginate(call, list(_hooks(repo).values()), lambda h: render(call, repo, h))


@ROUTES.route("POST", HOOKS, "repos/create-webhook")
def create_hook(call: Call) -> Reply:
    """Create a hook (`name` web; default events `push`, content type `form`) and ping it."""
    repo = repo_for(call, "admin")
    if call.field("name", "web") != "web":
        raise invalid("Hook", "name")
    config = _config(call.field("config"))
    if any(h["config"]["url"] == config["url"] for h in _hooks(repo).values()):
        raise invalid("Hook", "hook", "custom", "Hook already exists on this repository")
    now = now_iso()
    hook = {
        "id": call.store.new_id(),
        "repository_id": repo["id"],
        "active": bool(call.field("active", True)),
        "events": _events(call.field("events"), ["push"]),
        "config": config,
        "created_at": now,
        "updated_at": now,
        "last_response": dict(UNUSED),
    }
    _hooks(repo)[str(hook["id"])] = hook
    if hook["active"]:
        _ping(call, repo, hook)
    rendered = render(call, repo, hook)
    return Reply(201, rendered, {"Location": rendered["url"]})


@ROUTES.route("GET", ONE, "repos/get-webhook")
def get_hook(call: Call) -> Reply:
    """Return one hook."""
    repo = repo_for(call, "admin")
    return Reply(200, render(call, repo, _hook_for(call, repo)))


@ROUTES.route("PATCH", ONE, "repos/update-webhook")
def update_hook(call: Call) -> Reply:
    """Change a hook's config (a secret not sent again is removed, as on GitHub), its events
    (set, added, removed) or `active`."""
    repo = repo_for(call, "admin")
    hook = _hook_for(call, repo)
    if "config" in call.body:
        hook["config"] = _config(call.body["config"], hook["config"])
    events = _events(call.field("events"), hook["events"])
    events += [e for e in _events(call.field("add_events"), []) if e not in events]
    removed = _events(call.field("remove_events"), [])
    hook["events"] = [e for e in events if e not in removed]
    if "active" in call.body:
        hook["active"] = bool(call.body["active"])
    hook["updated_at"] = now_iso()
    return Reply(200, render(call, repo, hook))


@ROUTES.route("DELETE", ONE, "repos/delete-webhook")
def delete_hook(call: Call) -> Reply:
    """Delete a hook."""
    repo = repo_for(call, "admin")
    del _hooks(repo)[str(_hook_for(call, repo)["id"])]
    return Reply(204)


@ROUTES.route("POST", ONE + "/pings", "repos/ping-webhook")
def ping_hook(call: Call) -> Reply:
    """Send the hook a `ping` event."""
    repo = repo_for(call, "admin")
    _ping(call, repo, _hook_for(call, repo))
    return Reply(204)


def _ping(call: Call, repo: Json, hook: Json) -> None:
    payload = {
        "zen": ZEN[hook["id"] % len(ZEN)],
        "hook_id": hook["id"],
        "hook": render(call, repo, hook),
        **webhooks.envelope(call, repo),
    }
    _sender(call).send(hook, "ping", payload, str(uuid.uuid4()))


@ROUTES.route("GET", ONE + "/deliveries", "repos/list-webhook-deliveries")
def list_deliveries(call: Call) -> Reply:
    """List the hook's recent deliveries, newest first (`status`: success or failure)."""
    repo = repo_for(call, "admin")
    hook = _hook_for(call, repo)
    wanted = call.arg("status")
    records = [
        r
        for r in _sender(call).deliveries(hook["id"])
        if wanted is None or (wanted == "success") == (r["status"] == "OK")
    ]
    drop = ("url", "request", "response")
    return paginate(call, records, lambda r: {k: v for k, v in r.items() if k not in drop})


def _delivery_for(call: Call, hook: Json) -> Json:
    for record in _sender(call).deliveries(hook["id"]):
        if str(record["id"]) == call.params["delivery_id"]:
            return record
    raise not_found()


@ROUTES.route("GET", DELIVERY, "repos/get-webhook-delivery")
def get_delivery(call: Call) -> Reply:
    """Return one delivery with its request (headers, payload) and the response it got."""
    repo = repo_for(call, "admin")
    return Reply(200, _delivery_for(call, _hook_for(call, repo)))


@ROUTES.route("POST", DELIVERY + "/attempts", "repos/redeliver-webhook-delivery")
def redeliver(call: Call) -> Reply:
    """Send a delivery again: the same event, payload and `X-GitHub-Delivery`, as GitHub does."""
    repo = repo_for(call, "admin")
    hook = _hook_for(call, repo)
    record = _delivery_for(call, hook)
    payload = record["request"]["payload"]
    _sender(call).send(hook, record["event"], payload, record["guid"], redelivery=True)
    return Reply(202, {})

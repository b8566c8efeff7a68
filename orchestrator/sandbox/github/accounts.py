"""The sandbox's accounts: users, organizations, installed apps, and the token a request carries."""

from __future__ import annotations

import base64
import secrets

from orchestrator.sandbox.github.server import Incoming
from orchestrator.sandbox.github.state import Json, Store, now_iso

DEFAULT_SCOPES = ("repo", "project", "read:org")  # a classic token with what Agent OS needs


def token_of(store: Store, login: str) -> str:
    """Return the token a login already has, or a new one."""
    existing = [t for t, v in store.tokens.items() if v["login"] == login]
    return existing[0] if existing else "ghp_" + secrets.token_hex(18)


def add_user(
    store: Store,
    login: str,
    token: str | None = None,
    scopes: tuple[str, ...] | list[str] | None = None,
    name: str | None = None,
) -> str:
    """Create (or keep) a user and give it a token with `scopes`; return the token."""
    with store.lock:
        if store.user(login) is None:
            store.users[login] = {
                "login": login,
                "id": store.new_id(),
                "type": "User",
                "name": name or login,
                "email": f"{login}@users.noreply.sandbox",
                "created_at": now_iso(),
            }
        token = token or token_of(store, login)
        store.tokens[token] = {
            "login": store.user(login)["login"],  # type: ignore[index]
            "scopes": list(scopes if scopes is not None else DEFAULT_SCOPES),
        }
        store.save()
    return token


def add_app(store: Store, slug: str, name: str | None = None) -> str:
    """Install a GitHub App on every repo; return its installation token (acts as `slug[bot]`)."""
    with store.lock:
        apps = store.data["apps"]
        if slug not in apps:
            apps[slug] = {
                "id": store.new_id(),
                "slug": slug,
                "name": name or slug,
                "created_at": now_iso(),
            }
            store.users[f"{slug}[bot]"] = {
                "login": f"{slug}[bot]",
                "id": store.new_id(),
                "type": "Bot",
                "name": name or slug,
                "email": f"{slug}[bot]@users.noreply.sandbox",
                "created_at": now_iso(),
                "app": slug,
            }
        token = next(
            (t for t, v in store.tokens.items() if v["login"] == f"{slug}[bot]"),
            "ghs_" + secrets.token_hex(18),
        )
        store.tokens[token] = {"login": f"{slug}[bot]", "scopes": []}
        store.save()
    return token


def add_org(store: Store, login: str, members: dict[str, str]) -> None:
    """Create an organization; `members` maps logins to "admin" or "member"."""
    with store.lock:
        org = store.user(login) or {
            "login": login,
            "id": store.new_id(),
            "type": "Organization",
            "name": login,
            "created_at": now_iso(),
            "members": {},
        }
        org["members"].update(members)
        store.users[login] = org
        store.save()


def scopes(store: Store, request: Incoming) -> tuple[str, ...] | None:
    """Return the request token's OAuth scopes; None for app tokens (permissions, not scopes)."""
    record = token_record(store, request)
    if record is None or "app" in store.users.get(record["login"], {}):
        return None
    return tuple(record["scopes"])


def token_record(store: Store, request: Incoming) -> Json | None:
    scheme, _, value = request.header("authorization").partition(" ")
    if scheme.lower() == "basic":
        user, _, password = base64.b64decode(value.encode()).decode(errors="replace").partition(":")
        value = password or user
    elif scheme.lower() not in ("token", "bearer"):
        return None
    record: Json | None = store.tokens.get(value.strip())
    return record

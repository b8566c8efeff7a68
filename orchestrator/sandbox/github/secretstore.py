"""Repository Actions secrets, set as GitHub takes them: sealed to the repository's public key.

`GET …/actions/secrets/public-key` answers a Curve25519 key (made once per repository, kept in
the state with its private half); `PUT …/actions/secrets/{name}` takes `encrypted_value`, a
libsodium sealed box to that key, and `key_id`. The value is opened and kept in the state (a
sandbox keeps no secret from itself) for the workflow runs' `${{ secrets.NAME }}`.
"""

from __future__ import annotations

import base64
import hashlib
import re

from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, SealedBox

from orchestrator.sandbox.github.access import repo_for
from orchestrator.sandbox.github.api import ApiError, Call, Reply, invalid, not_found
from orchestrator.sandbox.github.routing import ROUTES
from orchestrator.sandbox.github.state import Json, now_iso

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _key(repo: Json) -> Json:
    found: Json | None = repo.get("actions_key")
    if found is None:
        private = PrivateKey.generate()
        public = bytes(private.public_key)
        found = {
            "key_id": str(int.from_bytes(hashlib.sha256(public).digest()[:8], "big")),
            "private": base64.b64encode(bytes(private)).decode(),
            "public": base64.b64encode(public).decode(),
        }
        repo["actions_key"] = found
    return found


@ROUTES.route(
    "GET", "/repos/{owner}/{repo}/actions/secrets/public-key", "actions/get-repo-public-key"
)
def public_key(call: Call) -> Reply:
    """Return the key secrets are sealed to."""
    repo = repo_for(call, "push", 403)
    key = _key(repo)
    call.store.save()
    return Reply(200, {"key_id": key["key_id"], "key": key["public"]})


@ROUTES.route(
    "PUT",
    "/repos/{owner}/{repo}/actions/secrets/{secret_name}",
    "actions/create-or-update-repo-secret",
)
def put_secret(call: Call) -> Reply:
    """Open a sealed secret and keep it: 201 when new, 204 when it replaced one."""
    repo = repo_for(call, "admin", 403)
    name = call.params["secret_name"]
    if not _NAME.match(name) or name.upper().startswith("GITHUB_"):
        raise invalid(
            "Secret",
            "name",
            message="Secret names can only contain alphanumeric "
            "characters or underscores and must not start with GITHUB_.",
        )
    key = _key(repo)
    if str(call.field("key_id")) != key["key_id"]:
        raise ApiError(422, "Bad request: key_id does not match the repository public key")
    try:
        sealed = base64.b64decode(str(call.field("encrypted_value")))
        value = SealedBox(PrivateKey(base64.b64decode(key["private"]))).decrypt(sealed)
    except (CryptoError, ValueError):
        raise ApiError(422, "Bad request: encrypted_value is not a sealed box") from None
    store: Json = repo.setdefault("actions_secrets", {})
    new = name.upper() not in store
    kept = store.get(name.upper(), {"created_at": now_iso()})
    store[name.upper()] = {**kept, "value": value.decode(errors="replace"), "updated_at": now_iso()}
    call.store.save()
    return Reply(201, {}) if new else Reply(204)


@ROUTES.route(
    "GET", "/repos/{owner}/{repo}/actions/secrets/{secret_name}", "actions/get-repo-secret"
)
def get_secret(call: Call) -> Reply:
    """Return a secret's name and dates (never its value); 404 when it is not set."""
    repo = repo_for(call, "admin", 403)
    name = call.params["secret_name"].upper()
    found = repo.get("actions_secrets", {}).get(name)
    if found is None:
        raise not_found()
    updated = found.get("updated_at", found["created_at"])
    return Reply(200, {"name": name, "created_at": found["created_at"], "updated_at": updated})

"""Kubernetes object shapes: metadata, `Status` answers, lists and label selectors."""

from __future__ import annotations

import re
import secrets
import time
import uuid
from datetime import UTC, datetime
from typing import Any

Obj = dict[str, Any]
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # apimachinery's utilrand alphabet


def now() -> str:
    """Return the current time as Kubernetes writes it (RFC 3339, seconds, Z)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def monotonic() -> float:
    return time.monotonic()


def random_suffix(length: int = 5) -> str:
    return "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(length))


def new_uid() -> str:
    return str(uuid.uuid4())


def status(code: int, reason: str, message: str, details: Obj | None = None) -> Obj:
    """Return a `Status` object, as the API server answers a failure (or a deletion)."""
    answer: Obj = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success" if code < 400 else "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if not message:
        del answer["message"]
    if not reason:
        del answer["reason"]
    if details is not None:
        answer["details"] = details
    return answer


def not_found(resource: str, group: str, name: str) -> Obj:
    qualified = f"{resource}.{group}" if group else resource
    details = {"name": name, "kind": resource} | ({"group": group} if group else {})
    return status(404, "NotFound", f'{qualified} "{name}" not found', details)


def already_exists(resource: str, group: str, name: str) -> Obj:
    qualified = f"{resource}.{group}" if group else resource
    details = {"name": name, "kind": resource} | ({"group": group} if group else {})
    return status(409, "AlreadyExists", f'{qualified} "{name}" already exists', details)


def invalid(kind: str, group: str, name: str, causes: list[tuple[str, str]]) -> Obj:
    """Return the 422 `Invalid` answer naming each field that failed validation."""
    qualified = f"{kind}.{group}" if group else kind
    listed = ", ".join(f"{field}: {message}" for field, message in causes)
    details = {
        "name": name,
        "kind": kind,
        "causes": [
            {"reason": "FieldValueInvalid", "message": message, "field": field}
            for field, message in causes
        ],
    } | ({"group": group} if group else {})
    message = f'{qualified} "{name}" is invalid: {listed}'
    if len(causes) > 1:
        message = f'{qualified} "{name}" is invalid: [{listed}]'
    return status(422, "Invalid", message, details)


def listing(kind: str, api_version: str, items: list[Obj], resource_version: int) -> Obj:
    return {
        "kind": f"{kind}List",
        "apiVersion": api_version,
        "metadata": {"resourceVersion": str(resource_version)},
        "items": items,
    }


def parse_selector(text: str) -> list[tuple[str, str, set[str]]] | None:
    """Parse a label selector (`a=b,c!=d,e in (f,g),h,!i`); None when it is malformed."""
    requirements: list[tuple[str, str, set[str]]] = []
    for part in re.findall(r"(?:[^,(]|\([^)]*\))+", text):
        part = part.strip()
        if not part:
            continue
        if m := re.fullmatch(r"([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)", part):
            values = {v.strip() for v in m.group(3).split(",") if v.strip()}
            requirements.append((m.group(1), m.group(2), values))
        elif m := re.fullmatch(r"([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)", part):
            op = "!=" if m.group(2) == "!=" else "="
            requirements.append((m.group(1), op, {m.group(3)}))
        elif m := re.fullmatch(r"(!?)([\w./-]+)", part):
            requirements.append((m.group(2), "!" if m.group(1) else "exists", set()))
        else:
            return None
    return requirements


def selects(requirements: list[tuple[str, str, set[str]]], labels: dict[str, str]) -> bool:
    """Tell whether labels satisfy every parsed requirement."""
    for key, op, values in requirements:
        value = labels.get(key)
        if op in ("=", "in") and value not in values:
            return False
        if op in ("!=", "notin") and value in values:
            return False
        if (op == "exists") != (value is not None) and op in ("exists", "!"):
            return False
    return True

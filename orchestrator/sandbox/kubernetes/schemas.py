"""Kubernetes' published schemas, as kubernetes-validate bundles them (no network).

Every manifest the stand-in accepts and every object it answers is checked against the strict
schemas of one Kubernetes version: an unknown field is a problem, named by its dotted path.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import referencing
from kubernetes_validate.utils import schema_contents  # type: ignore[import-untyped]

KUBERNETES_VERSION = "1.30"  # the schemas' version; /version answers it too
_DIR = f"kubernetes-json-schema/v{KUBERNETES_VERSION}.0-local-strict"
_SPECIAL = {("Status", "v1"): "status-meta-v1"}


@lru_cache(maxsize=1)
def _registry() -> referencing.Registry[Any]:
    definitions = schema_contents(f"{_DIR}/_definitions.json", KUBERNETES_VERSION)
    return referencing.Resource.from_contents(definitions) @ referencing.Registry()


@lru_cache(maxsize=32)
def _validator(kind: str, api_version: str) -> jsonschema.protocols.Validator:
    group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    stem = _SPECIAL.get((kind, api_version), f"{kind.lower()}-{group}")
    schema = schema_contents(f"{_DIR}/{stem}.json", KUBERNETES_VERSION)
    registry = referencing.Resource.from_contents(schema) @ _registry()
    validator: jsonschema.protocols.Validator = jsonschema.Draft202012Validator(
        schema, registry=registry
    )
    return validator


def problems(obj: dict[str, Any]) -> list[tuple[str, str]]:
    """Return (dotted field path, message) for each way `obj` breaks its kind's strict schema."""
    kind, api_version = obj.get("kind"), obj.get("apiVersion")
    if not isinstance(kind, str) or not isinstance(api_version, str):
        return [("kind" if not isinstance(kind, str) else "apiVersion", "Required value")]
    try:
        validator = _validator(kind, api_version)
    except FileNotFoundError:
        return [("kind", f"no schema for {kind} in {api_version}")]
    found = []
    for error in sorted(validator.iter_errors(obj), key=lambda e: list(map(str, e.path))):
        path = ".".join(str(p) for p in error.path)
        message = error.message
        unexpected = re.search(r"\('([^']+)' (?:was|were) unexpected\)", message)
        if error.validator == "additionalProperties" and unexpected:
            field = unexpected.group(1)
            path = f"{path}.{field}" if path else field
            message = f'unknown field "{path}"'
        found.append((path, message))
    return found

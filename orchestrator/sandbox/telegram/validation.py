"""Judge Bot API requests and results by the published Bot API description (`bot-api.min.json`)."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SPEC_PATH = Path(__file__).with_name("bot-api.min.json")
_PRIMITIVES = frozenset({"Integer", "Float", "String", "Boolean"})
# Subtypes name their discriminator in prose: 'Scope type, must be default', 'always "user"'.
_CONSTANT = re.compile(r'(?:must be |always ")([a-z0-9_]+)"?$')
_TRUE_WORDS = {"true": True, "True": True, "1": True, "false": False, "False": False, "0": False}


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A file part of a multipart request: what the spec calls an InputFile."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Spec:
    """The Bot API description: methods and types by name."""

    version: str
    methods: Mapping[str, Mapping[str, Any]]
    types: Mapping[str, Mapping[str, Any]]


@functools.cache
def load_spec(path: Path = SPEC_PATH) -> Spec:
    """Read the vendored Bot API description once per process."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    return Spec(version=raw["version"], methods=raw["methods"], types=raw["types"])


class Validator:
    """Check values against type expressions such as `Array of Message` or `Integer or String`."""

    def __init__(self, spec: Spec | None = None) -> None:
        self.spec = spec or load_spec()
        self._by_lower = {name.lower(): name for name in self.spec.methods}
        self._constants = {name: _constants(t) for name, t in self.spec.types.items()}

    def method_name(self, name: str) -> str | None:
        """Return the spec's spelling of a method; Telegram matches names case-insensitively."""
        return self._by_lower.get(name.lower())

    def parse_request(
        self, method: str, params: Mapping[str, object]
    ) -> tuple[dict[str, Any], list[str]]:
        """Decode a method's parameters (form strings or JSON values) and list every violation."""
        fields = {f["name"]: f for f in self.spec.methods[method].get("fields", [])}
        decoded: dict[str, Any] = {}
        errors = [f"{method}: unknown parameter {name!r}" for name in params if name not in fields]
        for name, field in fields.items():
            if name not in params:
                if field["required"]:
                    errors.append(f"{method}: missing required parameter {name!r}")
                continue
            value, problems = self._decode(field["types"], params[name], f"{method}.{name}")
            decoded[name] = value
            errors += problems
        return decoded, errors

    def check_result(self, method: str, result: object) -> list[str]:
        """List what is wrong with a method's successful result."""
        return self.check_union(self.spec.methods[method]["returns"], result, f"{method}.result")

    def check(self, type_expr: str, value: object, path: str) -> list[str]:
        """List what is wrong with `value` as a `type_expr`, each problem prefixed by its path."""
        if type_expr.startswith("Array of "):
            if not isinstance(value, list):
                return [f"{path}: expected {type_expr}, got {_kind(value)}"]
            item = type_expr.removeprefix("Array of ")
            return [e for i, v in enumerate(value) for e in self.check(item, v, f"{path}[{i}]")]
        if type_expr in _PRIMITIVES:
            return (
                []
                if _is_primitive(type_expr, value)
                else [f"{path}: expected {type_expr}, got {_kind(value)}"]
            )
        spec_type = self.spec.types.get(type_expr)
        if spec_type is None:
            return [f"{path}: the spec has no type {type_expr!r}"]
        if "subtypes" in spec_type:
            return self.check_union(spec_type["subtypes"], value, path)
        if type_expr == "InputFile":
            return (
                []
                if isinstance(value, (UploadedFile, str))
                else [f"{path}: expected InputFile, got {_kind(value)}"]
            )
        return self._check_object(type_expr, value, path)

    def check_union(self, type_exprs: Sequence[str], value: object, path: str) -> list[str]:
        """Accept `value` if an alternative fits; else report the closest alternative's problems."""
        attempts = [self.check(t, value, path) for t in type_exprs]
        if any(not errors for errors in attempts):
            return []
        if len(attempts) == 1:
            return attempts[0]
        closest = min(attempts, key=len)
        return [
            f"{path}: fits none of {' or '.join(type_exprs)}; closest: {closest[0]}",
            *closest[1:],
        ]

    def _check_object(self, name: str, value: object, path: str) -> list[str]:
        if not isinstance(value, dict):
            return [f"{path}: expected {name} object, got {_kind(value)}"]
        fields = {f["name"]: f for f in self.spec.types[name].get("fields", [])}
        errors = [f"{path}.{key}: unknown field of {name}" for key in value if key not in fields]
        for key, field in fields.items():
            if key not in value:
                if field["required"]:
                    errors.append(f"{path}.{key}: missing required field of {name}")
                continue
            errors += self.check_union(field["types"], value[key], f"{path}.{key}")
        for key, constant in self._constants[name].items():
            if key in value and value[key] != constant:
                errors.append(f"{path}.{key}: {name} requires {constant!r}, got {value[key]!r}")
        return errors

    def _decode(
        self, type_exprs: Sequence[str], value: object, path: str
    ) -> tuple[object, list[str]]:
        """Turn a parameter sent as a string (form field) into the value its types describe."""
        if not isinstance(value, str) or "String" in type_exprs:
            if isinstance(value, str) and "Integer" in type_exprs and re.fullmatch(r"-?\d+", value):
                return int(value), []  # `chat_id` is `Integer or String`: digits mean an id
            return value, self.check_union(type_exprs, value, path)
        attempts = []
        for type_expr in type_exprs:
            decoded = _from_string(type_expr, value)
            if decoded is _UNDECODABLE:
                continue
            errors = self.check(type_expr, decoded, path)
            if not errors:
                return decoded, []
            attempts.append(errors)
        if attempts:  # valid JSON of the wrong shape: say what is wrong inside it
            return value, min(attempts, key=len)
        return value, [f"{path}: {value[:80]!r} is not a valid {' or '.join(type_exprs)}"]


_UNDECODABLE = object()


def _from_string(type_expr: str, text: str) -> object:
    if type_expr == "Integer":
        return int(text) if re.fullmatch(r"-?\d+", text) else _UNDECODABLE
    if type_expr == "Float":
        try:
            return float(text)
        except ValueError:
            return _UNDECODABLE
    if type_expr == "Boolean":
        return _TRUE_WORDS.get(text, _UNDECODABLE)
    if type_expr == "InputFile":
        return text  # a file_id, an HTTP URL or an attach://<part> reference
    try:
        return json.loads(text)
    except ValueError:
        return _UNDECODABLE


def _constants(spec_type: Mapping[str, Any]) -> dict[str, str]:
    if not spec_type.get("subtype_of"):
        return {}
    found = {}
    for field in spec_type.get("fields", []):
        match = _CONSTANT.search(field["description"])
        if match and field["required"] and field["types"] == ["String"]:
            found[field["name"]] = match.group(1)
    return found


def _is_primitive(type_expr: str, value: object) -> bool:
    if type_expr == "Boolean":
        return isinstance(value, bool)
    if type_expr == "Integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_expr == "Float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, str)


def _kind(value: object) -> str:
    names = {
        dict: "object",
        list: "array",
        str: "string",
        bool: "boolean",
        int: "integer",
        type(None): "null",
    }
    return names.get(type(value), type(value).__name__)


@dataclass(frozen=True, slots=True)
class Violation:
    """A request or result that breaks the Bot API description, or behaviour the sandbox lacks."""

    method: str
    direction: str  # "request", "response" or "unsupported"
    problems: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.method} {self.direction}: " + "; ".join(self.problems)

"""Read values out of a parsed YAML tree, collecting every problem with its dotted key."""

from __future__ import annotations

import enum
import re
from collections.abc import Collection, Mapping
from typing import Any, TypeVar

from orchestrator.config.model import Secret

E = TypeVar("E", bound=enum.Enum)
MISSING: Any = object()
_SECRET_REF = re.compile(r"^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))$")


def show(value: Any) -> str:
    """Render a bad value for an error line: short, quoted like YAML would."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = repr(value)
    elif isinstance(value, Mapping):
        text = "a mapping"
    elif isinstance(value, list):
        text = "a list"
    else:
        text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def join(path: str, key: str | int) -> str:
    """Return the dotted key of a child: `repos[1]`, `repos[1].key`."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


class Reader:
    """Collects problems instead of raising at the first, so one run reports them all."""

    def __init__(self, environ: Mapping[str, str], *, need_secrets: bool = True) -> None:
        self.environ = environ
        self.need_secrets = need_secrets
        self.problems: list[str] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def mapping(self, value: Any, path: str, allowed: Collection[str]) -> dict[str, Any]:
        """Return `value` as a mapping with only known keys; report anything else."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(path, f"expected a mapping, got {show(value)}")
            return {}
        for key in value:
            if key not in allowed:
                self.fail(join(path, str(key)), f"unknown key{_suggest(str(key), allowed)}")
        return value

    def _get(self, node: Mapping[str, Any], key: str, path: str, default: Any, what: str) -> Any:
        if key in node:
            return node[key]
        if default is MISSING:
            self.fail(join(path, key), f"is required ({what})")
        return default

    def string(self, node: Mapping[str, Any], key: str, path: str, default: Any = MISSING) -> Any:
        """Return a non-empty string (or the default when the key is absent)."""
        what = "expected a non-empty string"
        value = self._get(node, key, path, default, what)
        if key not in node:
            return "" if default is MISSING else default
        if value is None and default is not MISSING:
            return default
        if not isinstance(value, str) or not value.strip():
            self.fail(join(path, key), f"{what}, got {show(value)}")
            return default if default is not MISSING else ""
        return value

    def integer(
        self, node: Mapping[str, Any], key: str, path: str, default: Any = MISSING, minimum: int = 1
    ) -> Any:
        """Return an integer >= minimum (or the default when the key is absent)."""
        what = (
            "expected a positive integer" if minimum == 1 else f"expected an integer >= {minimum}"
        )
        value = self._get(node, key, path, default, what)
        if key not in node:
            return minimum if default is MISSING else default
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.fail(join(path, key), f"{what}, got {show(value)}")
            return default if default is not MISSING else minimum
        return value

    def number(
        self, node: Mapping[str, Any], key: str, path: str, default: float, *, zero: bool = False
    ) -> float:
        """Return a positive number (zero too when `zero`), or the default if the key is absent."""
        value = node.get(key, default)
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or value < 0
            or (value == 0 and not zero)
        ):
            what = "a number >= 0" if zero else "a positive number"
            self.fail(join(path, key), f"expected {what}, got {show(value)}")
            return default
        return float(value)

    def choice(
        self, node: Mapping[str, Any], key: str, path: str, kind: type[E], default: Any
    ) -> Any:
        """Return the enum member named by the value."""
        names = [m.value for m in kind]
        value = self._get(node, key, path, default, "one of " + " | ".join(names))
        if key not in node:
            return None if default is MISSING else default
        if value not in names:
            self.fail(join(path, key), f"expected one of {' | '.join(names)}, got {show(value)}")
            return None if default is MISSING else default
        return kind(value)

    def strings(self, node: Mapping[str, Any], key: str, path: str) -> tuple[str, ...]:
        """Return a list of non-empty strings (empty when absent)."""
        value = node.get(key) or []
        if not isinstance(value, list):
            self.fail(join(path, key), f"expected a list of strings, got {show(value)}")
            return ()
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                self.fail(
                    join(join(path, key), i), f"expected a non-empty string, got {show(item)}"
                )
        return tuple(v for v in value if isinstance(v, str) and v.strip())

    def integers(self, node: Mapping[str, Any], key: str, path: str) -> tuple[int, ...]:
        """Return a list of integers, e.g. Telegram chat ids (empty when absent)."""
        value = node.get(key) or []
        if not isinstance(value, list):
            self.fail(join(path, key), f"expected a list of integers, got {show(value)}")
            return ()
        for i, item in enumerate(value):
            if isinstance(item, bool) or not isinstance(item, int):
                self.fail(join(join(path, key), i), f"expected an integer, got {show(item)}")
        return tuple(v for v in value if isinstance(v, int) and not isinstance(v, bool))

    def secret(self, node: Mapping[str, Any], key: str, path: str) -> Secret:
        """Return a `$VAR` reference resolved from the environment; never echo a literal."""
        dotted = join(path, key)
        value = node.get(key)
        if value is None:
            self.fail(dotted, "is required (a $VAR reference, e.g. $GITHUB_TOKEN)")
            return Secret("MISSING")
        match = _SECRET_REF.match(value) if isinstance(value, str) else None
        if match is None:
            # Never show the value: it may be the secret itself.
            self.fail(
                dotted,
                "expected a $VAR reference (secrets never go in the config file), "
                "got a literal value",
            )
            return Secret("MISSING")
        var = match.group(1) or match.group(2)
        resolved = self.environ.get(var) or None
        if resolved is None and self.need_secrets:
            self.fail(dotted, f"${var} is not set")
        return Secret(var, resolved)


def _suggest(key: str, allowed: Collection[str]) -> str:
    import difflib  # only on the error path

    close = difflib.get_close_matches(key, list(allowed), n=1)
    return f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(sorted(allowed))})"

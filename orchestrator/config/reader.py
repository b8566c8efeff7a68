"""Read values out of a parsed YAML tree, collecting every problem with its dotted key."""

from __future__ import annotations

import enum
import re
from collections.abc import Collection, Mapping
from typing import Any, TypeVar

from orchestrator.config.model import Secret

E = TypeVar("E", bound=enum.Enum)
MISSING: Any = object()
MAX_PROBLEMS = 50  # listed; the rest are counted (a 1 MiB list of bad items is one mistake)
MAX_LINE = 300
_SECRET_REF = re.compile(r"^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))$")


def show(value: Any) -> str:
    """Render a bad value for an error line: short, quoted like YAML would, never two lines."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = repr(value[:61])
    elif isinstance(value, Mapping):
        text = _mapping(value)
    elif isinstance(value, list):
        text = _list(value)
    elif isinstance(value, int) and value.bit_length() > 200:  # str() refuses past 4,300 digits
        text = f"an integer of about {int(value.bit_length() * 0.30103)} digits"
    else:
        text = repr(str(value)) if not str(value).isprintable() else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def label(key: Any) -> str:
    """Render a key for a dotted path: as written when plain, quoted when it would mislead."""
    if isinstance(key, str) and key.strip() == key and 0 < len(key) <= 40 and key.isprintable():
        return key
    if not isinstance(key, str):
        return show(key)
    return repr(key) if len(key) <= 40 else f"{key[:37]!r}..."


def join(path: str, key: Any) -> str:
    """Return the dotted key of a child: `repos[1]`, `repos[1].key`."""
    if isinstance(key, int) and not isinstance(key, bool):
        return f"{path}[{key}]"
    return f"{path}.{label(key)}" if path else label(key)


def _kind(value: Any) -> str:
    for kind, name in _KINDS:
        if isinstance(value, kind):
            return name
    return "value"


_KINDS = (
    (bool, "boolean"),
    (str, "string"),
    (int, "integer"),
    (float, "number"),
    (Mapping, "mapping"),
    (list, "list"),
    (type(None), "null"),
)


def _list(value: list[Any]) -> str:
    if not value:
        return "an empty list"
    kinds = {_kind(item) for item in value[:100]}  # a list may hold 100,000 aliases
    noun = kinds.pop() if len(kinds) == 1 else "item"
    return f"a list of {len(value)} {noun}{'' if len(value) == 1 else 's'}"


def _mapping(value: Mapping[Any, Any]) -> str:
    if not value:
        return "an empty mapping"
    keys = [label(key) for _, key in zip(range(3), value, strict=False)]
    more = ", ..." if len(value) > 3 else ""
    return f"a mapping with key{'' if len(value) == 1 else 's'} {', '.join(keys)}{more}"


def _one_line(text: str) -> str:
    """Escape what would break the one-line rule (a newline in a key) and cut what is too long."""
    if not text.isprintable():
        text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return text if len(text) <= MAX_LINE else text[: MAX_LINE - 3] + "..."


class Reader:
    """Collects problems instead of raising at the first, so one run reports them all."""

    def __init__(self, environ: Mapping[str, str], *, need_secrets: bool = True) -> None:
        self.environ = environ
        self.need_secrets = need_secrets
        self.problems: list[str] = []
        self.unlisted = 0  # problems past MAX_PROBLEMS

    def fail(self, path: str, message: str) -> None:
        """Record one problem as one line: the dotted key, then what is wrong with it."""
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(_one_line(f"{path}: {message}" if path else message))
        else:
            self.unlisted += 1

    def report(self) -> list[str]:
        """Return the problems to print, the unlisted ones counted on a last line."""
        more = [f"... and {self.unlisted} more problems"] if self.unlisted else []
        return self.problems + more

    def mapping(self, value: Any, path: str, allowed: Collection[str]) -> dict[str, Any]:
        """Return `value` as a mapping with only known keys; report anything else."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(path, f"expected a mapping, got {show(value)}")
            return {}
        for key in value:
            if key not in allowed:
                self.fail(join(path, key), f"unknown key{_suggest(label(key), allowed)}")
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
        self,
        node: Mapping[str, Any],
        key: str,
        path: str,
        default: Any = MISSING,
        minimum: int = 1,
        maximum: int = 1_000_000,
    ) -> Any:
        """Return an integer from minimum to maximum (or the default when the key is absent)."""
        what = (
            "expected a positive integer" if minimum == 1 else f"expected an integer >= {minimum}"
        )
        value = self._get(node, key, path, default, what)
        if key not in node:
            return minimum if default is MISSING else default
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.fail(join(path, key), f"{what}, got {show(value)}")
            return default if default is not MISSING else minimum
        if value > maximum:
            self.fail(join(path, key), f"expected at most {maximum}, got {show(value)}")
            return default if default is not MISSING else minimum
        return value

    def flag(self, node: Mapping[str, Any], key: str, path: str, default: bool) -> bool:
        """Return true or false (the default when the key is absent)."""
        value = node.get(key, default)
        if not isinstance(value, bool):
            self.fail(join(path, key), f"expected true or false, got {show(value)}")
            return default
        return value

    def number(
        self,
        node: Mapping[str, Any],
        key: str,
        path: str,
        default: float,
        *,
        maximum: float,
        zero: bool = False,
    ) -> float:
        """Return a positive number up to `maximum` (zero too when `zero`), or the default."""
        value = node.get(key, default)
        # `not (value > 0 ...)` rather than `value <= 0`: NaN fails every comparison
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not (value > 0 or (zero and value == 0))
        ):
            what = "a number >= 0" if zero else "a positive number"
            self.fail(join(path, key), f"expected {what}, got {show(value)}")
            return default
        if value > maximum:
            self.fail(join(path, key), f"expected at most {maximum:g}, got {show(value)}")
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

    def integers(self, node: Mapping[str, Any], key: str, path: str, bound: int) -> tuple[int, ...]:
        """Return a list of integers within ±bound, e.g. Telegram chat ids (empty when absent)."""
        value = node.get(key) or []
        if not isinstance(value, list):
            self.fail(join(path, key), f"expected a list of integers, got {show(value)}")
            return ()
        for i, item in enumerate(value):
            if isinstance(item, bool) or not isinstance(item, int):
                self.fail(join(join(path, key), i), f"expected an integer, got {show(item)}")
            elif abs(item) > bound:
                self.fail(
                    join(join(path, key), i),
                    f"expected an integer from {-bound} to {bound}, got {show(item)}",
                )
        return tuple(
            v for v in value if isinstance(v, int) and not isinstance(v, bool) and abs(v) <= bound
        )

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

"""Know every operation of GitHub's REST description, so what the sandbox does not serve is named.

A request for a route GitHub describes but the sandbox does not serve is answered 501 naming the
operation: GitHub's 404 would read as "it is not there", and a client would believe it.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from orchestrator.sandbox.github.api import ApiError
from orchestrator.sandbox.github.routing import compile_template, literal_length

OPERATIONS_PATH = Path(__file__).resolve().parent.parent / "schemas" / "rest-operations.json"


@dataclass(frozen=True)
class Operation:
    """One operation of the description; `template` writes a multi-segment parameter `{name+}`."""

    method: str
    template: str
    operation_id: str
    docs: str

    @property
    def path(self) -> str:
        """Return the path template as GitHub's description spells it."""
        return self.template.replace("+}", "}")

    def unserved(self) -> ApiError:
        """Return the 501 that names this operation."""
        return ApiError(
            501,
            f"The sandbox does not implement {self.operation_id} ({self.method} {self.path})",
            docs=self.docs,
        )


class Description:
    """The operations of GitHub's REST description, matched the way the router matches."""

    def __init__(self, operations: list[Operation]) -> None:
        self.operations = operations
        # Bucketed by method and leading literal segments, so a request tries a few templates;
        # a bucket's templates are compiled on first use (starting up stays cheap).
        self._rows: dict[tuple[str, str, str], list[Operation]] = {}
        for op in sorted(operations, key=lambda op: -literal_length(op.template)):
            self._rows.setdefault(_bucket(op.method, op.template), []).append(op)
        for (method, first, _), rows in list(self._rows.items()):
            wild = self._rows.get((method, first, "*"), [])
            if rows is not wild:
                rows[:] = sorted(rows + wild, key=lambda op: -literal_length(op.template))
        self._compiled: dict[tuple[str, str, str], list[tuple[re.Pattern[str], Operation]]] = {}

    def __iter__(self) -> Iterator[Operation]:
        return iter(self.operations)

    def __len__(self) -> int:
        return len(self.operations)

    def match(self, method: str, path: str) -> Operation | None:
        """Return the operation `method path` is, the most literal template first; or None."""
        key = _bucket(method, path)
        if key not in self._rows:
            key = (key[0], key[1], "*")
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = [(compile_template(op.template), op) for op in self._rows.get(key, ())]
            self._compiled[key] = compiled
        for pattern, op in compiled:
            if pattern.match(path):
                return op
        return None


def _bucket(method: str, path: str) -> tuple[str, str, str]:
    """Return (method, first segment, the segment after /repos/{owner}/{repo}) of a path or
    template; "*" where a template has a parameter there."""
    segments = path.split("/")
    first = segments[1] if len(segments) > 1 else ""
    after = segments[4] if first == "repos" and len(segments) > 4 else ""
    return method, first, "*" if "{" in after else after


@functools.lru_cache(maxsize=1)
def load() -> Description:
    """Load the vendored list of GitHub's REST operations once per process."""
    document = json.loads(OPERATIONS_PATH.read_text(encoding="utf-8"))
    return Description([Operation(*row) for row in document["operations"]])

"""Read the `outbound` section: what the gate lets a change carry out (`core.outbound`).

The section is read twice with the same reader, as every per-repo section is: at the top level
over the defaults of `OutboundRules`, then under each repo over the top's values, key by key, so
`repos[0].outbound: {allow_workflows: true}` changes that one key for that one repo.
"""

from __future__ import annotations

from typing import Any

from orchestrator.config.reader import Reader, join, show
from orchestrator.core.outbound import OutboundRules

KEYS = ("max_file_bytes", "max_change_bytes", "allow_workflows", "deny")
MAX_BYTES = 1 << 30  # 1 GiB: no change an agent makes should carry more


def read(r: Reader, value: Any, path: str, defaults: OutboundRules) -> OutboundRules:
    """Read an `outbound` section at `path`; a key it leaves out keeps its value in `defaults`."""
    node = r.mapping(value, path, KEYS)
    return OutboundRules(
        max_file_bytes=r.integer(
            node, "max_file_bytes", path, default=defaults.max_file_bytes, maximum=MAX_BYTES
        ),
        max_change_bytes=r.integer(
            node, "max_change_bytes", path, default=defaults.max_change_bytes, maximum=MAX_BYTES
        ),
        allow_workflows=_flag(r, node, "allow_workflows", path, defaults.allow_workflows),
        deny=_globs(r, node, path, defaults.deny),
    )


def _flag(r: Reader, node: dict[str, Any], key: str, path: str, default: bool) -> bool:
    value = node.get(key, default)
    if not isinstance(value, bool):
        r.fail(join(path, key), f"expected true or false, got {show(value)}")
        return default
    return value


def _globs(r: Reader, node: dict[str, Any], path: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """Read `deny`: path globs (`*`, `?` within a folder, `**` across); a repo's list replaces
    the top's (the built-in list always applies)."""
    if "deny" not in node:
        return default
    globs = r.strings(node, "deny", path)
    for i, glob in enumerate(globs):
        if not glob.strip("/") or "\0" in glob or "\\" in glob:
            r.fail(join(join(path, "deny"), i), f"expected a path glob, got {show(glob)}")
    return tuple(g for g in globs if g.strip("/") and "\0" not in g and "\\" not in g)

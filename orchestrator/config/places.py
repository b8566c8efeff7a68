"""Read the folders a config names (`paths`, `repos[].local_path`): each must be usable as one.

A runtime_dir that is a file, or sits under one, would fail every tick at its first write with
a traceback; saying so here turns that into one line naming the key.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from orchestrator.config.model import Paths
from orchestrator.config.reader import Reader, join, show


def paths(r: Reader, value: Any, base: Path, root: Path) -> Paths:
    """Read `paths`; relative paths are relative to the config file's folder."""
    node = r.mapping(value, "paths", ("runtime_dir", "worktrees_dir", "objectives_dir"))
    runtime = folder(r, node, "runtime_dir", "paths", base) or base / "runtime"
    worktrees = (
        folder(r, node, "worktrees_dir", "paths", base) if node.get("worktrees_dir") else None
    )
    objectives = (
        folder(r, node, "objectives_dir", "paths", base) if node.get("objectives_dir") else None
    )
    return Paths(
        root=root,
        runtime_dir=runtime,
        worktrees_dir=worktrees or runtime / "worktrees",
        objectives_dir=objectives or base / "objectives",
    )


def folder(
    r: Reader, node: dict[str, Any], key: str, path: str, base: Path, *, existing: bool = False
) -> Path | None:
    """Return the folder `node[key]` names (None when absent or bad, which is reported).

    It must be a directory or, unless `existing`, a path one can be made at.
    """
    text = r.string(node, key, path, default=None)
    if text is None:
        return None
    dotted = join(path, key)
    if "\0" in text:
        r.fail(dotted, f"expected a path, got {show(text)} (it holds a NUL character)")
        return None
    try:
        found = resolve(base, text)
    except RuntimeError:  # `~someone` for a user this system does not have
        r.fail(dotted, f"expected a path, got {show(text)} (no such user's home)")
        return None
    problem = _not_a_folder(found, existing)
    if problem:
        r.fail(dotted, f"{str(found)!r} {problem}")
        return None
    return found


def resolve(base: Path, value: str) -> Path:
    """Return `value` with `~` expanded, relative to `base` unless absolute."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def _not_a_folder(path: Path, existing: bool) -> str | None:
    """Say why `path` cannot be used as a directory, or return None.

    `os.path` answers False where pathlib raises (a folder we may not read).
    """
    if os.path.isdir(path):
        return None
    if os.path.exists(path):
        return "is a file, expected a directory"
    if existing:
        return "does not exist"
    above = next((p for p in path.parents if os.path.exists(p)), None)
    if above is not None and not os.path.isdir(above):
        return f"cannot be made: {str(above)!r} is a file"
    return None

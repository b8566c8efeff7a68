"""What the `plan_import` job last made of each repo's plan file: runtime/state/plan_import.json.

    {"app": {"sha": "3f1c…", "invalid": false}, "lib": {"sha": null, "invalid": false}}

Per repo key: the blob sha of the plan file as last imported (`invalid` false), or as last
refused for its problems (`invalid` true: logged once, not again until the file changes), or
null while the file is missing (logged once, not again until it appears). Only the job writes it,
under its lock, atomically after each repo it changed. A file that cannot be read, or is not this
shape, is set aside in runtime/quarantine/ and read as empty: each plan is imported once more,
which changes nothing on GitHub that is already in step.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.store import quarantine
from orchestrator.store.files import atomic_write, read_state

FILE_NAME = "plan_import.json"


@dataclass(frozen=True, slots=True)
class Seen:
    """The plan file of a repo as the job last read it."""

    sha: str | None  # the blob's sha; None: the file was missing
    invalid: bool = False  # the plan had problems: logged, nothing written


def path(state_dir: Path) -> Path:
    return state_dir / FILE_NAME


def read(state_dir: Path) -> dict[str, Seen]:
    """Return what was seen, by repo key ({} when nothing, or the file was set aside)."""
    where = path(state_dir)
    try:
        return _seen(json.loads(read_state(where)))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, TypeError, KeyError) as exc:
        quarantine.set_aside(where, state_dir.parent, f"unreadable state ({type(exc).__name__})")
        return {}


def write(state_dir: Path, seen: Mapping[str, Seen]) -> None:
    data = {key: {"sha": s.sha, "invalid": s.invalid} for key, s in seen.items()}
    atomic_write(path(state_dir), json.dumps(data, indent=1, sort_keys=True) + "\n")


def _seen(data: Any) -> dict[str, Seen]:
    if not isinstance(data, dict):
        raise ValueError("not a mapping of repo keys")
    found = {}
    for key, entry in data.items():
        sha, invalid = entry["sha"], entry["invalid"]
        if not (sha is None or isinstance(sha, str)) or not isinstance(invalid, bool):
            raise TypeError(f"not a plan file's state: {key}")
        found[str(key)] = Seen(sha, invalid)
    return found

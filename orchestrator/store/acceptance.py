"""The acceptance proof of an attempt: its test files run on the base and on its head.

Kept in the task's room as `acceptance.json` (written atomically by the attempt that ran it),
read by the PR monitor for the risk tier and by the PR comment that shows the table. A proof
that cannot be read counts as no proof (None), never as a crash.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from orchestrator.store.files import atomic_write, read_state

FILE = "acceptance.json"


@dataclass(frozen=True, slots=True)
class AcceptanceRow:
    """One test file: did it fail on the base (with the head's version of it), pass on the head."""

    path: str
    fails_on_base: bool | None  # None: not run (no command fits, a timeout, not confinable)
    passes_on_head: bool | None


@dataclass(frozen=True, slots=True)
class Acceptance:
    """What the proof found for the attempt's head commit."""

    head_sha: str
    base_sha: str
    rows: tuple[AcceptanceRow, ...]
    note: str = ""  # why it was not run, or was cut short: one line

    @property
    def tests_pass_on_base(self) -> bool | None:
        """True when some changed test already passes on the base (proves nothing); None when
        nothing was run."""
        ran = [row for row in self.rows if row.fails_on_base is not None]
        if not ran:
            return None
        return any(row.fails_on_base is False for row in ran)


def write(room: Path, proof: Acceptance) -> None:
    """Keep the proof in the room."""
    atomic_write(room / FILE, json.dumps(asdict(proof), indent=1) + "\n")


def read(room: Path) -> Acceptance | None:
    """Return the room's proof, or None when there is none or it cannot be read."""
    try:
        data = json.loads(read_state(room / FILE))
        rows = tuple(
            AcceptanceRow(str(r["path"]), _flag(r["fails_on_base"]), _flag(r["passes_on_head"]))
            for r in data["rows"]
        )
        return Acceptance(
            str(data["head_sha"]), str(data["base_sha"]), rows, str(data.get("note", ""))
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _flag(value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise ValueError(f"not a flag: {value!r}")

"""The follow-ups of merged pull requests still to be filed: runtime/state/follow_ups.json.

The PR monitor notes a PR's follow-ups here just before it merges the PR (or when it holds it for
a person to merge), and files them once it merged (improve/discovered.py), taking each off as it
is settled; an entry whose follow-ups are all settled goes. So a tick killed after the merge, or
between two filings, leaves the rest here for the next tick. Only the PR monitor writes it (under
its job lock), whole and atomically; a file that cannot be read is set aside and announced like
any damaged state file.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from orchestrator.store import quarantine
from orchestrator.store.files import atomic_write, read_state

FILE_NAME = "follow_ups.json"


@dataclass(frozen=True, slots=True)
class Discovery:
    """The follow-ups of one PR of one issue, still to be filed."""

    repo_key: str
    issue: int  # the parent: the issue the PR closes
    pr: int
    items: tuple[str, ...]  # each `<title> — <why>`, as the agent wrote it (redacted)
    merged: bool = False  # False: noted before the merge, which is to be confirmed first
    noted_at: str = ""

    @property
    def key(self) -> str:
        return f"{self.repo_key}:{self.pr}"


class Discoveries:
    """The pending follow-ups of one runtime folder."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / FILE_NAME

    def pending(self) -> list[Discovery]:
        """Return the entries still to file, oldest noted first."""
        return sorted(self._read().values(), key=lambda d: (d.noted_at, d.key))

    def put(self, entry: Discovery) -> None:
        """Record an entry, replacing the one of the same PR; one with no follow-up left goes."""
        entries = self._read()
        if entry.items:
            entries[entry.key] = entry
        elif entries.pop(entry.key, None) is None:
            return
        data = {key: {**asdict(d), "items": list(d.items)} for key, d in sorted(entries.items())}
        atomic_write(self.path, json.dumps(data, indent=1, ensure_ascii=False) + "\n")

    def _read(self) -> dict[str, Discovery]:
        try:
            raw = json.loads(read_state(self.path))
            if not isinstance(raw, dict):
                raise ValueError(f"a {type(raw).__name__}, not a mapping")
            found = [_entry(value) for value in raw.values()]
            return {d.key: d for d in found}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            quarantine.set_aside(
                self.path, self.path.parent.parent, f"unreadable follow-ups ({type(exc).__name__})"
            )
            return {}


def _entry(value: object) -> Discovery:
    if not isinstance(value, dict):
        raise TypeError("an entry is not a mapping")
    items = value["items"]
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise TypeError("items are not a list of strings")
    return Discovery(
        repo_key=str(value["repo_key"]),
        issue=int(value["issue"]),
        pr=int(value["pr"]),
        items=tuple(items),
        merged=value.get("merged") is True,
        noted_at=str(value.get("noted_at", "")),
    )

"""Predict the files an issue will touch, and tell when two issues would edit the same ones.

A footprint has two parts, each one a person can check (the reason names where a path came from):

- the paths the issue names in its title and body, in prose or code spans
  (`verification.named_paths`), normalised to files (`calc/sub.py`) and folders (`docs/`);
- the files that the merged PRs of *similar* earlier issues changed (`Past`): an earlier issue
  is similar when the two share at least MIN_SHARED significant words and those are at least
  MIN_JACCARD of the words either uses (Jaccard).

Two footprints overlap when they hold the same file or folder, or one holds a path inside a
folder the other names; a file named by the end of its path (`sub.py`, `core/dispatch.py`)
matches the files whose path ends so (`orchestrator/core/dispatch.py`). An empty
footprint overlaps nothing: without a prediction nothing is serialised. The work is bounded
whatever the issue says: MAX_TEXT characters are read, a path past MAX_PATH_CHARS or MAX_DEPTH
is dropped, and a footprint keeps MAX_PATHS paths of each part.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass

from orchestrator.core.model import BoardStatus, Issue, IssueRef
from orchestrator.core.verification import named_paths

MAX_TEXT = 10_000  # characters of title and body read: paths are named early, or not at all
MAX_PATHS = 50  # paths of each part a footprint keeps
MAX_PATH_CHARS = 200
MAX_DEPTH = 12  # folders in a path
MAX_WORDS = 100  # significant words kept of an issue, title first
MIN_SHARED, MIN_JACCARD = 3, 0.4  # what makes an earlier issue similar
MAX_LIKE = 3  # similar earlier issues whose files are borrowed
MAX_BORROWED = 20  # files borrowed from each
IN_FLIGHT = frozenset({BoardStatus.IN_PROGRESS, BoardStatus.IN_REVIEW})  # on the board
_WORD = re.compile(r"[a-z][a-z0-9]{2,}")
_STOP = frozenset(
    """the and for with that this from into when then than not but are was were has have had
    its can will should would could must may might also only just all any each every some such
    more most other same very what which who whom whose why how where there here them they their
    our out one two new add adds added use used using make makes made get set let see via per
    does did done doing about after before over under between both own like need needs want
    instead still yet because while file files issue issues please thanks
    goal success criteria constraints context none stated infer chose say you your
    """.split()
)


@dataclass(frozen=True, slots=True)
class Past:
    """An earlier issue whose PR merged: its significant words and the files the PR changed."""

    label: str  # "#7"
    words: frozenset[str]
    files: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Footprint:
    """The files and folders an issue is predicted to touch, each with where it came from."""

    named: tuple[str, ...] = ()  # paths the issue names
    learned: tuple[tuple[str, str], ...] = ()  # (file, "#7"): a similar merged issue changed it

    def __bool__(self) -> bool:
        return bool(self.named or self.learned)

    def spots(self) -> Iterator[tuple[str, str]]:
        """Yield (path, source): "" for a path the issue names, else the similar issue's label."""
        yield from ((p, "") for p in self.named)
        yield from self.learned


def predict(title: str, body: str, past: Sequence[Past] = ()) -> Footprint:
    """Return the footprint of an issue: the paths it names, and what similar issues changed."""
    text = f"{title}\n{body[:MAX_TEXT]}"
    named = _paths([p for p in named_paths(text) if _is_path(p, text)], named=True)
    learned: list[tuple[str, str]] = []
    if past:
        seen = set(named)
        for like in similar(words(title, body), past):
            for path in like.files[:MAX_BORROWED]:
                if path not in seen and len(learned) < MAX_PATHS:
                    seen.add(path)
                    learned.append((path, like.label))
    return Footprint(named, tuple(learned))


def words(title: str, body: str) -> frozenset[str]:
    """Return the significant words of an issue (lower-case, 3+ characters, no stop words)."""
    kept: dict[str, None] = {}
    for word in _WORD.findall(f"{title}\n{body[:MAX_TEXT]}".lower()):
        if word not in _STOP:
            kept.setdefault(word)
            if len(kept) >= MAX_WORDS:
                break
    return frozenset(kept)


def similar(mine: frozenset[str], past: Sequence[Past]) -> list[Past]:
    """Return the earlier issues similar to one with these words, the most similar first."""
    scored = []
    for i, like in enumerate(past):
        shared = len(mine & like.words)
        if shared >= MIN_SHARED and shared / len(mine | like.words) >= MIN_JACCARD:
            scored.append((-shared / len(mine | like.words), i, like))
    return [like for _, _, like in sorted(scored, key=lambda s: s[:2])[:MAX_LIKE]]


def past(label: str, title: str, body: str, files: Sequence[str]) -> Past:
    """Return what an earlier issue teaches: its words, and the files its merged PR changed."""
    return Past(label, words(title, body), _paths(files[:MAX_PATHS], named=False))


def encode(entry: Past) -> str:
    """Return a Past as the JSON a job's memo keeps."""
    return json.dumps({"label": entry.label, "words": sorted(entry.words), "files": entry.files})


def decode(text: str | None) -> Past | None:
    """Return the Past `encode` wrote; None for anything else."""
    try:
        data = json.loads(text or "")
    except ValueError:
        return None
    if not isinstance(data, dict) or not all(
        isinstance(data.get(k), list) for k in ("words", "files")
    ):
        return None
    return Past(
        str(data.get("label", "")),
        frozenset(str(w) for w in data["words"][:MAX_WORDS]),
        tuple(str(f) for f in data["files"][:MAX_PATHS]),
    )


def overlap(mine: Footprint, theirs: Footprint, other: str) -> str:
    """Return why two issues would edit the same files ("both name calc/sub.py"); "" if not.

    `other` names the second issue in the reason ("#12"); the first is "it".
    """
    if not mine or not theirs:
        return ""
    index = _Index(theirs)
    for path, source in mine.spots():
        hit = index.find(path)
        if hit is not None:
            return _reason(path, source, *hit, other)
    return ""


def in_flight(
    statuses: Mapping[IssueRef, BoardStatus | None],
    issues: Mapping[IssueRef, Issue],
    tasks: Mapping[IssueRef, tuple[str, str]],
    past: Mapping[str, Sequence[Past]],
    repos: Collection[str],
) -> dict[IssueRef, Footprint]:
    """Return the footprint of every issue of `repos` ("owner/name") still in flight.

    In flight: open and In Progress or In Review on its board (a PR that waits to merge), or
    with a task queued or running (`tasks`: the title and brief of its task file). An issue
    leaves when its PR merges (it closes), it is closed, or it is escalated (Blocked).
    """
    texts: dict[IssueRef, tuple[str, str]] = {}
    for ref, status in statuses.items():
        issue = issues.get(ref)
        if status in IN_FLIGHT and issue is not None and issue.is_open and ref.repo in repos:
            texts[ref] = (issue.title, issue.body)
    for ref, text in tasks.items():
        if ref.repo in repos and ref not in texts:
            issue = issues.get(ref)
            texts[ref] = (issue.title, issue.body) if issue is not None else text
    return {ref: predict(*text, past.get(ref.repo, ())) for ref, text in texts.items()}


def normal(path: str, *, named: bool = True) -> str | None:
    """Return a path as a footprint keeps it: relative, without `.` or empty parts, a folder
    ending in `/`; None for one outside the repo (`..`) or too long. A named path whose last
    part has no dot is taken for a folder (`src/app`); a changed file (`named` False) never is."""
    if len(path) > MAX_PATH_CHARS:
        return None
    parts = [p for p in path.strip().split("/") if p not in ("", ".")]
    if not parts or ".." in parts or len(parts) > MAX_DEPTH:
        return None
    folder = named and (path.rstrip().endswith("/") or "." not in parts[-1].strip("."))
    return "/".join(parts) + ("/" if folder else "")


def _is_path(found: str, text: str) -> bool:
    """Tell a path from what `named_paths` also finds: a name in a code span (`os.path`), words
    with slashes in prose (goal/criteria/constraints) unless in a code span (`src/app`)."""
    if "/" not in found:
        return found in named_paths(found)  # as if it were not quoted: `calc.add` is not a file
    if found.endswith("/") or "." in found.rpartition("/")[2].strip("."):
        return True
    return f"`{found}" in text


def _paths(found: Sequence[str], *, named: bool) -> tuple[str, ...]:
    """Normalise and drop duplicates."""
    kept: dict[str, None] = {}
    for raw in found:
        path = normal(raw, named=named)
        if path is None or path in kept:
            continue
        kept[path] = None
        if len(kept) >= MAX_PATHS:
            break
    return tuple(kept)


class _Index:
    """One footprint's paths, looked up by equality, by folder and by the end of a file's path."""

    def __init__(self, footprint: Footprint) -> None:
        self.exact: dict[str, tuple[str, str]] = {}
        self.inside: dict[str, tuple[str, str]] = {}  # folder -> a path of theirs in it
        self.folders: dict[str, tuple[str, str]] = {}
        self.tails: dict[str, tuple[str, str]] = {}  # `sub.py`, `calc/sub.py` -> a file ending so
        for path, source in footprint.spots():
            spot = (path, source)
            self.exact.setdefault(path, spot)
            for folder in _folders(path):
                self.inside.setdefault(folder, spot)
            if path.endswith("/"):
                self.folders.setdefault(path, spot)
            else:
                for tail in _tails(path):
                    self.tails.setdefault(tail, spot)

    def find(self, path: str) -> tuple[str, str] | None:
        if path in self.exact:
            return self.exact[path]
        if path.endswith("/") and path in self.inside:
            return self.inside[path]
        for folder in _folders(path):
            if folder in self.folders:
                return self.folders[folder]
        if path.endswith("/"):
            return None
        if path in self.tails:  # theirs ends with it: `sub.py` of `calc/sub.py`
            return self.tails[path]
        return next((self.exact[t] for t in _tails(path) if t in self.exact), None)


def _tails(path: str) -> Iterator[str]:
    """Yield the shorter paths a file's path ends with: `a/b/c.py` → `b/c.py`, `c.py`."""
    parts = path.split("/")
    for i in range(1, len(parts)):
        yield "/".join(parts[i:])


def _folders(path: str) -> Iterator[str]:
    """Yield the folders a path is inside: `a/b/c.py` → `a/`, `a/b/`."""
    parts = path.rstrip("/").split("/")[:-1]
    for i in range(1, len(parts) + 1):
        yield "/".join(parts[:i]) + "/"


def _reason(path: str, source: str, theirs: str, their_source: str, other: str) -> str:
    if path == theirs and source == their_source:
        return (
            f"both name {path}" if not source else f"both are like {source}, which changed {path}"
        )
    return f"{_says('it', path, source)} and {_says(other, theirs, their_source)}"


def _says(who: str, path: str, source: str) -> str:
    return f"{who} names {path}" if not source else f"{who} is like {source}, which changed {path}"

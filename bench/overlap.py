"""How often a predicted overlap is a real one, replayed on recorded history: a repo's commits.

Each commit stands for an issue (its subject the title, the rest of its message the body) and its
changed files for what that issue's PR changed. The commits are replayed in order as if WINDOW of
them ran at once: each is paired with the WINDOW - 1 before it. The prediction is the dispatcher's
(core.footprint: the paths the message names, and with `learned` the files of similar commits
before the window, as merged issues); the truth is that the two commits changed a file in common,
which a merge conflict needs (not every shared file conflicts, so "real" is an upper bound).

Run: `.venv/bin/python bench/overlap.py [REPO] [--window N] [--limit N]` (REPO: this checkout).
Only reads the history (`git log`).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from orchestrator.core import footprint  # noqa: E402


@dataclass(frozen=True)
class Change:
    label: str
    title: str
    body: str
    files: frozenset[str]


def history(repo: Path, limit: int) -> list[Change]:
    """Return the repo's commits without merges, oldest first, each with the files it changed."""
    out = subprocess.run(
        ["git", "-C", str(repo), "log", "--no-merges", "--reverse", "--name-only",
         "--format=%x01%h%x02%s%x02%b%x02"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    changes = []
    for record in out.split("\x01")[1:]:
        sha, title, body, names = record.split("\x02", 3)
        files = frozenset(line for line in names.splitlines() if line.strip())
        if files:
            changes.append(Change(sha, title, body, files))
    return changes[-limit:]


@dataclass
class Tally:
    pairs: int = 0
    predicted: int = 0
    real: int = 0
    both: int = 0

    def add(self, predicted: bool, real: bool) -> None:
        self.pairs += 1
        self.predicted += predicted
        self.real += real
        self.both += predicted and real

    def line(self, name: str) -> str:
        precision = f"{self.both / self.predicted:.0%}" if self.predicted else "n/a"
        recall = f"{self.both / self.real:.0%}" if self.real else "n/a"
        return (
            f"{name:<22} predicted {self.predicted:>4}, of them real {self.both:>4} "
            f"(precision {precision}); real {self.real:>4}, predicted {self.both:>4} "
            f"(recall {recall})"
        )


def replay(changes: list[Change], window: int) -> tuple[Tally, Tally, int, int]:
    """Pair each change with the window before it; tally named-only and named + learned."""
    named, learned = Tally(), Tally()
    past: list[footprint.Past] = []
    empty = [0, 0]
    prints: list[tuple[footprint.Footprint, footprint.Footprint]] = []
    for i, change in enumerate(changes):
        if i >= window:  # merged by now: it teaches the ones after the window
            old = changes[i - window]
            past = [*past, footprint.past(old.label, old.title, old.body, sorted(old.files))]
            past = past[-100:]  # the dispatcher keeps the newest 100
        alone = footprint.predict(change.title, change.body)
        taught = footprint.predict(change.title, change.body, past)
        empty[0] += not alone
        empty[1] += not taught
        for j in range(max(0, i - window + 1), i):
            other = changes[j]
            their_alone, their_taught = prints[j]
            real = bool(change.files & other.files)
            named.add(bool(footprint.overlap(alone, their_alone, other.label)), real)
            learned.add(bool(footprint.overlap(taught, their_taught, other.label)), real)
        prints.append((alone, taught))
    return named, learned, empty[0], empty[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", nargs="?", default=str(ROOT))
    parser.add_argument("--window", type=int, default=4, help="changes running at once")
    parser.add_argument("--limit", type=int, default=1000, help="newest commits replayed")
    args = parser.parse_args()
    changes = history(Path(args.repo), args.limit)
    named, learned, empty_named, empty_learned = replay(changes, args.window)
    print(f"{len(changes)} commits of {args.repo}, {args.window} at a time: {named.pairs} pairs")
    print(f"footprint empty: {empty_named} named only, {empty_learned} with similar merged ones")
    print(named.line("paths named"))
    print(learned.line("named + similar merged"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

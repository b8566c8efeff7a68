"""What Agent OS filed itself, per repo and day: the count every producer's daily cap reads.

One JSON line per issue filed, appended under a lock (`runtime/state/filed.jsonl`), so the
incident scanner, the log analyzer and the planner share one count without a read-modify-write
race. A torn or damaged line counts for nothing; the file is cut back to the last week's lines
when it grows past 1 MiB. A job killed between creating the issue and appending its line files
one issue the count does not see (the signature marker in the issue still stops a second one).
"""

from __future__ import annotations

import json
from pathlib import Path

from orchestrator.store import quarantine
from orchestrator.store.files import append_line, atomic_write, read_state

FILE_NAME = "filed.jsonl"
KEEP_DAYS = 7
COMPACT_AT = 1 << 20


class Filings:
    """The filing record of one runtime folder."""

    def __init__(self, runtime_dir: Path) -> None:
        self.runtime_dir = runtime_dir
        self.path = runtime_dir / "state" / FILE_NAME

    def count(self, repo_key: str, day: str) -> int:
        """Return how many issues were filed in `repo_key` on `day` (YYYY-MM-DD, UTC)."""
        return sum(1 for r in self._records() if r.get("repo") == repo_key and r.get("day") == day)

    def since(self, day: str) -> list[tuple[str, str, int]]:
        """Return (producer, repo key, issue) of each issue filed on `day` (YYYY-MM-DD) or later."""
        found = []
        for record in self._records():
            issue = record.get("issue")
            if str(record.get("day", "")) >= day and isinstance(issue, int):
                found.append((str(record.get("producer") or "?"), str(record.get("repo")), issue))
        return found

    def add(self, repo_key: str, day: str, issue: int, producer: str, signature: str) -> None:
        """Record one issue filed."""
        record = {
            "day": day,
            "repo": repo_key,
            "issue": issue,
            "producer": producer,
            "signature": signature,
        }
        append_line(self.path, json.dumps(record, sort_keys=True), durable=True)
        try:
            if self.path.stat().st_size > COMPACT_AT:
                self._compact(day)
        except OSError:
            pass  # compaction is a saving, never a need

    def _records(self) -> list[dict[str, object]]:
        try:
            data = read_state(self.path, limit=4 * COMPACT_AT)
        except FileNotFoundError:
            return []
        except OSError as exc:  # a directory or FIFO in its place, or grown past reason
            quarantine.set_aside(self.path, self.runtime_dir, f"unreadable filings ({exc})")
            return []
        records = []
        for raw in data.splitlines():
            try:
                record = json.loads(raw)
            except ValueError:
                continue
            if isinstance(record, dict):
                records.append(record)
        return records

    def _compact(self, today: str) -> None:
        """Keep the last week's lines; under the appenders' lock, so no line is lost meanwhile."""
        import fcntl
        import os
        from datetime import date, timedelta

        oldest = (date.fromisoformat(today) - timedelta(days=KEEP_DAYS)).isoformat()
        fd = os.open(self.path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # append_line waits, then finds the file replaced
            kept = [r for r in self._records() if str(r.get("day", "")) >= oldest]
            atomic_write(self.path, "".join(json.dumps(r, sort_keys=True) + "\n" for r in kept))
        finally:
            os.close(fd)

"""Files under runtime/ that cannot be read: set aside in runtime/quarantine/, said once.

A damaged file (truncated, binary, the wrong shape, a directory where a file belongs, a task
whose repo key left the config) must not stop a job tick after tick. The reader that finds it
moves it here (one atomic rename), logs `state.quarantined`, and carries on as if the file had
never been there. Beside each file set aside, `<name>.why` says what it was and why; the next
tick of any job turns each `.why` into one notification (`announce`), claiming it by renaming it
to `<name>.said`, so two jobs never announce the same file.

    runtime/quarantine/20261203T071500Z-mailbox~inbox~app-3-g1-a1.md
    runtime/quarantine/20261203T071500Z-mailbox~inbox~app-3-g1-a1.md.why
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from orchestrator.core.notify import Notification, file_set_aside
from orchestrator.store.files import atomic_write

FOLDER = "quarantine"
WHY, SAID = ".why", ".said"


def folder(runtime_dir: Path) -> Path:
    return runtime_dir / FOLDER


def set_aside(path: Path, runtime_dir: Path, reason: str) -> Path | None:
    """Move a damaged file (or directory) under runtime/ aside; return where it went.

    None when it was gone already (another reader set it aside first) or cannot be moved (a
    read-only folder): the caller treats the file as absent either way.
    """
    log = logging.getLogger("agentos")
    try:
        shown = str(path.relative_to(runtime_dir))
    except ValueError:
        shown = str(path)
    target = _free_name(folder(runtime_dir), shown)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(path, target)
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.error(
            "state.unmovable",
            extra={"file": shown, "reason": reason[:300], "error": str(exc)[:200]},
        )
        return None
    record = {"file": shown, "reason": reason[:500], "at": _now().isoformat(timespec="seconds")}
    try:
        atomic_write(target.with_name(target.name + WHY), json.dumps(record) + "\n")
    except OSError:  # the file is aside; only its announcement is lost (the event says it)
        pass
    log.warning(
        "state.quarantined",
        extra={"file": shown, "reason": reason[:300], "moved_to": str(target)},
    )
    return target


def _free_name(where: Path, shown: str) -> Path:
    stamp, flat = _now().strftime("%Y%m%dT%H%M%SZ"), shown.replace("/", "~")[-160:]
    candidate, n = where / f"{stamp}-{flat}", 1
    while candidate.exists() or candidate.with_name(candidate.name + WHY).exists():
        n += 1  # a second file of the same name this second: the name keeps its suffix
        candidate = where / f"{stamp}.{n}-{flat}"
    return candidate


def _now() -> datetime:
    return datetime.now(UTC)


def announce(runtime_dir: Path, notifier: Callable[[], Callable[[Notification], None]]) -> int:
    """Send one notification per file set aside and not yet announced; return how many.

    `notifier` makes the sender, called only when there is something to say (most ticks not).
    """
    try:
        entries = [e for e in os.scandir(folder(runtime_dir)) if e.name.endswith(WHY)]
    except (FileNotFoundError, NotADirectoryError):
        return 0
    said, notify = 0, None
    for entry in sorted(entries, key=lambda e: e.name):
        claimed = Path(entry.path[: -len(WHY)] + SAID)
        try:
            os.rename(entry.path, claimed)  # the claim: one announcer wins
        except FileNotFoundError:
            continue
        notify = notify or notifier()
        notify(notice(claimed))
        said += 1
    return said


def notice(record: Path) -> Notification:
    """Return the notification for one file set aside, from its `.why` or `.said` record."""
    try:
        data = json.loads(record.read_bytes())
        shown, reason = str(data["file"]), str(data["reason"])
    except (OSError, ValueError, KeyError, TypeError):
        shown, reason = record.name, "unreadable"
    return file_set_aside(shown, reason, f"runtime/{FOLDER}/{record.name.rsplit('.', 1)[0]}")


def listing(runtime_dir: Path) -> list[str]:
    """Return the files set aside, oldest first (for `status`)."""
    try:
        names = os.listdir(folder(runtime_dir))
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(n for n in names if not n.endswith((WHY, SAID)) and not n.startswith("."))

"""Write a static copy of the dashboard to publish: `agentos dashboard --out DIR`.

DIR gets index.html and tasks/<task-id>.html for every task the index links to, each page one
self-contained file (style and charts inline, no script). The copy is built in a temporary
folder beside DIR, then renamed into place, so a reader (a web server publishing DIR) sees the
old copy or the new one, never half of one. DIR must be missing, empty, or an earlier copy
(which holds the marker file `.agentos-dashboard`): anything else is refused, never replaced.

Everything written is redacted (the config's secrets and its env file's values, in every
encoding, and the shapes of tokens), and the war-room records (prompt, channel, result,
lifecycle) are left out unless `include_rooms`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from orchestrator.config.model import Config
from orchestrator.dashboard import collect, records, render
from orchestrator.errors import UsageError
from orchestrator.store.files import atomic_write

MARKER = ".agentos-dashboard"


@dataclass(frozen=True, slots=True)
class Published:
    """Where the copy went and how many task pages it holds."""

    path: Path
    task_pages: int


def check_target(out: Path) -> None:
    """Refuse a DIR that cannot hold the copy: a file, not writable, someone else's folder."""
    if out.is_file() or (out.exists() and not out.is_dir()):
        raise UsageError(f"--out {out}: is a file, not a folder")
    parent = out.parent
    if parent.exists() and not parent.is_dir():
        raise UsageError(f"--out {out}: {parent} is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise UsageError(f"--out {out}: not empty and not a dashboard copy (no {MARKER} in it)")
    writable = out if out.is_dir() else parent
    if writable.exists() and not os.access(writable, os.W_OK | os.X_OK):
        raise UsageError(f"--out {out}: {writable} is not writable")


def publish(
    config: Config,
    out: Path,
    now: datetime,
    *,
    days: int = collect.DAYS,
    include_rooms: bool = False,
) -> Published:
    """Bring the ledger up to date, then write the static copy to `out`, atomically."""
    out = out.absolute()
    check_target(out)
    render.register_secrets(config)
    note = collect.refresh(config)
    view = collect.overview(config, now, days)
    if note:
        view = replace(view, notes=(note, *view.notes))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp"))
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot write there ({exc.strerror or exc})") from None
    try:
        pages = _write(config, staging, view, include_rooms)
        _swap(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Published(out, pages)


def _write(config: Config, folder: Path, view: collect.Overview, include_rooms: bool) -> int:
    _put(folder / "index.html", render.overview_page(view, windows=False))
    ids = view.task_ids()
    for task_id in ids:
        record = records.task_record(config, task_id, include_room=include_rooms)
        page = (
            render.task_page(record)
            if record is not None
            else render.message_page(task_id, "No record of this task is left.", back=False)
        )
        _put(folder / "tasks" / f"{task_id}.html", page)
    _put(folder / MARKER, "A static copy of the Agent OS dashboard (docs/dashboard.md).\n")
    os.chmod(folder, 0o755)  # mkdtemp makes it private; the copy is there to be published
    return len(ids)


def _put(path: Path, text: str) -> None:
    atomic_write(path, text)
    os.chmod(path, 0o644)  # readable by the web server that publishes it, as the folder is


def _swap(staging: Path, out: Path) -> None:
    """Put the new copy where the old one was: one rename, or two and a removal."""
    if not out.exists() or (out.is_dir() and not any(out.iterdir())):
        os.replace(staging, out)  # onto nothing, or onto an empty folder
        return
    old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".old"))
    os.replace(out, old / "copy")
    try:
        os.replace(staging, out)
    except OSError:
        os.replace(old / "copy", out)  # put the old copy back: the reader keeps it
        raise
    finally:
        shutil.rmtree(old, ignore_errors=True)

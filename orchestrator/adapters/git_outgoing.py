"""What a commit would carry out: each changed file's path, mode, size and bytes, for the gate.

A modified file comes with its contents before the change too, so the gate can tell a secret
shape the change brought from one the file already held (an example token in docs).

Read from the shared clone with two git processes whatever the size of the change: `diff-tree`
for the list, one `cat-file --batch` for the contents. A file over READ_LIMIT is listed with its
size and no contents (the gate refuses what it cannot read).
"""

from __future__ import annotations

import os
import subprocess

from orchestrator.adapters.git_clone import QUIET_ENV, SAFE_SETTINGS, SharedClone
from orchestrator.core.outbound import OutgoingFile
from orchestrator.errors import WorktreeError

READ_LIMIT = 64 << 20  # bytes of one file read for the gate
GITLINK = "160000"


def changes(clone: SharedClone, old: str, new: str) -> tuple[OutgoingFile, ...]:
    """Return the files `new` adds or changes against `old` (deletions carry nothing out)."""
    listed = _git(clone, ("diff-tree", "-r", "-z", "--no-renames", "--raw", old, new))
    fields = listed.split(b"\0")
    entries: list[tuple[str, str, str, str | None]] = []  # path, mode, blob, blob before
    for meta, raw_path in zip(fields[0::2], fields[1::2], strict=False):
        if not meta.startswith(b":"):
            continue
        old_mode, new_mode, old_blob, blob, status = meta[1:].decode().split(" ")
        if status == "D":
            continue
        path = raw_path.decode("utf-8", "surrogateescape")
        before = old_blob if old_mode not in ("000000", GITLINK) else None
        entries.append((path, new_mode, blob, before))
    blobs = [blob for _, mode, blob, _ in entries if mode != GITLINK]
    blobs += [before for _, _, _, before in entries if before is not None]
    sizes = _sizes(clone, list(dict.fromkeys(blobs)))
    contents = _contents(clone, [blob for blob, size in sizes.items() if size <= READ_LIMIT])
    return tuple(
        OutgoingFile(
            path=path,
            mode=mode,
            size=sizes.get(blob, 0),
            data=contents.get(blob) if mode != GITLINK else blob.encode(),
            added=before is None,
            before=contents.get(before) if before is not None else None,
        )
        for path, mode, blob, before in entries
    )


def _sizes(clone: SharedClone, blobs: list[str]) -> dict[str, int]:
    if not blobs:
        return {}
    out = _git(clone, ("cat-file", "--batch-check"), "\n".join(blobs) + "\n")
    sizes = {}
    for line in out.decode().splitlines():
        sha, kind, size = line.split(" ")
        if kind == "blob":
            sizes[sha] = int(size)
    return sizes


def _contents(clone: SharedClone, blobs: list[str]) -> dict[str, bytes]:
    if not blobs:
        return {}
    out = _git(clone, ("cat-file", "--batch"), "\n".join(blobs) + "\n")
    found: dict[str, bytes] = {}
    at = 0
    while at < len(out):
        header_end = out.index(b"\n", at)
        sha, _, size = out[at:header_end].decode().split(" ")
        start = header_end + 1
        found[sha] = out[start : start + int(size)]
        at = start + int(size) + 1
    return found


def _git(clone: SharedClone, args: tuple[str, ...], stdin: str = "") -> bytes:
    env = {**os.environ, **QUIET_ENV, **clone.env()}
    done = subprocess.run(
        ["git", *SAFE_SETTINGS, *args],
        cwd=clone.path,
        env=env,
        input=stdin.encode(),
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip()[-300:]
        raise WorktreeError(f"git {args[0]} failed in {clone.path}: {said}")
    return done.stdout

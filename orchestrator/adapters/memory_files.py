"""The in-memory Tracker's repository files: put one at a ref, read it back as `file_text` does.

A mixin of `memory.MemoryTracker`, with GitHub's semantics: a file's sha is its git blob sha (the
same text, the same sha), a path holding other files is a directory and reads as an error, and a
path nothing was put at (in a repository or on a ref that is not there too) is no file: None,
and a file over 1 MB is an error (the contents API leaves its content out).
Reads are not writes: `writes` is left alone.
"""

from __future__ import annotations

import hashlib

from orchestrator.adapters.memory_pulls import RepoRecord
from orchestrator.core.model import RepoFile
from orchestrator.errors import TrackerError

MAX_BYTES = 1024 * 1024  # what GitHub's contents API sends in JSON


def blob_sha(text: str) -> str:
    """Return git's sha of a blob holding `text` (what `git hash-object` prints)."""
    data = text.encode("utf-8")
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


class MemoryFiles:
    """Files in memory, by repository, ref and path; the tracker using this supplies `_repo`."""

    _repo_files: dict[tuple[str, str, str], RepoFile]  # (repo, ref, path) -> the file

    def _repo(self, repo: str) -> RepoRecord:
        raise NotImplementedError

    # -- seeding -----------------------------------------------------------------------------------
    def put_file(self, repo: str, path: str, text: str, ref: str = "main") -> RepoFile:
        """Commit `text` at `path` on `ref` (replacing what was there), as a push would."""
        self._repo(repo)
        made = RepoFile(text, blob_sha(text))
        self._files()[(repo, ref, path.strip("/"))] = made
        return made

    def remove_file(self, repo: str, path: str, ref: str = "main") -> None:
        """Delete the file at `path` on `ref`; a file not there is a no-op."""
        self._files().pop((repo, ref, path.strip("/")), None)

    def _files(self) -> dict[tuple[str, str, str], RepoFile]:
        if getattr(self, "_repo_files", None) is None:
            self._repo_files = {}
        return self._repo_files

    # -- the port ----------------------------------------------------------------------------------
    def file_text(self, repo: str, path: str, ref: str) -> RepoFile | None:
        files, wanted = self._files(), path.strip("/")
        found = files.get((repo, ref, wanted))
        inside = (p for r, f, p in files if r == repo and f == ref)
        if found is None and any(p.startswith(wanted + "/") for p in inside):
            raise TrackerError(f"{repo}:{path} at {ref} is a directory, not a file")
        if found is not None and len(found.text.encode("utf-8")) > MAX_BYTES:
            raise TrackerError(f"{repo}:{path} at {ref} is over 1 MB, more than GitHub sends")
        return found  # None also for a repository or ref that is not there: GitHub's 404

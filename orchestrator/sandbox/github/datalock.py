"""Hold a sandbox's data folder for the server's life, so a second server on it refuses.

Two servers on one folder would each overwrite the other's state.json and race on the same bare
repositories.
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

from orchestrator.errors import UsageError

LOCK_FILE = "sandbox.lock"


class DataLock:
    """A non-blocking flock on DATA/sandbox.lock; the kernel drops it if the holder dies."""

    def __init__(self, data_dir: Path) -> None:
        if data_dir.exists() and not data_dir.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(data_dir))
        data_dir.mkdir(parents=True, exist_ok=True)
        path = data_dir / LOCK_FILE
        self._file = path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.close()
            holder = path.read_text(encoding="utf-8").strip()
            pid = f" (pid {holder})" if holder.isdigit() else ""
            raise UsageError(f"{data_dir} is in use by another sandbox{pid}") from None
        self._file.seek(0)
        self._file.truncate()
        self._file.write(f"{os.getpid()}\n")
        self._file.flush()

    def release(self) -> None:
        """Let another sandbox serve the folder (closing the file drops the flock)."""
        self._file.close()

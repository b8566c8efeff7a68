"""Drive a program in a real pseudo-terminal, as a person at a keyboard would.

Read its prompts, type, press Ctrl-C.

The child gets the pty as its controlling terminal (a new session that opens the pty by name),
so getpass turns echo off and Ctrl-C sends SIGINT, exactly as in a terminal window.
"""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

# Runs in the child: become the pty's session (controlling terminal), then exec the program.
# Ctrl-C must reach it as in a terminal window whatever the test runner inherited: a runner
# started in the background by a non-interactive shell ignores SIGINT, and a child keeps an
# ignored or blocked signal across exec (Python then installs no KeyboardInterrupt handler).
_LAUNCH = (
    "import os, signal, sys\n"
    "signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})\n"
    "signal.signal(signal.SIGINT, signal.SIG_DFL)\n"
    "fd = os.open(sys.argv[1], os.O_RDWR)\n"
    "for n in (0, 1, 2): os.dup2(fd, n)\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)


class PtyProgram:
    def __init__(self, argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> None:
        master, slave = os.openpty()
        self._master = master
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _LAUNCH, os.ttyname(slave), *argv],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
        )
        os.close(slave)
        self.screen = ""  # everything shown so far, with \r removed
        self._at = 0  # where the next expect starts looking

    def expect(self, text: str, timeout: float = 60.0) -> str:
        """Wait until `text` appears after what was matched last.

        Return the output up to its end.
        """
        deadline = time.monotonic() + timeout
        while (found := self.screen.find(text, self._at)) < 0:
            left = deadline - time.monotonic()
            if left <= 0 or not self._read(left):
                raise AssertionError(
                    f"never saw {text!r}; the screen ends with:\n{self.screen[-1500:]}"
                )
        start, self._at = self._at, found + len(text)
        return self.screen[start : self._at]

    def expect_re(self, pattern: str, timeout: float = 60.0) -> re.Match[str]:
        """Wait for a regular expression after what was matched last."""
        deadline = time.monotonic() + timeout
        while (match := re.compile(pattern).search(self.screen, self._at)) is None:
            left = deadline - time.monotonic()
            if left <= 0 or not self._read(left):
                raise AssertionError(
                    f"never saw /{pattern}/; the screen ends with:\n{self.screen[-1500:]}"
                )
        self._at = match.end()
        return match

    def type(self, line: str = "") -> None:
        """Type a line and press Enter (an empty line accepts the default)."""
        os.write(self._master, line.encode() + b"\r")

    def ctrl_c(self) -> None:
        """Press Ctrl-C."""
        os.write(self._master, b"\x03")

    def wait(self, timeout: float = 60.0) -> int:
        """Read the rest of the output and return the exit code."""
        deadline = time.monotonic() + timeout
        while self._read(max(0.0, deadline - time.monotonic())):
            pass
        code = self._proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        os.close(self._master)
        return code

    def kill(self) -> None:
        """Stop the program if it still runs (test teardown)."""
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self._master], [], [], timeout)
        if not ready:
            return False
        try:
            chunk = os.read(self._master, 65536)
        except OSError:  # EIO: the program closed the terminal
            return False
        if not chunk:
            return False
        self.screen += chunk.decode("utf-8", "replace").replace("\r", "")
        return True

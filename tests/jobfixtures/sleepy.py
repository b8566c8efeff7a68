"""A test job that holds its lock until a file appears (or a timeout), so runs can overlap."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any


def run(deps: Any, config: Any, now: Any, *, dry_run: bool = False) -> dict[str, int]:
    started = Path(os.environ["SLEEPY_STARTED"])
    release = Path(os.environ["SLEEPY_RELEASE"])
    started.write_text(str(os.getpid()))
    deadline = time.monotonic() + 20
    while not release.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return {"slept": 1}

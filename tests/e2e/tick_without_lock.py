"""One job tick that takes no job lock, started on a signal.

Two at once are ticks nothing serialises.

argv: tick_without_lock.py CONFIG JOB GO_FILE. Everything slow to import is loaded first; the tick
itself starts when GO_FILE appears, so two processes race from the same instant. This is what two
hosts sharing one runtime/ would do, or a lock that failed: the mailbox's claims alone must hold.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path


def main(config_path: str, job: str, go_file: str) -> int:
    from orchestrator.config.load import load_config
    from orchestrator.store import logs
    from orchestrator.wiring import real_deps

    config = load_config(Path(config_path), os.environ)
    log = logs.setup(config.paths.logs_dir, job, f"r-nolock-{os.getpid()}", stderr=False)
    module = importlib.import_module(f"orchestrator.jobs.{job}")
    deps = real_deps(config, log)
    # Built now, not after the signal.
    deps.tracker, deps.worktrees, deps.workers, deps.agents  # noqa: B018
    while not Path(go_file).exists():
        time.sleep(0.005)
    summary = module.run(deps, config, datetime.now(UTC))
    log.info("run.finished", extra={"outcome": "ok", **summary})
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))

"""The ledger on a real history: `agentos demo`'s, kept while the demo runs, then rebuilt.

The demo runs as a user runs it (the real command, in a child process); meanwhile the ledger is
brought up to date every half second, so its updates fall at many points of the history (mid-room,
mid-log). Made again from scratch afterwards, it must hold the same rows in every table.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from orchestrator.store.ledger import Ledger
from tests.store.test_ledger import dump

ROOT = Path(__file__).resolve().parents[2]


def test_kept_during_the_demo_it_equals_a_rebuild_of_the_demos_logs(tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path / "home"), "LANG": "C.UTF-8"}
    data = tmp_path / "data"
    demo = subprocess.Popen(
        [str(ROOT / "bin" / "agentos"), "demo", "--data", str(data), "--timeout", "150"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    ledger = Ledger(data / "runtime")
    updates = 0
    try:
        while demo.poll() is None:
            if (data / "runtime" / "logs").is_dir():  # the demo empties `data` before it builds
                updates += ledger.update() > 0
            time.sleep(0.5)
        out = demo.communicate(timeout=60)[0]
    finally:
        if demo.poll() is None:
            demo.kill()
    assert demo.returncode == 0, out[-3000:]
    ledger.update()
    kept = dump(ledger)
    assert updates >= 3  # the history was read in several pieces
    ledger.rebuild()
    assert dump(ledger) == kept
    tasks = ledger.tasks()
    assert len(tasks) >= 5 and {t["task_type"] for t in tasks} <= {"implementation", "fixing"}
    assert all(t["task_type"] for t in tasks)
    assert len(ledger.merges()) == 5
    # the scripted model reports tokens, not cost: the default prices estimate it
    assert all(t["cost_estimated"] == 1 and t["cost_usd"] > 0 for t in tasks if t["agents"])

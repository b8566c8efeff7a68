"""Whole-process wall time and peak memory of `bin/agentos run dispatcher` with the switch off.

Target: <= 60 ms and <= 20 MB. Run: `.venv/bin/python bench/startup.py [RUNS]`.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = """\
repos:
  - {key: app, github: acme/app}
github: {token: $GITHUB_TOKEN}
agents: {backends: {claude: {type: claude}}}
"""


def one_run(argv: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Return wall seconds and peak RSS (KiB) of one child process."""
    start = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, env)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(argv)} exited {os.waitstatus_to_exitcode(status)}")
    return wall, usage.ru_maxrss


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.yaml"
        config.write_text(CONFIG)
        (Path(tmp) / "runtime" / "state").mkdir(parents=True)
        (Path(tmp) / "runtime" / "state" / "disabled").write_text("bench\n")
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GITHUB_TOKEN": "x"}
        argv = [str(ROOT / "bin" / "agentos"), "--config", str(config), "run", "dispatcher"]
        bare = [str(ROOT / ".venv" / "bin" / "python"), "-c", "import yaml"]
        one_run(argv, env)  # warm the page cache
        samples = [one_run(argv, env) for _ in range(runs)]
        baseline = [one_run(bare, env) for _ in range(runs)]
    walls = [w * 1000 for w, _ in samples]
    print(f"agentos run dispatcher (switch off), {runs} runs:")
    print(
        f"  wall   median {statistics.median(walls):.1f} ms   min {min(walls):.1f} ms   "
        f"max {max(walls):.1f} ms   (target <= 60 ms)"
    )
    print(f"  memory peak RSS {max(r for _, r in samples) / 1024:.1f} MB   (target <= 20 MB)")
    print(
        f"  for scale: python -c 'import yaml' median "
        f"{statistics.median(w * 1000 for w, _ in baseline):.1f} ms, "
        f"{max(r for _, r in baseline) / 1024:.1f} MB"
    )


if __name__ == "__main__":
    main()

"""Wall time and GitHub requests of `bin/agentos demo` (scripted model).

The figures are those the demo's own summary reports. Target: well under a minute on 2 cores.
Run: `.venv/bin/python bench/demo.py [RUNS]`.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_FINISHED = re.compile(
    r"Demo finished in (?P<s>[\d.]+) s: (?P<merged>\d+) of (?P<issues>\d+) issues"
)
_REQUESTS = re.compile(
    r"GitHub requests: (?P<total>\d+) \((?P<setup>\d+): .* to set up; (?P<loop>\d+): "
)


def one_run(folder: Path) -> tuple[float, float, dict[str, str]]:
    """Return the process's wall seconds, the demo's own elapsed seconds and its request counts."""
    env = {"PATH": os.environ["PATH"], "HOME": str(folder / "home"), "LANG": "C.UTF-8"}
    start = time.perf_counter()
    done = subprocess.run(
        [str(ROOT / "bin" / "agentos"), "demo", "--data", str(folder / "data")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    finished, requests = _FINISHED.search(done.stdout), _REQUESTS.search(done.stdout)
    if done.returncode != 0 or finished is None or requests is None:
        sys.exit(
            f"the demo failed (exit {done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
        )
    return wall, float(finished["s"]), {**finished.groupdict(), **requests.groupdict()}


def main(runs: int) -> None:
    walls, elapsed, counts = [], [], {}
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="bench-demo-") as folder:
            wall, demo_s, counts = one_run(Path(folder))
            walls.append(wall)
            elapsed.append(demo_s)
    print(
        f"agentos demo, {runs} run(s): process wall median {statistics.median(walls):.1f} s "
        f"(max {max(walls):.1f} s); the demo's own elapsed median "
        f"{statistics.median(elapsed):.1f} s"
    )
    print(
        f"  issues merged {counts['merged']} of {counts['issues']}; "
        f"GitHub requests {counts['total']} "
        f"(set-up {counts['setup']}, loop {counts['loop']})"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)

"""A job registry made of the test jobs, passed to `cli.main(jobs=...)`."""

from __future__ import annotations

import sys

from orchestrator.cli.main import main
from orchestrator.jobs import JobSpec

JOBS = {
    "sleepy": JobSpec("sleepy", "* * * * *", "holds its lock", target="tests.jobfixtures.sleepy"),
    "crashy": JobSpec("crashy", "* * * * *", "crashes", target="tests.jobfixtures.crashy"),
    "counting": JobSpec("counting", "* * * * *", "counts", target="tests.jobfixtures.counting"),
    "control": JobSpec(
        "control", "* * * * *", "always on", always_on=True, target="tests.jobfixtures.counting"
    ),
    "planned": JobSpec("planned", "* * * * *", "not built", built=False),
}

if __name__ == "__main__":  # `python -m tests.jobfixtures.registry run sleepy --config ...`
    sys.exit(main(sys.argv[1:], jobs=JOBS))

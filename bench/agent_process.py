"""The agent process runner: per-run overhead, line throughput, and memory under an endless line.

Targets: a no-op command agent costs <= 30 ms over the bare spawn; streaming >= 200,000 lines/s;
500 MB printed without a newline adds <= 16 MB to our peak RSS (max_line is 4 MiB).
Run: `.venv/bin/python bench/agent_process.py`.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from orchestrator.adapters.agents import process  # noqa: E402
from orchestrator.adapters.agents.command import CommandAgent  # noqa: E402
from orchestrator.adapters.agents.environment import EnvPolicy  # noqa: E402
from orchestrator.config.model import AgentBackend, AgentType  # noqa: E402
from orchestrator.core.agent import AgentRequest  # noqa: E402

ENV = {"PATH": os.environ["PATH"]}


def overhead(folder: Path, runs: int = 30) -> tuple[float, float]:
    """Return the median wall time (ms) of a bare `true` spawn and of a no-op command agent run."""
    agent = CommandAgent(
        AgentBackend("noop", AgentType.COMMAND, 1, argv=("true",)), ENV, EnvPolicy()
    )
    request = AgentRequest("bench", "", str(folder / "prompt.md"), str(folder))
    bare, wrapped = [], []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(["true"], check=True)
        bare.append(time.perf_counter() - start)
        start = time.perf_counter()
        agent.run(request, lambda event: None)
        wrapped.append(time.perf_counter() - start)
    return statistics.median(bare) * 1000, statistics.median(wrapped) * 1000


def throughput(folder: Path, lines: int = 500_000) -> float:
    """Return lines per second streamed from a child printing short lines as fast as it can."""
    script = f"import sys\nsys.stdout.write('event line of some length\\n' * {lines})"
    count = 0

    def seen(stream: str, line: str) -> None:
        nonlocal count
        count += 1

    start = time.perf_counter()
    process.run(process.Spec((sys.executable, "-c", script), folder, ENV), seen)
    elapsed = time.perf_counter() - start
    assert count == lines, count
    return lines / elapsed


def endless_line(folder: Path, megabytes: int = 500) -> float:
    """Return our peak RSS growth (MB) while a child printed `megabytes` without a newline."""
    script = (
        f"import sys\nchunk = 'x' * (1 << 20)\nfor _ in range({megabytes}): sys.stdout.write(chunk)"
    )
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    process.run(
        process.Spec((sys.executable, "-c", script), folder, ENV), lambda stream, line: None
    )
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bare, wrapped = overhead(folder)
        print(
            f"no-op command agent: {wrapped:.1f} ms median (bare spawn {bare:.1f} ms, "
            f"overhead {wrapped - bare:.1f} ms)"
        )
        print(f"line streaming: {throughput(folder):,.0f} lines/s")
        print(f"500 MB without a newline: peak RSS grew {endless_line(folder):.1f} MB")


if __name__ == "__main__":
    main()

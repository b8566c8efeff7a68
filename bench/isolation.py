"""What confinement costs an attempt: a no-op command agent run confined by bubblewrap (its box's
private home made and removed, the bwrap start, the run) against the same run unconfined.

Target: <= 150 ms per attempt over the unconfined run. Where bwrap cannot start, says why and
measures nothing. Run: `.venv/bin/python bench/isolation.py`.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from orchestrator.adapters.agents import confine, process  # noqa: E402
from orchestrator.adapters.agents.command import CommandAgent  # noqa: E402
from orchestrator.adapters.agents.environment import EnvPolicy  # noqa: E402
from orchestrator.config.model import AgentBackend, AgentType, Isolation  # noqa: E402
from orchestrator.core.agent import AgentRequest, OutcomeKind  # noqa: E402

TARGET_MS = 150.0
RUNS = 30


def median_ms(agent: CommandAgent, request: AgentRequest, runs: int = RUNS) -> float:
    """Return the median wall time (ms) of one agent run, after a warm-up run."""
    assert agent.run(request, lambda event: None).kind is OutcomeKind.FINISHED
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        agent.run(request, lambda event: None)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def parts_ms(walls: confine.Walls, worktree: Path, runs: int = RUNS) -> tuple[float, float]:
    """Return the median ms of a private home made and removed, and of `bwrap ... true`."""
    homes, starts = [], []
    box = confine.Box(walls, worktree, "bench-2")
    spec = process.Spec(("/bin/true",), worktree, {"PATH": "/usr/bin:/bin"})
    for _ in range(runs):
        start = time.perf_counter()
        with confine.session(box) as confined:
            wrapped = confined(spec)
            homes.append(time.perf_counter() - start)
            start = time.perf_counter()
            subprocess.run(wrapped.argv, cwd=worktree, env=wrapped.env, check=True)
            starts.append(time.perf_counter() - start)
            start = time.perf_counter()
        homes[-1] += time.perf_counter() - start
    return statistics.median(homes) * 1000, statistics.median(starts) * 1000


def main() -> int:
    why = confine.probe()
    if why is not None:
        print(f"isolation: not measured: {why}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        runtime, worktree, home = folder / "runtime", folder / "worktree", folder / "home"
        for path in (runtime, worktree, home):
            path.mkdir()
        (home / ".claude").mkdir()
        walls = confine.Walls(Isolation.BWRAP, (runtime, home, Path("/tmp")), (), runtime / "homes")
        backend = AgentBackend("noop", AgentType.COMMAND, 1, argv=("true",))
        env = {"PATH": os.environ["PATH"], "HOME": str(home)}
        (folder / "prompt.md").write_text("Do nothing.\n")
        request = AgentRequest("bench-1", "", str(folder / "prompt.md"), str(worktree))
        plain = median_ms(CommandAgent(backend, env, EnvPolicy()), request)
        boxed = median_ms(CommandAgent(backend, env, EnvPolicy(), walls=walls), request)
        home_ms, bwrap_ms = parts_ms(walls, worktree)
    cost = boxed - plain
    verdict = "ok" if cost <= TARGET_MS else f"OVER the {TARGET_MS:.0f} ms target"
    print(
        f"isolation: a confined no-op agent run {boxed:.1f} ms median of {RUNS} "
        f"(unconfined {plain:.1f} ms): confinement costs {cost:.1f} ms per attempt "
        f"(bwrap start, private home made and removed; target <= {TARGET_MS:.0f} ms): {verdict}"
    )
    print(
        f"  of which: bwrap starting and ending `true` {bwrap_ms:.1f} ms, the private home made "
        f"and removed (with the layout computed) {home_ms:.1f} ms"
    )
    return 0 if cost <= TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())

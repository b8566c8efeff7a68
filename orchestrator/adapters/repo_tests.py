"""Run a repo's test command in a worktree.

It runs in a shell, with a timeout over the whole process group and no secrets. The command runs
code the agent wrote, so it is confined the same way as an agent (`confine.py`): its box has the
worktree, a private home of its own, and nothing of Agent OS.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from orchestrator.adapters.agents import confine, process
from orchestrator.adapters.agents.environment import EnvPolicy, agent_env
from orchestrator.adapters.agents.programs import command_programs, program_paths
from orchestrator.core.model import TestRun
from orchestrator.core.redact import redact
from orchestrator.errors import IsolationError

TAIL_LINES = 60


class ShellTests:
    """The Tests port: `sh -c COMMAND` with the environment agents get, in an agent's box.

    The repo's code is not trusted. `walls` None runs it unconfined (agents.isolation: none).
    """

    def __init__(
        self,
        policy: EnvPolicy,
        host_env: Mapping[str, str] | None = None,
        *,
        walls: confine.Walls | None = None,
    ) -> None:
        self.policy, self.walls = policy, walls
        self.host_env = dict(os.environ if host_env is None else host_env)

    def run(
        self, command: str, cwd: str, timeout_s: float, *, readable: tuple[str, ...] = ()
    ) -> TestRun:
        """Run the command; passed means exit code 0 before the timeout."""
        env = agent_env(self.host_env, self.policy)
        spec = process.Spec(("/bin/sh", "-c", command), Path(cwd), env, timeout=timeout_s)
        if self.walls is None:
            ended = process.run(spec, lambda stream, line: None)
        else:
            programs = [  # what the command runs, wherever it is installed (pyenv under HOME)
                found
                for word in command_programs(command)
                for found in program_paths(word, env.get("PATH", ""))
            ]
            box = confine.Box(
                self.walls,
                Path(cwd),
                f"tests-{Path(cwd).name}-{secrets.token_hex(4)}",
                readable=(*(Path(path) for path in readable), *programs),
            )
            try:
                with confine.session(box) as confined:
                    ended = process.run(confined(spec), lambda stream, line: None)
            except IsolationError as exc:
                return TestRun(False, f"{command}: not run: {exc}", "", ran=False)
        tail = redact("\n".join(ended.tail[-TAIL_LINES:]))
        if ended.timed_out:
            return TestRun(False, f"{command}: timed out after {timeout_s:.0f} s", tail, ran=False)
        if ended.returncode != 0:
            why = ended.error or f"exit code {ended.returncode}"
            line = f"{command}: failed ({why}) in {ended.duration_s:.1f} s"
            return TestRun(False, line, tail, ran=not ended.error)
        return TestRun(True, f"{command}: passed in {ended.duration_s:.1f} s", tail)

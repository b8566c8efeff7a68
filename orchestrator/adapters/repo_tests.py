"""Run a repo's test command in a worktree.

It runs in a shell, with a timeout over the whole process group and no secrets.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from orchestrator.adapters.agents import process
from orchestrator.adapters.agents.environment import EnvPolicy, agent_env
from orchestrator.core.model import TestRun
from orchestrator.core.redact import redact

TAIL_LINES = 60


class ShellTests:
    """The Tests port: `sh -c COMMAND` with the environment agents get.

    The repo's code is not trusted.
    """

    def __init__(self, policy: EnvPolicy, host_env: Mapping[str, str] | None = None) -> None:
        self.policy = policy
        self.host_env = dict(os.environ if host_env is None else host_env)

    def run(self, command: str, cwd: str, timeout_s: float) -> TestRun:
        """Run the command; passed means exit code 0 before the timeout."""
        env = agent_env(self.host_env, self.policy)
        ended = process.run(
            process.Spec(("/bin/sh", "-c", command), Path(cwd), env, timeout=timeout_s),
            lambda stream, line: None,
        )
        tail = redact("\n".join(ended.tail[-TAIL_LINES:]))
        if ended.timed_out:
            return TestRun(False, f"{command}: timed out after {timeout_s:.0f} s", tail)
        if ended.returncode != 0:
            why = ended.error or f"exit code {ended.returncode}"
            return TestRun(False, f"{command}: failed ({why}) in {ended.duration_s:.1f} s", tail)
        return TestRun(True, f"{command}: passed in {ended.duration_s:.1f} s", tail)

"""Any executable as an agent: argv with placeholders filled in, its output lines as events.

The way to plug in an agent we do not ship. Its argv has {prompt_file} {worktree} {task_id} filled
in; it runs in the worktree with the scrubbed environment (plus AGENTOS_TASK_ID,
AGENTOS_PROMPT_FILE, AGENTOS_WORKTREE), stdin from /dev/null, reads the prompt file, does the work
and writes `.agent_result.md`. Exit 0 is finished; otherwise its last lines say why (a quota message
with a reset time rests it like any other backend). Confined, it may read every file its argv names
(a script and its arguments), besides its program and the prompt file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from orchestrator.adapters.agents import confine, failures, process
from orchestrator.adapters.agents.base import CliAgent, Clock, Collector, utc_now
from orchestrator.adapters.agents.environment import EnvPolicy, agent_env
from orchestrator.config.model import AgentBackend
from orchestrator.core.agent import AgentOutcome, AgentRequest, OutcomeKind

_CLASSIFIED_LINES = 20  # of the tail: enough for an error message, too few for a test log's noise


class CommandAgent(CliAgent["CommandLines"]):
    """The `command` backend."""

    def environment(self, request: AgentRequest) -> dict[str, str]:
        """Return the agent's environment.

        The allowlist, `pass_env`, the backend's env, and where the task's prompt and worktree are.
        """
        task = {
            "AGENTOS_TASK_ID": request.task_id,
            "AGENTOS_PROMPT_FILE": request.prompt_file,
            "AGENTOS_WORKTREE": request.worktree,
        }
        return agent_env(
            self.host_env,
            self.policy,
            pass_env=self.backend.pass_env,
            fixed=dict(self.backend.env) | task,
        )

    def __init__(
        self,
        backend: AgentBackend,
        host_env: Mapping[str, str],
        policy: EnvPolicy,
        *,
        base_dir: Path | None = None,
        walls: confine.Walls | None = None,
        grace: float = 5.0,
        clock: Clock = utc_now,
    ) -> None:
        super().__init__(backend, host_env, policy, walls=walls, grace=grace, clock=clock)
        program = Path(backend.argv[0]).expanduser()
        # A relative path with a folder in it is relative to the config's folder, like every
        # path there.
        if not program.is_absolute() and "/" in backend.argv[0] and base_dir is not None:
            program = base_dir / program
        self.program = str(program)

    def argv(self, binary: str, request: AgentRequest) -> tuple[str, ...]:
        """Return the configured argv with its placeholders filled in."""
        values = {
            "{prompt_file}": request.prompt_file,
            "{worktree}": request.worktree,
            "{task_id}": request.task_id,
        }
        filled = []
        for arg in self.backend.argv:
            for placeholder, value in values.items():
                arg = arg.replace(placeholder, value)
            filled.append(arg)
        return (binary, *filled[1:])

    def readable(self, request: AgentRequest, argv: Sequence[str]) -> tuple[Path, ...]:
        """Return the prompt file, the request's paths, and every file the argv names."""
        return (*super().readable(request, argv), *(Path(a) for a in argv[1:] if _is_file(a)))

    def stdin(self, request: AgentRequest) -> str | None:
        """Return None: stdin is /dev/null; the prompt is in the prompt file."""
        return None

    def reader(self, collector: Collector) -> CommandLines:
        """Return the reader that passes every line on."""
        return CommandLines(self, collector)

    def conclude(
        self, ended: process.Exit, collector: Collector, reader: CommandLines
    ) -> AgentOutcome:
        """Exit 0 is finished; otherwise the last lines say why, else it crashed."""
        if reader.last:
            collector.final = reader.last
        if ended.returncode == 0:
            return collector.outcome(OutcomeKind.FINISHED, 0, ended.duration_s)
        text = "\n".join(ended.tail[-_CLASSIFIED_LINES:])
        kind = failures.classify(text) or OutcomeKind.CRASHED
        reset = (
            failures.reset_at(text, self.clock()) if kind is OutcomeKind.QUOTA_EXHAUSTED else None
        )
        last = next((line for line in reversed(ended.tail) if line.strip()), "")
        return collector.outcome(
            kind,
            ended.returncode,
            ended.duration_s,
            last or f"{self.backend.argv[0]} exited with {ended.returncode}",
            reset,
        )


class CommandLines:
    """Passes every line on as it is, and remembers the last one printed on stdout."""

    def __init__(self, agent: CommandAgent, collector: Collector) -> None:
        self.agent, self.collector = agent, collector
        self.last = ""

    def __call__(self, stream: str, line: str) -> None:
        if stream == "stdout" and line.strip():
            self.last = line
        self.agent.emit_line(self.collector, stream, line)


def _is_file(arg: str) -> bool:
    try:
        return Path(arg).is_absolute() and Path(arg).is_file()
    except (OSError, ValueError):
        return False  # a name too long, a NUL: no file

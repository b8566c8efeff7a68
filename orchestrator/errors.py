"""The exception tree every Agent OS module raises from.

    AgentOSError
     ├── UsageError            bad command-line input (exit 2)
     ├── ConfigError           config.yaml or overrides.yaml is invalid (exit 2)
     ├── StateError            runtime/ could not be read or written (exit 1)
     ├── TrackerError          GitHub could not do what was asked (exit 1)
     │    ├── TrackerUnavailable   5xx, dropped connections, retries exhausted
     │    └── RateLimited          primary or secondary rate limit
     ├── WorktreeError         git worktree or branch operation failed
     │    └── PushRejected         the remote refused the push (moved on, lease broken, hook)
     ├── AgentError            an agent run failed
     │    └── AgentTimeout
     └── ChatError             Telegram could not be reached
"""
from __future__ import annotations

from collections.abc import Sequence


class AgentOSError(Exception):
    """Base class: `cli.main` turns these into one line on stderr."""

    exit_code = 1


class UsageError(AgentOSError):
    exit_code = 2


class ConfigError(AgentOSError):
    """Every problem found in a config, one line each, naming the dotted key."""

    exit_code = 2

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = tuple(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{source} is invalid:\n{lines}")


class StateError(AgentOSError):
    pass


class TrackerError(AgentOSError):
    pass


class TrackerUnavailable(TrackerError):
    pass


class RateLimited(TrackerError):
    pass


class WorktreeError(AgentOSError):
    pass


class PushRejected(WorktreeError):
    """The remote refused a push: the branch moved on (non-fast-forward, stale lease) or a hook declined."""

    def __init__(self, branch: str, reason: str) -> None:
        self.branch, self.reason = branch, reason
        super().__init__(f"push of {branch} rejected: {reason}")


class AgentError(AgentOSError):
    pass


class AgentTimeout(AgentError):
    pass


class ChatError(AgentOSError):
    pass

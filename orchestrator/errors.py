"""The exception tree every Agent OS module raises from, drawn whole: core's own exception lives
in core (which imports only the standard library) and is drawn here too.

    AgentOSError                  `cli.main` turns these into one line on stderr
     ├── UsageError                bad command-line input or answer (exit 2)
     ├── ConfigError               config.yaml or overrides.yaml is invalid (exit 2)
     │    └── OverridesError           only overrides.yaml is: the control plane runs without it
     ├── PlanError                 a plan file `plan import` refuses: a line per problem (exit 2)
     ├── StateError                runtime/ could not be read or written (exit 1)
     │    └── AuditError               the audit log, its head or its key could not be used
     ├── TrackerError              GitHub could not do what was asked (exit 1)
     │    ├── TrackerUnavailable       5xx, dropped connections, retries exhausted
     │    ├── RateLimited              primary or secondary rate limit
     │    ├── GraphQLRefused           GraphQL answered with errors (kept for callers that recover)
     │    ├── ReviewRefused            a review's event refused: the PR's author may not approve it
     │    └── TrackerUnauthorized      GitHub refused the token (also an Unauthorized)
     ├── WorktreeError             git worktree or branch operation failed
     │    ├── PushRejected             the remote refused the push (moved on, lease broken, hook)
     │    └── TransientGitError        a network hiccup talking to the remote: worth another try
     ├── AgentError                an agent run failed
     │    ├── AgentTimeout
     │    ├── ToolFailed               a tool call of our own agent loop failed (told to the model)
     │    │    └── ToolRefused             a tool call outside the worktree, or with a bad argument
     │    ├── ToolHostError            our loop's tool host died, hung or broke its protocol
     │    └── IsolationError           the agent's confinement (bwrap) cannot be built here
     ├── ExecutorError             a remote executor (Actions, Kubernetes) refused or did not answer
     │    └── RunVanished              the engine no longer knows a run: recovered as a dead worker
     ├── ChatError                 Telegram could not be reached
     │    └── ChatUnauthorized         Telegram refused the bot token (also an Unauthorized)
     ├── Unauthorized              the configured credential refused: the tick ends (exit 3)
     └── Rejected                  a service refused a credential or name (GitHub, Telegram, model)
    ValueError
     ├── InvalidAnswer             a bad answer to an `agentos init` question; asked again
     ├── InvalidTransition         a lifecycle move the loop never makes (core.lifecycle)
     └── UnusableAnswer            a model's answer not as asked (core.answers)
    FileNotFoundError
     └── SetAside                  a damaged runtime file moved to runtime/quarantine/: gone
    BaseException
     ├── Stopped                   `off --now` reached a worker while its agent ran
     └── Parked                    a remote run goes on: the worker leaves, the supervisor follows

`Unauthorized` is a run's credential refused in the middle of its work (401, or a 403 that is no
rate limit), which no caller treats as one repo's or one task's failure; `Rejected` is a value
someone offered (a pasted token, a name at an `agentos init` prompt) that was turned down.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # every cron tick imports this module first: typing costs it milliseconds
    from collections.abc import Sequence
    from typing import Any


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


class OverridesError(ConfigError):
    """runtime/state/overrides.yaml is invalid while config.yaml alone is valid.

    Jobs exit 2 on it; the control plane loads the config without the overrides and says why.
    """


class PlanError(AgentOSError):
    """A plan file `agentos plan import` refuses: every problem, one line each naming its line."""

    exit_code = 2

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = tuple(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{source} cannot be imported; nothing was written:\n{lines}")


class StateError(AgentOSError):
    pass


class AuditError(StateError):
    """The audit log, its head or its MAC key cannot be read or written (the message says which)."""


class TrackerError(AgentOSError):
    pass


class TrackerUnavailable(TrackerError):
    pass


class RateLimited(TrackerError):
    pass


class GraphQLRefused(TrackerError):
    """GitHub answered with GraphQL errors.

    `errors` keeps them (type, message, path) for callers that recover.
    """

    def __init__(self, message: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.errors = errors

    def says(self, phrase: str) -> bool:
        """Return whether any error's message contains `phrase` (any case)."""
        return any(phrase.lower() in str(e.get("message", "")).lower() for e in self.errors)


class ReviewRefused(TrackerError):
    """GitHub refused a review's APPROVE or REQUEST_CHANGES: the reviewer is the PR's author."""


class Unauthorized(AgentOSError):
    """A service refused the credential the config gives it: 401, or a 403 that is no rate limit.

    Never one repo's or one task's failure: whoever catches its parent re-raises it, and the
    tick ends `unauthorized` (exit 3). `service` names who refused (`github`, `telegram`).
    """

    exit_code = 3
    service = "unknown"


class TrackerUnauthorized(TrackerError, Unauthorized):
    """GitHub refused the token: bad or revoked (401), or without access (403)."""

    service = "github"


class WorktreeError(AgentOSError):
    pass


class PushRejected(WorktreeError):
    """The remote refused a push.

    The branch moved on (non-fast-forward, stale lease), or a hook declined it.
    """

    def __init__(self, branch: str, reason: str) -> None:
        self.branch, self.reason = branch, reason
        super().__init__(f"push of {branch} rejected: {reason}")


class TransientGitError(WorktreeError):
    """A network hiccup talking to the remote: worth another try."""


class AgentError(AgentOSError):
    pass


class AgentTimeout(AgentError):
    pass


class ToolFailed(AgentError):
    """A tool call that failed; the message goes back to the model as an error result."""


class ToolRefused(ToolFailed):
    """A tool call the workspace refuses (a path outside the worktree, a bad argument)."""


class ToolHostError(AgentError):
    """The process that carries out our loop's tool calls died, hung or broke its protocol."""


class IsolationError(AgentError):
    """The agent's confinement cannot be built here: bwrap cannot start, or a wall is impossible."""


class ExecutorError(AgentOSError):
    """A remote executor (GitHub Actions, Kubernetes) refused a request or could not be asked."""


class RunVanished(ExecutorError):
    """A remote run the engine no longer knows: the attempt is recovered like a dead worker's."""


class ChatError(AgentOSError):
    pass


class ChatUnauthorized(ChatError, Unauthorized):
    """Telegram refused the bot token (401 Unauthorized, or 404 for a malformed one)."""

    service = "telegram"


class Rejected(AgentOSError):
    """A credential or name a service refused (GitHub, Telegram, a model); the message says why."""


class InvalidAnswer(ValueError):
    """A bad answer to an `agentos init` question; the question is asked again.

    Its message says why.
    """


class SetAside(FileNotFoundError):
    """A damaged file under runtime/ was moved to runtime/quarantine/: to its reader, it is gone."""


class Stopped(BaseException):
    """The worker was told to stop now (`off --now`); no `except Exception` swallows it."""


class Parked(BaseException):
    """An attempt's remote run is under way: its worker leaves, the supervisor follows the run
    and starts a worker again to collect it (docs/scale-out.md). No `except Exception` takes it."""

"""Our own agent on the Anthropic Messages API: a tool loop with bash and file tools.

Each turn streams one message (`messages.stream`), records its real usage, has its tool calls
carried out and sends the results back, until the model ends its turn, `max_turns` model calls are
used up, the task's cost cap is reached (asked between turns), or the timeout passes. The SDK is
imported only when a run starts, so configuring this backend costs nothing on ticks that do not
use it.

The API key stays in this process, and this process never carries out a tool call: each run starts
one tool host (`toolhost.py`) in the worktree, confined like any agent (`confine.py`, its box named
after the task), with the scrubbed environment and no credential at all, and sends it every call.
The host's process group is ended however the run ends; a host that dies ends the run as crashed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from orchestrator.adapters.agents import confine, failures, process, toolhost
from orchestrator.adapters.agents.base import Clock, Collector, compact, timeout_of, utc_now
from orchestrator.adapters.agents.environment import EnvPolicy, agent_env
from orchestrator.adapters.agents.toolhost import ToolHost
from orchestrator.adapters.agents.tools import TOOLS
from orchestrator.config.model import AgentBackend, Isolation
from orchestrator.core.agent import (
    OUTPUT_LIMIT,
    AgentEvent,
    AgentMessage,
    AgentOutcome,
    AgentRequest,
    OutcomeKind,
    ProcessStarted,
    SessionStarted,
    ToolCalled,
    ToolReturned,
    Usage,
    UsageReported,
    clip,
)
from orchestrator.errors import IsolationError, ToolHostError

if TYPE_CHECKING:
    import anthropic

DEFAULT_MODEL = "claude-sonnet-4-6"
MAX_TOKENS = 16_000
SYSTEM = (
    "You are a coding agent working in a git worktree, which is the current directory of your "
    "tools. Use the tools to read, change and test the code; give paths relative to the worktree. "
    "The orchestrator commits and pushes your work, so do not run git commit or git push. Before "
    "you finish, write the result file the task describes."
)
_RESET_HEADERS = (
    "anthropic-ratelimit-requests-reset",
    "anthropic-ratelimit-tokens-reset",
    "anthropic-ratelimit-input-tokens-reset",
    "anthropic-ratelimit-output-tokens-reset",
)
ClientFactory = Callable[[AgentBackend], "anthropic.Anthropic"]


class AnthropicApiAgent:
    """The `anthropic` backend.

    `walls` confine its tool host (None: a plain child, as under `agents.isolation: none`);
    `grace` is how long the host gets to exit at the end of a run.
    """

    def __init__(
        self,
        backend: AgentBackend,
        host_env: Mapping[str, str],
        policy: EnvPolicy,
        *,
        walls: confine.Walls | None = None,
        client_factory: ClientFactory | None = None,
        max_retries: int = 2,
        grace: float = 5.0,
        clock: Clock = utc_now,
    ) -> None:
        self.backend, self.host_env, self.policy, self.clock = backend, host_env, policy, clock
        self.walls, self.grace = walls, grace
        self.client_factory, self.max_retries = client_factory, max_retries

    @property
    def name(self) -> str:
        """Return the backend's name from the config."""
        return self.backend.name

    def run(self, request: AgentRequest, on_event: Callable[[AgentEvent], None]) -> AgentOutcome:
        """Run the tool loop in the worktree; see ports.Agent."""
        started = time.monotonic()
        collector = Collector(
            self.name,
            on_event,
            self.policy.secret_values,
            canary=request.canary,
            over_cap=request.over_cap,
        )
        key = self.backend.api_key
        if key is None or key.value is None:
            return collector.outcome(
                OutcomeKind.AUTH_FAILED, None, 0.0, f"api_key {key or ''} is not set".strip()
            )
        import anthropic  # only now: the SDK is heavy, and only this backend needs it

        client = (
            self.client_factory(self.backend)
            if self.client_factory
            else anthropic.Anthropic(
                api_key=key.reveal(), base_url=self.backend.base_url, max_retries=self.max_retries
            )
        )
        env = agent_env(
            self.host_env, self.policy, pass_env=self.backend.pass_env, fixed=dict(self.backend.env)
        )
        deadline = started + timeout_of(self.backend, request)
        try:
            with self._tool_host(request, env) as host:
                collector.emit(ProcessStarted(host.proc.pid))
                kind, error = _Loop(self, client, host, collector, deadline).run(request.prompt)
        except ToolHostError as exc:
            kind = OutcomeKind.TIMED_OUT if time.monotonic() >= deadline else OutcomeKind.CRASHED
            return collector.outcome(kind, None, time.monotonic() - started, str(exc))
        except IsolationError as exc:
            return collector.outcome(OutcomeKind.UNAVAILABLE, None, 0.0, str(exc))
        except anthropic.APIStatusError as exc:
            return self._failed(collector, exc, started)
        except anthropic.APITimeoutError:
            kind = (
                OutcomeKind.TIMED_OUT if time.monotonic() >= deadline else OutcomeKind.MODEL_ERROR
            )
            return collector.outcome(
                kind, None, time.monotonic() - started, "the model API did not answer in time"
            )
        except anthropic.APIConnectionError as exc:
            return collector.outcome(
                OutcomeKind.MODEL_ERROR, None, time.monotonic() - started, str(exc)
            )
        finally:
            client.close()
        code = 0 if kind is OutcomeKind.FINISHED else None
        return collector.outcome(kind, code, time.monotonic() - started, error)

    @contextmanager
    def _tool_host(self, request: AgentRequest, env: Mapping[str, str]) -> Iterator[ToolHost]:
        """Start the run's tool host in its box; end it, and remove the box, when the run ends."""
        worktree = Path(request.worktree)
        spec = process.Spec(toolhost.command(), worktree, env, grace=self.grace)
        box = confine.Box(
            self.walls or confine.Walls(Isolation.NONE, (), (), Path()),
            worktree,
            request.task_id,
            readable=(*(Path(path) for path in request.readable), *toolhost.readable()),
            canary=request.canary,
        )
        with confine.session(box) as wrap, ToolHost(wrap(spec)) as host:
            yield host

    def _failed(
        self, collector: Collector, exc: anthropic.APIStatusError, started: float
    ) -> AgentOutcome:
        """Map an API error to an outcome; a rate limit carries the reset the headers report."""
        text = f"{exc.status_code} {exc.message}"
        kind = failures.from_status(exc.status_code)
        if kind is None or (
            exc.status_code == 400 and failures.classify(text) is OutcomeKind.PROMPT_TOO_LARGE
        ):
            kind = failures.classify(text) or OutcomeKind.CRASHED
        reset = (
            _reset(exc.response.headers, self.clock())
            if kind is OutcomeKind.QUOTA_EXHAUSTED
            else None
        )
        return collector.outcome(kind, None, time.monotonic() - started, text, reset)


class _Loop:
    """One run's conversation: ask, record, run the tool calls, answer, until the model is done."""

    def __init__(
        self,
        agent: AnthropicApiAgent,
        client: anthropic.Anthropic,
        host: ToolHost,
        collector: Collector,
        deadline: float,
    ) -> None:
        self.agent, self.client, self.host, self.collector, self.deadline = (
            agent,
            client,
            host,
            collector,
            deadline,
        )
        self.model = agent.backend.model or DEFAULT_MODEL

    def run(self, prompt: str) -> tuple[OutcomeKind, str]:
        """Return how the loop ended, and why when it did not finish."""
        messages: list[Any] = [{"role": "user", "content": prompt}]
        for turn in range(self.agent.backend.max_turns):
            if turn and self.collector.turn_ended():  # each call's usage is reported already
                return (
                    OutcomeKind.COST_CAPPED,
                    "stopped at a turn boundary: the cost cap is reached",
                )
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                return OutcomeKind.TIMED_OUT, "timed out between turns"
            message = self._ask(messages, remaining)
            self._record(message)
            messages.append({"role": "assistant", "content": message.content})
            if message.stop_reason == "tool_use":
                messages.append({"role": "user", "content": self._carry_out(message)})
            elif message.stop_reason == "max_tokens":
                messages.append(
                    {"role": "user", "content": "Your reply hit the token limit; continue."}
                )
            elif message.stop_reason != "pause_turn":
                return OutcomeKind.FINISHED, ""
        return (
            OutcomeKind.TURN_LIMIT,
            f"used all {self.agent.backend.max_turns} turns without finishing",
        )

    def _ask(self, messages: list[Any], remaining: float) -> anthropic.types.Message:
        with self.client.messages.stream(
            model=self.model,
            max_tokens=MAX_TOKENS,
            system=SYSTEM,
            tools=cast(Any, TOOLS),
            messages=messages,
            timeout=remaining,
        ) as stream:
            return stream.get_final_message()

    def _record(self, message: anthropic.types.Message) -> None:
        if self.collector.session_id is None:
            self.collector.emit(SessionStarted(message.id, message.model))
        usage = message.usage
        cached = usage.cache_read_input_tokens or 0
        total_in = usage.input_tokens + cached + (usage.cache_creation_input_tokens or 0)
        self.collector.emit(UsageReported(Usage(total_in, usage.output_tokens, cached)))
        for block in message.content:
            if block.type == "text" and block.text.strip():
                self.collector.emit(AgentMessage(clip(block.text)))
            elif block.type == "tool_use":
                self.collector.emit(ToolCalled(block.id, block.name, clip(compact(block.input))))

    def _carry_out(self, message: anthropic.types.Message) -> list[dict[str, Any]]:
        results = []
        for block in message.content:
            if block.type != "tool_use":
                continue
            args = block.input if isinstance(block.input, dict) else {}
            output, failed = self.host.call(block.id, block.name, args, self.deadline)
            self.collector.emit(ToolReturned(block.id, clip(output, OUTPUT_LIMIT), failed))
            results.append(
                {
                    "type": "tool_result",
                    "tool_use_id": block.id,
                    "content": output,
                    "is_error": failed,
                }
            )
        return results


def _reset(headers: Mapping[str, str], now: datetime) -> datetime | None:
    """Return the latest reset the rate-limit headers report, else the retry-after, else None."""
    resets = [
        failures.reset_at(f"reset at {headers[name]}", now)
        for name in _RESET_HEADERS
        if name in headers
    ]
    found = [stamp for stamp in resets if stamp is not None]
    return max(found) if found else failures.retry_after(headers.get("retry-after"), now)

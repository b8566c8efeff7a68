"""Claude Code CLI as an agent: `claude -p --output-format stream-json --verbose`, prompt on stdin.

stream-json (Claude Code 2.1.330) prints `system/init` (session id, model), one `assistant` event
per content block (text, tool_use), `user` events carrying tool_result blocks, `system/api_retry`
while it retries, and a closing `result` with usage, `total_cost_usd`, `api_error_status` and
`permission_denials`. Permissions: `--permission-mode` (default acceptEdits: file edits inside the
worktree are accepted, outside it refused) plus `--allowedTools` (default Bash); anything else
would prompt, and with -p nobody answers, so it is denied. `--dangerously-skip-permissions` is not
used: Claude Code refuses it as root, and it would let the agent write anywhere.

Confined (`confine.py`), its private home gets the login directory (`~/.claude`, or
CLAUDE_CONFIG_DIR) bound read-write, so a refreshed login is kept, and a COPY of `~/.claude.json`:
Claude Code rewrites that file by renaming a new one over it, which a file bind refuses (EBUSY),
so it is copied in and what the CLI writes there is dropped with the home.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from orchestrator.adapters.agents import failures, process
from orchestrator.adapters.agents.base import CliAgent, Collector, compact, last_words, parse_json
from orchestrator.adapters.agents.environment import agent_env
from orchestrator.core.agent import (
    OUTPUT_LIMIT,
    AgentMessage,
    AgentOutcome,
    AgentRequest,
    Notice,
    OutcomeKind,
    SessionStarted,
    ToolCalled,
    ToolReturned,
    Usage,
    UsageReported,
    claude_cost,
    claude_usage,
    clip,
)

# Claude Code's own switches: no auto-update mid-task, no telemetry or start-up probe of the
# API host.
FIXED_ENV = {"DISABLE_AUTOUPDATER": "1", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"}
OWN_VARS = ("CLAUDE_CONFIG_DIR",)  # where Claude Code keeps its login, when not under HOME


class ClaudeCliAgent(CliAgent["ClaudeStream"]):
    """The `claude` backend."""

    program = "claude"

    def environment(self, request: AgentRequest) -> dict[str, str]:
        """Return the allowlist, the backend's env, its base URL and its API key (if configured)."""
        fixed = dict(FIXED_ENV) | dict(self.backend.env)
        if self.backend.base_url:
            fixed["ANTHROPIC_BASE_URL"] = self.backend.base_url
        key = self.backend.api_key
        credential = {"ANTHROPIC_API_KEY": key.reveal()} if key is not None else {}
        return agent_env(
            self.host_env,
            self.policy,
            pass_env=(*OWN_VARS, *self.backend.pass_env),
            fixed=fixed,
            credential=credential,
        )

    def home_binds(self) -> tuple[tuple[str, Path], ...]:
        """Return the login directory, bound at `~/.claude` in the private home."""
        login = self._config_dir()
        return ((".claude", login),) if login is not None else ()

    def home_copies(self) -> tuple[tuple[str, Path], ...]:
        """Return `~/.claude.json` (unless CLAUDE_CONFIG_DIR holds it), copied into the home."""
        home = self.host_home()
        if self._own_config_dir() or home is None:
            return ()
        return ((".claude.json", home / ".claude.json"),)

    def rehome(self, env: Mapping[str, str], home: Path, binary: str) -> dict[str, str]:
        """Point CLAUDE_CONFIG_DIR, where the host set one, at its bind in the private home."""
        moved = dict(env)
        if "CLAUDE_CONFIG_DIR" in moved:
            moved["CLAUDE_CONFIG_DIR"] = str(home / ".claude")
        return moved

    def _own_config_dir(self) -> str:
        return self.backend.env.get("CLAUDE_CONFIG_DIR") or self.host_env.get(
            "CLAUDE_CONFIG_DIR", ""
        )

    def _config_dir(self) -> Path | None:
        own, home = self._own_config_dir(), self.host_home()
        if own:
            return Path(own).expanduser()
        return home / ".claude" if home is not None else None

    def argv(self, binary: str, request: AgentRequest) -> tuple[str, ...]:
        """Return `claude -p` with stream-json output and the permission switches."""
        argv = [
            binary,
            "-p",
            "--output-format",
            "stream-json",
            "--verbose",
            "--permission-mode",
            self.backend.permission_mode,
        ]
        if self.backend.allowed_tools:
            argv += ["--allowedTools", ",".join(self.backend.allowed_tools)]
        if self.backend.model:
            argv += ["--model", self.backend.model]
        return tuple(argv)

    def stdin(self, request: AgentRequest) -> str | None:
        """Return the prompt: Claude Code reads it from stdin, so its size is no argv limit."""
        return request.prompt

    def reader(self, collector: Collector) -> ClaudeStream:
        """Return the stream-json reader."""
        return ClaudeStream(self, collector)

    def conclude(
        self, ended: process.Exit, collector: Collector, reader: ClaudeStream
    ) -> AgentOutcome:
        """Classify the end from the `result` event's error status and text, then the exit code."""
        result = reader.result
        failed = ended.returncode != 0 or (result is not None and bool(result.get("is_error")))
        if not failed:
            return collector.outcome(OutcomeKind.FINISHED, ended.returncode, ended.duration_s)
        text = " ".join([*collector.errors, *ended.stderr_tail[-5:]])
        if result is not None and result.get("subtype") == "error_max_turns":
            kind: OutcomeKind | None = OutcomeKind.TURN_LIMIT
        else:
            kind = failures.from_status(reader.api_status) or failures.classify(text)
        kind = kind or OutcomeKind.CRASHED
        reset = (
            failures.reset_at(text, self.clock()) if kind is OutcomeKind.QUOTA_EXHAUSTED else None
        )
        return collector.outcome(
            kind, ended.returncode, ended.duration_s, last_words(collector, ended, "claude"), reset
        )


class ClaudeStream:
    """Turns stream-json lines into events, keeping the `result` and the API error status.

    Each assistant message shows its usage (every content block repeats it), but the run's usage
    is reported only by the closing `result`. So the messages' usage is kept apart, by message
    id, and offered to the cost cap at each turn boundary: a `user` event, which carries the
    results of the tools the turn called, before the next model call.
    """

    def __init__(self, agent: ClaudeCliAgent, collector: Collector) -> None:
        self.agent, self.collector = agent, collector
        self.result: dict[str, Any] | None = None
        self.api_status: int | None = None
        self.shown: dict[str, Usage] = {}  # assistant message id -> the usage it showed

    def __call__(self, stream: str, line: str) -> None:
        event = parse_json(line) if stream == "stdout" else None
        if event is None:
            self.agent.emit_line(self.collector, stream, line)
            return
        handler = {
            "system": self._system,
            "assistant": self._assistant,
            "user": self._user,
            "result": self._result,
        }.get(str(event.get("type")))
        if handler is not None:
            handler(event)

    def _system(self, event: dict[str, Any]) -> None:
        if event.get("subtype") == "init" and event.get("session_id"):
            self.collector.emit(SessionStarted(str(event["session_id"]), _str(event.get("model"))))
        elif event.get("subtype") == "api_retry":
            self.collector.emit(
                Notice(
                    f"API retry {event.get('attempt')}: status {event.get('error_status')} "
                    f"{event.get('error', '')}".strip()
                )
            )

    def _assistant(self, event: dict[str, Any]) -> None:
        if event.get("error"):
            self.api_status = _int(event.get("api_error_status")) or self.api_status
        message = event.get("message")
        if isinstance(message, dict) and isinstance(message.get("usage"), dict):
            self.shown[str(message.get("id"))] = claude_usage(message["usage"])
        for block in _blocks(event):
            if block.get("type") == "text" and str(block.get("text", "")).strip():
                self.collector.emit(AgentMessage(clip(str(block["text"]))))
            elif block.get("type") == "tool_use":
                self.collector.emit(
                    ToolCalled(
                        str(block.get("id")),
                        str(block.get("name")),
                        clip(compact(block.get("input", {}))),
                    )
                )

    def _user(self, event: dict[str, Any]) -> None:
        self._turn_ended()
        for block in _blocks(event):
            if block.get("type") == "tool_result":
                self.collector.emit(
                    ToolReturned(
                        str(block.get("tool_use_id")),
                        clip(_text(block.get("content")), OUTPUT_LIMIT),
                        bool(block.get("is_error", False)),
                    )
                )

    def _result(self, event: dict[str, Any]) -> None:
        self.result = event
        self.api_status = _int(event.get("api_error_status")) or self.api_status
        if event.get("session_id") and self.collector.session_id is None:
            self.collector.session_id = str(event["session_id"])
        reported = event.get("usage")
        usage = claude_usage(reported if isinstance(reported, dict) else {})
        known = claude_cost(event.get("total_cost_usd"))
        self.collector.emit(UsageReported(replace(usage, cost_usd=known)))
        for denial in event.get("permission_denials") or []:
            if isinstance(denial, dict):
                self.collector.emit(
                    Notice(
                        clip(
                            f"permission denied: {denial.get('tool_name')} "
                            f"{compact(denial.get('tool_input', {}))}",
                            OUTPUT_LIMIT,
                        )
                    )
                )
        text = str(event.get("result") or "")
        if event.get("is_error"):
            self.collector.errors.append(clip(text or str(event.get("subtype", "error")), 500))
        elif text.strip():
            self.collector.final = text

    def _turn_ended(self) -> None:
        """Ask the cost cap, with the usage the run's messages showed and nothing reported."""
        if self.result is None:
            shown = sum(self.shown.values(), Usage())
            self.collector.turn_ended(shown)


def _blocks(event: dict[str, Any]) -> list[dict[str, Any]]:
    message = event.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    return (
        [block for block in content if isinstance(block, dict)] if isinstance(content, list) else []
    )


def _text(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None

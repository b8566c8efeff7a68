"""The Codex CLI as an agent: `codex exec --json --sandbox workspace-write`, stdin from /dev/null.

`codex exec --json` (0.169.0) prints `thread.started` (the session id), `turn.started`,
`item.started` / `item.completed` for command executions, file changes, MCP calls and web
searches, `item.completed` agent messages, `turn.completed` with usage, and `error` /
`turn.failed` when the model API fails. The prompt is the last argument (after `--`): Codex
reads a stdin that is not a terminal and would wait on it, so stdin is /dev/null. A `base_url`
becomes a model provider given with `-c` (nothing is written to the user's CODEX_HOME), and the
backend's key goes in CODEX_API_KEY, which Codex's shell environment policy keeps out of the
commands the agent runs.

`codex exec` is one turn, so its usage comes only when its run ends: a task's cost cap is not
asked mid-run; the chain checks it after the run, and `timeout_minutes` bounds the overrun
(docs/agents.md, "Cost caps").
"""

from __future__ import annotations

import json
from collections.abc import Mapping
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
    clip,
)

KEY_VAR = "CODEX_API_KEY"
OWN_VARS = ("CODEX_HOME",)  # where Codex keeps its login and config, when not ~/.codex
PROVIDER = "agentos"
_TOOL_ITEMS = ("command_execution", "file_change", "mcp_tool_call", "web_search")


class CodexCliAgent(CliAgent["CodexStream"]):
    """The `codex` backend."""

    program = "codex"

    def environment(self, request: AgentRequest) -> dict[str, str]:
        """Return the allowlist, the backend's env and its API key (if configured)."""
        key = self.backend.api_key
        credential = {KEY_VAR: key.reveal()} if key is not None else {}
        return agent_env(
            self.host_env,
            self.policy,
            pass_env=(*OWN_VARS, *self.backend.pass_env),
            fixed=dict(self.backend.env),
            credential=credential,
        )

    def home_binds(self) -> tuple[tuple[str, Path], ...]:
        """Return Codex's home (CODEX_HOME, else `~/.codex`), bound at `~/.codex`."""
        own = self.backend.env.get("CODEX_HOME") or self.host_env.get("CODEX_HOME", "")
        home = self.host_home()
        if own:
            return ((".codex", Path(own).expanduser()),)
        return ((".codex", home / ".codex"),) if home is not None else ()

    def rehome(self, env: Mapping[str, str], home: Path, binary: str) -> dict[str, str]:
        """Point CODEX_HOME at its bind, and put `codex-linux-sandbox` on PATH."""
        helpers = codex_helpers(Path(binary), home)
        path = f"{helpers}:{env['PATH']}" if env.get("PATH") else str(helpers)
        return dict(env) | {"CODEX_HOME": str(home / ".codex"), "PATH": path}

    def argv(self, binary: str, request: AgentRequest) -> tuple[str, ...]:
        """Return `codex exec --json` in its sandbox with provider overrides, the prompt last."""
        argv = [
            binary,
            "exec",
            "--json",
            "--skip-git-repo-check",
            "--sandbox",
            self.backend.sandbox,
            "-c",
            f"shell_environment_policy.exclude={json.dumps([KEY_VAR, 'OPENAI_API_KEY'])}",
        ]
        if self.backend.base_url:
            provider = {
                "name": "Agent OS",
                "base_url": self.backend.base_url,
                "wire_api": "responses",
            }
            if self.backend.api_key is not None:
                provider["env_key"] = KEY_VAR
            argv += ["-c", f"model_provider={json.dumps(PROVIDER)}"]
            for key, value in provider.items():
                argv += ["-c", f"model_providers.{PROVIDER}.{key}={json.dumps(value)}"]
        if self.backend.model:
            argv += ["--model", self.backend.model]
        return (*argv, "--", request.prompt)

    def stdin(self, request: AgentRequest) -> str | None:
        """Return None: stdin is /dev/null."""
        return None

    def reader(self, collector: Collector) -> CodexStream:
        """Return the JSONL reader."""
        return CodexStream(self, collector)

    def conclude(
        self, ended: process.Exit, collector: Collector, reader: CodexStream
    ) -> AgentOutcome:
        """Classify the end: a failed turn's message, then the exit code."""
        if ended.returncode == 0 and not reader.failed:
            return collector.outcome(OutcomeKind.FINISHED, ended.returncode, ended.duration_s)
        text = " ".join([*collector.errors, *ended.stderr_tail[-5:]])
        kind = failures.classify(text) or OutcomeKind.CRASHED
        reset = (
            failures.reset_at(text, self.clock()) if kind is OutcomeKind.QUOTA_EXHAUSTED else None
        )
        return collector.outcome(
            kind, ended.returncode, ended.duration_s, last_words(collector, ended, "codex"), reset
        )


class CodexStream:
    """Turns `codex exec --json` lines into events, noting whether a turn failed."""

    def __init__(self, agent: CodexCliAgent, collector: Collector) -> None:
        self.agent, self.collector = agent, collector
        self.failed = False
        self._called: set[str] = set()

    def __call__(self, stream: str, line: str) -> None:
        event = parse_json(line) if stream == "stdout" else None
        if event is None:
            self.agent.emit_line(self.collector, stream, line)
            return
        kind = str(event.get("type"))
        item = event.get("item") if isinstance(event.get("item"), dict) else None
        if kind == "thread.started" and event.get("thread_id"):
            self.collector.emit(SessionStarted(str(event["thread_id"]), self.agent.backend.model))
        elif kind == "item.started" and item is not None:
            self._call(item)
        elif kind == "item.completed" and item is not None:
            self._completed(item)
        elif kind == "turn.completed" and isinstance(event.get("usage"), dict):
            self.collector.emit(UsageReported(_usage(event["usage"])))
        elif kind in ("turn.failed", "error"):
            error = event.get("error")
            message = (
                str(error.get("message", ""))
                if isinstance(error, dict)
                else str(event.get("message", ""))
            )
            self.failed = self.failed or kind == "turn.failed"
            self.collector.errors.append(clip(message, 500))
            self.collector.emit(Notice(clip(f"{kind}: {message}", OUTPUT_LIMIT)))

    def _call(self, item: dict[str, Any]) -> None:
        kind, item_id = str(item.get("type")), str(item.get("id"))
        if kind not in _TOOL_ITEMS or item_id in self._called:
            return
        self._called.add(item_id)
        if kind == "command_execution":
            name, arguments = "command", str(item.get("command", ""))
        elif kind == "mcp_tool_call":
            name, arguments = (
                f"{item.get('server')}.{item.get('tool')}",
                compact(item.get("arguments", {})),
            )
        elif kind == "web_search":
            name, arguments = "web_search", str(item.get("query", ""))
        else:
            name, arguments = "file_change", compact(item.get("changes", []))
        self.collector.emit(ToolCalled(item_id, name, clip(arguments)))

    def _completed(self, item: dict[str, Any]) -> None:
        kind, item_id = str(item.get("type")), str(item.get("id"))
        if kind == "agent_message" and str(item.get("text", "")).strip():
            self.collector.emit(AgentMessage(clip(str(item["text"]))))
        elif kind == "error":
            self.collector.emit(Notice(clip(str(item.get("message", "")), OUTPUT_LIMIT)))
        elif kind in _TOOL_ITEMS:
            self._call(item)
            failed = item.get("status") == "failed" or item.get("exit_code") not in (None, 0)
            self.collector.emit(ToolReturned(item_id, clip(_output(item), OUTPUT_LIMIT), failed))


def _output(item: dict[str, Any]) -> str:
    if item.get("type") == "command_execution":
        return str(item.get("aggregated_output", ""))
    if item.get("type") == "mcp_tool_call":
        return compact(item.get("error") or item.get("result") or "")
    return str(item.get("status", ""))


def _usage(raw: dict[str, Any]) -> Usage:
    def number(key: str) -> int:
        value = raw.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    return Usage(number("input_tokens"), number("output_tokens"), number("cached_input_tokens"))


def codex_helpers(binary: Path, home: Path) -> Path:
    """Return a folder in `home` holding `codex-linux-sandbox`, the name Codex runs itself by.

    Codex runs its commands under bwrap by that name when a system bwrap exists. It makes the link
    itself under CODEX_HOME, but refuses to when CODEX_HOME is under the temporary folder, and a
    system bwrap then cannot find it (openai/codex#24341); this link, on PATH, is found instead.
    """
    modules = next((p for p in binary.resolve().parents if p.name == "node_modules"), None)
    native = next(modules.glob("@openai/codex-*/vendor/*/bin/codex"), None) if modules else None
    folder = home / "codex-helpers"
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / "codex-linux-sandbox"
    if native is not None and not link.exists():
        link.symlink_to(native)
    return folder

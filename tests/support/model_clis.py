"""Run the real agent CLIs against a model sandbox.

An isolated home, the env and argv, and the run itself.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from orchestrator.adapters.agents.codex_cli import codex_helpers
from orchestrator.sandbox.models.script import Json

SANDBOX_KEY = "sandbox-key"
CLAUDE_MODEL = "claude-sonnet-4-5"
CLAUDE_TOOLS = ("Bash", "Write", "Edit", "Read")
CODEX_MODEL = "fake-model"
CODEX_KEY_VAR = "AGENTOS_SANDBOX_MODEL_KEY"
# The host's variables a CLI needs to work at all; everything else it might read is left behind.
_PASSED = ("PATH", "LANG", "LC_ALL", "TZ", "TMPDIR")


@dataclass(frozen=True, slots=True)
class Invocation:
    """How to start one CLI run: argv, environment, working directory and what goes to stdin."""

    argv: tuple[str, ...]
    env: dict[str, str]
    cwd: Path
    stdin: str | None  # None: /dev/null


@dataclass(frozen=True, slots=True)
class Outcome:
    """A finished CLI run: exit status, raw output, and the JSON lines it printed on stdout."""

    returncode: int
    stdout: str
    stderr: str
    events: tuple[dict[str, Json], ...]

    def of_type(self, kind: str) -> list[dict[str, Json]]:
        """Return the events whose `type` is `kind`, in order."""
        return [event for event in self.events if event.get("type") == kind]


def prepare_claude(
    binary: Path,
    base_url: str,
    prompt: str,
    workdir: Path,
    home: Path,
    *,
    model: str = CLAUDE_MODEL,
    tools: tuple[str, ...] = CLAUDE_TOOLS,
    max_retries: int | None = None,
) -> Invocation:
    """Prepare `claude -p` with stream-json output against an Anthropic sandbox.

    The prompt goes on stdin.
    """
    env = _base_env(home) | {
        "ANTHROPIC_BASE_URL": base_url,
        "ANTHROPIC_API_KEY": SANDBOX_KEY,
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",  # no telemetry, no HEAD /api/hello probe
        "DISABLE_AUTOUPDATER": "1",
    }
    if max_retries is not None:
        env["CLAUDE_CODE_MAX_RETRIES"] = str(max_retries)
    argv = (
        str(binary),
        "-p",
        "--output-format",
        "stream-json",
        "--verbose",
        "--allowedTools",
        ",".join(tools),
        "--model",
        model,
    )
    return Invocation(argv, env, workdir, prompt)


def prepare_codex(
    binary: Path,
    base_url: str,
    prompt: str,
    workdir: Path,
    home: Path,
    *,
    model: str = CODEX_MODEL,
    max_retries: int | None = None,
) -> Invocation:
    """Prepare `codex exec --json` in a workspace-write sandbox.

    It is configured by a fresh CODEX_HOME.
    """
    codex_home = home / ".codex"
    codex_home.mkdir(parents=True, exist_ok=True)
    (codex_home / "config.toml").write_text(
        codex_config(base_url, model, max_retries), encoding="utf-8"
    )
    env = _base_env(home) | {"CODEX_HOME": str(codex_home), CODEX_KEY_VAR: SANDBOX_KEY}
    env["PATH"] = f"{codex_helpers(binary, home)}:{env.get('PATH', '')}"
    argv = (
        str(binary),
        "exec",
        "--json",
        "--skip-git-repo-check",
        "--sandbox",
        "workspace-write",
        prompt,
    )
    # codex reads a stdin that is not a terminal: give it none
    return Invocation(argv, env, workdir, None)


def codex_config(base_url: str, model: str = CODEX_MODEL, max_retries: int | None = None) -> str:
    """Return a config.toml that points Codex at a Responses sandbox (`wire_api = "responses"`)."""
    lines = [
        "check_for_update_on_startup = false",
        f"model = {json.dumps(model)}",
        'model_provider = "sandbox"',
        "[model_providers.sandbox]",
        'name = "Agent OS sandbox"',
        f"base_url = {json.dumps(base_url)}",
        'wire_api = "responses"',
        f"env_key = {json.dumps(CODEX_KEY_VAR)}",
    ]
    if max_retries is not None:
        lines += [f"request_max_retries = {max_retries}", f"stream_max_retries = {max_retries}"]
    # Without these Codex reaches for github.com (plugin marketplace), api.github.com and
    # chatgpt.com.
    lines += [
        "[analytics]",
        "enabled = false",
        "[features]",
        "plugins = false",
        "remote_plugin = false",
        "apps = false",
    ]
    return "\n".join(lines) + "\n"


def run(invocation: Invocation, timeout: float = 60) -> Outcome:
    """Run the CLI to completion and parse the JSON lines of its stdout.

    Other lines are skipped.
    """
    done = subprocess.run(
        invocation.argv,
        input=invocation.stdin,
        stdin=subprocess.DEVNULL if invocation.stdin is None else None,
        env=invocation.env,
        cwd=invocation.cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Outcome(done.returncode, done.stdout, done.stderr, tuple(_json_lines(done.stdout)))


def _base_env(home: Path) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    return {name: os.environ[name] for name in _PASSED if name in os.environ} | {"HOME": str(home)}


def _json_lines(text: str) -> list[dict[str, Json]]:
    events = []
    for line in text.splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            events.append(value)
    return events

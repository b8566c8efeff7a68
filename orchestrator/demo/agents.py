"""Which agent the demo runs: `anthropic` on the scripted model, or a real CLI the user has set up.

For `claude` and `codex` the CLI must be installed (on PATH, or pinned under tools/npm by
`make npm-tools`) and logged in (its own login under HOME, or an API key in the environment);
otherwise the demo says which of the two is missing and how to fix it, before it starts anything.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestrator.errors import UsageError

SCRIPTED_KEY_VAR = "AGENTOS_DEMO_MODEL_KEY"
SCRIPTED_MODEL = "claude-sonnet-4-6"
_PACKAGES = {"claude": "@anthropic-ai/claude-code", "codex": "@openai/codex"}
_KEY_VARS = {"claude": "ANTHROPIC_API_KEY", "codex": "OPENAI_API_KEY"}


@dataclass(frozen=True, slots=True)
class AgentChoice:
    """The backend the demo's config gets, how output names it, the variables its `$VAR`s need."""

    name: str
    backend: dict[str, Any]
    described: str
    scripted: bool
    env: dict[str, str] = field(default_factory=dict)
    timeout_s: float = 240.0  # the whole demo's default time limit


def scripted(model_url: str) -> AgentChoice:
    """Return the `anthropic` backend pointed at the scripted model server."""
    backend = {
        "type": "anthropic",
        "api_key": f"${SCRIPTED_KEY_VAR}",
        "base_url": model_url,
        "model": SCRIPTED_MODEL,
        "max_turns": 30,
        "timeout_minutes": 3,
    }
    said = (
        "The model is SCRIPTED: a local stand-in for the Anthropic API answers with prepared turns "
        "(orchestrator/demo/scripts.py).\n"
        "Everything else is real: the `anthropic` backend's tool loop and "
        "tools, git, the tests, CI, and every GitHub call (to the local sandbox)."
    )
    return AgentChoice("anthropic", backend, said, True, {SCRIPTED_KEY_VAR: "sandbox-model-key"})


def real(name: str, environ: Mapping[str, str], pinned: Path | None = None) -> AgentChoice:
    """Return the backend for a real CLI, or raise UsageError saying what is missing."""
    binary = find_binary(name, environ, pinned)
    if binary is None:
        raise UsageError(
            f"--agent {name} needs the `{name}` CLI, which is not installed: npm install -g "
            f"{_PACKAGES[name]} (or `make npm-tools`), log in once, then run the demo again"
        )
    key_var = _KEY_VARS[name]
    has_key = bool(environ.get(key_var))
    if not has_key and not logged_in(name, environ):
        raise UsageError(
            f"--agent {name}: `{binary}` is installed but not logged in: run `{name}` once and log "
            f"in, or set {key_var}, then run the demo again"
        )
    backend: dict[str, Any] = {"type": name, "binary": str(binary), "timeout_minutes": 20}
    if name == "claude":
        backend["allowed_tools"] = ["Bash", "Read", "Edit", "Write"]
    if has_key:
        backend["api_key"] = f"${key_var}"
    said = (
        f"The agent is the real `{name}` CLI ({binary}) with its real model: it uses your "
        f"{'API key' if has_key else 'login'} and its usage counts."
    )
    return AgentChoice(name, backend, said, False, timeout_s=1800.0)


def find_binary(name: str, environ: Mapping[str, str], pinned: Path | None = None) -> Path | None:
    """Return the CLI on PATH, else the one `make npm-tools` pinned, else None."""
    found = shutil.which(name, path=environ.get("PATH", ""))
    if found:
        return Path(found)
    candidate = (pinned or _PINNED) / name
    return candidate if candidate.is_file() and os.access(candidate, os.X_OK) else None


def logged_in(name: str, environ: Mapping[str, str]) -> bool:
    """Tell whether the CLI has a login of its own under HOME (or CODEX_HOME, CLAUDE_CONFIG_DIR)."""
    home = Path(environ.get("HOME") or "~").expanduser()
    if name == "codex":
        codex_home = Path(environ.get("CODEX_HOME") or home / ".codex")
        return (codex_home / "auth.json").is_file()
    config_dir = Path(environ.get("CLAUDE_CONFIG_DIR") or home / ".claude")
    if (config_dir / ".credentials.json").is_file():
        return True
    try:
        return '"oauthAccount"' in (home / ".claude.json").read_text(encoding="utf-8")
    except OSError:
        return False


_PINNED = Path(__file__).resolve().parents[2] / "tools" / "npm" / "node_modules" / ".bin"

"""The agent-backend keys beyond the basics: model endpoint, environment, each CLI's permissions."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from orchestrator.config.model import AgentBackend, AgentType, Config, Secret
from orchestrator.config.reader import Reader, join, show

KEYS = ("base_url", "env", "pass_env", "permission_mode", "allowed_tools", "sandbox")
# Never in an agent's environment, whatever the config says.
NEVER = frozenset(
    {"GITHUB_TOKEN", "GH_TOKEN", "GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN", "GITHUB_PAT"}
)
NEVER_PREFIXES = ("TELEGRAM_", "AGENTOS_SECRET")
# Claude Code 2.1
PERMISSION_MODES = ("acceptEdits", "auto", "bypassPermissions", "manual", "dontAsk", "plan")
SANDBOXES = ("read-only", "workspace-write", "danger-full-access")  # Codex 0.169
PLACEHOLDERS = ("prompt_file", "worktree", "task_id")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_CLIS = (AgentType.CLAUDE, AgentType.CODEX)
_MODELS = (*_CLIS, AgentType.ANTHROPIC)
# The keys only some types use: on another type a key would be silently meaningless.
_ONLY = {
    "permission_mode": (AgentType.CLAUDE,),
    "allowed_tools": (AgentType.CLAUDE,),
    "sandbox": (AgentType.CODEX,),
    "binary": _CLIS,
    "model": _MODELS,
    "base_url": _MODELS,
    "max_turns": (AgentType.ANTHROPIC,),
}


def extras(r: Reader, node: Mapping[str, Any], path: str, kind: AgentType) -> dict[str, Any]:
    """Read the extra backend keys into AgentBackend keyword arguments (defaults where absent)."""
    for key, owners in _ONLY.items():
        if node.get(key) is not None and kind not in owners:
            *others, last = (t.value for t in owners)
            names = f"{', '.join(others)} and {last}" if others else last
            r.fail(join(path, key), f"only {names} backends take {key}, this one is {kind.value}")
    found: dict[str, Any] = {
        "env": _env(r, node.get("env"), join(path, "env")),
        "pass_env": _names(r, node, "pass_env", path),
    }
    base_url = r.string(node, "base_url", path, default=None)
    if base_url is not None and not base_url.startswith(("http://", "https://")):
        r.fail(join(path, "base_url"), f"expected an http(s) URL, got {show(base_url)}")
    found["base_url"] = base_url.rstrip("/") if base_url else None
    if kind is AgentType.CLAUDE:
        found["permission_mode"] = _choice(
            r, node, "permission_mode", path, PERMISSION_MODES, "acceptEdits"
        )
        if "allowed_tools" in node:
            found["allowed_tools"] = r.strings(node, "allowed_tools", path)
    if kind is AgentType.CODEX:
        found["sandbox"] = _choice(r, node, "sandbox", path, SANDBOXES, "workspace-write")
    if kind is AgentType.COMMAND:
        _placeholders(r, r.strings(node, "argv", path), join(path, "argv"))
    return found


def check_leaks(r: Reader, backends: Mapping[str, AgentBackend], secrets: Iterable[Secret]) -> None:
    """Refuse `env` / `pass_env` names that are `$VAR`s the config resolves.

    They would hand an agent a secret.
    """
    names = {secret.var for secret in secrets}
    for backend in backends.values():
        path = join("agents.backends", backend.name)
        for key, given in (("env", tuple(backend.env)), ("pass_env", backend.pass_env)):
            for name in given:
                if name in names:
                    r.fail(
                        join(join(path, key), name) if key == "env" else join(path, key),
                        f"${name} is a secret of this config and never reaches an agent",
                    )


def secrets_of(config: Config) -> list[Secret]:
    """Return every `$VAR` reference the config holds: the GitHub tokens (the review identity's
    too), Telegram's, the agents' keys, the webhooks' secret."""
    found = [
        config.github.token,
        *(b.api_key for b in config.agents.backends.values() if b.api_key),
    ]
    found += [config.review.token] if config.review.token else []
    found += [config.webhooks.secret] if config.webhooks else []
    return found + ([config.telegram.token] if config.telegram else [])


def secret_values(config: Config) -> tuple[str, ...]:
    """Return the resolved values of the config's secrets (unresolved ones have none)."""
    return tuple(secret.value for secret in secrets_of(config) if secret.value)


def forbidden(name: str) -> bool:
    """Tell whether a variable name is one no agent may ever receive."""
    return name in NEVER or name.startswith(NEVER_PREFIXES)


def _env(r: Reader, value: Any, path: str) -> Mapping[str, str]:
    node = r.mapping(value, path, ()) if not isinstance(value, dict) else value
    result: dict[str, str] = {}
    for name, setting in node.items():
        dotted = join(path, name)
        if not _valid_name(r, str(name), dotted):
            continue
        if isinstance(setting, bool) or not isinstance(setting, (str, int, float)):
            r.fail(dotted, f"expected a string, got {show(setting)}")
        elif isinstance(setting, str) and setting.startswith("$"):
            r.fail(
                dotted, "takes literal values only; a secret goes in api_key as a $VAR reference"
            )
        else:
            result[str(name)] = str(setting)
    return MappingProxyType(result)


def _names(r: Reader, node: Mapping[str, Any], key: str, path: str) -> tuple[str, ...]:
    names = r.strings(node, key, path)
    return tuple(
        name for i, name in enumerate(names) if _valid_name(r, name, join(join(path, key), i))
    )


def _valid_name(r: Reader, name: str, dotted: str) -> bool:
    if not _NAME.match(name):
        r.fail(dotted, f"expected an environment variable name, got {show(name)}")
        return False
    if forbidden(name):
        r.fail(
            dotted,
            f"{name} never reaches an agent "
            "(GitHub and Telegram tokens stay with the orchestrator)",
        )
        return False
    return True


def _choice(
    r: Reader, node: Mapping[str, Any], key: str, path: str, choices: tuple[str, ...], default: str
) -> str:
    value = node.get(key, default)
    if value not in choices:
        r.fail(join(path, key), f"expected one of {' | '.join(choices)}, got {show(value)}")
        return default
    return str(value)


def _placeholders(r: Reader, argv: tuple[str, ...], path: str) -> None:
    for i, arg in enumerate(argv):
        for name in _PLACEHOLDER.findall(arg):
            if name not in PLACEHOLDERS:
                known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
                r.fail(join(path, i), f"unknown placeholder {{{name}}} (known: {known})")

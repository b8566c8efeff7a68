"""The agent's environment: allowed host variables plus the backend's own credential, nothing else.

No GitHub or Telegram token and no other variable the config resolves as a `$VAR` ever reaches an
agent, by name or by value: a passed-through variable whose value contains one of the config's
secrets is dropped too, so `pass_env: [MY_VAR]` cannot smuggle the GitHub token out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from orchestrator.config.backend_keys import forbidden, secrets_of
from orchestrator.config.model import Config, Secret

# What a CLI needs to find programs, its home, the locale, temp space and CA certificates.
ALLOWED = (
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "LC_CTYPE",
    "LC_MESSAGES",
    "TZ",
    "TMPDIR",
    "XDG_CONFIG_HOME",
    "XDG_CACHE_HOME",
    "XDG_DATA_HOME",
    "XDG_STATE_HOME",
    "XDG_RUNTIME_DIR",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "NODE_EXTRA_CA_CERTS",
)
_MIN_SECRET = 8  # shorter values would match by accident (and are no secret worth the name)


@dataclass(frozen=True, slots=True)
class EnvPolicy:
    """The variables (by name) and values the orchestrator holds that no agent may see."""

    secret_names: frozenset[str] = frozenset()
    secret_values: tuple[str, ...] = ()

    def forbids(self, name: str, value: str) -> bool:
        """Tell whether a variable may not reach an agent.

        It may not if it is a token by name, or if any config secret is inside it.
        """
        if forbidden(name) or name in self.secret_names:
            return True
        return any(secret in value for secret in self.secret_values)


def policy_for(config: Config) -> EnvPolicy:
    """Return the policy that keeps every `$VAR` the config resolves away from agents."""
    return policy_of(secrets_of(config))


def policy_of(secrets: Iterable[Secret]) -> EnvPolicy:
    """Return the policy for these secret references (their values, where resolved)."""
    items = list(secrets)
    values = tuple(s.value for s in items if s.value is not None and len(s.value) >= _MIN_SECRET)
    return EnvPolicy(frozenset(s.var for s in items), values)


def agent_env(
    host: Mapping[str, str],
    policy: EnvPolicy,
    *,
    pass_env: Iterable[str] = (),
    fixed: Mapping[str, str] | None = None,
    credential: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Build an agent's whole environment.

    `host` is the orchestrator's environment: only the allowlist and `pass_env` names are taken from
    it; `fixed` adds literal settings (the backend's `env`, the CLI's switches); `credential` is the
    backend's own model key under the name its CLI reads, the one secret an agent may hold.
    """
    env: dict[str, str] = {}
    for name in dict.fromkeys((*ALLOWED, *pass_env)):
        value = host.get(name)
        if value is not None and not policy.forbids(name, value):
            env[name] = value
    for name, value in (fixed or {}).items():
        if not policy.forbids(name, value):
            env[name] = value
    env.update(credential or {})
    return env


def rehomed(env: Mapping[str, str], home: Path, hidden: Callable[[str], bool]) -> dict[str, str]:
    """Return a confined agent's environment: HOME and TMPDIR in its private home.

    The host's XDG_* folders that the walls hide are dropped (the CLI falls back to the home's).
    """
    kept = {
        name: value
        for name, value in env.items()
        if not (name.startswith("XDG_") and hidden(value))
    }
    return kept | {"HOME": str(home), "TMPDIR": str(home / "tmp")}

"""Turn each section of a parsed config into its typed model, reporting problems to a Reader."""

from __future__ import annotations

import re
from pathlib import Path
from types import MappingProxyType
from typing import Any

from orchestrator.config import backend_keys, cron_fields, outbound_rules, places
from orchestrator.config.model import (
    AgentBackend,
    AgentsConfig,
    AgentType,
    AutomationMode,
    BoardRef,
    DispatcherConfig,
    GitHubConfig,
    Isolation,
    Limits,
    MergeMethod,
    RepoConfig,
    TelegramConfig,
    default_graphql_url,
)
from orchestrator.config.reader import MISSING, Reader, join, label, show
from orchestrator.core.board import STATUS_KEYS, status_names
from orchestrator.core.outbound import OutboundRules

_GITHUB_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
_REPO_KEY = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_REPO_KEYS = (
    "key",
    "github",
    "local_path",
    "base_branch",
    "test_command",
    "board",
    "automation_mode",
    "max_parallel_tasks",
    "merge_method",
    "outbound",
    "review",
    "require_checks",
    "max_awaiting_review",
    "acceptance_command",
    "plan_file",
    "merge_train",
    "serialize_overlaps",
)
MAX_PARALLEL = 256  # tasks at once, per repo or in all: each is a process and a worktree
MAX_AWAITING_REVIEW = 1000  # PRs waiting for a person, per repo
MAX_PLAN_PATH = 300  # characters of `repos[].plan_file`
TELEGRAM_ID = 2**53  # Telegram ids have at most 52 significant bits
# Upper bounds of `limits`: past these a value is a slip of the keyboard, not a wish.
LIMIT_MAXIMA = {
    "max_parallel_workers": MAX_PARALLEL,
    "max_attempts": 100,
    "max_fix_rounds": 100,
    "wedged_hours": 24 * 30,
    "checks_grace_minutes": 24 * 60,
    "agent_cooldown_minutes": 7 * 24 * 60,
    "stall_minutes": 24 * 60,
    "test_timeout_minutes": 24 * 60,
}


def repos(r: Reader, value: Any, base: Path, outbound: OutboundRules) -> tuple[RepoConfig, ...]:
    """Read `repos`: a non-empty list of repositories with unique keys.

    `outbound` is the top-level section each `repos[].outbound` overrides key by key.
    """
    if not isinstance(value, list) or not value:
        r.fail("repos", f"expected a non-empty list of repositories, got {show(value)}")
        return ()
    result = [
        repo
        for i, item in enumerate(value)
        if (repo := _repo(r, item, f"repos[{i}]", base, outbound))
    ]
    seen: set[str] = set()
    for i, repo in enumerate(result):
        if repo.key in seen:
            r.fail(f"repos[{i}].key", f"duplicate repo key {show(repo.key)}")
        seen.add(repo.key)
    return tuple(result)


def _repo(
    r: Reader, item: Any, path: str, base: Path, outbound: OutboundRules
) -> RepoConfig | None:
    node = r.mapping(item, path, _REPO_KEYS)
    if not node:
        if item is not None and isinstance(item, dict):
            r.fail(path, "expected a repository with at least `key` and `github`")
        elif item is None:
            r.fail(path, "expected a mapping, got null")
        return None
    key = r.string(node, "key", path)
    if key and not _REPO_KEY.match(key):
        r.fail(
            join(path, "key"),
            f"expected lower-case letters, digits, '.', '_' or '-', got {show(key)}",
        )
    github = r.string(node, "github", path)
    if github and not _GITHUB_NAME.match(github):
        r.fail(join(path, "github"), f'expected "owner/name", got {show(github)}')
    return RepoConfig(
        key=key,
        github=github,
        local_path=places.folder(r, node, "local_path", path, base, existing=True),
        base_branch=r.string(node, "base_branch", path, default="main"),
        test_command=r.string(node, "test_command", path, default=None),
        board=_board(r, node.get("board"), join(path, "board")),
        automation_mode=r.choice(
            node, "automation_mode", path, AutomationMode, AutomationMode.FULL
        ),
        max_parallel_tasks=r.integer(
            node, "max_parallel_tasks", path, default=2, maximum=MAX_PARALLEL
        ),
        merge_method=r.choice(node, "merge_method", path, MergeMethod, MergeMethod.SQUASH),
        outbound=outbound_rules.read(r, node.get("outbound"), join(path, "outbound"), outbound),
        require_checks=r.flag(node, "require_checks", path, default=True),
        max_awaiting_review=None
        if node.get("max_awaiting_review") is None
        else r.integer(node, "max_awaiting_review", path, maximum=MAX_AWAITING_REVIEW),
        acceptance_command=_acceptance(r, node, path),
        plan_file=_plan_file(r, node, path),
        merge_train=r.flag(node, "merge_train", path, default=True),
        serialize_overlaps=r.flag(node, "serialize_overlaps", path, default=True),
    )


def _plan_file(r: Reader, node: dict[str, Any], path: str) -> str | None:
    """Read `plan_file`: a path inside the repo (`PLAN.md`, `docs/plan.md`), or none."""
    value: str | None = r.string(node, "plan_file", path, default=None)
    if value is None or (
        len(value) <= MAX_PLAN_PATH
        and value.isprintable()
        and all(part not in ("", ".", "..") for part in value.split("/"))
    ):
        return value
    what = f"a relative path inside the repository (no '..', at most {MAX_PLAN_PATH} characters)"
    r.fail(join(path, "plan_file"), f"expected {what}, got {show(value)}")
    return None


def _acceptance(r: Reader, node: dict[str, Any], path: str) -> str | None:
    """Read `acceptance_command`: a template with `{files}`, or false (no proof)."""
    value = node.get("acceptance_command")
    if value is False:
        return ""
    command: str | None = r.string(node, "acceptance_command", path, default=None)
    if command is not None and "{files}" not in command:
        r.fail(join(path, "acceptance_command"), f"expected {{files}} in it, got {show(command)}")
    return command


def _board(r: Reader, value: Any, path: str) -> BoardRef | None:
    if value is None:
        return None
    node = r.mapping(value, path, ("owner", "number", "status_names"))
    if not node:
        return None
    return BoardRef(
        owner=r.string(node, "owner", path),
        number=r.integer(node, "number", path),
        status_names=_status_names(r, node.get("status_names"), join(path, "status_names")),
    )


def _status_names(r: Reader, value: Any, path: str) -> tuple[tuple[str, str], ...]:
    """Read `board.status_names`: status key -> the option name this board uses for it."""
    node = r.mapping(value, path, STATUS_KEYS)
    names = {
        str(k): v.strip()
        for k, v in node.items()
        if k in STATUS_KEYS and isinstance(v, str) and v.strip()
    }
    for key, name in node.items():
        if key in STATUS_KEYS and (not isinstance(name, str) or not name.strip()):
            r.fail(join(path, str(key)), f"expected the option's name, got {show(name)}")
    try:
        status_names(names)
    except ValueError as error:  # two statuses named alike
        r.fail(path, str(error))
    return tuple(names.items())


def github(r: Reader, value: Any) -> GitHubConfig:
    """Read `github`: the token reference and the API endpoints."""
    node = r.mapping(
        value,
        "github",
        (
            "token",
            "api_url",
            "graphql_url",
            "trusted_users",
            "commit_author",
            "seconds_between_writes",
        ),
    )
    if value is None:
        r.fail("github", "is required (at least `token: $GITHUB_TOKEN`)")
    api_url = _url(r, node, "api_url", "github", "https://api.github.com")
    return GitHubConfig(
        token=r.secret(node, "token", "github"),
        api_url=api_url,
        graphql_url=_url(r, node, "graphql_url", "github", default_graphql_url(api_url)),
        trusted_users=r.strings(node, "trusted_users", "github"),
        commit_author=_author(r, node),
        seconds_between_writes=r.number(
            node, "seconds_between_writes", "github", 1.0, maximum=60, zero=True
        ),
    )


_AUTHOR = re.compile(r"^[^<>\n]+<[^<>@\s]+@[^<>\s]+>$")


def _author(r: Reader, node: dict[str, Any]) -> str | None:
    value: str | None = r.string(node, "commit_author", "github", default=None)
    if value is not None and not _AUTHOR.match(value.strip()):
        r.fail("github.commit_author", f'expected "Name <email>", got {show(value)}')
    return value.strip() if value else None


def _url(r: Reader, node: dict[str, Any], key: str, path: str, default: str) -> str:
    value: str = r.string(node, key, path, default=default)
    if not value.startswith(("http://", "https://")):
        r.fail(join(path, key), f"expected an http(s) URL, got {show(value)}")
    return value.rstrip("/")


_BACKEND_KEYS = (
    "type",
    "timeout_minutes",
    "argv",
    "binary",
    "model",
    "api_key",
    "max_turns",
    *backend_keys.KEYS,
)
_KEYED = (AgentType.ANTHROPIC, AgentType.CLAUDE, AgentType.CODEX)  # the types that take an api_key


def agents(r: Reader, value: Any) -> AgentsConfig:
    """Read `agents`: named backends and the fallback chain per task type."""
    node = r.mapping(value, "agents", ("backends", "chains", "isolation"))
    raw = node.get("backends")
    if not isinstance(raw, dict) or not raw:
        r.fail(
            "agents.backends", f"expected a mapping of backend name to settings, got {show(raw)}"
        )
        raw = {}
    backends = {str(n): b for n, v in raw.items() if (b := _backend(r, n, v))}
    chains = _chains(r, node.get("chains"), [str(n) for n in raw])
    isolation = r.choice(node, "isolation", "agents", Isolation, Isolation.BWRAP)
    return AgentsConfig(MappingProxyType(backends), MappingProxyType(chains), isolation)


def _backend(r: Reader, name: Any, value: Any) -> AgentBackend | None:
    path = join("agents.backends", name)
    node = r.mapping(value, path, _BACKEND_KEYS)
    if not node:
        r.fail(path, "expected a mapping with at least `type`")
        return None
    kind = r.choice(node, "type", path, AgentType, MISSING)
    if not isinstance(kind, AgentType):
        return None
    argv = r.strings(node, "argv", path)
    if kind is AgentType.COMMAND and not argv:
        r.fail(
            join(path, "argv"), "is required for a command backend (the program and its arguments)"
        )
    elif kind is not AgentType.COMMAND and "argv" in node:
        r.fail(join(path, "argv"), f"only command backends take argv, this one is {kind.value}")
    needs_key = kind is AgentType.ANTHROPIC or (kind in _KEYED and node.get("api_key") is not None)
    api_key = r.secret(node, "api_key", path) if needs_key else None
    if kind not in _KEYED and "api_key" in node:
        r.fail(join(path, "api_key"), "only anthropic, claude and codex backends take api_key")
    return AgentBackend(
        name=str(name),
        type=kind,
        argv=argv,
        api_key=api_key,
        timeout_minutes=r.number(node, "timeout_minutes", path, default=45, maximum=24 * 60),
        binary=r.string(node, "binary", path, default=None),
        model=r.string(node, "model", path, default=None),
        max_turns=r.integer(node, "max_turns", path, default=50, maximum=10_000),
        **backend_keys.extras(r, node, path, kind),
    )


def _chains(r: Reader, value: Any, names: list[str]) -> dict[str, tuple[str, ...]]:
    if value is None:
        return {"default": tuple(names)}
    if not isinstance(value, dict):
        r.fail(
            "agents.chains", f"expected a mapping of task type to backend names, got {show(value)}"
        )
        return {"default": tuple(names)}
    chains = {"default": tuple(names)}
    known = ", ".join(label(n) for n in names)
    for task_type, chain in value.items():
        path = join("agents.chains", task_type)
        if not isinstance(chain, list) or not chain:
            r.fail(path, f"expected a non-empty list of backend names, got {show(chain)}")
            continue
        for i, name in enumerate(chain):
            if not isinstance(name, str) or name not in names:
                r.fail(join(path, i), f"unknown backend {show(name)} (known: {known})")
        chains[str(task_type)] = tuple(n for n in chain if isinstance(n, str))
    return chains


def limits(r: Reader, value: Any) -> Limits:
    """Read `limits`; every key has a default."""
    d = Limits()
    node = r.mapping(value, "limits", Limits.__dataclass_fields__)
    ints = {
        k: r.integer(
            node,
            k,
            "limits",
            default=getattr(d, k),
            minimum=0 if k == "checks_grace_minutes" else 1,  # 0: no wait for CI at all
            maximum=LIMIT_MAXIMA[k],
        )
        for k in Limits.__dataclass_fields__
        if k != "wedged_hours"
    }
    hours = r.number(
        node, "wedged_hours", "limits", d.wedged_hours, maximum=LIMIT_MAXIMA["wedged_hours"]
    )
    return Limits(wedged_hours=hours, **ints)


def telegram(r: Reader, value: Any) -> TelegramConfig | None:
    """Read `telegram`; absent means notifications go to the event log only."""
    if value is None:
        return None
    keys = ("token", "api_url", "allowed_chat_ids", "allowed_user_ids", "notify_chat_id")
    node = r.mapping(value, "telegram", keys)
    chats = r.integers(node, "allowed_chat_ids", "telegram", TELEGRAM_ID)
    if node.get("allowed_chat_ids") in (None, []):
        r.fail("telegram.allowed_chat_ids", "is required (the chats allowed to command the bot)")
    notify = node.get("notify_chat_id")
    if notify is not None and (
        isinstance(notify, bool) or not isinstance(notify, int) or notify not in chats
    ):
        r.fail("telegram.notify_chat_id", f"expected one of allowed_chat_ids, got {show(notify)}")
        notify = None
    return TelegramConfig(
        token=r.secret(node, "token", "telegram"),
        api_url=_url(r, node, "api_url", "telegram", "https://api.telegram.org"),
        allowed_chat_ids=chats,
        allowed_user_ids=r.integers(node, "allowed_user_ids", "telegram", TELEGRAM_ID),
        notify_chat_id=notify,
    )


def schedule(r: Reader, value: Any, defaults: dict[str, str]) -> dict[str, str]:
    """Read `schedule`: a cron expression per known job, defaults for the rest."""
    node = r.mapping(value, "schedule", defaults)
    result = dict(defaults)
    for job, expr in node.items():
        if job not in defaults:
            continue
        why = cron_fields.problem(expr) if isinstance(expr, str) else "it is not text"
        if why:
            r.fail(
                f"schedule.{job}",
                f"expected a cron expression ({cron_fields.FIELDS}), got {show(expr)}: {why}",
            )
            continue
        result[job] = expr
    return result


def dispatcher(r: Reader, value: Any, agents: AgentsConfig) -> DispatcherConfig:
    """Read `dispatcher`: the model that structures vague issues, how often boards are read."""
    node = r.mapping(value, "dispatcher", ("structure_briefs_with", "full_read_minutes"))
    name = r.string(node, "structure_briefs_with", "dispatcher", default=None)
    minutes = r.integer(node, "full_read_minutes", "dispatcher", default=10, maximum=1440)
    usable = [n for n, b in agents.backends.items() if b.type is AgentType.ANTHROPIC]
    if name is not None and name not in usable:
        known = ", ".join(usable) or "none configured"
        r.fail(
            "dispatcher.structure_briefs_with",
            f"expected the name of an anthropic backend in agents.backends ({known}), "
            f"got {show(name)}",
        )
        name = None
    return DispatcherConfig(structure_briefs_with=name, full_read_minutes=minutes)

"""Merge what init learned into the config document: add what is missing, change what was changed.

Every value already in the file stays as written unless this run's answer differs from it; a
repository already configured keeps its entry, and secrets appear only as `$VAR` references.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from orchestrator.config.model import ImproveConfig, Limits
from orchestrator.init.context import GITHUB_API, Context
from orchestrator.init.credentials import token_var
from orchestrator.init.pairing import TELEGRAM_API
from orchestrator.init.session import ChosenBackend
from orchestrator.init.yamlmerge import append_unique, child, mapping, seq, set_value

HEADER = (
    "Agent OS configuration, written by `bin/agentos init` (re-run it to add a project; it keeps\n"
    "your edits). config.example.yaml documents every key; "
    "`bin/agentos check` validates this file.\n"
    "Secrets are $VAR references, resolved from the environment or the env file."
)
TIMEOUTS = {"claude": 45, "codex": 40, "anthropic": 45, "command": 45}


def repo_entry(ctx: Context) -> dict[str, Any]:
    """Return the existing config's entry for this run's repository ({} when it has none)."""
    repo = ctx.session.repository
    repos = (ctx.existing or {}).get("repos")
    if repo is None or not isinstance(repos, list):
        return {}
    return next(
        (
            entry
            for entry in repos
            if isinstance(entry, dict)
            and str(entry.get("github", "")).lower() == repo.full_name.lower()
        ),
        {},
    )


def planned_backends(ctx: Context, kind: str | None = None) -> dict[str, int]:
    """Return the agent backends the config will have (of type `kind`, when given), with their
    current timeouts.

    The config's own when it has some, else the one chosen in preflight (none when none was).
    """
    backends = ctx.section("agents").get("backends")
    if isinstance(backends, dict) and backends:
        return {
            str(name): int((b or {}).get("timeout_minutes") or 45)
            for name, b in backends.items()
            if isinstance(b, dict) and kind in (None, b.get("type"))
        }
    chosen = ctx.session.backend
    if chosen is None or kind not in (None, chosen.type):
        return {}
    return {chosen.type: TIMEOUTS[chosen.type]}


def backend_node(chosen: ChosenBackend, timeout: int) -> CommentedMap:
    """Return the config entry of the chosen backend; a key appears only as its `$VAR`."""
    pairs: list[tuple[str, Any]] = [("type", chosen.type), ("timeout_minutes", timeout)]
    if chosen.type == "command":
        pairs.append(("argv", seq(chosen.argv)))
    if chosen.key_var:
        pairs.append(("api_key", f"${chosen.key_var}"))
    return mapping(pairs)


def merge(ctx: Context, doc: CommentedMap, fresh: bool, stamp: str) -> list[str]:
    """Apply this run to `doc`; return what changed, one line each."""
    if fresh:
        doc.yaml_set_start_comment(HEADER)
    changes = _repo(ctx, doc, stamp) + _github(ctx, doc) + _agents(ctx, doc) + _limits(ctx, doc)
    changes += _improve(ctx, doc) + _telegram(ctx, doc) + _schedule(ctx, doc)
    if fresh and ctx.secrets:
        doc.insert(0, "env_file", ".env")
        doc.yaml_add_eol_comment(
            "KEY=value lines the $VAR references resolve from (mode 0600)", "env_file"
        )
    return changes


def _tuned(ctx: Context, key: str) -> Any:
    return ctx.session.tuning.changes.get(key) if ctx.session.tuning else None


def _repo(ctx: Context, doc: CommentedMap, stamp: str) -> list[str]:
    repo = ctx.session.repository
    if repo is None:
        return []
    repos = doc.get("repos")
    if not isinstance(repos, CommentedSeq):
        repos = CommentedSeq(list(repos) if isinstance(repos, list) else [])
        doc["repos"] = repos
    entry = next(
        (
            e
            for e in repos
            if isinstance(e, CommentedMap)
            and str(e.get("github", "")).lower() == repo.full_name.lower()
        ),
        None,
    )
    changes: list[str] = []
    if entry is None:
        entry = mapping(
            [("key", repo.key), ("github", repo.full_name), ("base_branch", repo.default_branch)],
            {"key": f"added by agentos init, {stamp}"},
        )
        repos.append(entry)
        changes.append(f"repos: add {repo.key} ({repo.full_name})")
    board = ctx.session.board
    if board is not None:
        later = {"number": "the new board's number, once it exists (a dry run creates none)"}
        wanted = mapping(
            [("owner", board.owner), ("number", board.number)],
            later if board.number is None else {},
        )
        current = entry.get("board")
        if not (
            isinstance(current, dict)
            and current.get("owner") == board.owner
            and current.get("number") == board.number
        ):
            entry["board"] = wanted
            changes.append(
                f"repos.{repo.key}.board: {board.owner} "
                + (f"#{board.number}" if board.number else "(the new board)")
            )
    tasks = _tuned(ctx, "repo.max_parallel_tasks")
    if tasks is not None and tasks != entry.get("max_parallel_tasks", 2):
        entry["max_parallel_tasks"] = tasks
        changes.append(f"repos.{repo.key}.max_parallel_tasks: {tasks}")
    return changes


def _github(ctx: Context, doc: CommentedMap) -> list[str]:
    section = child(doc, "github")
    changes = []
    if set_value(section, "token", f"${token_var(ctx)}", only_if_absent=True):
        changes.append(f"github.token: ${token_var(ctx)}")
    api = ctx.api_url()
    if str(section.get("api_url", GITHUB_API)).rstrip("/") != api and set_value(
        section, "api_url", api
    ):
        changes.append(f"github.api_url: {api}")
    return changes


def _agents(ctx: Context, doc: CommentedMap) -> list[str]:
    section = doc.get("agents")
    backends = section.get("backends") if isinstance(section, CommentedMap) else None
    changes = []
    chosen = ctx.session.backend
    if (not isinstance(backends, CommentedMap) or not backends) and chosen is not None:
        section = child(doc, "agents")
        backends = section["backends"] = CommentedMap(
            [(chosen.type, backend_node(chosen, TIMEOUTS[chosen.type]))]
        )
        section["chains"] = mapping([("default", seq([chosen.type]))])
        changes.append(f"agents: the {chosen.type} backend")
    for name, node in backends.items() if isinstance(backends, CommentedMap) else ():
        timeout = _tuned(ctx, f"agents.backends.{name}.timeout_minutes")
        if (
            timeout is not None
            and isinstance(node, CommentedMap)
            and node.get("timeout_minutes", 45) != timeout
        ):
            node["timeout_minutes"] = timeout
            changes.append(f"agents.backends.{name}.timeout_minutes: {timeout}")
    return changes


def _limits(ctx: Context, doc: CommentedMap) -> list[str]:
    changes = []
    for name in ("max_parallel_workers", "max_attempts"):
        value = _tuned(ctx, f"limits.{name}")
        current = (doc.get("limits") or {}).get(name, getattr(Limits(), name))
        if value is not None and (value != current or "limits" not in doc):
            set_value(child(doc, "limits"), name, value)
            changes.append(f"limits.{name}: {value}")
    return changes


def _improve(ctx: Context, doc: CommentedMap) -> list[str]:
    changes = []
    default = ImproveConfig()
    for name in ("daily_cap", "ready_severities", "triage_with"):
        value = _tuned(ctx, f"improve.{name}")
        had = doc.get("improve") or {}
        current = had.get(name, getattr(default, name))
        if isinstance(current, tuple):
            current = list(current)
        if value is not None and value != current:
            set_value(child(doc, "improve"), name, seq(value) if isinstance(value, list) else value)
            changes.append(f"improve.{name}: {value}")
    return changes


def _telegram(ctx: Context, doc: CommentedMap) -> list[str]:
    pairing = ctx.session.pairing
    if pairing is None or pairing.chat_id is None:
        return []
    had = isinstance(doc.get("telegram"), dict)
    section = child(doc, "telegram")
    changes = []
    if set_value(section, "token", f"${pairing.token_var}", only_if_absent=True):
        changes.append(f"telegram.token: ${pairing.token_var}")
    if str(section.get("api_url", TELEGRAM_API)).rstrip("/") != pairing.api_url:
        section["api_url"] = pairing.api_url
        changes.append(f"telegram.api_url: {pairing.api_url}")
    if append_unique(section, "allowed_chat_ids", [pairing.chat_id]):
        changes.append(f"telegram.allowed_chat_ids: add {pairing.chat_id}")
    users = section.get("allowed_user_ids")
    if pairing.user_id is not None and (not had or (isinstance(users, list) and users)):
        if append_unique(section, "allowed_user_ids", [pairing.user_id]):
            changes.append(f"telegram.allowed_user_ids: add {pairing.user_id}")
    return changes


def _schedule(ctx: Context, doc: CommentedMap) -> list[str]:
    changes = []
    for job, spec in ctx.options.jobs.items():
        value = _tuned(ctx, f"schedule.{job}")
        current = (doc.get("schedule") or {}).get(job, spec.schedule)
        if value is not None and value != current:
            set_value(child(doc, "schedule"), job, value)
            changes.append(f"schedule.{job}: {value!r}")
    return changes

"""Step 8, write config: merge into config.yaml, back it up, validate, replace, check.

The merge keeps the file's comments, order and values. The result must load before it replaces
the old file; once written, it is judged by what `bin/agentos check` says of it.

Secrets go to the env file (mode 0600), the config only names them. Every file is replaced
atomically, so Ctrl-C at any moment leaves the old file or the new one, never half of one.
"""

from __future__ import annotations

import difflib
import re
import shlex
from pathlib import Path
from typing import Any

import yaml

from orchestrator.config.load import load_config, read_env_file
from orchestrator.errors import ConfigError
from orchestrator.init import backend, configdoc, yamlmerge
from orchestrator.init.context import Context
from orchestrator.init.session import Written
from orchestrator.store.files import atomic_write

_REFERENCE = re.compile(r"^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$")
_PLAIN = re.compile(r"^[A-Za-z0-9_:./+=@-]*$")


def run(ctx: Context) -> None:
    """Show the diff and the files it touches, validate the result, then back up and write."""
    path = ctx.options.config_path
    old = path.read_text(encoding="utf-8") if path.exists() else None
    if old is None and ctx.session.repository is None:
        ctx.say(
            "Nothing to write: a new config needs a repository, "
            f"and step 3 set none up ({path} not created)."
        )
        return
    backend.choose(ctx)  # asked in preflight, unless that step was skipped
    doc = yamlmerge.load(old or "", str(path))
    changes = configdoc.merge(ctx, doc.data, old is None, ctx.options.now.strftime("%Y-%m-%d"))
    text = doc.dump()
    _show(ctx, path, old, text, changes, doc.faithful)
    _ask_lost_secrets(ctx, text)
    secrets = _secrets_for_env_file(ctx, text)
    env_file = ctx.env_file()
    plan = []
    if old is not None and text != old:
        plan.append(f"copy {path.name} to {backup_name(path, ctx).name}")
    if secrets:
        plan.append(
            f"write {', '.join(sorted(secrets))} to {env_file} "
            "(mode 0600; only the names go in the config)"
        )
    if text != old:
        plan.append(
            f"write {path} ({len(changes)} change(s)), "
            "after checking it with the loader `check` uses"
        )
    if not _complete(ctx):
        ctx.say(
            "  (a dry run: the repository or board does not exist yet, "
            "so the result is not validated)"
        )
    elif ctx.dry_run:
        validate(ctx, path, text, secrets, env_written=False)
        ctx.say(
            "  ✓ the merged config loads (a dry run writes nothing, so `bin/agentos check`, "
            "which also looks for git and the agents, runs only once it is written)"
        )
    if not ctx.apply("config", plan):
        if not plan and not ctx.dry_run:  # nothing to change: say what check says of it
            verdict(ctx, path)
        return
    if secrets:
        write_env_file(env_file, secrets)
    validate(ctx, path, text, {}, env_written=True)
    backup = None
    if old is not None and text != old:
        backup = backup_name(path, ctx)
        atomic_write(backup, old)
    if text != old:
        atomic_write(path, text)
    ctx.say(f"  ✓ {path} written" + (f"; the old one is {backup}" if backup else ""))
    ctx.session.written = Written(
        config=str(path),
        backup=str(backup) if backup else None,
        env_file=str(env_file) if secrets else None,
        problems=verdict(ctx, path),
    )


def verdict(ctx: Context, path: Path) -> list[str]:
    """Say what `bin/agentos check` says of the config on disk; return its problems.

    The same function decides both (`cli.commands.offline_problems`, handed in as
    `options.check`, with the environment init runs in), so init calls the config valid exactly
    when `check` does.
    """
    problems, isolation = ctx.options.check(path, ctx.options.environ)
    if not problems:
        ctx.say(
            f"  ✓ {path} is valid, as `bin/agentos check` sees it: git and every agent backend "
            f"were found; {isolation}"
        )
        return []
    ctx.say(f"  ✗ `bin/agentos check` fails on {path}, with {len(problems)} problem(s):")
    for line in problems:
        ctx.say(f"  FAIL {line}")
    ctx.say(
        f"  Fix each of them (docs/config.md), then run `{check_command(ctx)}` until it says ok."
    )
    return problems


def check_command(ctx: Context) -> str:
    """Return the command that checks this config."""
    return f"bin/agentos --config {shlex.quote(str(ctx.options.config_path))} check"


def _show(
    ctx: Context, path: Path, old: str | None, text: str, changes: list[str], faithful: bool
) -> None:
    for change in changes:
        ctx.say(f"  {change}")
    if old is None:
        ctx.say(f"New {path}:")
        ctx.say("".join(f"  | {line}" for line in text.splitlines(keepends=True)).rstrip("\n"))
        return
    if not faithful:
        ctx.say(
            f"  ! ruamel.yaml cannot reproduce {path.name}'s layout exactly: "
            "the diff shows every line it would reformat"
        )
    diff = difflib.unified_diff(
        old.splitlines(keepends=True),
        text.splitlines(keepends=True),
        f"{path.name} (now)",
        f"{path.name} (after)",
    )
    ctx.say("".join(f"  {line}" for line in diff).rstrip("\n") or "  (no change to the config)")


def _complete(ctx: Context) -> bool:
    repo, board = ctx.session.repository, ctx.session.board
    return (repo is None or repo.exists) and (board is None or board.number is not None)


def _ask_lost_secrets(ctx: Context, text: str) -> None:
    """Ask again for a token an interrupted run was given at a prompt (it was kept in memory)."""
    from orchestrator.init.credentials import github_token, token_var
    from orchestrator.init.pairing import bot_token

    pairing, chosen = ctx.session.pairing, ctx.session.backend
    for var in sorted(references(yaml.safe_load(text))):
        if ctx.lookup(var) is not None:
            continue
        if var == token_var(ctx):
            github_token(ctx)
        elif chosen is not None and var == chosen.key_var:
            ctx.say(f"${var} is not set here (the interrupted run had the API key only in memory).")
            backend.api_key(ctx, var)
        elif pairing is not None and var == pairing.token_var:
            ctx.say(
                f"${var} is not set here (the interrupted run had the bot token only in memory)."
            )
            bot_token(ctx, pairing.api_url, var)


def _secrets_for_env_file(ctx: Context, text: str) -> dict[str, str]:
    """Return the variables to write: entered in this run, or set only in this shell.

    Cron would not see a variable set only in this shell.
    """
    wanted = dict(ctx.secrets)
    file = ctx.env_file()
    in_file = read_env_file(file) if file.is_file() else {}
    shell_only = sorted(
        var
        for var in references(yaml.safe_load(text)) - set(wanted) - set(in_file)
        if ctx.options.environ.get(var)
    )
    if shell_only:
        ctx.say(
            f"  ${', $'.join(shell_only)} {'is' if len(shell_only) == 1 else 'are'} "
            "set only in this shell; "
            "cron starts jobs without it."
        )
        if ctx.prompter.confirm(
            "config.copy_secrets",
            f"Copy {'it' if len(shell_only) == 1 else 'them'} into {file}?",
            True,
        ):
            wanted.update({var: ctx.options.environ[var] for var in shell_only})
    return {var: value for var, value in wanted.items() if in_file.get(var) != value}


def references(node: Any) -> set[str]:
    """Return the variables named by the config's `$VAR` values (not comments or other text)."""
    if isinstance(node, dict):
        return set().union(*(references(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(references(value) for value in node))
    match = _REFERENCE.match(node) if isinstance(node, str) else None
    return {match.group(1)} if match else set()


def validate(
    ctx: Context, path: Path, text: str, secrets: dict[str, str], *, env_written: bool
) -> None:
    """Load `text` with the config loader; raise ConfigError (nothing written) if it cannot.

    A config that loads may still fail `check` (an agent CLI missing): `verdict` says that.
    """
    raw: Any = yaml.safe_load(text) or {}
    if not env_written and raw.get("env_file") and not (path.parent / raw["env_file"]).exists():
        raw.pop("env_file")  # the dry run does not create it
    environ = {**ctx.options.environ, **ctx.secrets, **secrets}
    if not env_written and ctx.env_file().is_file():
        environ = {**read_env_file(ctx.env_file()), **environ}
    try:
        load_config(path, environ, raw=raw)
    except ConfigError as error:
        raise ConfigError(f"{path} after the merge (not written)", error.problems) from None


def write_env_file(path: Path, values: dict[str, str]) -> None:
    """Set `VAR=value` lines in the env file, keeping its other lines; the file ends mode 0600."""
    lines = (
        path.read_text(encoding="utf-8").splitlines()
        if path.exists()
        else [
            "# Secrets for Agent OS (KEY=value). "
            "Keep this file private: mode 0600, never committed."
        ]
    )
    pending = dict(values)
    for i, line in enumerate(lines):
        name = line.strip().removeprefix("export ").partition("=")[0].strip()
        if name in pending and "=" in line:
            lines[i] = f"{name}={_quote(pending.pop(name))}"
    lines += [f"{name}={_quote(value)}" for name, value in pending.items()]
    # a new temp file (mkstemp: 0600) replaces the old one
    atomic_write(path, "\n".join(lines) + "\n")


def _quote(value: str) -> str:
    """Quote a value so the env file reader gives it back unchanged.

    The reader strips one pair of quotes and knows no escapes.
    """
    if _PLAIN.match(value):
        return value
    if "\n" in value or ("'" in value and '"' in value):
        raise ValueError(
            "a secret with a line break, or with both kinds of quote, cannot go in an env file"
        )
    return f"'{value}'" if "'" not in value else f'"{value}"'


def backup_name(path: Path, ctx: Context) -> Path:
    """Return config.yaml.bak.<timestamp>, numbered when that name is taken."""
    base = path.with_name(f"{path.name}.bak.{ctx.options.now.strftime('%Y%m%d-%H%M%S')}")
    candidate, n = base, 1
    while candidate.exists():
        candidate, n = base.with_name(f"{base.name}.{n}"), n + 1
    return candidate

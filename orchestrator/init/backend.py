"""Which agent backend works on the issues: an agent CLI installed here, the API, or a command.

Only what can work is offered: `claude` and `codex` when their binary is on the PATH init runs
with, `anthropic` (an API key, which goes to the env file) and `command` (any program) always.
The default is the first CLI installed; with none, there is no default and the user chooses.
A config that already has backends keeps them and is not asked.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
from collections.abc import Mapping
from pathlib import Path

from orchestrator.config.backend_keys import PLACEHOLDERS
from orchestrator.errors import InvalidAnswer
from orchestrator.init.context import Context
from orchestrator.init.questions import parse_choice
from orchestrator.init.session import ChosenBackend

CLIS = {"claude": "@anthropic-ai/claude-code", "codex": "@openai/codex"}  # name -> npm package
CONFIGURABLE = ("anthropic", "command")
KEY_VAR = "ANTHROPIC_API_KEY"
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def offered(ctx: Context) -> list[str]:
    """Return the backends init can set up here: the CLIs installed, then the configurable ones."""
    search = ctx.options.environ.get("PATH")
    return [name for name in CLIS if shutil.which(name, path=search)] + list(CONFIGURABLE)


def choose(ctx: Context) -> None:
    """Ask which backend a new config gets, unless the config has backends or it was chosen."""
    configured = ctx.section("agents").get("backends")
    if ctx.session.backend is not None or (isinstance(configured, dict) and configured):
        return
    options = offered(ctx)
    default = options[0] if options[0] in CLIS else None
    kind = ctx.prompter.ask(
        "agent.backend",
        "Which agent works on the issues",
        lambda text: parse_backend(text, options),
        default,
        shown="/".join(o.upper() if o == default else o for o in options),
    )
    chosen = ChosenBackend(type=kind)
    if kind == "command":
        chosen.argv = _command(ctx)
    elif kind == "anthropic":
        chosen.key_var = KEY_VAR
        api_key(ctx, KEY_VAR)
    ctx.session.backend = chosen


def parse_backend(text: str, options: list[str]) -> str:
    """Return the backend `text` names; one not installed here is refused, saying so."""
    word = text.strip().lower()
    if word in CLIS and word not in options:
        raise InvalidAnswer(
            f"{word} is not installed here (no `{word}` on PATH): install it "
            f"(npm install -g {CLIS[word]}) or choose one of {', '.join(options)}"
        )
    return parse_choice(text, options)


def api_key(ctx: Context, var: str) -> None:
    """Use the key `$var` holds, or ask for one; a key typed here is kept for the env file."""
    if ctx.lookup(var) is not None:
        ctx.say(f"  ✓ the anthropic backend uses ${var}, which is set")
        return
    ctx.secrets[var] = ctx.prompter.secret(
        "agent.api_key",
        f"Anthropic API key (it goes to {ctx.env_file()} as {var}, never into the config)",
        _parse_key,
    )


def _parse_key(text: str) -> str:
    if any(c.isspace() for c in text) or not text.isprintable():
        raise InvalidAnswer("an API key is one word, without spaces or line breaks")
    return text


def _command(ctx: Context) -> list[str]:
    known = " ".join("{" + name + "}" for name in PLACEHOLDERS)
    ctx.say(
        f"  The command runs in the task's worktree; {known} are filled in, and the prompt is "
        "also in $AGENTOS_PROMPT_FILE (docs/agents.md)."
    )
    return ctx.prompter.ask(
        "agent.command",
        "Command line (e.g. my-agent --prompt {prompt_file})",
        lambda text: parse_command(text, ctx.options.config_path.parent, ctx.options.environ),
    )


def parse_command(text: str, base: Path, environ: Mapping[str, str]) -> list[str]:
    """Return the argv of a command line, or refuse an unknown placeholder or a missing program.

    The program is looked for as `bin/agentos check` looks for it: on PATH, or (a path with a
    slash) relative to the config's folder.
    """
    try:
        argv = shlex.split(text)
    except ValueError as error:
        raise InvalidAnswer(f"cannot split this command line: {error}") from None
    if not argv:
        raise InvalidAnswer("expected a program and its arguments")
    for arg in argv:
        for name in _PLACEHOLDER.findall(arg):
            if name not in PLACEHOLDERS:
                known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
                raise InvalidAnswer(f"unknown placeholder {{{name}}} (known: {known})")
    program = argv[0]
    found = shutil.which(program, path=environ.get("PATH"))
    if not (found or ("/" in program and _runnable(base / program))):
        raise InvalidAnswer(f"{program!r} is not an executable program (not on PATH, no such file)")
    return argv


def _runnable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)

"""Step 1, preflight: Python, git, crontab, the agent CLIs and which backend to use, the token."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Mapping

from orchestrator.errors import InvalidAnswer, UsageError
from orchestrator.init import backend, credentials
from orchestrator.init.context import GITHUB_API, Context
from orchestrator.init.questions import parse_url
from orchestrator.init.session import Preflight

MIN_PYTHON = (3, 11)
AGENTS = {
    "claude": (
        "@anthropic-ai/claude-code",
        ("auth", "status"),
        "run `claude` once and log in, or set ANTHROPIC_API_KEY",
    ),
    "codex": ("@openai/codex", ("login", "status"), "run `codex login`, or set OPENAI_API_KEY"),
}


def run(ctx: Context) -> None:
    """Check the tools and the token; stop, listing every fix, if something essential is missing."""
    env = ctx.options.environ
    blocking = _tool_problems(env)
    found = {name: _agent(ctx, name, env) for name in AGENTS}
    agents = {name: state for name, state in found.items() if state is not None}
    if not agents:
        ctx.say(
            "  ! no agent CLI found: install one (npm install -g @anthropic-ai/claude-code), "
            "or choose the anthropic API or a command of your own below"
        )
    if ctx.options.crontab_file is None and shutil.which("crontab", path=env.get("PATH")) is None:
        ctx.say("  ! crontab not found: install cron, or choose serve or systemd in step 9")
    if blocking:
        for problem in blocking:
            ctx.say(f"  ✗ {problem}")
        raise UsageError(
            f"preflight failed: {len(blocking)} problem(s) to fix first (listed above)"
        )
    backend.choose(ctx)
    api_url = ctx.prompter.text(
        "github.api_url",
        "GitHub API URL",
        str(ctx.section("github").get("api_url") or GITHUB_API),
        check=parse_url,
    )
    result = Preflight(
        login="", api_url=api_url, token_var=credentials.token_var(ctx), agents=agents
    )
    ctx.session.preflight = result  # the token check below talks to this api_url
    result.login = _token(ctx)


def _tool_problems(env: Mapping[str, str]) -> list[str]:
    problems = []
    if sys.version_info < MIN_PYTHON:
        want = ".".join(map(str, MIN_PYTHON))
        problems.append(
            f"Python {want} or newer is needed, this is {sys.version.split()[0]}: "
            f"install it and rebuild the venv (make venv)"
        )
    if shutil.which("git", path=env.get("PATH")) is None:
        problems.append("git not found on PATH: install git (apt install git, brew install git)")
    return problems


def _agent(ctx: Context, name: str, env: Mapping[str, str]) -> bool | None:
    """Say whether the CLI is installed and logged in; None when it is not installed."""
    package, status_args, fix = AGENTS[name]
    binary = shutil.which(name, path=env.get("PATH"))
    if binary is None:
        ctx.say(f"  - {name}: not found (optional; install: npm install -g {package})")
        return None
    logged_in = _logged_in(binary, status_args, env)
    ctx.say(f"  ✓ {name}: {binary}" + ("" if logged_in else f" (not logged in: {fix})"))
    return logged_in


def _logged_in(binary: str, args: tuple[str, ...], env: Mapping[str, str]) -> bool:
    try:
        done = subprocess.run(
            [binary, *args],
            capture_output=True,
            text=True,
            timeout=30,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    if done.returncode != 0:
        return False
    # `claude auth status` prints JSON with loggedIn; `codex login status` says it in its exit code
    try:
        report = json.loads(done.stdout)
    except ValueError:
        return True
    return bool(report.get("loggedIn", True)) if isinstance(report, dict) else True


def _token(ctx: Context) -> str:
    """Check the token the environment or env file holds; ask for another until one passes."""
    var = credentials.token_var(ctx)
    value = ctx.lookup(var)
    if value is None:
        ctx.say(
            f"  - ${var} is not set: paste a token "
            f"(it goes to {ctx.env_file()}, never into the config)"
        )
        client, identity = credentials.ask_token(ctx, var)
    else:
        try:
            client, identity = credentials.check(ctx, value)
        except InvalidAnswer as problem:
            ctx.say(f"  ✗ the token in ${var}: {problem}")
            client, identity = credentials.ask_token(ctx, var)
            if ctx.options.environ.get(var):
                ctx.say(
                    f"  ! ${var} in this shell still holds the other token "
                    "and wins over the env file: "
                    f"unset it or update it"
                )
    ctx.clients["github"] = client  # its token already checked
    scopes = (
        "scopes not reported: a fine-grained token"
        if identity.scopes is None
        else "scopes "
        + ", ".join(scope for scope in ("repo", "project", "read:org") if scope in identity.scopes)
    )
    ctx.say(f"  ✓ GitHub: signed in as {identity.login} ({scopes})")
    return identity.login

"""Step 9, cron and hooks: how the jobs run, and the pre-commit secret guard.

The jobs run from `serve` (one long-running process; its systemd user unit, and GitHub's
webhooks when GitHub can reach this machine: serving.py, webhooks.py), from cron (the crontab
block), from systemd timers (printed), or from nothing init sets up.
"""

from __future__ import annotations

from pathlib import Path

from git import InvalidGitRepositoryError, NoSuchPathError, Repo
from git.exc import GitCommandError

from orchestrator.cli import cron
from orchestrator.config.load import runtime_paths
from orchestrator.errors import StateError
from orchestrator.init import serving
from orchestrator.init.context import Context

HOOKS = "hooks"
METHODS = ("serve", "cron", "systemd", "none")


def run(ctx: Context) -> None:
    """Show the block and the git setting, then install them."""
    method = ctx.prompter.choice(
        "cron.method", "Run the jobs from", METHODS, serving.default_method(ctx)
    )
    changes: list[str] = []
    block: list[str] = []
    served = serving.plan(ctx) if method == "serve" else None
    if served is not None:
        changes += served.changes(ctx)
    elif method == "cron":
        block = _block(ctx)
        try:
            installed = cron.show(ctx.options.root, tabfile=ctx.options.crontab_file)
        except StateError as problem:
            ctx.say(f"  ! {problem}")
            block, installed = [], ""
        if not block:
            pass
        elif installed.strip() == "\n".join(block).strip():
            ctx.say("  ✓ the crontab block is installed and up to date")
        else:
            ctx.say("The crontab block:\n" + "\n".join(f"  | {line}" for line in block))
            changes.append(
                f"install this block in {ctx.options.crontab_file or 'your crontab'} "
                "(between its marker lines; the rest of the crontab is kept)"
            )
    elif method == "systemd":
        _print_units(ctx)
    hooks = _hooks_path(ctx.options.root)
    if hooks is None:
        ctx.say(f"  - {ctx.options.root} is not a git checkout: no pre-commit hook to enable")
    elif hooks == HOOKS:
        ctx.say("  ✓ the pre-commit secret guard is on (core.hooksPath is hooks)")
    else:
        changes.append(
            f"run `git config core.hooksPath {HOOKS}` in {ctx.options.root} "
            "(the pre-commit secret guard)"
        )
    if not ctx.apply("cron", changes):
        if served is not None and not changes:
            serving.enable_hint(ctx, served)
        return
    if served is not None:
        serving.apply(ctx, served)
    if block:
        cron.install(
            _jobs(ctx),
            ctx.options.root,
            _logs_dir(ctx),
            ctx.options.config_path,
            tabfile=ctx.options.crontab_file,
            environ=ctx.options.environ,
        )
        ctx.say("  ✓ crontab block installed")
    if hooks not in (None, HOOKS):
        Repo(ctx.options.root).git.config("core.hooksPath", HOOKS)
        ctx.say("  ✓ core.hooksPath set to hooks")
    if served is not None:
        serving.enable_hint(ctx, served)


def _schedule(ctx: Context, job: str, default: str) -> str:
    tuned = ctx.session.tuning.changes.get(f"schedule.{job}") if ctx.session.tuning else None
    return str(tuned or ctx.section("schedule").get(job) or default)


def _jobs(ctx: Context) -> list[cron.CronJob]:
    """Return a line per built job (a planned one would fail every minute), like `cron install`."""
    return [
        cron.CronJob(name, _schedule(ctx, name, spec.schedule))
        for name, spec in ctx.options.jobs.items()
        if spec.built
    ]


def _logs_dir(ctx: Context) -> Path:
    path = ctx.options.config_path
    return (
        runtime_paths(ctx.existing or {}, path).logs_dir
        if path.exists() or ctx.existing
        else path.parent / "runtime" / "logs"
    )


def _block(ctx: Context) -> list[str]:
    jobs = _jobs(ctx)
    if not jobs:
        ctx.say(
            "  - no job is built yet in this version of Agent OS: "
            "the block has only its marker lines"
        )
    return cron.render_block(
        jobs, ctx.options.root, _logs_dir(ctx), ctx.options.config_path, environ=ctx.options.environ
    )


def _print_units(ctx: Context) -> None:
    units = cron.systemd_units(
        _jobs(ctx), ctx.options.root, ctx.options.config_path, environ=ctx.options.environ
    )
    for name, text in units.items():
        ctx.say(f"# --- ~/.config/systemd/user/{name}\n{text}")
    timers = " ".join(name for name in units if name.endswith(".timer"))
    ctx.say(
        "Install them with: systemctl --user daemon-reload && "
        f"systemctl --user enable --now {timers}"
        if timers
        else "  - no job is built yet: there are no units to install"
    )


def _hooks_path(root: Path) -> str | None:
    """Return core.hooksPath in the checkout ("" when unset); None when `root` is not a checkout."""
    try:
        repo = Repo(root)
    except (InvalidGitRepositoryError, NoSuchPathError):
        return None
    try:
        return str(repo.git.config("--get", "core.hooksPath")).strip()
    except GitCommandError:  # exit 1: not set
        return ""

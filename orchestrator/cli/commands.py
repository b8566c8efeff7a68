"""The CLI commands other than `run`: check, doctor, on/off/status, switches, cron, init, audit,
bot."""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from orchestrator.config import objectives
from orchestrator.config.files import read_yaml
from orchestrator.config.load import load_config, runtime_paths
from orchestrator.config.model import AgentType, Config
from orchestrator.errors import ConfigError, UsageError
from orchestrator.jobs import JobSpec
from orchestrator.store.switches import Switches

Jobs = Mapping[str, JobSpec]
Env = Mapping[str, str]


def _stamp() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _switches(path: Path) -> Switches:
    return Switches(runtime_paths(read_yaml(path), path).state_dir)


def _record(path: Path, env: Env, switch: str, on: bool) -> None:
    """Record a switch the local user changed in the audit log, signed `cli:<user>`."""
    from orchestrator.cli.audit import audit_file, local_user

    audit_file(path).record(
        "switch.changed", actor=f"cli:{local_user(env)}", switch=switch, state=_state(on)
    )


def _state(on: bool) -> str:
    return "on" if on else "off"


def on(args: argparse.Namespace, path: Path, jobs: Jobs, env: Env) -> int:
    """Turn Agent OS on."""
    changed = _switches(path).set_global(True, _stamp())
    print("Agent OS is on." if changed else "Agent OS was already on.")
    if changed:
        _record(path, env, "global", True)
    return 0


def off(args: argparse.Namespace, path: Path, jobs: Jobs, env: Env) -> int:
    """Turn Agent OS off: no new tick or task; `--now` also stops the running agents."""
    changed = _switches(path).set_global(False, _stamp())
    if changed:
        _record(path, env, "global", False)
    said = "Agent OS is off" if changed else "Agent OS was already off"
    print(f"{said}; {_stop_or_drain(path, env, None, args.now)}.")
    return 0


def _stop_or_drain(path: Path, env: Env, repo_key: str | None, now: bool) -> str:
    """Stop the running agents (`--now`) or say which will finish; in words."""
    from orchestrator.delivery import stopping
    from orchestrator.store.mailbox import Mailbox

    config = _switch_config(path, env)
    mailbox = Mailbox(config.paths.mailbox_dir)
    if not now:
        return stopping.draining(mailbox, repo_key)
    from orchestrator.adapters.workers import ProcessWorkers

    workers = ProcessWorkers(path, config.paths.logs_dir, config.paths.root)
    return stopping.halt(config, mailbox, workers, repo_key).describe()


def _switch_config(path: Path, env: Env) -> Config:
    """The config for a switch or `status`: a bad overrides.yaml must not keep anyone from off."""
    from orchestrator.errors import OverridesError

    try:
        return load_config(path, env, need_secrets=False)
    except OverridesError:
        return load_config(path, env, need_secrets=False, overrides={})


def repo(args: argparse.Namespace, path: Path, jobs: Jobs, env: Env) -> int:
    """Turn one repo on or off."""
    config = _switch_config(path, env)
    try:
        config.repo(args.name)
    except KeyError as exc:
        raise UsageError(exc.args[0]) from None
    on = args.state == "on"
    if args.now and on:
        raise UsageError("--now goes with `repo off`: it stops the repo's running agents")
    if Switches(config.paths.state_dir).set_repo(args.name, on, _stamp()):
        _record(path, env, f"repo {args.name}", on)
    if on:
        print(f"repo {args.name} is on.")
    else:
        print(f"repo {args.name} is off; {_stop_or_drain(path, env, args.name, args.now)}.")
    return 0


def job(args: argparse.Namespace, path: Path, jobs: Jobs, env: Env) -> int:
    """Turn one job on or off."""
    if args.name not in jobs:
        raise UsageError(f"unknown job {args.name!r} (known: {', '.join(jobs)})")
    on = args.state == "on"
    if _switches(path).set_job(args.name, on, _stamp()):
        _record(path, env, f"job {args.name}", on)
    print(f"job {args.name} is {args.state}.")
    return 0


def status(args: argparse.Namespace, path: Path, jobs: Jobs, env: Env) -> int:
    """Print the switches, each repo and job, the mailbox and each job's last run."""
    from orchestrator.cli.status import render

    config = _switch_config(path, env)
    print(render(config, jobs))
    return 0


def report(args: argparse.Namespace, path: Path, jobs: Jobs, env: Env) -> int:
    """Print the fleet's scores over a window, from the outcome ledger (brought up to date)."""
    import json
    import re
    from datetime import timedelta

    from orchestrator.core import scoring
    from orchestrator.store.ledger import Ledger

    found = re.fullmatch(r"(\d{1,5})([dhm])", args.since.strip())
    if found is None:
        raise UsageError(f"--since {args.since!r}: expected an age like 7d, 24h or 90m")
    unit = {"d": "days", "h": "hours", "m": "minutes"}[found[2]]
    window = timedelta(**{unit: int(found[1])})
    config = _switch_config(path, env)
    keys = {r.github: r.key for r in config.repos}
    ledger = Ledger.of(config)
    ledger.update()
    since = (datetime.now(UTC) - window).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    days = window.total_seconds() / 86400
    scores = scoring.score(
        ledger.tasks(),
        ledger.merges(),
        keys,
        since,
        days,
        reverts=ledger.reverts(),
        incidents=ledger.incidents(),
        failure_window_days=config.improve.failure_window_days,
    )
    if args.json:
        print(json.dumps(scoring.as_json(scores), indent=2))
    else:
        from orchestrator.delivery import spending

        print(scoring.render(scores))
        print(spending.status_line(config, datetime.now(UTC)))
    return 0


def check(args: argparse.Namespace, path: Path, jobs: Jobs, env: Env) -> int:
    """Validate config, secrets, tools and schedules; print what to fix; change nothing.

    `--live` also asks GitHub, Telegram and each tool whether they work (cli/doctor.py);
    `--bundle FILE` writes a redacted support bundle of what was found.
    """
    problems, isolation = offline_problems(path, env)
    live, bundle = getattr(args, "live", False), getattr(args, "bundle", None)
    if live or bundle:
        from orchestrator.cli.doctor import report

        tabfile = getattr(args, "crontab_file", None)
        return report(
            path,
            env,
            jobs,
            problems,
            live=live,
            bundle=Path(bundle) if bundle else None,
            tabfile=Path(tabfile) if tabfile else None,
        )
    for line in problems:
        print(f"FAIL {line}")
    if problems:
        print(f"{len(problems)} problem(s) to fix; see docs/config.md.")
        return 2
    print(f"ok: {path} is valid; git and every agent backend were found; {isolation}.")
    return 0


def doctor(args: argparse.Namespace, path: Path, jobs: Jobs, env: Env) -> int:
    """Check everything, live: the same as `check --live`."""
    args.live = True
    return check(args, path, jobs, env)


def offline_problems(path: Path, env: Env) -> tuple[list[str], str]:
    """Return what `check` finds wrong without calling any service, and the isolation in words.

    `agentos init` calls this too, so its "valid" means what `check` means.
    """
    problems: list[str] = []
    try:
        config: Config | None = load_config(path, env)
    except ConfigError as exc:
        problems += [f"{exc.source}: {p}" for p in exc.problems]
        config = _lenient(path, env)
    isolation = ""
    if config is not None:
        problems += _tool_problems(config, env) + _schedule_problems(config)
        problems += objectives.problems(config)
        isolation, refused = _isolation(config, env)
        problems += refused
    return problems, isolation


def _isolation(config: Config, env: Env) -> tuple[str, list[str]]:
    """Return the agents' isolation in effect, in words, and the problem if it cannot be had."""
    from orchestrator.adapters.agents.confine import Walls

    mode = config.agents.isolation.value
    refusal = Walls.from_config(config, env).refusal()
    if refusal is not None:
        return "", [f"agents.isolation: {refusal}"]
    said = "confined by bubblewrap" if mode == "bwrap" else "unconfined"
    return f"agents run {said} (agents.isolation: {mode}; docs/security.md)", []


def _lenient(path: Path, env: Env) -> Config | None:
    try:
        return load_config(path, env, need_secrets=False)
    except ConfigError:
        return None


def _tool_problems(config: Config, env: Env) -> list[str]:
    search = env.get("PATH")
    problems = [] if shutil.which("git", path=search) else ["git: not found on PATH (install git)"]
    for backend in config.agents.backends.values():
        where = f"agents.backends.{backend.name}"
        if backend.type is AgentType.COMMAND:
            program = backend.argv[0]
            candidate = config.source.parent / program if "/" in program else None
            if not (shutil.which(program, path=search) or (candidate and _executable(candidate))):
                problems.append(f"{where}.argv[0]: {program!r} is not an executable program")
        elif backend.type in (AgentType.CLAUDE, AgentType.CODEX):
            binary = backend.binary or backend.type.value
            if not shutil.which(binary, path=search):
                package = {"claude": "@anthropic-ai/claude-code", "codex": "@openai/codex"}[
                    backend.type.value
                ]
                problems.append(
                    f"{where}.binary: {binary!r} not found on PATH "
                    f"(install it: npm install -g {package})"
                )
    return problems


def _executable(path: Path) -> bool:
    import os

    return path.is_file() and os.access(path, os.X_OK)


def _schedule_problems(config: Config) -> list[str]:
    from orchestrator.cli.cron import validate_schedule

    return [
        f"schedule.{job}: {error}"
        for job, expr in config.schedule.items()
        if (error := validate_schedule(expr))
    ]


def cron(args: argparse.Namespace, path: Path, jobs: Jobs, env: Env) -> int:
    """Install, remove or show the crontab block (or print systemd units)."""
    from orchestrator.cli import cron

    config = load_config(path, env, need_secrets=False)
    problems = _schedule_problems(config)
    if problems:
        raise ConfigError(str(path), problems)
    root, tabfile = config.paths.root, Path(args.crontab_file) if args.crontab_file else None
    # Only built jobs get a line: a planned one would fail every minute.
    entries = [
        cron.CronJob(n, config.schedule.get(n, spec.schedule))
        for n, spec in jobs.items()
        if spec.built
    ]
    if args.systemd:
        if args.action != "show":
            raise UsageError("--systemd goes with `cron show`; install the printed units yourself")
        for name, text in cron.systemd_units(entries, root, path, environ=env).items():
            print(f"# --- {name}\n{text}")
    elif args.action == "show":
        print(cron.show(root, tabfile=tabfile))
    elif args.action == "install":
        changed = cron.install(
            entries, root, config.paths.logs_dir, path, tabfile=tabfile, environ=env
        )
        print("crontab block installed." if changed else "crontab block already up to date.")
    else:
        changed = cron.remove(root, tabfile=tabfile)
        print("crontab block removed." if changed else "no crontab block to remove.")
    return 0


def init(args: argparse.Namespace, path: Path, jobs: Jobs, env: Env) -> int:
    """Run the guided setup (or resume it); see docs/init.md."""
    from orchestrator.config.files import ROOT
    from orchestrator.init import main

    return main(
        path.absolute(),
        root=Path(ROOT),
        environ=env,
        jobs=jobs,
        check=offline_problems,
        dry_run=args.dry_run,
        answers=Path(args.answers) if args.answers else None,
        crontab_file=Path(args.crontab_file) if args.crontab_file else None,
    )


def audit(args: argparse.Namespace, path: Path, jobs: Jobs, env: Env) -> int:
    """Verify the audit log's chain, show its last acts, or remove torn lines (docs/audit.md)."""
    from orchestrator.cli.audit import run

    return run(args, path, env)


def plan(args: argparse.Namespace, path: Path, jobs: Jobs, env: Env) -> int:
    """Bring a markdown plan onto GitHub: epics, sub-issues, dependencies (docs/plan.md)."""
    from orchestrator.cli.plan import run

    return run(args, path, env)


def serve(args: argparse.Namespace, path: Path, jobs: Jobs, env: Env) -> int:
    """Run every job on its schedule in one long-running process, or print its systemd unit."""
    from orchestrator.cli import serve

    if args.unit:
        from orchestrator.config.files import ROOT

        unit = serve.unit(
            Path(ROOT), path, args.grace, env, webhooks=args.webhooks is not None, poll=args.poll
        )
        print(unit, end="")
        return 0
    shown = None if args.dashboard is None else serve.Dashboard(args.dashboard, args.bind)
    return serve.serve(path, jobs, env, args.grace, args.poll, args.webhooks, shown)


def bot(args: argparse.Namespace, path: Path, jobs: Jobs, env: Env) -> int:
    """Run the Telegram control bot with long polling until SIGTERM."""
    from orchestrator.cli.bot import serve

    return serve(path, env)

"""`agentos plan import PATH [--repo KEY] [--dry-run]`: a markdown plan onto GitHub (docs/plan.md).

Read and check the whole plan first (any problem: a line each, exit 2, nothing written); then,
unless it is a dry run, refuse while Agent OS or the repo is switched off; take the repo's
plan-import lock (a second import of the same repo at once is refused); then print each change
as it is made and a summary line. Events go to `runtime/logs/plan_import.jsonl`.
"""

from __future__ import annotations

import argparse
import logging
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path

from orchestrator import wiring
from orchestrator.config.load import load_config
from orchestrator.config.model import Config, RepoConfig
from orchestrator.core import planfile
from orchestrator.errors import PlanError, UsageError
from orchestrator.improve import plan_sync
from orchestrator.store import locks, logs
from orchestrator.store.switches import Switches

LOG = "plan_import"  # runtime/logs/plan_import.jsonl, the `plan_import` job's log too


def add_plan_arguments(plan: argparse.ArgumentParser) -> None:
    """Declare the arguments of `plan` (main.py declares the command itself)."""
    plan.add_argument("action", choices=("import",), help="import: bring GitHub in step with PATH")
    plan.add_argument("path", metavar="PATH", help="the plan file (docs/plan.md has its format)")
    plan.add_argument("--repo", metavar="KEY", help="the repo key (needed with several repos)")
    plan.add_argument("--dry-run", action="store_true", help="print the changes, make none")


def run(args: argparse.Namespace, path: Path, env: Mapping[str, str]) -> int:
    """Carry out `plan import`; return the exit code."""
    config = load_config(path, env)
    repo = _repo(config, args.repo)
    log = logs.setup(config.paths.logs_dir, LOG, "p-" + secrets.token_hex(4), stderr=False)
    plan = _plan(Path(args.path), log)
    refusal = None if args.dry_run else _switched_off(config, repo)
    if refusal:
        log.warning("plan.refused", extra={"repo": repo.key, "reason": refusal})
        return _refuse(f"{refusal}; nothing imported")
    with locks.hold(config.paths.locks_dir, plan_sync.lock_name(repo.key)) as held:
        if not held:
            log.warning("plan.refused", extra={"repo": repo.key, "reason": "locked"})
            return _refuse(f"another plan import of {repo.key} is running; try again when it ends")
        deps = wiring.real_deps(config, log, actor=f"cli:{_user(env)}")
        try:
            plan_sync.apply(deps, repo, plan, str(args.path), _say, dry_run=args.dry_run)
        finally:
            deps.close()
    unnamed = sum(1 for item in plan.items if not item.explicit)
    if unnamed:
        items = plan_sync.plural(unnamed, "item has", "items have")
        print(f"note: {items} no {{#id}}; renaming one reads as a new item (docs/plan.md)")
    return 0


def _repo(config: Config, key: str | None) -> RepoConfig:
    if key is None:
        if len(config.repos) != 1:
            keys = ", ".join(r.key for r in config.repos)
            raise UsageError(f"plan import: name the repo with --repo KEY (one of: {keys})")
        return config.repos[0]
    try:
        return config.repo(key)
    except KeyError as exc:
        raise UsageError(exc.args[0]) from None


def _plan(path: Path, log: logging.Logger) -> planfile.MarkdownPlan:
    """Read and parse the plan; PlanError (exit 2) when it cannot be imported as it is."""
    try:
        size = path.stat().st_size
        raw = path.read_bytes() if size <= planfile.MAX_BYTES else b""
        text = raw.decode("utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read the plan {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise PlanError(str(path), [f"not UTF-8 text (byte {exc.start})"]) from None
    if size > planfile.MAX_BYTES:
        raise PlanError(str(path), [f"{size} bytes; at most {planfile.MAX_BYTES}"])
    plan = planfile.parse(text)
    if plan.problems:
        log.error("plan.invalid", extra={"file": str(path), "problems": list(plan.problems)})
        raise PlanError(str(path), plan.problems)
    return plan


def _switched_off(config: Config, repo: RepoConfig) -> str | None:
    switches = Switches(config.paths.state_dir)
    if not switches.is_on():
        return "Agent OS is off (agentos on)"
    if not switches.repo_on(repo.key):
        return f"repo {repo.key} is switched off (agentos repo on {repo.key})"
    return None


def _say(line: str) -> None:
    print(line, flush=True)  # each change as it is made: a killed import leaves its trail


def _refuse(line: str) -> int:
    print(f"agentos: {line}", file=sys.stderr)
    return 1


def _user(env: Mapping[str, str]) -> str:
    from orchestrator.cli.audit import local_user

    return local_user(env)

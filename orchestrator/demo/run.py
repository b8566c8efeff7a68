"""`agentos demo`: the whole loop, offline, on the local sandboxes, in one command.

Set the world up (world.py), then tick the real jobs through the runner, as cron would but
back to back: dispatcher → queue → (CI settles) → pr_monitor, until every issue is closed by a
merged PR or escalated, or the time limit passes. Progress lines come from a watcher thread; the
jobs' own event lines go to runtime/logs/demo-ticks.log unless --verbose.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from orchestrator.adapters.agents import confine
from orchestrator.cli import runner
from orchestrator.config.files import ROOT
from orchestrator.demo import agents, sample, scripts, summary, world
from orchestrator.demo.progress import ProgressPrinter
from orchestrator.demo.views import IssueView, read_views
from orchestrator.errors import AgentOSError
from orchestrator.jobs import JOBS
from orchestrator.sandbox.github import Sandbox
from orchestrator.sandbox.models import AnthropicSandbox
from orchestrator.store import logs

TICKS = ("dispatcher", "queue", "pr_monitor")
DEFAULT_DATA = Path(ROOT) / "runtime" / "demo"
IDLE_FIRST, IDLE_MAX = 0.25, 2.0  # seconds between rounds that change nothing
_QUIET_COUNTS = {
    "ready",
    "skipped",
    "cycles",
}  # run.finished counts that alone mean nothing happened


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the demo's options to its subparser."""
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="where the demo keeps the sandbox's state, its config and runtime/ "
        "(default: runtime/demo; emptied first when it holds an earlier demo)",
    )
    parser.add_argument(
        "--agent",
        choices=("anthropic", "claude", "codex"),
        default="anthropic",
        help="anthropic: our own backend on the scripted model (the default, offline); "
        "claude or codex: that real CLI and its real model, when installed and logged in",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop after this long (default: 240 scripted, 1800 with a real agent)",
    )
    parser.add_argument(
        "--port", type=int, default=0, help="the GitHub sandbox's port (default: a free one)"
    )
    parser.add_argument(
        "--verbose", action="store_true", help="show every job's event lines as they happen"
    )


def main(args: argparse.Namespace) -> int:
    """Run the demo; 0 when every issue ended closed by a merged PR."""
    started = time.monotonic()
    data = (args.data or DEFAULT_DATA).expanduser().resolve()
    # agents.real says what is missing
    real = None if args.agent == "anthropic" else agents.real(args.agent, os.environ)
    world.clear(data)
    _isolate(os.environ)
    model = AnthropicSandbox() if real is None else None
    with Sandbox(data, port=args.port, login=sample.OWNER) as github, _model(model):
        choice = agents.scripted(model.base_url) if model is not None else real
        assert choice is not None
        where = summary.shown(data, Path.cwd())
        print(
            f"Agent OS demo: the whole loop on a local GitHub sandbox, in {where}.\n"
            f"{choice.described}\n",
            flush=True,
        )
        built = world.build(data, github, choice, _isolation())
        if model is not None:
            model.script = scripts.book(built.issues, sample.REPO, sys.executable)
        _introduce(built, started)
        ending = _drive(built, model, started, args.timeout or choice.timeout_s, args.verbose)
    print(summary.render(ending, data, github.port, Path(ROOT), Path.cwd()), flush=True)
    _record(built, ending)
    return 0 if all(v.merged for v in ending.views.values()) else 1


def _isolation() -> str:
    """Return the demo's `agents.isolation`: bwrap, or none (said so) where bwrap cannot start."""
    why = confine.probe()
    if why is None:
        return "bwrap"
    print(
        f"Agents run UNCONFINED in this demo ({why}): its world is a throwaway sandbox; real "
        "runs here refuse to start until bubblewrap works or agents.isolation is none "
        "(docs/security.md).\n",
        flush=True,
    )
    return "none"


def _isolate(environ: os._Environ[str]) -> None:
    """Keep the user's git config and proxies out: the demo's git and HTTP reach 127.0.0.1 only."""
    environ["GIT_CONFIG_GLOBAL"] = os.devnull
    environ["GIT_CONFIG_NOSYSTEM"] = "1"
    for name in ("NO_PROXY", "no_proxy"):
        environ[name] = ",".join(filter(None, (environ.get(name), "127.0.0.1", "localhost")))


@contextlib.contextmanager
def _model(model: AnthropicSandbox | None) -> Iterator[None]:
    if model is None:
        yield
        return
    with model:
        yield


def _introduce(built: world.World, started: float) -> None:
    requests = summary.count(built.github.requests)
    print(
        f"Set up in {time.monotonic() - started:.1f} s ({requests.total} GitHub requests): "
        f"{sample.REPO} with "
        f'a sandbox-ci check, the board "{sample.BOARD_TITLE}" '
        f"and {len(built.issues)} Ready issues:",
        flush=True,
    )
    for number, issue in built.issues.items():
        waits = built.blockers_of(number)
        after = f"   (after {', '.join(f'#{n}' for n in waits)})" if waits else ""
        print(f"  #{number:<3} {issue.title}{after}")
    print("\nProgress (seconds since the start):", flush=True)


def _drive(
    built: world.World, model: AnthropicSandbox | None, started: float, limit: float, verbose: bool
) -> summary.Ending:
    blockers = {n: built.blockers_of(n) for n in built.issues}
    titles = {n: issue.title for n, issue in built.issues.items()}
    mailbox = built.runtime / "mailbox"

    def read() -> dict[int, IssueView]:
        return read_views(built.github, sample.REPO, titles, mailbox)

    watch = ProgressPrinter(read, blockers, started)
    deadline, timed_out = started + limit, False
    logs_dir = built.runtime / "logs"
    logs_dir.mkdir(parents=True, exist_ok=True)
    spent = {"to_pr": 0, "to_merge": 0}  # GitHub requests of the ticks, by phase
    with open(logs_dir / "demo-ticks.log", "a", encoding="utf-8") as sink:
        watch.start()
        before, idle = read(), 0.0
        while not summary.settled(before, blockers):
            if time.monotonic() >= deadline:
                timed_out = True
                break
            _round(built, watch, sys.stderr if verbose else sink, deadline, spent)
            after = read()
            idle = min(IDLE_MAX, idle * 2 or IDLE_FIRST) if after == before else 0.0
            # a round that changed nothing: GitHub's state waits on time, not on us
            time.sleep(idle)
            before = after
        watch.stop()
    requests, setup = built.github.requests, built.setup_requests
    return summary.Ending(
        read(),
        time.monotonic() - started,
        summary.count(requests[:setup]),
        summary.count(requests[setup:]),
        len(built.github.violations),
        len(model.requests) if model is not None else None,
        timed_out,
        spent["to_pr"],
        spent["to_merge"],
    )


def _round(
    built: world.World,
    watch: ProgressPrinter,
    stderr: IO[str],
    deadline: float,
    spent: dict[str, int],
) -> None:
    """One round of ticks; CI must have reported before the PR monitor looks. `spent` counts
    the GitHub requests of the dispatcher's and queue's ticks (Ready → PR opened) and of the PR
    monitor's (PR → merged)."""
    for job in TICKS:
        if job == "pr_monitor":
            built.github.wait_ci_idle(timeout=max(1.0, deadline - time.monotonic()))
        before = len(built.github.requests)
        _tick(built, job, watch, stderr)
        made = summary.count(built.github.requests[before:]).total
        spent["to_merge" if job == "pr_monitor" else "to_pr"] += made


def _tick(built: world.World, job: str, watch: ProgressPrinter, stderr: IO[str]) -> None:
    with contextlib.redirect_stderr(stderr):
        try:
            code = runner.run_job(job, str(built.config_path), JOBS, os.environ)
        except AgentOSError as error:
            code = error.exit_code
            print(f"agentos: {job}: {error}", file=sys.stderr)
    events = built.runtime / "logs" / f"{job}.jsonl"
    if code != 0:
        watch.note(f"{job} tick failed (exit {code}): see {summary.shown(events, Path.cwd())}")
        return
    finished = logs.last_event(events) or {}
    counts = {
        k: v
        for k, v in finished.items()
        if isinstance(v, int) and not isinstance(v, bool) and k not in ("duration_ms", "pid") and v
    }
    if set(counts) - _QUIET_COUNTS:
        watch.note(f"· {job} tick: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


def _record(built: world.World, ending: summary.Ending) -> None:
    """Log the demo's own end in runtime/logs/demo.jsonl."""
    log = logs.setup(built.runtime / "logs", "demo", "r-end", stderr=False)
    log.info(
        "demo.finished",
        extra={
            "elapsed_s": round(ending.elapsed_s, 1),
            "timed_out": ending.timed_out,
            "merged": sum(1 for v in ending.views.values() if v.merged),
            "issues": len(ending.views),
            "github_requests": ending.setup.total + ending.loop.total,
            "requests_to_pr": ending.to_pr,
            "requests_to_merge": ending.to_merge,
        },
    )

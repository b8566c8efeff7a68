"""`agentos serve`: every job on its schedule in one long-running process (docs/operations.md).

One serve per config (the `serve` lock); cron lines may stay installed beside it, since each
tick takes its job's lock either way. `--unit` prints a systemd service unit that runs it.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from orchestrator.config.load import load_config
from orchestrator.config.model import Config
from orchestrator.errors import ConfigError, UsageError
from orchestrator.jobs import JobSpec
from orchestrator.serve.scheduler import Scheduler
from orchestrator.serve.webhooks import WebhookReceiver
from orchestrator.store import locks, logs

if TYPE_CHECKING:  # jinja2 and the dashboard are imported only when it is served
    from orchestrator.dashboard.server import DashboardServer


TOKEN_VAR = "AGENTOS_DASHBOARD_TOKEN"  # what the dashboard asks of other hosts (--bind)


@dataclass(frozen=True, slots=True)
class Dashboard:
    """`serve --dashboard [PORT] [--bind ADDRESS]`: 0 is the dashboard's default port."""

    port: int
    bind: str = "127.0.0.1"


def schedules(path: Path, jobs: Mapping[str, JobSpec], env: Mapping[str, str]) -> dict[str, str]:
    """Return each built job's schedule, the config's `schedule` section over the defaults."""
    from orchestrator.cli.cron import validate_schedule

    config = load_config(path, env, need_secrets=False)
    found = {n: config.schedule.get(n, spec.schedule) for n, spec in jobs.items() if spec.built}
    problems = [f"schedule.{n}: {e}" for n, s in found.items() if (e := validate_schedule(s))]
    if problems:
        raise ConfigError(str(path), problems)
    return found


def serve(
    path: Path,
    jobs: Mapping[str, JobSpec],
    env: Mapping[str, str],
    grace: float,
    poll: float,
    webhooks: int | None = None,
    dashboard: Dashboard | None = None,
) -> int:
    """Run until SIGTERM or SIGINT; exit 0 after a clean stop, 1 if another serve runs.

    `webhooks`: receive GitHub's webhooks too (the config's `webhooks` section; a port of its
    own when not -1), each waking the jobs it concerns.
    """
    config = load_config(path, env, need_secrets=webhooks is not None)
    if webhooks is not None and config.webhooks is None:
        raise UsageError(
            "serve --webhooks needs a `webhooks:` section with its secret (docs/webhooks.md)"
        )
    planned = schedules(path, jobs, env)
    log = logs.setup(config.paths.logs_dir, "serve", "s-" + secrets.token_hex(4), stderr=False)
    with locks.hold(config.paths.locks_dir, "serve") as held:
        if not held:
            print("agentos: another `agentos serve` runs on this config", file=sys.stderr)
            return 1
        scheduler = Scheduler(path.absolute(), planned, log, environ=env, poll=poll)

        def stop(signum: int, frame: FrameType | None) -> None:
            log.info("serve.signal", extra={"signal": signal.Signals(signum).name})
            scheduler.stop()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        receiver = _receiver(config, scheduler, log, webhooks)
        try:
            shown = _dashboard(config, env, dashboard)
        except BaseException:
            if receiver is not None:
                receiver.stop()
            raise
        print(
            f"agentos serve: {len(planned)} jobs on their schedules; SIGTERM stops it", flush=True
        )
        try:
            scheduler.run(grace)
        finally:
            if receiver is not None:
                receiver.stop()
            if shown is not None:
                shown.stop()
    return 0


def _receiver(
    config: Config, scheduler: Scheduler, log: logging.Logger, port: int | None
) -> WebhookReceiver | None:
    """Start the webhook receiver when asked; it wakes the scheduler's jobs."""
    if port is None or config.webhooks is None:
        return None
    if port >= 0:
        config = replace(config, webhooks=replace(config.webhooks, port=port))
    receiver = WebhookReceiver.from_config(config, scheduler.wake, log)
    url = receiver.start()
    print(f"agentos serve: webhooks at {url}", flush=True)
    return receiver


def _dashboard(
    config: Config, env: Mapping[str, str], asked: Dashboard | None
) -> DashboardServer | None:
    """Start the dashboard when asked; its token (for --bind) from the environment or env file."""
    if asked is None:
        return None
    from orchestrator.config.load import read_env_file
    from orchestrator.core.redact import register_values
    from orchestrator.dashboard.server import DEFAULT_PORT, DashboardServer

    token = env.get(TOKEN_VAR) or (
        read_env_file(config.env_file).get(TOKEN_VAR) if config.env_file else None
    )
    if token:
        register_values([token])  # never in a log line, whatever logs it
    server = DashboardServer(
        config, bind=asked.bind, port=asked.port or DEFAULT_PORT, token=token or None
    )
    print(f"agentos serve: the dashboard at {server.start()}", flush=True)
    return server


def unit(
    root: Path,
    path: Path,
    grace: float,
    env: Mapping[str, str] = os.environ,
    *,
    webhooks: bool = False,
    poll: float = 0.0,
) -> str:
    """Return a systemd service unit running `agentos serve` (Type=simple, restarted on failure).

    `webhooks` adds `--webhooks` (the config's section), `poll` `--poll SECONDS` when not 0.
    """
    from orchestrator.cli.cron import search_path

    argv = f"{root / 'bin' / 'agentos'} serve --config {path.expanduser().absolute()}"
    argv += (" --webhooks" if webhooks else "") + (f" --poll {poll:g}" if poll else "")
    return (
        "[Unit]\nDescription=Agent OS: every job on its schedule (agentos serve)\n"
        "After=network-online.target\nWants=network-online.target\n\n"
        f"[Service]\nType=simple\nWorkingDirectory={root}\n"
        f"Environment=PATH={search_path(env)}\n"
        f"ExecStart={argv}\nKillSignal=SIGTERM\nTimeoutStopSec={int(grace) + 60}\n"
        "Restart=on-failure\nRestartSec=10\n\n"
        "[Install]\nWantedBy=default.target\n"
    )

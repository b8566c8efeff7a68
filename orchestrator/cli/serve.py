"""`agentos serve`: every job on its schedule in one long-running process (docs/operations.md).

One serve per config (the `serve` lock); cron lines may stay installed beside it, since each
tick takes its job's lock either way. `--unit` prints a systemd service unit that runs it.
"""

from __future__ import annotations

import os
import secrets
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from types import FrameType

from orchestrator.config.load import load_config
from orchestrator.errors import ConfigError
from orchestrator.jobs import JobSpec
from orchestrator.serve.scheduler import Scheduler
from orchestrator.store import locks, logs


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
    path: Path, jobs: Mapping[str, JobSpec], env: Mapping[str, str], grace: float, poll: float
) -> int:
    """Run until SIGTERM or SIGINT; exit 0 after a clean stop, 1 if another serve runs."""
    config = load_config(path, env, need_secrets=False)
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
        print(
            f"agentos serve: {len(planned)} jobs on their schedules; SIGTERM stops it", flush=True
        )
        scheduler.run(grace)
    return 0


def unit(root: Path, path: Path, grace: float, env: Mapping[str, str] = os.environ) -> str:
    """Return a systemd service unit running `agentos serve` (Type=simple, restarted on failure)."""
    from orchestrator.cli.cron import search_path

    argv = f"{root / 'bin' / 'agentos'} serve --config {path.expanduser().absolute()}"
    return (
        "[Unit]\nDescription=Agent OS: every job on its schedule (agentos serve)\n"
        "After=network-online.target\nWants=network-online.target\n\n"
        f"[Service]\nType=simple\nWorkingDirectory={root}\n"
        f"Environment=PATH={search_path(env)}\n"
        f"ExecStart={argv}\nKillSignal=SIGTERM\nTimeoutStopSec={int(grace) + 60}\n"
        "Restart=on-failure\nRestartSec=10\n\n"
        "[Install]\nWantedBy=default.target\n"
    )

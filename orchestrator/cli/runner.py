"""One tick of a job: switches first, then config, lock, events, and the job's own `run`.

The order matters for cost: a tick while Agent OS is off reads one small YAML file and two
flag files, and imports nothing heavy.
"""

from __future__ import annotations

import os
import sys
import time

from orchestrator.cli import gate
from orchestrator.config.files import read_yaml, state_dir
from orchestrator.errors import ConfigError, UsageError
from orchestrator.jobs import JobSpec

TYPE_CHECKING = False
if TYPE_CHECKING:  # pathlib and typing cost milliseconds a tick while Agent OS is off
    import logging
    from collections.abc import Mapping
    from pathlib import Path

    from orchestrator.config.model import Config


def run_job(
    name: str,
    path: str,
    jobs: Mapping[str, JobSpec],
    environ: Mapping[str, str],
    *,
    dry_run: bool = False,
) -> int:
    """Run one tick of `name` and return the exit code."""
    spec = jobs.get(name)
    if spec is None:
        raise UsageError(f"unknown job {name!r} (known: {', '.join(jobs)})")
    raw = read_yaml(path)
    if not gate.switched_on(state_dir(raw, path), name, always_on=spec.always_on, environ=environ):
        return 0
    if not spec.built:
        raise UsageError(
            f"job {name!r} is not built yet in this version "
            f"(built: {', '.join(j for j, s in jobs.items() if s.built) or 'none'})"
        )
    from pathlib import Path

    from orchestrator.config.load import runtime_paths

    paths = runtime_paths(raw, Path(path))
    return _run_locked(spec, Path(path), raw, paths.locks_dir, paths.logs_dir, environ, dry_run)


def _run_locked(
    spec: JobSpec,
    path: Path,
    raw: dict[str, object],
    locks_dir: Path,
    logs_dir: Path,
    environ: Mapping[str, str],
    dry_run: bool,
) -> int:
    import secrets

    from orchestrator.store import locks, logs

    log = logs.setup(logs_dir, spec.name, "r-" + secrets.token_hex(4))
    try:
        from orchestrator.config.load import load_config

        config = load_config(path, environ, raw=raw)
    except ConfigError as exc:
        log.error(
            "config.invalid", extra={"outcome": "config_error", "error": "; ".join(exc.problems)}
        )
        raise
    with locks.hold(locks_dir, spec.name) as held:
        if not held:
            log.info("job.skipped", extra={"reason": "already_running", "pid": os.getpid()})
            return 0
        return _run(spec, config, log, dry_run)


def _run(spec: JobSpec, config: object, log: object, dry_run: bool) -> int:
    import importlib
    import logging
    import signal
    import traceback
    from datetime import UTC, datetime

    from orchestrator import wiring
    from orchestrator.config.model import Config

    assert isinstance(config, Config) and isinstance(log, logging.Logger)
    signal.signal(signal.SIGTERM, _terminate)
    start = time.monotonic()
    log.info("run.started", extra={"dry_run": dry_run, "pid": os.getpid()})
    deps = wiring.real_deps(config, log, actor=f"agentos:{spec.name}")
    try:
        module = importlib.import_module(spec.module)
        summary = module.run(deps, config, datetime.now(UTC), dry_run=dry_run)
    except BaseException as exc:
        duration = round((time.monotonic() - start) * 1000)
        _alert(config, log, spec.name, exc)
        log.error(
            "run.crashed",
            extra={
                "outcome": "crashed",
                "duration_ms": duration,
                "error": f"{type(exc).__name__}: {exc}"[:200],
                "traceback": traceback.format_exc(),
            },
        )
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        from orchestrator.core.redact import redact

        print(
            redact(
                f"agentos: run {spec.name} crashed: {type(exc).__name__}: {exc} "
                f"(traceback in {config.paths.logs_dir / (spec.name + '.jsonl')})"
            ),
            file=sys.stderr,
        )
        return 1
    finally:
        deps.close()
    duration = round((time.monotonic() - start) * 1000)
    log.info(
        "run.finished", extra={"outcome": "ok", "duration_ms": duration, **dict(summary or {})}
    )
    return 0


def _alert(config: Config, log: logging.Logger, job: str, exc: BaseException) -> None:
    """Tell the operator a tick crashed (a SIGTERM is an operator's own doing, not a crash)."""
    if isinstance(exc, KeyboardInterrupt | SystemExit):
        return
    from orchestrator.core.notify import job_crashed
    from orchestrator.deps import notifier_for

    try:
        notifier_for(config, log).notify(job_crashed(job, f"{type(exc).__name__}: {exc}"[:300]))
    except Exception as alert_error:  # the crash is already logged; the alert must not hide it
        print(f"agentos: could not queue the crash alert: {alert_error}", file=sys.stderr)


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)

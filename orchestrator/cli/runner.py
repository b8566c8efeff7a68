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
from orchestrator.errors import ConfigError, Unauthorized, UsageError
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
        from orchestrator.errors import OverridesError

        try:
            config = load_config(path, environ, raw=raw)
        except OverridesError as exc:
            if not spec.always_on:
                raise
            # The control plane is how a setting from chat is fixed: it runs on config.yaml alone.
            log.warning(
                "config.overrides_invalid",
                extra={"file": exc.source, "error": "; ".join(exc.problems)},
            )
            config = load_config(path, environ, raw=raw, overrides={})
    except ConfigError as exc:
        log.error(
            "config.invalid", extra={"outcome": "config_error", "error": "; ".join(exc.problems)}
        )
        raise
    with locks.hold(locks_dir, spec.name) as held:
        if not held:
            log.info("job.skipped", extra={"reason": "already_running", "pid": os.getpid()})
            return 0
        try:
            return _run(spec, config, log, dry_run)
        finally:
            if not dry_run:
                _announce(config, log)
                _rotate_logs(config, log, spec.name)


def _announce(config: Config, log: logging.Logger) -> None:
    """Tell the operator, once each, about the files set aside (this tick's or a worker's)."""
    from orchestrator.deps import notifier_for
    from orchestrator.store import quarantine

    try:
        quarantine.announce(config.paths.runtime_dir, lambda: notifier_for(config, log).notify)
    except OSError as exc:  # the files stay aside and the events say so; the next tick retries
        log.error("quarantine.unannounced", extra={"error": str(exc)[:200]})


def _rotate_logs(config: Config, log: logging.Logger, job: str) -> None:
    """Rotate the job logs when this job's own is past `logs.max_mb` (one stat otherwise)."""
    from orchestrator.store import rotation

    settings = config.logs
    try:
        rotated = rotation.after_tick(
            config.paths.logs_dir, job, settings.max_bytes, settings.keep_days, settings.keep_files
        )
    except OSError as exc:  # a full or read-only disk must not fail the tick; the next one retries
        log.error("logs.rotate_failed", extra={"error": str(exc)[:200]})
        return
    if rotated:
        log.info("logs.rotated", extra={"logs": [path.name for path in rotated]})


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
    except Unauthorized as exc:  # not a crash: the credential, which no other tick can use either
        return _unauthorized(config, log, spec.name, exc, start)
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
    _accepted(config, log, _services_used(vars(deps)))
    duration = round((time.monotonic() - start) * 1000)
    log.info(
        "run.finished", extra={"outcome": "ok", "duration_ms": duration, **dict(summary or {})}
    )
    return 0


def _unauthorized(
    config: Config, log: logging.Logger, job: str, exc: Unauthorized, start: float
) -> int:
    """End a tick whose credential a service refused: log it, notify once per refusal, exit 3.

    A refused Telegram token cannot be told through Telegram: its log line and `status` say it.
    """
    from datetime import UTC, datetime

    from orchestrator.core.redact import redact
    from orchestrator.store.unauthorized import RefusedTokens

    error = str(exc)[:300]
    try:
        new = RefusedTokens(config.paths.state_dir).add(exc.service, job, error, datetime.now(UTC))
    except OSError:  # runtime/ unwritable: better a notification per tick than none
        new = True
    notified = new and exc.service != "telegram" and _notify_refused(config, log, job, exc)
    log.error(
        "run.unauthorized",
        extra={
            "outcome": "unauthorized",
            "duration_ms": round((time.monotonic() - start) * 1000),
            "service": exc.service,
            "error": error[:200],
            "notified": notified,
        },
    )
    print(redact(f"agentos: run {job} stopped: {exc}"), file=sys.stderr)
    return exc.exit_code


def _notify_refused(config: Config, log: logging.Logger, job: str, exc: Unauthorized) -> bool:
    from orchestrator.core.notify import credentials_refused
    from orchestrator.deps import notifier_for

    try:
        notifier_for(config, log).notify(credentials_refused(exc.service, job, str(exc)[:300]))
    except Exception as alert_error:  # the refusal is logged either way
        print(f"agentos: could not queue the alert: {alert_error}", file=sys.stderr)
        return False
    return True


def _services_used(built: Mapping[str, object]) -> list[str]:
    """Return the services a tick reached: `Deps` builds each client on first use, so a client
    in its attributes is one the tick needed."""
    clients = (("github", "tracker"), ("telegram", "chat"))
    return [service for service, name in clients if built.get(name) is not None]


def _accepted(config: Config, log: logging.Logger, services: list[str]) -> None:
    """Forget the refusals of services a tick used and ended ok, so a new refusal notifies."""
    from orchestrator.store.unauthorized import RefusedTokens

    try:
        cleared = RefusedTokens(config.paths.state_dir).clear(services)
    except OSError:  # kept until a tick can write it: the cost is a notification missed, later
        return
    for service in cleared:
        log.info("credentials.accepted", extra={"service": service})


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

"""`agentos bot`: the Telegram control plane as a long-running process (for systemd), long polling.

It runs while the global switch is off (so /on always gets through), stops when its own job
switch is turned off on the server, exits 0 on SIGTERM, and holds telegram_control's lock the
whole time, so the cron ticks of that job skip instead of racing it for updates.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Mapping
from pathlib import Path

from orchestrator import wiring
from orchestrator.config.files import read_yaml
from orchestrator.config.load import load_config, runtime_paths
from orchestrator.config.model import Config
from orchestrator.core.chat import PROTECTED_JOB
from orchestrator.errors import ConfigError, OverridesError, UsageError
from orchestrator.store import locks, logs
from orchestrator.store.switches import Switches

LOCK_RETRY_SECONDS = 2.0


def serve(path: Path, environ: Mapping[str, str]) -> int:
    """Run the bot until SIGTERM/SIGINT or its job switch goes off; return the exit code."""
    paths = runtime_paths(read_yaml(path), path)
    log = logs.setup(paths.logs_dir, PROTECTED_JOB, "bot-" + secrets.token_hex(4))
    try:
        config = _load(path, environ, log)
    except ConfigError as exc:
        log.error(
            "config.invalid", extra={"outcome": "config_error", "error": "; ".join(exc.problems)}
        )
        raise
    if config.telegram is None:
        raise UsageError(f"{path} has no telegram section; see docs/adapters/telegram.md")
    switches = Switches(config.paths.state_dir)
    waiting = False
    while switches.job_on(PROTECTED_JOB):
        with locks.hold(config.paths.locks_dir, PROTECTED_JOB) as held:
            if held:
                deps = wiring.real_deps(config, log, actor="agentos:bot")
                assert deps.chat is not None
                deps.chat.serve(deps.control)
                return 0
        if not waiting:  # a cron tick holds it: it ends within its minute
            log.info("bot.waiting", extra={"reason": "lock_held"})
            waiting = True
        time.sleep(LOCK_RETRY_SECONDS)
    print(
        f"agentos: {PROTECTED_JOB} is switched off "
        f"(agentos job on {PROTECTED_JOB} to start the bot)"
    )
    return 0


def _load(path: Path, environ: Mapping[str, str], log: logging.Logger) -> Config:
    """Load the config; a bad overrides.yaml is left out and logged: the bot is how it is fixed."""
    try:
        return load_config(path, environ)
    except OverridesError as exc:
        log.warning(
            "config.overrides_invalid", extra={"file": exc.source, "error": "; ".join(exc.problems)}
        )
        return load_config(path, environ, overrides={})

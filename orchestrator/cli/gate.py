"""The cheap first step of every cron tick: find the config, read the switches, decide to go on.

A tick while Agent OS is off must cost little more than starting Python, so this module and
`config.files` use only `os` and `yaml`: no dataclasses, no pathlib, none of the libraries a job
needs.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds a tick
    from collections.abc import Mapping

BYPASS = "AGENTOS_IGNORE_DISABLED"


def switched_on(state: str, job: str, *, always_on: bool, environ: Mapping[str, str]) -> bool:
    """Return whether `job` may run: its switch on and, unless it is always on, the global one."""
    if environ.get(BYPASS) == "1":
        return True
    if not always_on and os.path.exists(os.path.join(state, "disabled")):
        return False
    return not os.path.exists(os.path.join(state, "job_disabled", job))

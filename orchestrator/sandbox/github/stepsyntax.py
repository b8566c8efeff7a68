"""Read a step's `if:` and `shell:`, and a GITHUB_ENV file, as the sandbox's runner emulates them.

`if:` is emulated for the status functions alone (`success()`, `always()`, `failure()`,
`cancelled()`, bare or in `${{ }}`); `shell:` for bash, GitHub's default flags or a custom
`bash … {0}` with plain flags. Anything else fails its step with a line saying so (steps.py).
"""

from __future__ import annotations

import re
from typing import Any

from orchestrator.sandbox.github.artifacts import StepFailure

_EXPR = re.compile(r"\$\{\{(.*?)\}\}", re.S)
# a step's `if:` as the sandbox reads it: the status functions alone, by the job's outcome so far
CONDITIONS = {
    "success()": ("success",),
    "always()": ("success", "failure", "cancelled", "timed_out"),
    "failure()": ("failure",),
    "cancelled()": ("cancelled",),
}
_FLAGS = {"--noprofile", "--norc", "-e", "-u", "-x", "-o", "pipefail", "-eo", "-uo"}


def condition(given: Any) -> tuple[str, ...] | None:
    """Return the job outcomes under which a step runs, or None for an `if:` not emulated."""
    if given is None:
        return CONDITIONS["success()"]
    text = str(given).strip()
    inner = _EXPR.fullmatch(text)
    return CONDITIONS.get((inner.group(1) if inner else text).strip())


def shell(given: Any) -> list[str]:
    """Return bash's flags for a step's `shell:` (`bash`, or a custom `bash … {0}`)."""
    if given in (None, "bash"):
        return ["--noprofile", "--norc", "-e", "-o", "pipefail"]
    words = str(given).split()
    if words[:1] != ["bash"] or words[-1:] != ["{0}"] or not set(words[1:-1]) <= _FLAGS:
        raise StepFailure(f"not emulated: shell {given}")
    return words[1:-1]


def env_file(text: str) -> dict[str, str]:
    """Read a GITHUB_ENV file: NAME=value lines and NAME<<DELIMITER blocks."""
    found: dict[str, str] = {}
    lines = text.splitlines()
    while lines:
        line = lines.pop(0)
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            value = []
            while lines and lines[0] != delimiter:
                value.append(lines.pop(0))
            lines = lines[1:]
            found[name] = "\n".join(value)
        elif "=" in line:
            name, value_text = line.split("=", 1)
            found[name] = value_text
    return found

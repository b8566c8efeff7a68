"""Read `risk`: the rules that give a pull request its tier (`core.risk`).

    risk:
      high: ["auth/**", "migrations/**", ".github/**"]   # replaces the default list
      medium: ["**/*.sql"]
      medium_lines: 200
      high_lines: 1000
      min_merged_rate: 0.5
      medium_requires_verifier: false   # true: a medium PR with no verifier waits for a person

Every key is optional; a list given replaces its default (say `high: []` for none).
"""

from __future__ import annotations

from typing import Any

from orchestrator.config.reader import Reader, join, show
from orchestrator.core.risk import RiskRules

_KEYS = (
    "high",
    "medium",
    "medium_lines",
    "high_lines",
    "min_merged_rate",
    "medium_requires_verifier",
)
MAX_GLOBS = 100


def read(r: Reader, value: Any) -> RiskRules:
    """Read the `risk` section."""
    node = r.mapping(value, "risk", _KEYS)
    default = RiskRules()
    medium_lines = r.integer(node, "medium_lines", "risk", default=default.medium_lines)
    high_lines = r.integer(node, "high_lines", "risk", default=default.high_lines)
    if high_lines < medium_lines:
        r.fail(
            "risk.high_lines", f"expected at least medium_lines ({medium_lines}), got {high_lines}"
        )
        high_lines = medium_lines
    return RiskRules(
        high=_globs(r, node, "high", default.high),
        medium=_globs(r, node, "medium", default.medium),
        medium_lines=medium_lines,
        high_lines=high_lines,
        min_merged_rate=r.number(
            node, "min_merged_rate", "risk", default=default.min_merged_rate, maximum=1.0, zero=True
        ),
        medium_requires_verifier=r.flag(
            node, "medium_requires_verifier", "risk", default.medium_requires_verifier
        ),
    )


def _globs(r: Reader, node: dict[str, Any], key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    if key not in node:
        return default
    globs = r.strings(node, key, "risk")
    if len(globs) > MAX_GLOBS:
        r.fail(join("risk", key), f"expected at most {MAX_GLOBS} globs, got {len(globs)}")
        return default
    for i, glob in enumerate(globs):
        if glob.startswith("/") or ".." in glob.split("/"):
            r.fail(
                join(join("risk", key), i),
                f"expected a path glob inside the repo, got {show(glob)}",
            )
    return globs

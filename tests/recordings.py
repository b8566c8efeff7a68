"""Read the vendored recordings of real GitHub traffic (tests/data/github, see its NOTICE)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data" / "github"


def replay(name: str, method: str, path_pattern: str) -> Any:
    """Return the response body of the first matching PyGithub ReplayData exchange.

    An exchange matches on its method and path.
    """
    lines = (DATA / "pygithub-replaydata" / name).read_text().split("\n")
    for at in range(0, len(lines) - 10, 11):
        if lines[at + 1] == method and re.fullmatch(path_pattern, lines[at + 4]):
            return json.loads(lines[at + 9])
    raise LookupError(f"{method} {path_pattern} not in {name}")


def octokit(name: str, method: str, path_pattern: str) -> Any:
    """Return the response body of the first octokit fixture exchange matching method and path."""
    for exchange in json.loads((DATA / "octokit-fixtures" / f"{name}.json").read_text()):
        if exchange["method"] == method and re.fullmatch(path_pattern, exchange["path"]):
            return exchange["response"]
    raise LookupError(f"{method} {path_pattern} not in {name}")

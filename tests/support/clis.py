"""The pinned agent CLIs (`make npm-tools`) for the tests that drive them, or a skip saying how."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.sandbox.models.clis import find_cli


def cli(name: str) -> Path:
    """Return a pinned CLI, or skip the test saying how to install it."""
    path = find_cli(name)
    if path is None:
        pytest.skip(f"the pinned `{name}` CLI is not installed: run `make npm-tools` (needs npm)")
    return path

"""A test job that crashes with a secret in its message, to test crash logging and redaction."""

from __future__ import annotations

from typing import Any

TOKEN = "ghp_" + "Zx9" * 12


def run(deps: Any, config: Any, now: Any, *, dry_run: bool = False) -> dict[str, int]:
    raise RuntimeError(f"GitHub said no to {TOKEN}")

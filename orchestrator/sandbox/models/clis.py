"""Where the pinned agent CLIs live once `make npm-tools` has installed them."""

from __future__ import annotations

import json
import os
from pathlib import Path

NPM_DIR = Path(__file__).resolve().parents[3] / "tools" / "npm"
PACKAGES = {"claude": "@anthropic-ai/claude-code", "codex": "@openai/codex"}


def find_cli(name: str) -> Path | None:
    """Return the pinned `claude` or `codex` executable, or None when it is not installed."""
    if name not in PACKAGES:
        raise ValueError(f"no pinned CLI named {name!r}; known: {', '.join(PACKAGES)}")
    path = NPM_DIR / "node_modules" / ".bin" / name
    return path if path.is_file() and os.access(path, os.X_OK) else None


def pinned_version(name: str) -> str:
    """Return the exact version `tools/npm/package.json` pins for the CLI."""
    manifest = json.loads((NPM_DIR / "package.json").read_text(encoding="utf-8"))
    return str(manifest["dependencies"][PACKAGES[name]])

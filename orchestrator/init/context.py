"""What every init step works with: the prompts, options, services, session and secrets."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from orchestrator.config.load import read_env_file
from orchestrator.init.questions import Prompter
from orchestrator.init.session import Progress, Session, save
from orchestrator.jobs import JobSpec
from orchestrator.ports_init import Services

GITHUB_API = "https://api.github.com"
# What `bin/agentos check` finds wrong in a config file, and the isolation in words: the CLI hands
# init its own `cli.commands.offline_problems`, so init's "valid" is check's (and init does not
# import the CLI that imports it).
Checker = Callable[[Path, Mapping[str, str]], tuple[list[str], str]]


@dataclass(frozen=True)
class Options:
    config_path: Path
    root: Path  # the Agent OS checkout: cron markers, core.hooksPath
    dry_run: bool
    environ: Mapping[str, str]
    jobs: Mapping[str, JobSpec]
    now: datetime
    check: Checker  # what `bin/agentos check` says of a config file
    crontab_file: Path | None = None  # None: the user's crontab
    pairing_wait: int = 300  # seconds to wait for the pairing message


@dataclass
class Context:
    prompter: Prompter
    options: Options
    services: Services
    progress: Progress
    state_path: Path
    existing: dict[str, Any] | None  # the current config.yaml, parsed; None if there is none
    # var -> value entered in this run (for the env file)
    secrets: dict[str, str] = field(default_factory=dict)
    # what init.credentials connected, by name
    clients: dict[str, Any] = field(default_factory=dict)

    @property
    def session(self) -> Session:
        return self.progress.session

    @property
    def dry_run(self) -> bool:
        return self.options.dry_run

    def say(self, text: str = "") -> None:
        """Print a line."""
        self.prompter.say(text)

    def save(self) -> None:
        """Persist the progress (never in a dry run)."""
        if not self.dry_run:
            save(self.state_path, self.progress)

    def apply(self, key: str, changes: list[str]) -> bool:
        """Show the changes a step will make; True when they should be made now.

        That is when this is not a dry run and the user confirmed.
        """
        if not changes:
            self.say("Nothing to change.")
            return False
        self.say("This step will:")
        for change in changes:
            self.say(f"  - {change}")
        if self.dry_run:
            self.say("(dry run: nothing done)")
            return False
        return self.prompter.confirm(f"{key}.apply", "Go ahead?", True)

    # -- configuration already there ---------------------------------------------------------------
    def section(self, name: str) -> dict[str, Any]:
        """Return a top-level section of the existing config ({} when absent)."""
        value = (self.existing or {}).get(name)
        return value if isinstance(value, dict) else {}

    def env_file(self) -> Path:
        """Return the env file the config names, or `.env` beside it."""
        named = (self.existing or {}).get("env_file")
        base = self.options.config_path.parent
        return base / named if isinstance(named, str) and named else base / ".env"

    def lookup(self, var: str) -> str | None:
        """Return a variable's value: entered in this run, in the environment, then the env file."""
        if self.secrets.get(var):
            return self.secrets[var]
        if self.options.environ.get(var):
            return self.options.environ[var]
        file = self.env_file()
        if file.is_file():
            return read_env_file(file).get(var) or None
        return None

    # -- services ----------------------------------------------------------------------------------
    def api_url(self) -> str:
        """Return the GitHub REST root chosen in preflight (or the config's, or github.com's)."""
        if self.session.preflight is not None:
            return self.session.preflight.api_url
        return str(self.section("github").get("api_url") or GITHUB_API).rstrip("/")

    def close(self) -> None:
        """Close the GitHub connections this run opened."""
        for client in self.clients.values():
            closer = getattr(client, "close", None)
            if callable(closer):
                closer()
        self.clients.clear()

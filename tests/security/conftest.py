"""A hostile agent against the real dispatcher, queue and PR monitor on the GitHub sandbox.

The world is the end-to-end one (tests/e2e/conftest.py), with the agent swapped for
hostile_agent.py, which runs the test's attack; `Siege` adds what every attack test reads after:
where a secret could have gone (every request body the sandbox received, everything pushed),
what the room's channel says, how the task ended.
"""

from __future__ import annotations

import json
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from orchestrator.store import rooms
from tests.e2e.conftest import World, repo_entry, world  # noqa: F401 (fixture)

HOSTILE = Path(__file__).with_name("hostile_agent.py")
TELEGRAM_LIKE = "123456789:AAH-telegram-token-for-the-security-suite"


@dataclass
class Siege:
    world: World

    @property
    def root(self) -> Path:
        return self.world.root

    def arm(self, attack: str, *, isolation: str = "bwrap", **config: Any) -> None:
        """Make the agent run `attack` (Python source) for every issue; `config` extends it."""
        source = self.root / "attack.py"
        source.write_text(textwrap.dedent(attack))
        backend = {
            "type": "command",
            "timeout_minutes": 2,
            "argv": [sys.executable, str(HOSTILE), str(source), "{worktree}", "{prompt_file}"],
        }
        self.world.configure(
            [repo_entry("app", "acme/app", **config.pop("repo", {}))],
            agents={
                "backends": {"hostile": backend},
                "chains": {"default": ["hostile"]},
                "isolation": isolation,
            },
            **config,
        )

    def run_task(self, title: str = "Add subtraction", body: str = "") -> int:
        """Open a Ready issue and run the dispatcher and the queue once; return its number."""
        issue = self.world.issue("acme/app", title, body)
        assert self.world.run("dispatcher") == 0
        assert self.world.run("queue") == 0
        return issue.number

    def room(self, number: int) -> rooms.RoomRecord:
        return rooms.read(self.root / "runtime" / "rooms", f"app-{number}-g1-a1")

    def said(self, number: int) -> str:
        """Everything the agent printed during its run, as the room's channel kept it."""
        return "\n".join(
            str(event.get("line", ""))
            for event in self.room(number).events
            if event.get("event") == "output.line"
        )

    def outbound(self) -> str:
        """Everything that reached GitHub: the sandbox's state (issues, PRs, comments, labels)
        and every commit of every branch pushed (messages, patches, file contents), as text."""
        sandbox = self.world.sandbox
        sandbox.store.save()
        state = json.loads((sandbox.data_dir / "state.json").read_text(encoding="utf-8"))
        state.pop("tokens", None)  # the sandbox's own table of who holds which token
        found = [json.dumps(state)]
        for bare in sandbox.data_dir.glob("**/*.git"):
            found.append(self.world.git("log", "-p", "--all", "--text", "--format=%B", cwd=bare))
        return "\n".join(found)

    def ended(self, number: int) -> str:
        """The mailbox state the task ended in."""
        for state in ("delivered", "retried", "escalated", "dropped", "inbox", "processing"):
            if f"app-{number}-g1-a1" in self.world.mailbox(state):
                return state
        return "missing"

    def pushed_branches(self) -> set[str]:
        return {ref for ref in self.world.git_ls_remote("acme/app") if ref != "refs/heads/main"}

    def events(self, name: str) -> list[dict[str, Any]]:
        return self.world.events("queue", name)

    def channel(self, number: int) -> list[dict[str, Any]]:
        path = self.root / "runtime" / "rooms" / f"app-{number}-g1-a1" / "channel.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def siege(world: World) -> Siege:  # noqa: F811 (the e2e world, extended)
    return Siege(world)

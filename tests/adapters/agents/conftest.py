"""Fixtures for the agent backend tests.

A worktree, a request, an event recorder, the pinned CLIs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from orchestrator.adapters.agents import confine
from orchestrator.adapters.agents.environment import EnvPolicy
from orchestrator.config.model import AgentBackend, AgentType, Isolation
from orchestrator.core.agent import AgentEvent, AgentOutcome, AgentRequest
from orchestrator.sandbox.models.server import ModelSandbox
from tests.sandbox.models.conftest import make_worktree

# Codex settings a test home carries so the CLI never reaches for github.com or chatgpt.com.
CODEX_QUIET = (
    "check_for_update_on_startup = false\n[analytics]\nenabled = false\n"
    "[features]\nplugins = false\nremote_plugin = false\napps = false\n"
)


@dataclass(frozen=True)
class Run:
    """One scripted run shared by the tests of a module: what it returned, streamed, and did."""

    outcome: AgentOutcome
    events: Events
    sandbox: ModelSandbox
    worktree: Path


class Events(list[AgentEvent]):
    """Records the events a run streams; `of(kind)` picks one kind."""

    def __call__(self, event: AgentEvent) -> None:
        self.append(event)

    def of(self, kind: type) -> list:
        return [event for event in self if isinstance(event, kind)]


@pytest.fixture
def worktree(tmp_path: Path) -> Path:
    """A git repository with one commit, as a task's worktree."""
    return make_worktree(tmp_path)


@pytest.fixture
def events() -> Events:
    return Events()


def make_request(
    folder: Path,
    worktree: Path,
    prompt: str = "Do the task.",
    timeout_s: float | None = 60,
    task_id: str = "t-1",
) -> AgentRequest:
    """Return a request in the worktree, its prompt written to a prompt file in `folder`."""
    prompt_file = folder / "prompt.md"
    prompt_file.write_text(prompt, encoding="utf-8")
    return AgentRequest(task_id, prompt, str(prompt_file), str(worktree), timeout_s)


def make_host_env(folder: Path) -> dict[str, str]:
    """Return what the orchestrator's own environment looks like to an adapter.

    It has a HOME in `folder`, and the real PATH.
    """
    home = folder / "home"
    (home / ".codex").mkdir(parents=True)
    (home / ".codex" / "config.toml").write_text(CODEX_QUIET, encoding="utf-8")
    return {"PATH": os.environ["PATH"], "HOME": str(home), "LANG": "C.UTF-8"}


@pytest.fixture
def request_for(worktree: Path, tmp_path: Path) -> Callable[..., AgentRequest]:
    """Make a request in the worktree, its prompt written to a prompt file beside it."""
    return lambda *args, **kwargs: make_request(tmp_path, worktree, *args, **kwargs)


@pytest.fixture
def host_env(tmp_path: Path) -> dict[str, str]:
    """A temporary HOME (with a quiet Codex config) and the real PATH."""
    return make_host_env(tmp_path)


def backend(kind: AgentType, name: str | None = None, **settings: object) -> AgentBackend:
    """Return a backend's config with a short timeout."""
    return AgentBackend(name or kind.value, kind, settings.pop("timeout_minutes", 2), **settings)  # type: ignore[arg-type]


NO_SECRETS = EnvPolicy()


BWRAP = confine.probe()  # None where bubblewrap can confine a process here
needs_bwrap = pytest.mark.skipif(BWRAP is not None, reason=f"no confinement here: {BWRAP}")
ISOLATION = "bwrap" if BWRAP is None else "none"  # for a config: confined wherever it can be


def make_walls(folder: Path) -> confine.Walls | None:
    """Return walls like an installation's, its runtime in `folder` (None where bwrap cannot run).

    /tmp, where every test's files are, is hidden like any installation's.
    """
    if BWRAP is not None:
        return None
    runtime = folder / "runtime"
    runtime.mkdir(exist_ok=True)
    return confine.Walls(Isolation.BWRAP, (runtime, Path("/tmp")), (), runtime / "homes")

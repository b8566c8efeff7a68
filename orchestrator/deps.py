"""What one run of a job is handed besides the config and the time: the ports, and the store.

`Deps` is typed by the ports only; which class stands behind each port is `wiring`'s business
(it hands `Deps` an `Adapters` factory). Every adapter is built on first use, so a tick that
needs no GitHub makes no connection. Tests replace any of them by assignment before the job
runs (`deps.tracker = MemoryTracker()`): a cached property is overridden by the instance
attribute, and the factory never builds what was replaced.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

from orchestrator.config.model import Config, RepoConfig
from orchestrator.ports import (
    LLM,
    Agent,
    AuditLog,
    Board,
    BoardAdmin,
    Chat,
    ControlPlane,
    Cooldowns,
    Notifier,
    Tests,
    Tracker,
    Workers,
    Worktrees,
)
from orchestrator.ports_remote import Executor, TaskRefs
from orchestrator.store.cooldowns import CooldownStore
from orchestrator.store.mailbox import Mailbox
from orchestrator.store.memo import Memo
from orchestrator.store.outbox import LogNotifier, Outbox, OutboxNotifier
from orchestrator.store.switches import Switches


class Adapters(Protocol):
    """Builds the concrete adapter behind each port, once per run (`wiring.RealAdapters`)."""

    def tracker(self) -> Tracker:
        """Return GitHub's issues and pull requests (REST)."""

    def reviewer(self) -> Tracker | None:
        """Return GitHub as the verifier's second identity (`review.token`), or None without one."""

    def board(self, repo: RepoConfig, tracker: Tracker) -> Board:
        """Return the repo's board: its Projects board, or `status:*` labels read via `tracker`."""

    def board_admin(self, tracker: Tracker) -> BoardAdmin:
        """Return board set-up, as `agentos init` uses it."""

    def llm(self) -> LLM | None:
        """Return the model that structures vague issues, or None when none is configured."""

    def llm_for(self, backend_name: str) -> LLM:
        """Return the model of one `anthropic` backend of agents.backends (KeyError: no such)."""

    def chat(self, log: logging.Logger) -> Chat | None:
        """Return the chat transport, or None without a `telegram:` section."""

    def control(
        self,
        log: logging.Logger,
        tracker: Callable[[], Tracker],
        board_for: Callable[[RepoConfig], Board],
    ) -> ControlPlane:
        """Return the control plane the chat calls."""

    def agents(self) -> Mapping[str, Agent]:
        """Return every configured agent backend, by name."""

    def tests(self) -> Tests:
        """Return the runner of the repos' test commands."""

    def workers(self) -> Workers:
        """Return the starter of worker processes."""

    def worktrees(self) -> Worktrees:
        """Return git worktrees from a shared clone per repo."""

    def executor(self, name: str, repo: RepoConfig) -> Executor:
        """Return the remote executor `executors.<name>` for one repo; ExecutorError if it
        cannot be built here (the kubernetes package missing)."""

    def task_refs(self) -> TaskRefs:
        """Return the pusher of task refs and the applier of remote patches."""

    def audit(self) -> AuditLog:
        """Return the audit log (the one the tracker and worktrees it builds record to)."""

    def close(self) -> None:
        """Close the connections of what this factory built."""


@dataclass
class Deps:
    """The ports and the runtime store one run of a job uses."""

    config: Config
    log: logging.Logger
    adapters: Adapters
    # repo key -> its board, built on first use
    boards: dict[str, Board] = field(default_factory=dict)
    # backend name -> its model (`llm_for`), built on first use
    llms: dict[str, LLM] = field(default_factory=dict)
    # (executor name, repo key) -> the executor, built on first use
    executors: dict[tuple[str, str], Executor] = field(default_factory=dict)

    def close(self) -> None:
        """Close the connections of the adapters this run built.

        The ones it never used were never built.
        """
        self.adapters.close()

    @cached_property
    def tracker(self) -> Tracker:
        """GitHub issues and pull requests (REST), built once per run."""
        return self.adapters.tracker()

    @cached_property
    def reviewer(self) -> Tracker | None:
        """GitHub as the verifier's second identity (`review.token`); None: it comments as ours."""
        return self.adapters.reviewer()

    def board_for(self, repo: RepoConfig) -> Board:
        """Return the repo's board: its Projects board, or `status:*` labels when it has none."""
        if repo.key not in self.boards:
            self.boards[repo.key] = self.adapters.board(repo, self.tracker)
        return self.boards[repo.key]

    @cached_property
    def board_admin(self) -> BoardAdmin:
        """Board set-up (what `agentos init` uses)."""
        return self.adapters.board_admin(self.tracker)

    @cached_property
    def llm(self) -> LLM | None:
        """The model that structures vague issues (`dispatcher.structure_briefs_with`), or None."""
        return self.adapters.llm()

    def llm_for(self, backend_name: str) -> LLM:
        """Return the model of an `anthropic` backend by name (`improve.triage_with`), built once.

        The config has checked the name; tests put a double in `llms` before the job runs.
        """
        if backend_name not in self.llms:
            self.llms[backend_name] = self.adapters.llm_for(backend_name)
        return self.llms[backend_name]

    @cached_property
    def notifier(self) -> Notifier:
        """The outbox when Telegram is configured (the control job delivers it), else the log."""
        return notifier_for(self.config, self.log)

    @cached_property
    def chat(self) -> Chat | None:
        """The Telegram transport; None without a `telegram:` section."""
        return self.adapters.chat(self.log)

    @cached_property
    def control(self) -> ControlPlane:
        """The control plane the chat calls: commands, buttons, outbox delivery, update offset."""
        return self.adapters.control(self.log, lambda: self.tracker, self.board_for)

    @cached_property
    def agents(self) -> Mapping[str, Agent]:
        """Every configured backend by name (agents.backends)."""
        return self.adapters.agents()

    @cached_property
    def tests(self) -> Tests:
        """The repos' test commands, run with the agents' scrubbed environment."""
        return self.adapters.tests()

    @cached_property
    def workers(self) -> Workers:
        """Worker processes for the queue supervisor."""
        return self.adapters.workers()

    @cached_property
    def worktrees(self) -> Worktrees:
        """Git worktrees from a shared clone per repo, built (GitPython imported) on first use."""
        return self.adapters.worktrees()

    def executor_for(self, name: str, repo: RepoConfig) -> Executor:
        """Return the remote executor `executors.<name>` for this repo, built once per run."""
        key = (name, repo.key)
        if key not in self.executors:
            self.executors[key] = self.adapters.executor(name, repo)
        return self.executors[key]

    @cached_property
    def task_refs(self) -> TaskRefs:
        """Task refs pushed for remote runs, and their patches applied (docs/scale-out.md)."""
        return self.adapters.task_refs()

    @cached_property
    def audit(self) -> AuditLog:
        """The tamper-evident log of authority-bearing acts (runtime/audit/, docs/audit.md).

        The tracker and worktrees the factory builds record their pushes, PRs, merges, closes
        and labels to it themselves; a job records the acts only it can see (a gate's refusal).
        """
        return self.adapters.audit()

    @cached_property
    def cooldowns(self) -> Cooldowns:
        """Agent cooldowns, shared by every worker (runtime/state/cooldowns.json)."""
        return CooldownStore(self.config.paths.state_dir)

    @cached_property
    def mailbox(self) -> Mailbox:
        return Mailbox(self.config.paths.mailbox_dir)

    @cached_property
    def switches(self) -> Switches:
        return Switches(self.config.paths.state_dir)

    def memo(self, name: str) -> Memo:
        """Return the job's memo of what it already said (runtime/state/<name>.memo.json)."""
        return Memo(self.config.paths.state_dir / f"{name}.memo.json")


def notifier_for(config: Config, log: logging.Logger) -> Notifier:
    """Return the notifier the config calls for: the outbox with Telegram, the event log without."""
    if config.telegram is None:
        return LogNotifier(log)
    return OutboxNotifier(Outbox(config.paths.state_dir), log)

"""The control plane: a small function per chat command, button presses, outbox, update offset.

The chat adapter calls it (through `ports.ControlPlane`) from worker threads; everything it
changes lives in runtime/ (switches, overrides, mailbox, records), written atomically, or on
GitHub through the Tracker and Board ports.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from orchestrator.config.load import load_config
from orchestrator.config.model import Config, RepoConfig
from orchestrator.control import explaining, issues, planning, reports, scoreboard, settings
from orchestrator.core.batching import MessageBatch, Pacing, batch, due
from orchestrator.core.chat import (
    MODES,
    PROTECTED_JOB,
    Command,
    IssueCommand,
    Off,
    PlanCommand,
    Pressed,
    RepoMode,
    Switch,
    greeting,
    help_text,
)
from orchestrator.core.notify import BUTTONED, shorten
from orchestrator.delivery.stopping import draining
from orchestrator.errors import AgentOSError, ConfigError, Unauthorized
from orchestrator.jobs import JobSpec
from orchestrator.ports import AuditLog, Board, Tracker
from orchestrator.store import offset
from orchestrator.store.buttons import TTL, ButtonRecords
from orchestrator.store.mailbox import Mailbox
from orchestrator.store.outbox import Outbox, Pending
from orchestrator.store.switches import Switches


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Control:
    """The ControlPlane port over runtime/ and the GitHub ports. Config is re-read per command."""

    def __init__(
        self,
        config: Config,
        jobs: Mapping[str, JobSpec],
        log: logging.Logger,
        *,
        tracker: Callable[[], Tracker] | None = None,
        board_for: Callable[[RepoConfig], Board | None] = lambda repo: None,
        clock: Callable[[], datetime] = _utcnow,
        pacing: Pacing = Pacing(),  # noqa: B008  # frozen, so one shared default is safe
        audit: AuditLog | None = None,  # where switch and setting changes are recorded (wiring's)
        halt: Callable[[str | None], str] = lambda repo: "no agent could be stopped from here",
    ) -> None:
        self.config, self.jobs, self.log, self.clock, self.pacing = config, jobs, log, clock, pacing
        self.audit_log, self.halt = audit, halt  # halt(repo key or None): `off now`, in words
        self._tracker, self._board_for = tracker, board_for
        state = config.paths.state_dir
        self.switches, self.outbox, self.actions = (
            Switches(state),
            Outbox(state),
            ButtonRecords(state),
        )
        self.mailbox = Mailbox(config.paths.mailbox_dir)
        self._last_sent: datetime | None = None
        self.handlers: dict[
            str, Callable[[Command, str], str]
        ] = {  # one per command of core.chat.SPECS
            "start": self.greet,
            "help": self.show_help,
            "on": self.turn_on,
            "off": self.turn_off,
            "status": self.report_status,
            "repos": self.list_repos,
            "jobs": self.list_jobs,
            "queue": self.show_queue,
            "repo": self.switch_repo,
            "job": self.switch_job,
            "why": self.explain,
            "retry": self.retry,
            "report": self.report_scores,
            "plan": self.plan,
            "producers": self.list_producers,
        }

    # -- the port ----------------------------------------------------------------------------------
    def command(self, command: Command, who: str) -> str:
        """Run the command's function; config and GitHub trouble become the reply, not a crash.

        A refused credential is raised: the chat adapter answers it and ends the round with it.
        """
        name = command.name
        handler = self.handlers[name]
        self.log.info("command.received", extra={"command": name, "by": who})
        try:
            return handler(command, who)
        except ConfigError as exc:
            return (
                f"The config is invalid; fix it first:\n{exc.problems[0] if exc.problems else exc}"
            )
        except Unauthorized:
            raise
        except AgentOSError as exc:
            self.log.warning(
                "command.failed", extra={"command": name, "by": who, "error": str(exc)[:200]}
            )
            return f"/{name} failed: {exc}"

    def press(self, token: str, action: str, who: str) -> Pressed:
        """Retry or close an escalated task, once.

        Expired, unknown and repeated presses only say so.
        """
        record = self.actions.find(token)
        if record is None:
            return Pressed("This button is no longer valid.")
        if self.clock() - record.created_at > TTL:
            return Pressed(f"This button expired; use /retry {record.issue.number} or GitHub.")
        if not self.actions.claim(token):
            return Pressed(f"Already handled: {self.actions.outcome(token) or 'in progress'}.")
        try:
            config = self._config()
            if action in planning.DECISIONS:
                text = planning.press(config, record.task_id, action, who, self.clock())
            else:
                repo = issues.repo_of(config, record.issue)
                text = (
                    self._requeue(config, repo, record.issue.number, who)
                    if action == "retry"
                    else issues.close(
                        config,
                        repo,
                        record.issue,
                        self.mailbox,
                        self._github(),
                        self._board_for(repo),
                        who,
                    )
                )
        except AgentOSError as exc:
            self.actions.release(token)
            self.log.warning(
                "button.failed", extra={"action": action, "by": who, "error": str(exc)[:200]}
            )
            if isinstance(exc, Unauthorized):
                raise
            return Pressed(shorten(f"Failed: {exc}. Press again to retry.", 200), remove=False)
        self.actions.settle(token, f"{action} by {who}")
        self._record("button.pressed", who, action=action, task=record.task_id)
        self.log.info(
            "button.pressed", extra={"action": action, "task_id": record.task_id, "by": who}
        )
        return Pressed(shorten(text, 200), announce=text)

    def outgoing(self, paced: bool) -> MessageBatch | None:
        """Batch what the outbox holds.

        Escalations' button records are written before anything is sent.
        """
        pending = self.outbox.pending()
        if pending.skipped:
            self.log.warning("notification.unreadable", extra={"lines": pending.skipped})
        if not pending.notes:
            if pending.end > pending.start:
                self.outbox.finish(pending)
            return None
        if (
            paced
            and pending.sent == 0
            and not due(pending.times, self.clock(), self._last_sent, self.pacing)
        ):
            return None
        for note in pending.notes:
            if note.kind in BUTTONED:
                self.actions.record(note, self.clock())
        self.outbox.begin(pending)
        return MessageBatch(
            tuple(batch(pending.notes)), pending.sent, (pending.inode, pending.start, pending.end)
        )

    def sent(self, delivery: MessageBatch, count: int) -> None:
        """Move the outbox cursor past what went out."""
        inode, start, end = delivery.extent
        pending = Pending((), (), inode, start, end, count)
        self._last_sent = self.clock()
        if count >= len(delivery.messages):
            self.outbox.finish(pending)
        else:
            self.outbox.mark_sent(pending, count)

    def last_update_id(self) -> int:
        """Return the last handled update id (runtime/state/telegram_offset.json); 0 when none."""
        return offset.last_update_id(self.config.paths, self.clock())

    def handled(self, update_id: int) -> None:
        """Persist the update id and when, atomically."""
        offset.handled(self.config.paths.state_dir, update_id, self.clock())

    def keep_serving(self) -> bool:
        """Return whether telegram_control's own switch is on."""
        return self.switches.job_on(PROTECTED_JOB)

    # -- the commands ------------------------------------------------------------------------------
    def greet(self, command: Command, who: str) -> str:
        return greeting()

    def show_help(self, command: Command, who: str) -> str:
        return help_text()

    def turn_on(self, command: Command, who: str) -> str:
        changed = self.switches.set_global(True, self._stamp())
        self._audit("global", True, who, changed)
        return "Agent OS is on." if changed else "Agent OS was already on."

    def turn_off(self, command: Command, who: str) -> str:
        since = self.switches.off_since()
        changed = self.switches.set_global(False, self._stamp())
        self._audit("global", False, who, changed)
        now = isinstance(command, Off) and command.now
        did = self.halt(None) if now else draining(self.mailbox)
        if not changed:
            return f"Agent OS was already off (since {since}); {did}."
        return (
            f"Agent OS is off: no job starts a new tick; {did}. "
            "This bot keeps listening; /on turns it back on."
        )

    def report_status(self, command: Command, who: str) -> str:
        return reports.status(
            self._config(), self.jobs, self.switches, self.mailbox, self._github(), self.clock()
        )

    def list_repos(self, command: Command, who: str) -> str:
        return reports.repos(self._config(), self.switches)

    def list_jobs(self, command: Command, who: str) -> str:
        return reports.jobs(self.jobs, self.switches)

    def show_queue(self, command: Command, who: str) -> str:
        return reports.queue(self._config(), self.switches, self.mailbox)

    def report_scores(self, command: Command, who: str) -> str:
        return scoreboard.reply(self._config(), self._github(), self.switches, self.clock())

    def plan(self, command: Command, who: str) -> str:
        assert isinstance(command, PlanCommand)
        config = self._config()
        if command.show:
            return planning.show(config, command.repo)
        return planning.request(config, command.repo, who)

    def list_producers(self, command: Command, who: str) -> str:
        return planning.producers(self._config(), self.clock())

    def switch_repo(self, command: Command, who: str) -> str:
        config = self._config()
        key = (
            command.key
            if isinstance(command, RepoMode)
            else command.target
            if isinstance(command, Switch)
            else ""
        )
        if key not in {r.key for r in config.repos}:
            return f"Unknown repo {key!r} (known: {', '.join(r.key for r in config.repos)})."
        if isinstance(command, RepoMode):
            return self._set_mode(config, key, command.mode, who)
        assert isinstance(command, Switch)
        changed = self.switches.set_repo(key, command.on, self._stamp())
        self._audit(f"repo {key}", command.on, who, changed)
        state = "on" if command.on else "off"
        said = f"repo {key} is {state}" if changed else f"repo {key} was already {state}"
        if command.on:
            return f"{said}."
        return f"{said}; {self.halt(key) if command.now else draining(self.mailbox, key)}."

    def switch_job(self, command: Command, who: str) -> str:
        assert isinstance(command, Switch)
        name = command.target
        if name not in self.jobs:
            return f"Unknown job {name!r} (known: {', '.join(self.jobs)})."
        if name == PROTECTED_JOB and not command.on:
            return (
                f"{PROTECTED_JOB} cannot be switched off from chat: it is how you reach Agent OS. "
                f"On the server: agentos job off {PROTECTED_JOB}"
            )
        changed = self.switches.set_job(name, command.on, self._stamp())
        self._audit(f"job {name}", command.on, who, changed)
        state = "on" if command.on else "off"
        return f"job {name} is {state}." if changed else f"job {name} was already {state}."

    def explain(self, command: Command, who: str) -> str:
        assert isinstance(command, IssueCommand)
        config = self._config()
        found = issues.resolve(config, self.mailbox, command.target, "why")
        if isinstance(found, str):
            return found
        repo, ref = found
        return explaining.why(
            config,
            repo,
            ref,
            self.mailbox,
            self.switches,
            self._github(),
            self._board_for(repo),
            now=self.clock(),
        )

    def retry(self, command: Command, who: str) -> str:
        assert isinstance(command, IssueCommand)
        config = self._config()
        found = issues.resolve(config, self.mailbox, command.target, "retry")
        if isinstance(found, str):
            return found
        return self._requeue(config, found[0], found[1].number, who)

    # -- helpers -----------------------------------------------------------------------------------
    def _requeue(self, config: Config, repo: RepoConfig, number: int, who: str) -> str:
        outcome = issues.retry(
            config,
            repo,
            number,
            self.mailbox,
            self._github(),
            self._board_for(repo),
            self.clock(),
            who,
        )
        if outcome.task_id:
            self.log.info(
                "task.retried",
                extra={"issue": number, "repo": repo.key, "task_id": outcome.task_id, "by": who},
            )
            self._record("task.retried", who, repo=repo.github, issue=number, task=outcome.task_id)
        return outcome.text

    def _set_mode(self, config: Config, key: str, mode: str, who: str) -> str:
        assert mode in MODES
        try:
            changed = settings.change(
                config,
                ("repos", key, "automation_mode"),
                mode,
                lambda plain: plain.repo(key).automation_mode.value,
            )
        except ConfigError as exc:
            return f"Refused: {exc.problems[0] if exc.problems else exc}"
        if changed:
            self.log.info(
                "setting.changed",
                extra={"key": f"repos.{key}.automation_mode", "value": mode, "by": who},
            )
            self._record("setting.changed", who, key=f"repos.{key}.automation_mode", value=mode)
        return f"repo {key} mode is {mode}." if changed else f"repo {key} mode was already {mode}."

    def _config(self) -> Config:
        """Re-read config.yaml and overrides.yaml, so a long-running bot sees every change.

        A bad overrides.yaml is left out (/status says why), so chat keeps working.
        """
        from orchestrator.errors import OverridesError

        try:
            return load_config(self.config.source, {}, need_secrets=False)
        except OverridesError:
            return load_config(self.config.source, {}, need_secrets=False, overrides={})

    def _github(self) -> Tracker | None:
        return self._tracker() if self._tracker is not None else None

    def _stamp(self) -> str:
        return self.clock().isoformat(timespec="seconds")

    def _audit(self, switch: str, on: bool, who: str, changed: bool) -> None:
        self.log.info(
            "switch.changed" if changed else "switch.unchanged",
            extra={"switch": switch, "on": on, "by": who},
        )
        if changed:
            self._record("switch.changed", who, switch=switch, state="on" if on else "off")

    def _record(self, act: str, who: str, **fields: str | int | None) -> None:
        """Record a chat user's act in the audit log, signed `chat:<name (id)>`."""
        if self.audit_log is not None:
            self.audit_log.record(act, actor=f"chat:{who}", **fields)

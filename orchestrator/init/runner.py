"""Run the ten init steps in order: each says what it does and may be skipped.

Progress is saved after each step.

A run interrupted anywhere (Ctrl-C, a lost connection, a closed terminal) resumes at the step
it stopped in; finished steps are not repeated. `--dry-run` asks everything, reads GitHub and
Telegram, shows every change, and writes nothing at all (no GitHub write, no file, no crontab).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from orchestrator.config.load import runtime_paths
from orchestrator.errors import AgentOSError, ConfigError, StateError
from orchestrator.init import (
    board,
    charter,
    done,
    intake,
    pairing,
    preflight,
    repository,
    schedule,
    session,
    tuning,
    writeconfig,
)
from orchestrator.init.context import Context, Options
from orchestrator.init.questions import Prompter
from orchestrator.ports_init import Services
from orchestrator.store import locks

INTERRUPTED = 130  # what a shell reports for a program stopped by SIGINT


@dataclass(frozen=True)
class Step:
    name: str
    title: str
    does: str
    run: Callable[[Context], None]
    needs: tuple[str, ...] = ()  # session fields an earlier step must have filled in


STEPS = (
    Step(
        "preflight",
        "Preflight",
        "checks Python, git, crontab, the agent CLIs and the GitHub token, and asks which agent "
        "backend works on the issues; changes nothing",
        preflight.run,
    ),
    Step(
        "intake",
        "Intake",
        "asks what you are building and what success means; changes nothing",
        intake.run,
    ),
    Step(
        "repository",
        "Repository",
        "creates a repository or adopts one, makes git ignore .agent_result.md in it, "
        "and creates the labels Agent OS uses",
        repository.run,
    ),
    Step(
        "board",
        "Board",
        "creates or adopts a Projects board, links it to the repository, and gives its Status "
        "field the options Backlog, Ready, In Progress, In Review, Blocked, Done (keeping yours)",
        board.run,
        ("repository",),
    ),
    Step(
        "charter",
        "Charter and first issues",
        "commits NORTH_STAR.md and PLAN.md and opens 3-5 seed issues "
        "that depend on each other, in Backlog",
        charter.run,
        ("repository", "intake"),
    ),
    Step(
        "telegram",
        "Telegram",
        "pairs a chat with your bot: you send it a message, init allows that chat and "
        "replies; the token goes to the env file, never into config.yaml",
        pairing.run,
    ),
    Step(
        "tuning",
        "Tuning",
        "asks how much runs at once, attempts, agent timeouts, what Agent OS may file by itself "
        "and the schedule; "
        "changes nothing until step 8",
        tuning.run,
    ),
    Step(
        "config",
        "Write config",
        "merges everything into the config (your comments and values kept), backs the "
        "old file up, replaces it once the result loads, and says what `bin/agentos check` "
        "says of it",
        writeconfig.run,
    ),
    Step(
        "cron",
        "Cron and hooks",
        "runs the jobs from `agentos serve` (a systemd unit, with webhooks or polling), the "
        "crontab block or printed systemd timers, and enables the "
        "pre-commit secret guard",
        schedule.run,
    ),
    Step("done", "Done", "says where everything is and which issue runs first", done.run),
)


def run(options: Options, services: Services, prompter: Prompter) -> int:
    """Run (or resume) init; return the exit code."""
    existing = _existing(options.config_path)
    state_path = _runtime(options.config_path, existing) / "state" / "init.json"
    if options.dry_run:
        return _steps(options, services, prompter, existing, state_path)
    with locks.hold(state_path.parent.parent / "locks", "init") as held:
        if not held:
            raise StateError(
                "another `agentos init` is running for this config; let it finish first"
            )
        return _steps(options, services, prompter, existing, state_path)


def _steps(
    options: Options,
    services: Services,
    prompter: Prompter,
    existing: dict[str, Any] | None,
    state_path: Path,
) -> int:
    progress = _progress(options, prompter, state_path)
    ctx = Context(prompter, options, services, progress, state_path, existing)
    if options.dry_run:
        prompter.say("Dry run: every change is shown, none is made.")
    current = STEPS[0]
    try:
        for number, step in enumerate(STEPS, 1):
            current = step
            _one(ctx, number, step)
    except KeyboardInterrupt:
        prompter.say(
            f"\nInterrupted in step {STEPS.index(current) + 1} ({current.title}). "
            "Nothing is half-written;"
            " run `bin/agentos init` again to resume there."
        )
        return INTERRUPTED
    except (AgentOSError, EOFError):
        if not options.dry_run:
            prompter.say(
                f"Stopped in step {STEPS.index(current) + 1} ({current.title}); "
                "the steps before it are "
                "saved: run `bin/agentos init` again to resume there."
            )
        raise
    finally:
        ctx.close()
    progress.finished = True
    ctx.save()
    return 0


def _one(ctx: Context, number: int, step: Step) -> None:
    progress, say = ctx.progress, ctx.say
    say(f"\n== Step {number} of {len(STEPS)}: {step.title} ==")
    if step.name in progress.done or step.name in progress.skipped:
        say(
            "Done in the interrupted run."
            if step.name in progress.done
            else "Skipped in the interrupted run."
        )
        return
    say(f"This step {step.does}.")
    missing = [need for need in step.needs if getattr(ctx.session, need) is None]
    if missing:
        say(f"Skipped: it needs the {' and '.join(missing)}, which an earlier step did not set up.")
        progress.skipped.append(step.name)
    elif step.name != "done" and not ctx.prompter.confirm(
        f"steps.{step.name}", "Run this step?", True
    ):
        say("Skipped.")
        progress.skipped.append(step.name)
    else:
        step.run(ctx)
        progress.done.append(step.name)
    ctx.save()


def _progress(options: Options, prompter: Prompter, state_path: Path) -> session.Progress:
    fresh = session.Progress(
        config=str(options.config_path), started=options.now.isoformat(timespec="seconds")
    )
    earlier = session.load(state_path)
    if earlier is None or earlier.finished or earlier.config != str(options.config_path):
        return fresh
    finished = [s.title for s in STEPS if s.name in earlier.done + earlier.skipped]
    following = next(
        (i for i, s in enumerate(STEPS, 1) if s.name not in earlier.done + earlier.skipped), None
    )
    prompter.say(
        f"An init started {earlier.started} stopped after: {', '.join(finished) or 'nothing'}."
    )
    if following is not None and prompter.confirm(
        "resume", f"Resume at step {following} ({STEPS[following - 1].title})?", True
    ):
        return earlier
    prompter.say(
        "Starting over (the earlier run's GitHub changes stay; init adopts what it finds)."
    )
    return fresh


def _existing(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(str(path), [f"cannot be read: {' '.join(str(error).split())}"]) from None
    if data is not None and not isinstance(data, dict):
        raise ConfigError(str(path), ["expected a mapping at the top"])
    return data or {}


def _runtime(path: Path, existing: dict[str, Any] | None) -> Path:
    return runtime_paths(existing or {}, path).runtime_dir

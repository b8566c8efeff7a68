"""Step 7, tuning: how much runs at once, how hard to try, agent timeouts, the schedule.

The defaults come from the config.
"""

from __future__ import annotations

from typing import Any

from orchestrator.cli.cron import validate_schedule
from orchestrator.config.model import Limits
from orchestrator.errors import InvalidAnswer
from orchestrator.init import backend, configdoc
from orchestrator.init.context import Context
from orchestrator.init.session import Tuning


def run(ctx: Context) -> None:
    """Ask each setting with the current value as the default; record the answers.

    Writing the config is step 8.
    """
    p, limits = ctx.prompter, ctx.section("limits")
    values: dict[str, Any] = {
        "limits.max_parallel_workers": p.integer(
            "tuning.max_parallel_workers",
            "Tasks running at once, across all repositories",
            int(limits.get("max_parallel_workers") or Limits().max_parallel_workers),
        ),
        "repo.max_parallel_tasks": p.integer(
            "tuning.max_parallel_tasks",
            "Tasks of this repository running at once",
            int(configdoc.repo_entry(ctx).get("max_parallel_tasks") or 2),
        ),
        "limits.max_attempts": p.integer(
            "tuning.max_attempts",
            "Agent attempts per issue before a human is asked",
            int(limits.get("max_attempts") or Limits().max_attempts),
        ),
    }
    backend.choose(ctx)  # asked in preflight, unless that step was skipped
    for name, timeout in configdoc.planned_backends(ctx).items():
        values[f"agents.backends.{name}.timeout_minutes"] = p.integer(
            f"tuning.timeout.{name}", f"Timeout for the {name} agent (minutes)", timeout
        )
    values.update(_schedule(ctx))
    ctx.session.tuning = Tuning(changes=values)
    ctx.say("  ✓ noted; step 8 writes them to the config")


def _schedule(ctx: Context) -> dict[str, str]:
    current = {
        name: str(ctx.section("schedule").get(name) or spec.schedule)
        for name, spec in ctx.options.jobs.items()
    }
    for name, expr in current.items():
        ctx.say(f"  {name:<18} {expr}")
    if ctx.prompter.confirm("tuning.keep_schedule", "Keep this schedule?", True):
        return {}
    return {
        f"schedule.{name}": ctx.prompter.text(
            f"tuning.schedule.{name}", f"Cron expression for {name}", expr, check=_cron
        )
        for name, expr in current.items()
    }


def _cron(text: str) -> str:
    problem = validate_schedule(text)
    if problem:
        raise InvalidAnswer(problem)
    return " ".join(text.split())

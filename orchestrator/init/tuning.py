"""Step 7, tuning: how much runs at once, how hard to try, agent timeouts, the schedule, and
how much the improvement loops may file (docs/improve.md).

The defaults come from the config.
"""

from __future__ import annotations

from typing import Any

from orchestrator.cli.cron import validate_schedule
from orchestrator.config.model import ImproveConfig, Limits
from orchestrator.errors import InvalidAnswer
from orchestrator.init import backend, configdoc
from orchestrator.init.context import Context
from orchestrator.init.questions import parse_integer
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
    values.update(_improve(ctx))
    values.update(_schedule(ctx))
    ctx.session.tuning = Tuning(changes=values)
    ctx.say("  ✓ noted; step 8 writes them to the config")


READY = {"none": (), "critical": ("critical",), "high": ("critical", "high")}


def _improve(ctx: Context) -> dict[str, Any]:
    """What Agent OS may file by itself: a daily cap, which incidents start in Ready, triage."""
    p, section, default = ctx.prompter, ctx.section("improve"), ImproveConfig()
    values: dict[str, Any] = {
        "improve.daily_cap": int(
            p.text(
                "tuning.daily_cap",
                "Issues Agent OS may file by itself in a repository per day",
                str(section.get("daily_cap") or default.daily_cap),
                check=_cap,
            )
        )
    }
    current = tuple(section.get("ready_severities") or default.ready_severities)
    ready = p.choice(
        "tuning.incidents_ready",
        "Incidents that go straight to Ready (the others wait in Backlog)",
        list(READY),
        next((name for name, levels in READY.items() if levels == current), "none"),
    )
    values["improve.ready_severities"] = list(READY[ready])
    models = configdoc.planned_backends(ctx, kind="anthropic")
    if models and not section.get("triage_with"):
        name = next(iter(models))
        if p.confirm(
            "tuning.triage",
            f"Let the {name} model sort runtime signals no rule knows (a request per scan at most)",
            False,
        ):
            values["improve.triage_with"] = name
    return values


def _cap(text: str) -> str:
    value = parse_integer(text, 1)
    if value > 100:
        raise InvalidAnswer(f"expected at most 100, got {value}")
    return str(value)


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

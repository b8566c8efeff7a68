"""The cost caps at work: a task's spend as it runs, and the day's caps the dispatcher honours.

A task's spend (`tally`) is read back from the rooms of its dispatch's attempts so far, this one
included (a task resumed after a quota wait has spent before), and grows with the events of the
running chain: the pricing is core.spend's, the outcome ledger's own. The day's spend comes from
the ledger (each attempt counts on the UTC day it started); when a day's cap is reached, the
dispatcher queues nothing more for that scope until the next day, and says so once in the chat
(`runtime/state/spend.memo.json` remembers the day it said so, per scope).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from orchestrator.config.model import Config, RepoConfig
from orchestrator.core import spend
from orchestrator.core.spend import Spend, Tally
from orchestrator.core.tasks import Task, parse_id
from orchestrator.deps import Deps
from orchestrator.store import rooms
from orchestrator.store.ledger import Ledger

MEMO = "spend"  # runtime/state/spend.memo.json
SECTION = "capped"  # scope -> the last day its cap was announced


def tally(config: Config, repo: RepoConfig, task: Task) -> Tally | None:
    """Return what the task's dispatch spent so far, against its cap; None without a cap."""
    if repo.max_cost_per_task is None:
        return None
    models = {name: b.model for name, b in config.agents.backends.items() if b.model}
    counted = Tally(config.prices, models, repo.max_cost_per_task)
    here = (task.repo_key, task.issue, task.generation)
    for other in rooms.room_ids(config.paths.rooms_dir):
        parsed = parse_id(other)
        if parsed is not None and parsed[:3] == here and parsed[3] <= task.attempt:
            for line in rooms.read(config.paths.rooms_dir, other).events:
                counted.read(line)
    return counted


def has_day_caps(config: Config) -> bool:
    """True when the config caps a day's spend, for all repos or for one."""
    return config.caps.max_cost_per_day is not None or any(
        r.max_cost_per_day is not None for r in config.repos
    )


def today(config: Config, now: datetime) -> list[Spend]:
    """Return the day's spend so far (the ledger, brought up to date) per scope, with its cap."""
    start, end = spend.day_of(now)
    ledger = Ledger.of(config)
    ledger.update()
    spent = ledger.spend(_stamp(start), _stamp(end))
    caps = {r.key: r.max_cost_per_day for r in config.repos}
    return spend.today(spent, config.caps.max_cost_per_day, caps)


def status_line(config: Config, now: datetime) -> str:
    """Return `Spend today: $X of $Y (global); repo app: $A of $B` for /status."""
    return spend.line(today(config, now))


def dispatchable(
    deps: Deps,
    config: Config,
    repos: Sequence[RepoConfig],
    now: datetime,
    *,
    announce: bool = True,
) -> list[RepoConfig]:
    """Return the repos the dispatcher may queue for today: none past a day's cap.

    A cap newly reached is logged and said in the chat once per day and scope (`announce`).
    """
    if not has_day_caps(config):
        return list(repos)
    spends = today(config, now)
    held = spend.held(spends, [r.key for r in repos])
    if held and announce:
        _announce(deps, [s for s in spends if s.reached], {r.key for r in repos}, now)
    return [r for r in repos if r.key not in held]


def _announce(deps: Deps, reached: Sequence[Spend], keys: set[str], now: datetime) -> None:
    memo, day = deps.memo(MEMO), spend.day_of(now)[0].date().isoformat()
    for scope in reached:
        if scope.scope != spend.GLOBAL and scope.scope not in keys:
            continue  # a repo switched off: nothing of it would be queued anyway
        if memo.changed(SECTION, scope.scope, day):
            deps.log.warning(
                "spend.capped",
                extra={
                    "scope": scope.scope,
                    "spent": round(scope.spent, 2),
                    "cap": scope.cap,
                    "day": day,
                },
            )
            deps.notifier.notify(spend.day_capped(scope, day))
    memo.save()


def _stamp(at: datetime) -> str:
    """Return a time as the ledger's rows keep it: UTC, milliseconds, `Z`."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")

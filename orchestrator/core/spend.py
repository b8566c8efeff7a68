"""What tasks spend against their caps: a task's own cap, a day's cap, and how each is said.

A task's spend is what every attempt of its dispatch (the first, its follow-ups, its fixing
tasks) cost, priced as the outcome ledger prices it (docs/ledger.md): a backend's own reported
cost where it gives one, else its tokens at the price of the model its session named (or the
backend's configured model). Usage counts once the backend reports it; Claude Code reports a
run's cost only at its end, so at its turn boundaries the tokens its messages showed so far are
priced (`Tally.over`). A day is the UTC day. Pure: no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from orchestrator.core.agent import AgentEvent, AttemptStarted, SessionStarted, Usage, UsageReported
from orchestrator.core.evidence import Price, as_int, price_for
from orchestrator.core.notify import Kind, Notification

GLOBAL = "global"  # the scope of every repo's spend together
CAP_REASON = "cost_cap"  # the escalation reason of a task stopped at its cap


def money(usd: float) -> str:
    """Return an amount as the chat and comments show it: `$4.20`."""
    return f"${usd:,.2f}"


class Tally:
    """Sums what a task's model calls cost, as its rooms and its running backend report them.

    `models` names the model of a backend whose session did not (backend name -> its configured
    model); `cap` is the task's cap in USD (None: no cap).
    """

    def __init__(
        self, prices: Mapping[str, Price], models: Mapping[str, str], cap: float | None = None
    ) -> None:
        self.prices, self.models, self.cap = prices, models, cap
        self.spent = 0.0
        self.backend = ""
        self.model: str | None = None

    def observe(self, event: AgentEvent) -> None:
        """Count one event of a running chain."""
        if isinstance(event, AttemptStarted):
            self.backend, self.model = event.backend, None
        elif isinstance(event, SessionStarted):
            self.model = event.model or self.model
        elif isinstance(event, UsageReported):
            self.spent += self.cost(event.usage)

    def read(self, line: Mapping[str, object]) -> None:
        """Count one line of a room's channel.jsonl (an earlier run's events)."""
        name, usage = line.get("event"), line.get("usage")
        if name == "attempt.started":
            self.observe(AttemptStarted(str(line.get("backend") or ""), 0))
        elif name == "session.started" and isinstance(line.get("model"), str):
            self.observe(SessionStarted("", str(line["model"])))
        elif name == "usage.reported" and isinstance(usage, dict):
            self.observe(UsageReported(_usage(usage)))

    def cost(self, usage: Usage) -> float:
        """Return what one usage report cost: its own cost, else its tokens priced; 0 unknown."""
        if usage.cost_usd is not None:
            return usage.cost_usd
        price = price_for(self.prices, self.model or self.models.get(self.backend))
        if price is None:
            return 0.0
        return price.cost(usage.input_tokens, usage.output_tokens, usage.cached_input_tokens)

    def over(self, unreported: Usage) -> bool:
        """True when what was reported and `unreported` together reach the cap."""
        return self.cap is not None and self.spent + self.cost(unreported) >= self.cap

    @property
    def reached(self) -> bool:
        """True when what was reported reaches the cap already."""
        return self.over(Usage())

    def reason(self) -> str:
        """Return the escalation reason of a task stopped at its cap: the spend and the cap."""
        cap = money(self.cap) if self.cap is not None else "no"
        return f"{CAP_REASON}: {money(self.spent)} spent of the {cap} cap"


def _usage(data: Mapping[str, object]) -> Usage:
    """Return a usage as a channel line carries it (`core.agent.event_record`)."""
    cost = data.get("cost_usd")
    number = isinstance(cost, int | float) and not isinstance(cost, bool) and cost >= 0
    return Usage(
        as_int(data.get("input_tokens")) or 0,
        as_int(data.get("output_tokens")) or 0,
        as_int(data.get("cached_input_tokens")) or 0,
        float(cost) if number and isinstance(cost, int | float) else None,
    )


@dataclass(frozen=True, slots=True)
class Spend:
    """A day's spend of one scope (GLOBAL, or a repo key) against its cap (None: no cap)."""

    scope: str
    spent: float
    cap: float | None = None

    @property
    def reached(self) -> bool:
        return self.cap is not None and self.spent >= self.cap

    def describe(self) -> str:
        """Return `$1.20 of $5.00`, or `$1.20` without a cap."""
        return money(self.spent) + (f" of {money(self.cap)}" if self.cap is not None else "")


def day_of(now: datetime) -> tuple[datetime, datetime]:
    """Return when the (UTC) day of `now` starts and when the next one does."""
    start = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def today(
    spent: Mapping[str, float], day_cap: float | None, repo_caps: Mapping[str, float | None]
) -> list[Spend]:
    """Return the day's spend: every repo together first, then each repo with a cap of its own.

    `spent` is the day's spend per repo key; `repo_caps` each repo's own day cap.
    """
    scopes = [Spend(GLOBAL, sum(spent.values()), day_cap)]
    return scopes + [
        Spend(key, spent.get(key, 0.0), cap) for key, cap in repo_caps.items() if cap is not None
    ]


def held(spends: Sequence[Spend], repos: Collection[str]) -> set[str]:
    """Return the repos that get no new task today: all at the global cap, else those at theirs."""
    reached = {s.scope for s in spends if s.reached}
    if GLOBAL in reached:
        return set(repos)
    return {key for key in repos if key in reached}


def line(spends: Sequence[Spend]) -> str:
    """Return `/status`'s line: `Spend today: $X of $Y (global); repo app: $A of $B`."""
    parts = [
        f"{s.describe()} (global)" if s.scope == GLOBAL else f"repo {s.scope}: {s.describe()}"
        for s in spends
    ]
    return "Spend today: " + "; ".join(parts)


def day_capped(spend: Spend, day: str) -> Notification:
    """Return the one chat message of a day's cap reached (per scope and day)."""
    where = "all repos" if spend.scope == GLOBAL else f"repo {spend.scope}"
    return Notification(
        Kind.INFO,
        f"Cost cap for {day} reached ({where}): {spend.describe()} spent; "
        "nothing more is queued until the next day (UTC)",
        detail="Tasks already running finish, each within its own cost cap "
        "(limits.max_cost_per_task).",
    )

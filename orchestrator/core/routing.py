"""Agent fallback chains: which backend runs next, and what an attempt's end means for the chain.

A quota or rate-limit failure rests that backend (until the reset it reported, else the default)
and hands the task to the next one; a transient failure hands it on at once; a permanent one
(the prompt is too large, a human must act) ends the chain, since no other agent can do better.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from orchestrator.core.agent import AgentOutcome, OutcomeKind, Usage
from orchestrator.core.contract import AgentResult, BlockerCode, Status, parse

# A reset time in the past or a moment away still rests the backend.
MIN_COOLDOWN = timedelta(minutes=1)
MAX_COOLDOWN = timedelta(days=7)  # a garbled reset time never parks a backend for good
# The contract code of a run that did not finish, so every attempt has a result to show in the
# next prompt.
CODES = {
    OutcomeKind.TIMED_OUT: BlockerCode.TIMEOUT,
    OutcomeKind.TURN_LIMIT: BlockerCode.TIMEOUT,
    OutcomeKind.QUOTA_EXHAUSTED: BlockerCode.QUOTA_LIMITED,
    OutcomeKind.AUTH_FAILED: BlockerCode.MISSING_CREDENTIALS,
    OutcomeKind.PROMPT_TOO_LARGE: BlockerCode.PROMPT_TOO_LARGE,
    OutcomeKind.UNAVAILABLE: BlockerCode.ENVIRONMENT_FAILURE,
    OutcomeKind.MODEL_ERROR: BlockerCode.RUNNER_FAILURE,
    OutcomeKind.CRASHED: BlockerCode.RUNNER_FAILURE,
    # a person raises the cap or takes the work over: no agent may spend more on it
    OutcomeKind.COST_CAPPED: BlockerCode.MANUAL_INTERVENTION_REQUIRED,
}
CAPPED = OutcomeKind.COST_CAPPED.value  # the reason of a ruling that ends a chain at its cap


class ChainMove(enum.Enum):
    DONE = "done"  # the agent finished with a usable result: the chain ends
    NEXT = "next"  # transient: the next backend takes the task
    COOLDOWN = "cooldown"  # quota or rate limit: rest this backend; the next takes the task
    STOP = "stop"  # permanent: no other backend can do better; the chain ends


class ChainEnd(enum.Enum):
    FINISHED = "finished"  # an attempt ended DONE
    STOPPED = "stopped"  # a permanent failure ended the chain
    EXHAUSTED = "exhausted"  # every backend was tried or is resting, without a result
    COOLING_DOWN = "cooling_down"  # nothing ran: every backend of the chain is resting


@dataclass(frozen=True, slots=True)
class Cooldown:
    """A backend resting until `until`, and why."""

    backend: str
    until: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class Ruling:
    move: ChainMove
    reason: str  # a word that also appears in logs and tests
    cooldown: Cooldown | None = None  # set when the move is COOLDOWN


@dataclass(frozen=True, slots=True)
class PassedOver:
    """A backend passed over without running."""

    backend: str
    reason: str  # cooling_down
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Pick:
    backend: str | None  # None: nothing left to run
    skipped: tuple[PassedOver, ...] = ()


@dataclass(frozen=True, slots=True)
class BackendRun:
    """One backend's run in a chain: how it ended, the contract it left, and what that meant."""

    backend: str
    outcome: AgentOutcome
    result: AgentResult
    ruling: Ruling
    result_text: str | None = None  # .agent_result.md as the agent wrote it


@dataclass(frozen=True, slots=True)
class ChainResult:
    end: ChainEnd
    runs: tuple[BackendRun, ...] = ()
    skipped: tuple[PassedOver, ...] = ()
    retry_at: datetime | None = None  # the earliest end of a cooldown that kept a backend out

    @property
    def last(self) -> BackendRun | None:
        """Return the last backend run, if any."""
        return self.runs[-1] if self.runs else None

    @property
    def finished_by(self) -> str | None:
        """Return the backend whose run ended the chain DONE."""
        return self.last.backend if self.end is ChainEnd.FINISHED and self.last else None

    @property
    def result(self) -> AgentResult | None:
        """Return the last run's result contract."""
        return self.last.result if self.last else None

    @property
    def capped(self) -> bool:
        """True when the task's cost cap ended the chain (a run stopped at it, or run past it)."""
        return self.last is not None and self.last.ruling.reason == CAPPED

    @property
    def paused(self) -> bool:
        """True when the last run hit its quota and no backend of the chain was left to run."""
        return (
            self.end is ChainEnd.EXHAUSTED
            and self.last is not None
            and self.last.ruling.move is ChainMove.COOLDOWN
        )

    @property
    def usage(self) -> Usage:
        """Return the tokens and cost of every run together."""
        total = Usage()
        for run in self.runs:
            total = total + run.outcome.usage
        return total


def pick(
    chain: Sequence[str], cooldowns: Mapping[str, Cooldown], now: datetime, tried: Collection[str]
) -> Pick:
    """Return the first backend of the chain not tried yet and not resting.

    Also return those passed over because they rest.
    """
    skipped: list[PassedOver] = []
    for name in dict.fromkeys(chain):
        if name in tried:
            continue
        rest = cooldowns.get(name)
        if rest is not None and rest.until > now:
            skipped.append(PassedOver(name, "cooling_down", rest.until))
            continue
        return Pick(name, tuple(skipped))
    return Pick(None, tuple(skipped))


def result_of(outcome: AgentOutcome, text: str | None) -> AgentResult:
    """Return the run's result: the agent's contract if it finished, else one saying why not."""
    if outcome.kind is OutcomeKind.FINISHED:
        return parse(text)
    why = f"{outcome.backend} {outcome.kind.value}" + (
        f": {outcome.error}" if outcome.error else ""
    )
    return AgentResult(Status.BLOCKED, CODES[outcome.kind], summary=why, lists={"BLOCKERS": (why,)})


def judge(
    outcome: AgentOutcome, result: AgentResult, now: datetime, default_cooldown: timedelta
) -> Ruling:
    """Decide what a run's end means: done, next backend, rest this one, or stop the chain."""
    kind = outcome.kind
    if kind is OutcomeKind.QUOTA_EXHAUSTED:
        until = cooldown_until(outcome.reset_at, now, default_cooldown)
        return Ruling(
            ChainMove.COOLDOWN,
            kind.value,
            Cooldown(outcome.backend, until, outcome.error or kind.value),
        )
    if kind in (OutcomeKind.PROMPT_TOO_LARGE, OutcomeKind.COST_CAPPED):
        return Ruling(ChainMove.STOP, kind.value)
    if kind is not OutcomeKind.FINISHED:
        return Ruling(ChainMove.NEXT, kind.value)
    if result.status is not Status.BLOCKED:
        return Ruling(ChainMove.DONE, result.status.value)
    code = result.blocker or BlockerCode.INVALID_RESULT_CONTRACT
    if code.permanent:
        return Ruling(ChainMove.STOP, code.value)
    if code is BlockerCode.QUOTA_LIMITED:
        until = cooldown_until(None, now, default_cooldown)
        return Ruling(
            ChainMove.COOLDOWN,
            code.value,
            Cooldown(outcome.backend, until, result.summary or code.value),
        )
    return Ruling(ChainMove.NEXT, code.value)


def at_cap(ruling: Ruling) -> Ruling:
    """The task's cost cap is reached: a run that did not finish the task ends the chain there.

    A rest it earned stays recorded; a finished run stands (what it cost is spent already).
    """
    if ruling.move is ChainMove.DONE:
        return ruling
    return Ruling(ChainMove.STOP, CAPPED, ruling.cooldown)


def cooldown_until(reset_at: datetime | None, now: datetime, default: timedelta) -> datetime:
    """Return when a rest ends: the reported reset, else `now + default`, within sane bounds."""
    until = reset_at if reset_at is not None and reset_at > now else now + default
    return min(max(until, now + MIN_COOLDOWN), now + MAX_COOLDOWN)


def conclude(runs: Sequence[BackendRun], skipped: Sequence[PassedOver]) -> ChainResult:
    """Sum a chain up: how it ended and, unless it finished, when a resting backend is back."""
    last = runs[-1] if runs else None
    if last is not None and last.ruling.move is ChainMove.DONE:
        return ChainResult(ChainEnd.FINISHED, tuple(runs), tuple(skipped))
    if last is not None and last.ruling.move is ChainMove.STOP:
        end = ChainEnd.STOPPED
    else:
        end = ChainEnd.COOLING_DOWN if not runs and skipped else ChainEnd.EXHAUSTED
    ends = [skip.until for skip in skipped if skip.until is not None]
    ends += [r.ruling.cooldown.until for r in runs if r.ruling.cooldown is not None]
    return ChainResult(end, tuple(runs), tuple(skipped), min(ends) if ends else None)

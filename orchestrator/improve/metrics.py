"""A metric's current value (docs/objectives.md): from a file the app writes, a command's output,
or a measure of the outcome ledger over the objectives' evaluation window.

Reading never raises: each metric gives a value or one line saying why not (redacted, naming the
metric). A file is a regular file of at most 64 KiB in UTF-8 holding a plain number, or YAML or
JSON with a number under `value`. A command runs as the signal sources' do (`improve.probes`):
no shell, stdin from /dev/null, in its repo's clone (else the config's folder), with PATH, HOME
and LANG only (never the GitHub token nor the agents' keys), killed with its process group at
its timeout; exit 0 and a number printed (the whole output, else its last non-empty line) is
its value. The ledger is brought up to date and scored once per `read_metrics`.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import stat
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from orchestrator.config.model import Config
from orchestrator.config.objectives import (
    LedgerMeasure,
    Metric,
    MetricSource,
    MetricSourceType,
    Objectives,
)
from orchestrator.core import scoring
from orchestrator.core.redact import redact
from orchestrator.errors import AgentOSError
from orchestrator.improve import probes
from orchestrator.improve.readings import stamp
from orchestrator.store.ledger import Ledger

FILE_MAX = 64 << 10  # bytes of a metric file: a number needs a few
LINE_MAX = 300
_NO_DATA = {  # what the window lacks when a measure has no value
    LedgerMeasure.MERGED_RATE: "no attempt ended",
    LedgerMeasure.ESCALATED_SHARE: "no attempt ended",
    LedgerMeasure.LEAD_TIME_HOURS: "nothing was merged",
    LedgerMeasure.COST_PER_MERGED_PR: "nothing was merged",
    LedgerMeasure.CHANGE_FAILURE_RATE: "nothing was merged",
}


@dataclass(frozen=True, slots=True)
class MetricValue:
    """One metric read: its value, or why there is none (one line)."""

    metric: str  # the metric's id
    value: float | None
    problem: str | None = None


Scored = scoring.Report | str  # the window's scores, or why the ledger could not give them


def read_metrics(objectives: Objectives, config: Config, now: datetime) -> tuple[MetricValue, ...]:
    """Read every metric of the objectives; the ledger is scored once, when a metric needs it."""
    scored: Scored | None = None
    values = []
    for metric in objectives.metrics:
        if metric.source.type is MetricSourceType.LEDGER and scored is None:
            scored = ledger_scores(config, objectives.evaluation_window_days, now)
        values.append(read_metric(metric, objectives, config, now, scored=scored))
    return tuple(values)


def read_metric(
    metric: Metric,
    objectives: Objectives,
    config: Config,
    now: datetime,
    *,
    scored: Scored | None = None,
) -> MetricValue:
    """Read one metric now; `scored` spares a ledger metric scoring the window again."""
    source = metric.source
    if source.type is MetricSourceType.FILE and source.path is not None:
        found = read_file(source.path)
    elif source.type is MetricSourceType.COMMAND:
        found = run_command(source, workdir(config, objectives.repo))
    elif source.type is MetricSourceType.LEDGER and source.measure is not None:
        if scored is None:
            scored = ledger_scores(config, objectives.evaluation_window_days, now)
        found = _measure(scored, objectives, source.measure)
    else:
        found = "its source names nothing to read"
    if isinstance(found, str):
        line = " ".join(redact(f"metric {metric.id}: {found}").split())
        return MetricValue(metric.id, None, line[:LINE_MAX])
    return MetricValue(metric.id, found)


# -- file ---------------------------------------------------------------------------------------
def read_file(path: Path) -> float | str:
    """Return the number a metric file holds, or why there is none."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)  # a FIFO must not block
    except FileNotFoundError:
        return f"{path} does not exist"
    except OSError as exc:
        return f"{path} cannot be read: {exc.strerror or exc}"
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return f"{path} is not a regular file"
        data = _read_up_to(fd, FILE_MAX + 1)
    except OSError as exc:
        return f"{path} cannot be read: {exc.strerror or exc}"
    finally:
        os.close(fd)
    if len(data) > FILE_MAX:
        return f"{path} is larger than {FILE_MAX >> 10} KiB"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return f"{path} is not UTF-8 text"
    found = number_in(text)
    return f"{path} holds no number (nor one under `value`)" if found is None else found


def _read_up_to(fd: int, limit: int) -> bytes:
    data = bytearray()
    while len(data) < limit:
        chunk = os.read(fd, limit - len(data))
        if not chunk:
            break
        data += chunk
    return bytes(data)


def number_in(text: str) -> float | None:
    """Return the finite number a text is, or holds under `value` as YAML or JSON; else None."""
    text = text.strip()
    try:
        return _finite(float(text))
    except ValueError:
        pass  # not a plain number: YAML or JSON, then
    data: Any = None
    for parse in (json.loads, _yaml):
        try:
            data = parse(text)
            break
        except (ValueError, yaml.YAMLError, RecursionError):
            continue
    if isinstance(data, dict):
        data = data.get("value")
    if isinstance(data, bool) or not isinstance(data, int | float):
        return None
    return _finite(data)


def _yaml(text: str) -> Any:
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _finite(value: float) -> float | None:
    try:
        number = float(value)
    except OverflowError:  # an integer past a float's range
        return None
    return number if math.isfinite(number) else None


# -- command ------------------------------------------------------------------------------------
def workdir(config: Config, repo_key: str) -> Path:
    """Return where a command metric runs: its repo's local clone, else the config's folder."""
    repo = next((r for r in config.repos if r.key == repo_key), None)
    if repo is not None and repo.local_path is not None and repo.local_path.is_dir():
        return repo.local_path
    return config.source.parent


def run_command(source: MetricSource, cwd: Path) -> float | str:
    """Run the metric's program once; return the number it printed, or why there is none."""
    if not source.argv:
        return "no command to run"
    ran = probes.run_program(source.argv, cwd, source.timeout_seconds)
    if isinstance(ran, str):
        return ran
    if ran.timed_out:
        return f"timed out after {source.timeout_seconds:g}s"
    if ran.returncode != 0:
        return ran.failure()
    return _printed(ran.out.decode("utf-8", "replace"))


def _printed(text: str) -> float | str:
    found = number_in(text)
    if found is None:
        lines = [line for line in text.splitlines() if line.strip()]
        found = number_in(lines[-1]) if lines else None
    if found is None:
        return f"printed no number: {text.strip()[:80]!r}"
    return found


# -- ledger -------------------------------------------------------------------------------------
def ledger_scores(config: Config, days: int, now: datetime) -> Scored:
    """Bring the outcome ledger up to date and score the `days` before `now`, or say why not."""
    try:
        ledger = Ledger.of(config)
        ledger.update()
        return scoring.score(
            ledger.tasks(),
            ledger.merges(),
            {r.github: r.key for r in config.repos},
            stamp(now - timedelta(days=days)),
            float(days),
            reverts=ledger.reverts(),
            incidents=ledger.incidents(),
            failure_window_days=config.improve.failure_window_days,
        )
    except (OSError, sqlite3.Error, ValueError, AgentOSError) as exc:
        return f"the outcome ledger cannot be read: {exc}"


_MEASURES: dict[LedgerMeasure, Callable[[scoring.Score], float | None]] = {
    LedgerMeasure.MERGED_RATE: lambda s: s.merged_rate,
    LedgerMeasure.LEAD_TIME_HOURS: lambda s: s.lead_time_hours,
    LedgerMeasure.COST_PER_MERGED_PR: lambda s: s.cost_per_merge,
    LedgerMeasure.ESCALATED_SHARE: lambda s: s.escalated_share,
}


def _measure(scored: Scored, objectives: Objectives, measure: LedgerMeasure) -> float | str:
    if isinstance(scored, str):
        return scored
    key = objectives.repo
    if measure is LedgerMeasure.CHANGE_FAILURE_RATE:
        dora = scored.dora.get(key)
        value = dora.change_failure_rate if dora is not None else None
    else:
        value = _MEASURES[measure](scored.repos.get(key, scoring.Score()))
    if value is None:
        days = objectives.evaluation_window_days
        return f"no {measure.value} yet: {_NO_DATA[measure]} in {key} in the last {days} days"
    return float(value)

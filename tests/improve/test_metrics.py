"""A metric's current value: from a file, a command (bare environment, timeout), or the ledger.

Every read ends in a value or one line saying why not; none raises.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from orchestrator.config.load import load_config
from orchestrator.config.model import Config
from orchestrator.config.objectives import (
    Direction,
    LedgerMeasure,
    Metric,
    MetricSource,
    MetricSourceType,
    Objectives,
)
from orchestrator.improve.metrics import MetricValue, read_metric, read_metrics
from orchestrator.store.files import append_line
from tests.helpers import ENV, write_config

NOW = datetime(2026, 12, 15, 12, 0, tzinfo=UTC)
SECRET = "gh-token-the-test-process-holds-0123456789"


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return load_config(write_config(tmp_path), ENV)


def objectives(*metrics: Metric, days: int = 28) -> Objectives:
    return Objectives(
        Path("objectives/app.yaml"), "app", "App", "Ship", days, metrics=tuple(metrics)
    )


def metric(source: MetricSource, ident: str = "m") -> Metric:
    return Metric(ident, "A metric", 1.0, Direction.INCREASE, source)


def from_file(path: Path) -> Metric:
    return metric(MetricSource(MetricSourceType.FILE, path=path))


def from_command(code: str, timeout: float = 10.0) -> Metric:
    argv = (sys.executable, "-c", code)
    return metric(MetricSource(MetricSourceType.COMMAND, argv=argv, timeout_seconds=timeout))


def read(config: Config, m: Metric) -> MetricValue:
    return read_metric(m, objectives(m), config, NOW)


# -- file ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, value",
    [
        (json.dumps({"value": 0.42, "unit": "share"}), 0.42),
        ("value: 12\nmeasured_at: 2026-12-15\n", 12.0),
        ("7.5\n", 7.5),
        ("\ufeff-3", -3.0),
        ("1_000", 1000.0),
    ],
)
def test_a_file_gives_its_number_or_the_number_under_value(
    config: Config, tmp_path: Path, text: str, value: float
) -> None:
    (tmp_path / "m.txt").write_text(text, encoding="utf-8")
    assert read(config, from_file(tmp_path / "m.txt")) == MetricValue("m", value)


@pytest.mark.parametrize(
    "content, problem",
    [
        (b"hello", "holds no number (nor one under `value`)"),
        (b"value: true", "holds no number (nor one under `value`)"),
        (b"value: .nan", "holds no number (nor one under `value`)"),
        (b"nan", "holds no number (nor one under `value`)"),
        (b"value: " + b"9" * 400, "holds no number (nor one under `value`)"),
        (b"[1, 2]", "holds no number (nor one under `value`)"),
        (b"value: [1", "holds no number (nor one under `value`)"),
        (b"\xff\xfe\x00binary", "is not UTF-8 text"),
        (b"1" * (65 << 10), "is larger than 64 KiB"),
    ],
)
def test_a_file_without_a_number_is_one_line(
    config: Config, tmp_path: Path, content: bytes, problem: str
) -> None:
    (tmp_path / "m.txt").write_bytes(content)
    found = read(config, from_file(tmp_path / "m.txt"))
    assert found == MetricValue("m", None, f"metric m: {tmp_path / 'm.txt'} {problem}")


def test_a_missing_file_or_a_folder_is_one_line(config: Config, tmp_path: Path) -> None:
    missing = read(config, from_file(tmp_path / "nope.yaml"))
    assert missing.problem == f"metric m: {tmp_path / 'nope.yaml'} does not exist"
    assert (
        read(config, from_file(tmp_path)).problem == f"metric m: {tmp_path} is not a regular file"
    )


# -- command ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "code, value",
    [
        ("print(3.5)", 3.5),
        ("print('warming up'); print('measured:'); print(12)", 12.0),
        ("import json; print(json.dumps({'value': 0.25}))", 0.25),
    ],
)
def test_a_command_gives_the_number_it_prints(config: Config, code: str, value: float) -> None:
    assert read(config, from_command(code)) == MetricValue("m", value)


def test_a_command_past_its_timeout_is_killed_and_is_one_line(config: Config) -> None:
    started = datetime.now(UTC)
    found = read(config, from_command("import time; time.sleep(30); print(1)", timeout=0.5))
    assert found == MetricValue("m", None, "metric m: timed out after 0.5s")
    assert datetime.now(UTC) - started < timedelta(seconds=10)


@pytest.mark.parametrize(
    "code, problem",
    [
        ("import sys; print('db down', file=sys.stderr); sys.exit(3)", "metric m: exit 3: db down"),
        ("print('all good')", "metric m: printed no number: 'all good'"),
    ],
)
def test_a_failing_or_wordy_command_is_one_line(config: Config, code: str, problem: str) -> None:
    assert read(config, from_command(code)).problem == problem


def test_a_command_that_cannot_start_is_one_line(config: Config) -> None:
    m = metric(MetricSource(MetricSourceType.COMMAND, argv=("/no/such/program",)))
    assert read(config, m).problem == (
        "metric m: cannot start /no/such/program: No such file or directory"
    )


def test_a_command_never_sees_the_github_token(
    config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", SECRET)
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    code = (
        "import os\n"
        "leaked = [k for k in ('GITHUB_TOKEN', 'ANTHROPIC_API_KEY') if k in os.environ]\n"
        "print(len(leaked) + 7)"
    )
    assert read(config, from_command(code)) == MetricValue("m", 7.0)


def test_a_secret_a_command_prints_is_redacted_from_its_problem(config: Config) -> None:
    token = "ghp_" + "Zz9" * 12
    found = read(
        config, from_command(f"import sys; print('auth {token}', file=sys.stderr); exit(1)")
    )
    assert found.value is None and found.problem is not None
    assert token not in found.problem and found.problem.startswith("metric m: exit 1: auth ")


# -- ledger -------------------------------------------------------------------------------------
def _line(file: Path, **fields: Any) -> None:
    append_line(file, json.dumps(fields))


def _ledger(runtime: Path) -> None:
    """Two attempts of app in the window: #1 merged (queued 8 hours before), #2 escalated."""
    logs, rooms = runtime / "logs", runtime / "rooms"
    day = "2026-12-14T"
    _line(
        logs / "dispatcher.jsonl",
        ts=f"{day}02:00:00.000Z",
        event="task.queued",
        task_id="app-1-g1-a1",
    )
    _line(
        logs / "dispatcher.jsonl",
        ts=f"{day}03:00:00.000Z",
        event="task.queued",
        task_id="app-2-g1-a1",
    )
    one, two = rooms / "app-1-g1-a1" / "channel.jsonl", rooms / "app-2-g1-a1" / "channel.jsonl"
    _line(one, ts=f"{day}04:00:00.000Z", event="chain.finished", backend="claude", cost_usd=2.0)
    _line(one, ts=f"{day}05:00:00.000Z", event="attempt.judged", next="open_pr", reason="ok")
    _line(one, ts=f"{day}05:00:01.000Z", event="pr.opened", number=11)
    _line(two, ts=f"{day}04:00:00.000Z", event="chain.finished", backend="claude", cost_usd=1.0)
    _line(
        two, ts=f"{day}06:00:00.000Z", event="attempt.judged", next="escalate", reason="blocked:x"
    )
    _line(two, ts=f"{day}06:00:01.000Z", event="lifecycle.changed", state="failed")
    _line(
        logs / "pr_monitor.jsonl",
        ts=f"{day}10:00:00.000Z",
        event="pr.merged",
        repo="acme/app",
        pr=11,
        issue=1,
    )  # fmt: skip


def ledger_metric(measure: LedgerMeasure) -> Metric:
    return metric(MetricSource(MetricSourceType.LEDGER, measure=measure), measure.value)


def test_the_ledger_measures_are_the_repos_scores_over_the_window(config: Config) -> None:
    _ledger(config.paths.runtime_dir)
    found = read_metrics(objectives(*map(ledger_metric, LedgerMeasure)), config, NOW)
    assert {v.metric: v.value for v in found} == {
        "merged_rate": 0.5,
        "lead_time_hours": 8.0,
        "cost_per_merged_pr": 3.0,
        "change_failure_rate": 0.0,
        "escalated_share": 0.5,
    }
    assert all(v.problem is None for v in found)


def test_a_window_without_data_is_one_line_per_measure(config: Config) -> None:
    _ledger(config.paths.runtime_dir)
    late = NOW + timedelta(days=10)
    found = read_metrics(objectives(ledger_metric(LedgerMeasure.MERGED_RATE), days=7), config, late)
    assert found == (
        MetricValue(
            "merged_rate",
            None,
            "metric merged_rate: no merged_rate yet: no attempt ended in app in the last 7 days",
        ),
    )


def test_an_unreadable_ledger_is_one_line_not_a_crash(config: Config) -> None:
    runtime = config.paths.runtime_dir
    runtime.parent.mkdir(parents=True, exist_ok=True)
    runtime.write_text("a file where the runtime folder should be")
    [found] = read_metrics(objectives(ledger_metric(LedgerMeasure.LEAD_TIME_HOURS)), config, NOW)
    assert found.value is None and found.problem is not None
    assert found.problem.startswith("metric lead_time_hours: the outcome ledger cannot be read: ")


def test_every_metric_of_an_objectives_file_is_read_in_order(
    config: Config, tmp_path: Path
) -> None:
    (tmp_path / "m.yaml").write_text(yaml.safe_dump({"value": 4}))
    found = read_metrics(
        objectives(
            metric(MetricSource(MetricSourceType.FILE, path=tmp_path / "m.yaml"), "file"),
            from_command("print(2)"),
        ),
        config,
        NOW,
    )
    assert found == (MetricValue("file", 4.0), MetricValue("m", 2.0))

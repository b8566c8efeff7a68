"""`agentos run JOB`: switches, lock, events, crash handling, exit codes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestrator.cli.main import main
from orchestrator.store.switches import Switches
from tests.helpers import ENV, minimal_config, write_config
from tests.jobfixtures import counting
from tests.jobfixtures.registry import JOBS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def config(tmp_path: Path) -> Path:
    counting.CALLS.clear()
    return write_config(tmp_path)


def events(config: Path, job: str) -> list[dict]:
    log = config.parent / "runtime" / "logs" / f"{job}.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def run(config: Path, job: str, *extra: str, env: dict[str, str] | None = None) -> int:
    return main(["--config", str(config), "run", job, *extra], jobs=JOBS, environ=env or ENV)


def switches(config: Path) -> Switches:
    return Switches(config.parent / "runtime" / "state")


def test_a_run_logs_started_and_finished_with_duration_outcome_and_counts(config: Path) -> None:
    assert run(config, "counting", "--dry-run") == 0
    started, finished = events(config, "counting")
    assert started["event"] == "run.started" and started["dry_run"] is True
    assert finished["event"] == "run.finished"
    assert finished["outcome"] == "ok" and finished["queued"] == 3
    assert isinstance(finished["duration_ms"], int)
    assert started["run_id"] == finished["run_id"] and finished["job"] == "counting"
    assert counting.CALLS[0]["dry_run"] is True
    assert counting.CALLS[0]["now"].tzinfo is not None


@pytest.mark.parametrize("flip", ["global", "job"])
def test_a_switched_off_job_does_not_run_and_exits_zero(config: Path, flip: str) -> None:
    s = switches(config)
    s.set_global(False, "t") if flip == "global" else s.set_job("counting", False, "t")
    assert run(config, "counting") == 0
    assert counting.CALLS == [] and events(config, "counting") == []


def test_the_bypass_variable_runs_a_job_despite_both_switches(config: Path) -> None:
    s = switches(config)
    s.set_global(False, "t")
    s.set_job("counting", False, "t")
    assert run(config, "counting", env={**ENV, "AGENTOS_IGNORE_DISABLED": "1"}) == 0
    assert len(counting.CALLS) == 1


def test_the_control_plane_runs_while_the_global_switch_is_off_but_obeys_its_own(
    config: Path,
) -> None:
    s = switches(config)
    s.set_global(False, "t")
    assert run(config, "control") == 0 and len(counting.CALLS) == 1
    s.set_job("control", False, "t")
    assert run(config, "control") == 0 and len(counting.CALLS) == 1


def test_turning_on_again_lets_the_job_run(config: Path) -> None:
    for command in (["off"], ["on"]):
        assert main(["--config", str(config), *command], jobs=JOBS, environ=ENV) == 0
    assert run(config, "counting") == 0 and len(counting.CALLS) == 1


def test_an_unknown_job_is_refused_listing_the_known_ones(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(config, "dispatch") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown job 'dispatch' (known: sleepy, crashy, counting" in err


def test_a_job_not_built_yet_is_refused_clearly(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(config, "planned") == 2
    assert "job 'planned' is not built yet" in capsys.readouterr().err


def test_an_invalid_config_exits_two_and_logs_config_invalid(tmp_path: Path) -> None:
    path = write_config(tmp_path, minimal_config(limits={"max_attempts": 0}))
    assert run(path, "counting") == 2
    (event,) = events(path, "counting")
    assert event["event"] == "config.invalid" and "limits.max_attempts" in event["error"]


def test_a_crash_exits_one_logs_the_traceback_and_never_the_secret(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.jobfixtures.crashy import TOKEN

    assert run(config, "crashy") == 1
    crashed = events(config, "crashy")[-1]
    assert crashed["event"] == "run.crashed" and crashed["outcome"] == "crashed"
    assert "RuntimeError" in crashed["traceback"] and "crashy.py" in crashed["traceback"]
    log_text = (config.parent / "runtime" / "logs" / "crashy.jsonl").read_text()
    err = capsys.readouterr().err
    assert TOKEN not in log_text and TOKEN not in err
    assert "[REDACTED:github-token]" in log_text


def _spawn(config: Path, job: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.jobfixtures.registry", "--config", str(config), "run", job],
        cwd=ROOT,
        env={**os.environ, **ENV, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def _wait_for(path: Path, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def test_two_concurrent_runs_of_one_job_the_second_skips(config: Path, tmp_path: Path) -> None:
    env = {"SLEEPY_STARTED": str(tmp_path / "started"), "SLEEPY_RELEASE": str(tmp_path / "release")}
    first = _spawn(config, "sleepy", env)
    _wait_for(tmp_path / "started")
    second = _spawn(config, "sleepy", env)
    assert second.wait(20) == 0
    (tmp_path / "release").touch()
    assert first.wait(20) == 0
    kinds = [e["event"] for e in events(config, "sleepy")]
    assert kinds.count("run.started") == 1 and kinds.count("run.finished") == 1
    assert kinds.count("job.skipped") == 1
    skipped = next(e for e in events(config, "sleepy") if e["event"] == "job.skipped")
    assert skipped["reason"] == "already_running"


def test_a_killed_run_leaves_no_stale_lock(config: Path, tmp_path: Path) -> None:
    env = {"SLEEPY_STARTED": str(tmp_path / "started"), "SLEEPY_RELEASE": str(tmp_path / "release")}
    first = _spawn(config, "sleepy", env)
    _wait_for(tmp_path / "started")
    first.kill()
    first.wait(10)
    (tmp_path / "started").unlink()
    (tmp_path / "release").touch()
    assert _spawn(config, "sleepy", env).wait(20) == 0
    assert [e["event"] for e in events(config, "sleepy")].count("run.finished") == 1


def test_sigterm_mid_run_is_logged_as_a_crash(config: Path, tmp_path: Path) -> None:
    env = {"SLEEPY_STARTED": str(tmp_path / "started"), "SLEEPY_RELEASE": str(tmp_path / "release")}
    proc = _spawn(config, "sleepy", env)
    _wait_for(tmp_path / "started")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 128 + signal.SIGTERM
    assert events(config, "sleepy")[-1]["event"] == "run.crashed"


def test_a_switched_off_tick_imports_nothing_heavy(config: Path) -> None:
    switches(config).set_global(False, "t")
    probe = (
        "import sys; from orchestrator.cli.main import main; "
        f"code = main(['--config', {str(config)!r}, 'run', 'dispatcher']); "
        "heavy = sorted(m for m in ('github', 'gql', 'httpx', 'telegram', 'anthropic', 'git', "
        "'jinja2', 'filelock', 'logging', 'crontab', 'typing') if m in sys.modules); "
        "print(code, heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **ENV},
        check=True,
    )
    assert out.stdout.strip() == "0 []"


def test_status_reports_each_jobs_last_run(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(config, "counting")
    run(config, "crashy")
    capsys.readouterr()
    assert main(["--config", str(config), "status"], jobs=JOBS, environ=ENV) == 0
    out = capsys.readouterr().out
    counting_line = next(line for line in out.splitlines() if line.strip().startswith("counting"))
    crashy_line = next(line for line in out.splitlines() if line.strip().startswith("crashy"))
    assert "ok" in counting_line and " ms" in counting_line and "last run 20" in counting_line
    assert "crashed" in crashy_line
    assert "never run" in next(
        line for line in out.splitlines() if line.strip().startswith("sleepy")
    )

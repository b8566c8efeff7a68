"""A bad runtime/state/overrides.yaml stops the jobs (exit 2 naming it) but not the control plane.

Chat is how a setting gets changed, so the control plane (`run telegram_control`, `agentos bot`,
each chat command) loads config.yaml without the overrides, logs `config.overrides_invalid` and
says the problem in /status.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from orchestrator.cli.main import main
from orchestrator.config.load import load_config, overrides_problem
from orchestrator.control.plane import Control
from orchestrator.core.chat import Simple
from orchestrator.errors import ConfigError, OverridesError
from orchestrator.jobs import JOBS
from orchestrator.store.overrides import set_override
from tests.helpers import ENV, minimal_config, write_config

YOLO = "repos[0].automation_mode: expected one of full | dispatcher_only, got 'yolo'"


def bad_overrides(folder: Path) -> Path:
    """Write a valid config whose overrides.yaml sets a mode that does not exist."""
    path = write_config(folder)
    set_override(folder / "runtime" / "state", ("repos", "app", "automation_mode"), "yolo")
    return path


def events(folder: Path, job: str) -> list[dict]:
    log = folder / "runtime" / "logs" / f"{job}.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_a_job_refuses_a_bad_overrides_file_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = bad_overrides(tmp_path)
    assert main(["--config", str(path), "run", "dispatcher"], environ=ENV) == 2
    overrides = tmp_path / "runtime" / "state" / "overrides.yaml"
    assert f"agentos: {overrides} is invalid:\n  {YOLO}\n" in capsys.readouterr().err
    assert events(tmp_path, "dispatcher")[-1]["event"] == "config.invalid"


def test_the_control_plane_tick_runs_without_the_bad_overrides_and_logs_why(
    tmp_path: Path,
) -> None:
    path = bad_overrides(tmp_path)
    assert main(["--config", str(path), "run", "telegram_control"], environ=ENV) == 0
    said = events(tmp_path, "telegram_control")
    assert [e["event"] for e in said][:2] == ["config.overrides_invalid", "run.started"]
    assert said[0]["file"] == str(tmp_path / "runtime" / "state" / "overrides.yaml")
    assert said[0]["error"] == YOLO and said[-1]["event"] == "run.finished"


def test_the_control_plane_still_refuses_a_bad_config_yaml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path, minimal_config(limits={"max_attempts": 0}))
    set_override(tmp_path / "runtime" / "state", ("repos", "app", "automation_mode"), "yolo")
    assert main(["--config", str(path), "run", "telegram_control"], environ=ENV) == 2
    err = capsys.readouterr().err
    assert f"agentos: {path} is invalid:" in err and "limits.max_attempts" in err


def test_the_bot_starts_without_the_bad_overrides(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Past the overrides, this config's next problem is that it has no Telegram section."""
    path = bad_overrides(tmp_path)
    assert main(["--config", str(path), "bot"], environ=ENV) == 2
    assert "has no telegram section" in capsys.readouterr().err
    assert events(tmp_path, "telegram_control")[0]["event"] == "config.overrides_invalid"


def test_status_from_chat_says_the_overrides_problem_in_one_line(tmp_path: Path) -> None:
    path = bad_overrides(tmp_path)
    with pytest.raises(OverridesError):
        load_config(path, ENV)
    config = load_config(path, ENV, overrides={})
    plane = Control(config, JOBS, logging.getLogger("test.overrides"))
    reply = plane.command(Simple("status"), "alice (1001)")
    assert f"\nOverrides: overrides.yaml is invalid and left out: {YOLO}\n" in reply + "\n"
    assert "Overridden from chat" not in reply
    assert "app: on, full, acme/app" in plane.command(Simple("repos"), "alice (1001)")


def test_an_overrides_problem_is_none_when_they_apply_or_are_absent(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    assert overrides_problem(load_config(path, ENV)) is None
    set_override(tmp_path / "runtime" / "state", ("limits", "max_attempts"), 5)
    config = load_config(path, ENV)
    assert config.limits.max_attempts == 5 and overrides_problem(config) is None


def test_layering_overrides_leaves_the_tree_read_from_config_yaml_as_it_was(
    tmp_path: Path,
) -> None:
    """The tick loads the same tree again without the overrides: they must not be in it."""
    from orchestrator.config.files import read_yaml

    path = write_config(tmp_path, minimal_config(limits={"max_attempts": 2}))
    set_override(tmp_path / "runtime" / "state", ("limits", "max_attempts"), 4)
    set_override(tmp_path / "runtime" / "state", ("repos", "app", "max_parallel_tasks"), 3)
    raw = read_yaml(path)
    before = json.dumps(raw, sort_keys=True)
    config = load_config(path, ENV, raw=raw)
    assert (config.limits.max_attempts, config.repos[0].max_parallel_tasks) == (4, 3)
    assert json.dumps(raw, sort_keys=True) == before


def test_overrides_cannot_hide_a_section_config_yaml_got_wrong(tmp_path: Path) -> None:
    path = write_config(tmp_path, minimal_config(limits=[1, 2]))
    set_override(tmp_path / "runtime" / "state", ("limits", "max_attempts"), 4)
    with pytest.raises(ConfigError) as caught:
        load_config(path, ENV)
    assert not isinstance(caught.value, OverridesError) and caught.value.source == str(path)
    assert "limits: expected a mapping, got a list of 2 integers" in caught.value.problems

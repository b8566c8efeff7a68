"""`agentos check` validates objectives/<repo key>.yaml too: a FAIL line per problem, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from orchestrator.adapters.agents import confine
from orchestrator.cli.main import main
from tests.helpers import ENV, write_config

OBJECTIVES = {
    "version": 1,
    "repo": "app",
    "product_name": "Example App",
    "primary_outcome": "New users finish a first project in under ten minutes.",
    "metrics": [
        {
            "id": "activation",
            "name": "Activation",
            "weight": 1,
            "direction": "increase",
            "source": {"type": "ledger", "measure": "merged_rate"},
        }
    ],
    "constraints": ["Never change the billing code."],
}


@pytest.fixture(autouse=True)
def bwrap_works(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(confine, "probe", lambda: None)  # check's isolation line is not ours


def check(config: Path) -> int:
    return main(["--config", str(config), "check"], environ=ENV)


def objectives_file(config: Path, content: bytes | dict[str, object]) -> Path:
    file = config.parent / "objectives" / "app.yaml"
    file.parent.mkdir(exist_ok=True)
    data = content if isinstance(content, bytes) else yaml.safe_dump(content).encode()
    file.write_bytes(data)
    return file


def test_valid_objectives_pass_the_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)
    objectives_file(config, OBJECTIVES)
    assert check(config) == 0
    assert capsys.readouterr().out.startswith("ok: ")


def test_a_bad_value_is_a_fail_line_naming_the_file_the_key_and_the_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)
    bad = {**OBJECTIVES, "evaluation_window_days": 400, "constraints": [""]}
    file = objectives_file(config, bad)
    assert check(config) == 2
    out = capsys.readouterr().out
    assert f"FAIL {file}: evaluation_window_days: expected at most 365, got 400\n" in out
    assert f"FAIL {file}: constraints[0]: expected a non-empty string, got ''\n" in out
    assert "2 problem(s) to fix" in out


def test_a_garbage_file_is_one_fail_line_and_no_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)
    file = objectives_file(config, b"\x00\x01\xff\xfe" * 100)
    assert check(config) == 2
    captured = capsys.readouterr()
    fails = [line for line in captured.out.splitlines() if line.startswith("FAIL ")]
    assert fails == [f"FAIL {file}: line 1: byte 0xff is not UTF-8; save it as UTF-8"]
    assert "Traceback" not in captured.out + captured.err

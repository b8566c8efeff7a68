"""`agentos audit verify | show | repair`, and the switches the local user changes, recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.cli.main import main
from tests.helpers import ENV, write_config


@pytest.fixture()
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path)


def agentos(config: Path, *words: str, user: str = "alice") -> int:
    return main(["--config", str(config), *words], environ={**ENV, "SUDO_USER": user})


def audit_log(config: Path) -> Path:
    return config.parent / "runtime" / "audit" / "audit.jsonl"


def acts(config: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in audit_log(config).read_text().splitlines()]


def test_switches_from_the_cli_are_recorded_with_the_local_user(config: Path) -> None:
    assert agentos(config, "off") == 0 and agentos(config, "off") == 0  # the second changes nothing
    assert agentos(config, "job", "off", "dispatcher", user="bob") == 0
    assert agentos(config, "repo", "off", "app") == 0 and agentos(config, "on") == 0
    assert [(a["act"], a["actor"], a["fields"]) for a in acts(config)] == [
        ("switch.changed", "cli:alice", {"switch": "global", "state": "off"}),
        ("switch.changed", "cli:bob", {"switch": "job dispatcher", "state": "off"}),
        ("switch.changed", "cli:alice", {"switch": "repo app", "state": "off"}),
        ("switch.changed", "cli:alice", {"switch": "global", "state": "on"}),
    ]
    assert (config.parent / "audit.key").stat().st_size == 32


def test_verify_says_ok_with_the_count_and_the_head(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    agentos(config, "off")
    agentos(config, "on")
    capsys.readouterr()
    assert agentos(config, "audit", "verify") == 0
    head = acts(config)[-1]["hash"]
    assert capsys.readouterr().out == f"ok: 2 acts, chain intact, head {str(head)[:12]}\n"


def test_verify_prints_a_line_per_problem_and_exits_1(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for _ in range(3):
        agentos(config, "off")
        agentos(config, "on")
    lines = audit_log(config).read_text().splitlines()
    lines[1] = lines[1].replace('"state":"on"', '"state":"off"')
    del lines[3]
    audit_log(config).write_text("".join(line + "\n" for line in lines[:-1]))
    capsys.readouterr()
    assert agentos(config, "audit", "verify") == 1
    assert capsys.readouterr().out.splitlines() == [
        "line 2: act 2 was edited: its content does not match its hash",
        "line 4: act 5 does not follow act 3: lines removed, inserted or reordered",
        "cut off: the head names act 6, the log ends at act 5",
    ]


def test_a_missing_log_or_key_is_a_one_line_usage_error(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert agentos(config, "audit", "verify") == 2
    err = capsys.readouterr().err
    assert err.startswith("agentos: no audit log at ") and err.count("\n") == 1
    agentos(config, "off")
    (config.parent / "audit.key").unlink()
    assert agentos(config, "audit", "verify") == 2
    assert capsys.readouterr().err == (
        f"agentos: no audit key at {config.parent / 'audit.key'}"
        " (the log cannot be checked without it)\n"
    )


def test_show_prints_the_last_acts(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    agentos(config, "off")
    agentos(config, "on")
    capsys.readouterr()
    assert agentos(config, "audit", "show", "--last", "1") == 0
    [line] = capsys.readouterr().out.splitlines()
    assert line.split()[0] == "2" and line.endswith(
        "cli:alice switch.changed switch=global state=on"
    )


def test_repair_removes_a_torn_line_and_records_who_did(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    agentos(config, "off")
    with audit_log(config).open("ab") as f:
        f.write(b'{"seq":2,"ti')
    capsys.readouterr()
    assert agentos(config, "audit", "verify") == 1
    assert capsys.readouterr().out.startswith("line 2: torn")
    assert agentos(config, "audit", "repair", user="carol") == 0
    assert capsys.readouterr().out == "removed torn line(s) 2; recorded as audit.repaired\n"
    assert acts(config)[-1]["actor"] == "cli:carol"
    assert agentos(config, "audit", "verify") == 0

"""The audit log on disk: one chain however many writers, and every kind of tampering found."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from orchestrator.core import audit as chain
from orchestrator.errors import AuditError
from orchestrator.store import audit

T0 = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
TOKEN = "ghp_" + "a" * 36


def log_of(tmp_path: Path) -> audit.AuditFile:
    return audit.AuditFile(tmp_path / "runtime" / "audit", tmp_path / "audit.key", clock=lambda: T0)


def filled(tmp_path: Path, n: int = 5) -> audit.AuditFile:
    log = log_of(tmp_path)
    for number in range(1, n + 1):
        log.record("pr.opened", actor="agentos:queue", repo="acme/app", pr=number)
    return log


def problems(log: audit.AuditFile) -> list[str]:
    return [str(p) for p in audit.verify(log.folder, log.key_path.read_bytes()).problems]


def raw_lines(log: audit.AuditFile) -> list[str]:
    return log.log_path.read_text().splitlines()


def rewrite(log: audit.AuditFile, lines: list[str]) -> None:
    log.log_path.write_text("".join(line + "\n" for line in lines))


def test_acts_chain_in_order_and_verify_intact(tmp_path: Path) -> None:
    log = filled(tmp_path, 3)
    report = audit.verify(log.folder, log.key_path.read_bytes())
    assert report.intact and report.acts == 3
    first, *_, last = [json.loads(line) for line in raw_lines(log)]
    assert (first["seq"], first["prev"], last["seq"]) == (1, chain.GENESIS, 3)
    assert first["time"] == "2026-05-01T10:00:00.000Z" and first["fields"] == {
        "repo": "acme/app",
        "pr": 1,
    }
    head = json.loads((log.folder / audit.HEAD_FILE).read_text())
    assert (head["seq"], head["hash"]) == (3, last["hash"])


def test_the_key_is_made_once_0600_outside_runtime_and_never_written_to_the_log(
    tmp_path: Path,
) -> None:
    log = filled(tmp_path, 2)
    key = log.key_path.read_bytes()
    assert log.key_path == tmp_path / "audit.key" == audit.key_file(tmp_path / "config.yaml")
    assert len(key) == 32 and stat.S_IMODE(log.key_path.stat().st_mode) == 0o600
    assert "runtime" not in log.key_path.parts
    text = log.log_path.read_bytes() + (log.folder / audit.HEAD_FILE).read_bytes()
    assert key not in text and key.hex().encode() not in text
    filled(tmp_path, 1)  # a second writer reads the same key
    assert log.key_path.read_bytes() == key and not problems(log)


def test_secrets_and_none_never_enter_the_log(tmp_path: Path) -> None:
    log = log_of(tmp_path)
    log.record(f"pr.opened {TOKEN}", actor=f"cli:{TOKEN}", reason=f"token {TOKEN}", sha=None)
    text = log.log_path.read_text()
    assert TOKEN not in text and "[REDACTED:github-token]" in text
    assert "sha" not in json.loads(text)["fields"] and not problems(log)


def test_an_edited_field_is_found(tmp_path: Path) -> None:
    log = filled(tmp_path)
    lines = raw_lines(log)
    lines[2] = lines[2].replace('"pr":3', '"pr":4')
    rewrite(log, lines)
    assert problems(log) == ["line 3: act 3 was edited: its content does not match its hash"]


def test_a_deleted_line_is_found(tmp_path: Path) -> None:
    log = filled(tmp_path)
    lines = raw_lines(log)
    del lines[1]
    rewrite(log, lines)
    assert problems(log) == [
        "line 2: act 3 does not follow act 1: lines removed, inserted or reordered"
    ]


def test_swapped_lines_are_found(tmp_path: Path) -> None:
    log = filled(tmp_path)
    lines = raw_lines(log)
    lines[3], lines[4] = lines[4], lines[3]
    rewrite(log, lines)
    found = problems(log)
    assert found[:2] == [
        "line 4: act 5 does not follow act 3: lines removed, inserted or reordered",
        "line 5: act 4 does not follow act 5: lines removed, inserted or reordered",
    ]


@pytest.mark.parametrize("cut", [1, 2])
def test_cut_off_lines_are_found_and_the_next_append_does_not_hide_them(
    tmp_path: Path, cut: int
) -> None:
    log = filled(tmp_path)
    rewrite(log, raw_lines(log)[:-cut])
    assert problems(log) == [f"cut off: the head names act 5, the log ends at act {5 - cut}"]
    log.record("pr.merged", actor="agentos:pr_monitor", pr=1)
    found = problems(log)
    assert found == [
        f"line {6 - cut}: act {6 - cut}: a writer found the log cut off or rewritten "
        f"(the head names act 5, the log ends at act {5 - cut})"
    ]
    acts = [json.loads(line)["act"] for line in raw_lines(log)]
    assert acts[-2:] == [chain.BROKEN, "pr.merged"]


def test_a_removed_head_is_found_and_recorded_by_the_next_writer(tmp_path: Path) -> None:
    log = filled(tmp_path, 2)
    (log.folder / audit.HEAD_FILE).unlink()
    assert problems(log) == ["the head file is missing: a cut-off tail cannot be told"]
    log.record("pr.merged", actor="agentos:pr_monitor", pr=1)
    assert problems(log) == [
        "line 3: act 3: a writer found the log cut off or rewritten (the head file is missing)"
    ]


def test_a_log_removed_whole_is_found_by_its_head(tmp_path: Path) -> None:
    log = filled(tmp_path, 2)
    log.log_path.write_text("")
    assert problems(log) == ["cut off: the head names act 2, the log ends at act 0"]


@pytest.mark.parametrize("with_key", [True, False], ids=["another key", "no key"])
def test_a_chain_recomputed_from_scratch_fails_its_macs(tmp_path: Path, with_key: bool) -> None:
    log = filled(tmp_path, 3)
    forger = audit.AuditFile(tmp_path / "forged", tmp_path / "forger.key", clock=lambda: T0)
    for number in (1, 2, 3):
        forger.record("pr.opened", actor="agentos:queue", repo="acme/app", pr=number + 10)
    lines = raw_lines(forger)
    if not with_key:  # hashes right, no MAC at all
        lines = [json.dumps({**json.loads(line), "mac": ""}) for line in lines]
    rewrite(log, lines)
    (log.folder / audit.HEAD_FILE).write_bytes((forger.folder / audit.HEAD_FILE).read_bytes())
    found = problems(log)
    assert [p for p in found if "bad MAC" in p] == found and len(found) == 4


def test_a_torn_line_is_stepped_over_reported_and_repaired_on_purpose(tmp_path: Path) -> None:
    log = filled(tmp_path, 2)
    with log.log_path.open("ab") as f:  # a writer killed mid-line
        f.write(b'{"seq":3,"time":"2026-05-01T10:00:00.000Z","act":"pr.mer')
    assert problems(log) == [
        "line 3: torn: not a whole JSON line (a writer died mid-line?); `agentos audit repair`"
    ]
    log.record("pr.merged", actor="agentos:pr_monitor", pr=1)
    assert [json.loads(line)["seq"] for line in raw_lines(log) if line.endswith("}")] == [1, 2, 3]
    assert len(problems(log)) == 1  # still the torn line, nothing else
    key = log.key_path.read_bytes()
    assert audit.repair(log.folder, key, "cli:alice", clock=lambda: T0) == (3,)
    assert problems(log) == [] and audit.repair(log.folder, key, "cli:alice") == ()
    last = json.loads(raw_lines(log)[-1])
    assert (last["act"], last["actor"], last["fields"]["lines"]) == (
        chain.REPAIRED,
        "cli:alice",
        "3",
    )


def test_a_head_left_behind_by_a_killed_writer_is_no_problem(tmp_path: Path) -> None:
    log = filled(tmp_path, 2)
    behind = (log.folder / audit.HEAD_FILE).read_bytes()
    log.record("pr.merged", actor="agentos:pr_monitor", pr=1)
    (log.folder / audit.HEAD_FILE).write_bytes(behind)  # died between its line and its head
    assert problems(log) == []
    log.record("pr.closed", actor="agentos:pr_monitor", pr=2)
    assert [json.loads(line)["act"] for line in raw_lines(log)][-2:] == ["pr.merged", "pr.closed"]
    assert problems(log) == []


def test_a_bad_or_missing_key_is_an_audit_error(tmp_path: Path) -> None:
    with pytest.raises(AuditError, match="no audit key at"):
        audit.load_key(tmp_path / "audit.key")
    (tmp_path / "audit.key").write_bytes(b"short")
    with pytest.raises(AuditError, match="holds 5 bytes, not 32"):
        log_of(tmp_path).record("pr.opened", actor="agentos")
    with pytest.raises(AuditError, match="no audit log at"):
        audit.verify(tmp_path / "runtime" / "audit", b"k" * 32)


def _append_many(folder: str, key: str, writer: int, count: int) -> None:
    log = audit.AuditFile(Path(folder), Path(key))
    for n in range(count):
        log.record("branch.pushed", actor=f"agentos:w{writer}", n=n)


def test_writers_in_four_processes_make_one_intact_chain(tmp_path: Path) -> None:
    folder, key = tmp_path / "runtime" / "audit", tmp_path / "audit.key"
    context = multiprocessing.get_context("spawn")  # no key yet: the writers race to make it
    procs = [
        context.Process(target=_append_many, args=(str(folder), str(key), w, 50)) for w in range(4)
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
    assert [proc.exitcode for proc in procs] == [0, 0, 0, 0]
    report = audit.verify(folder, key.read_bytes())
    assert report.problems == () and report.acts == 200
    entries = audit.entries(folder)
    assert [e.seq for e in entries] == list(range(1, 201))
    assert {(e.actor, e.fields["n"]) for e in entries} == {
        (f"agentos:w{w}", n) for w in range(4) for n in range(50)
    }
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".audit.key")]  # no leftovers

"""The JSONL event log: whole lines under concurrency, redaction, reading the last run back."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.core.redact import encoded_forms, register_values
from orchestrator.store import logs

ROOT = Path(__file__).resolve().parents[2]

APPENDER = """
import sys
from pathlib import Path
from orchestrator.store.files import append_line
path, tag = Path(sys.argv[1]), sys.argv[2]
for i in range(300):
    append_line(path, '{"event": "x", "tag": "%s", "i": %d, "pad": "%s"}' % (tag, i, tag * 3000))
"""


def test_concurrent_appenders_never_interleave_lines(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "job.jsonl"
    procs = [
        subprocess.Popen([sys.executable, "-c", APPENDER, str(path), tag], cwd=ROOT)
        for tag in "abcd"
    ]
    assert [p.wait(60) for p in procs] == [0, 0, 0, 0]
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(records) == 1200
    for tag in "abcd":
        assert [r["i"] for r in records if r["tag"] == tag] == list(range(300))


def test_events_are_json_lines_with_context_and_redacted_fields(tmp_path: Path) -> None:
    log = logs.setup(tmp_path, "dispatcher", "r-1234", stderr=False)
    token = "ghp_" + "Q7w" * 12
    log.info(
        "task.queued",
        extra={
            "issue": 412,
            "reason": "blockers_done",
            "note": f"used {token}",
            "nested": {"argv": ["git", f"https://x:{token}@h/r.git"]},
        },
    )
    (record,) = [json.loads(x) for x in (tmp_path / "dispatcher.jsonl").read_text().splitlines()]
    assert record["event"] == "task.queued" and record["issue"] == 412
    assert (
        record["job"] == "dispatcher" and record["run_id"] == "r-1234" and record["level"] == "info"
    )
    assert record["ts"].endswith("Z") and len(record["ts"]) == len("2026-11-22T07:00:00.123Z")
    assert token not in record["note"] and "[REDACTED:github-token]" in record["note"]
    assert token not in json.dumps(record["nested"]) and record["nested"]["argv"][0] == "git"


def test_registered_secret_values_are_hidden_in_the_jsonl_and_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "s3cr3t-" + "Nc5Vd9Lf3"
    register_values([secret])
    log = logs.setup(tmp_path, "queue", "r-1")
    blob = base64.urlsafe_b64encode(b"xy" + secret.encode()).decode()
    log.error(
        f"run.crashed {secret}",
        extra={"traceback": f"Error: {blob}", "argv": ["curl", f"-u{secret.encode().hex()}"]},
    )
    written = (tmp_path / "queue.jsonl").read_text() + capsys.readouterr().err
    assert written.count("[REDACTED:config-value]") == 5  # JSONL: 3 fields; stderr: event, argv
    assert not any(form in written for form in encoded_forms(secret))


def test_long_fields_are_trimmed(tmp_path: Path) -> None:
    log = logs.setup(tmp_path, "queue", "r-1", stderr=False)
    log.info("agent.output", extra={"text": "x" * 10_000})
    record = json.loads((tmp_path / "queue.jsonl").read_text())
    assert len(record["text"]) == 2000


def test_the_human_line_on_stderr_is_one_short_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = logs.setup(tmp_path, "queue", "r-1")
    log.error("run.crashed", extra={"issue": 7, "traceback": "Traceback...\n  line"})
    (line,) = capsys.readouterr().err.splitlines()
    assert line.endswith(" queue run.crashed issue=7")


def test_last_event_reads_backwards_across_blocks_and_skips_torn_lines(tmp_path: Path) -> None:
    path = tmp_path / "job.jsonl"
    lines = [json.dumps({"event": "run.finished", "n": 1})]
    lines += [json.dumps({"event": "task.queued", "pad": "p" * 500}) for _ in range(400)]
    lines += ['{"event": "run.finished", "n": 2, "torn']
    path.write_text("\n".join(lines) + "\n")
    assert logs.last_event(path) == {"event": "run.finished", "n": 1}
    with path.open("a") as f:
        f.write(json.dumps({"event": "run.crashed", "n": 3}) + "\n")
        f.write(json.dumps({"event": "task.queued"}) + "\n")
    assert logs.last_event(path) == {"event": "run.crashed", "n": 3}
    assert logs.last_event(tmp_path / "missing.jsonl") is None

"""`agentos report`: the fleet's scores from the outcome ledger, on a real loop's history."""

from __future__ import annotations

import json

import pytest

from orchestrator.cli.main import main
from orchestrator.store.ledger import Ledger
from tests.e2e.conftest import TEST_COMMAND, World
from tests.e2e.conftest import world as world  # the end-to-end world, reused

ADD = {"calc/twice.py": "def twice(a):\n    return 2 * a\n"}
BROKEN = {"calc/ops.py": "def add(a, b):\n    return a - b\n"}


def _report(world: World, capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    assert main(["--config", str(world.config_path), "report", *args], environ=world.env) == 0
    return json.loads(capsys.readouterr().out)


def test_merged_and_escalated_work_is_scored_and_a_rebuild_agrees(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.sandbox.set_ci("acme/app", TEST_COMMAND)
    good = world.issue("acme/app", "Add twice")
    bad = world.issue("acme/app", "Break add")
    world.set_playbook(
        {
            str(good.number): [{"files": ADD, "summary": "Added twice."}],
            str(bad.number): [{"files": BROKEN, "summary": "Done."}],
        }
    )
    assert world.run("dispatcher") == 0 and world.run("queue") == 0
    assert world.sandbox.wait_ci_idle(60) and world.run("pr_monitor") == 0
    figures = _report(world, capsys, "--json")
    app = figures["repos"]["app"]
    assert figures["merges"] == 1 and app["merged"] == 1
    assert app["attempts"] == 3  # the good one; the bad one failed the same way twice
    assert app["escalated"] == 1 and app["merged_rate"] == 1 / 3
    assert app["lead_time_hours"] is not None and app["lead_time_hours"] < 1
    assert figures["agents"]["playbook"]["attempts"] == 3
    assert figures["change_failure_rate"] == 0.0  # one merge, neither reverted nor blamed
    assert figures["time_to_restore_hours"] is None  # nothing to restore: said, not invented
    assert figures["dora"]["app"]["merges"] == 1
    ledger = Ledger(world.root / "runtime")
    kept = (ledger.tasks(), ledger.merges())
    ledger.rebuild()
    assert (ledger.tasks(), ledger.merges()) == kept
    failed = [t for t in kept[0] if t["next"] != "open_pr"]
    assert len(failed) == 2 and len({t["signature"] for t in failed}) == 1  # the same, twice
    assert all(t["queued_at"] for t in kept[0] if t["attempt"] == 1)  # the dispatcher's log
    # the daily digest, through the real runner and GitHub's sandbox: once a day
    assert world.run("scorer") == 0 and world.run("scorer") == 0
    [sent] = world.events("scorer", "digest.sent")
    assert sent["merged"] == 1 and sent["attempts"] == 3 and sent["escalations"] == 1
    assert world.events("scorer", "digest.skipped")[0]["reason"] == "already_sent"
    [note] = world.events("scorer", "notification.logged")  # no telegram: the log has it
    assert note["kind"] == "digest" and note["text"].startswith("Agent OS digest: the 24 h")


def test_a_bad_window_is_one_line_and_exit_2(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["--config", str(world.config_path), "report", "--since", "a week"], environ=world.env
    )
    assert code == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "agentos: --since 'a week': expected an age like 7d, 24h or 90m"
    ]


def test_the_text_report_says_when_nothing_ended_in_the_window(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(world.config_path), "report"], environ=world.env) == 0
    out = capsys.readouterr().out
    assert out.startswith("Since ") and "(no attempt ended in this window)" in out
    assert "fleet" in out and "change failure rate" in out and "not measured" not in out
    assert out.rstrip().splitlines()[-1].startswith("Spend today: $0.00")  # against no caps


def test_the_text_report_shows_todays_spend_against_the_caps(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.configure(
        [{"key": "app", "github": "acme/app", "base_branch": "main", "max_cost_per_day": 2}],
        limits={"max_cost_per_day": 5},
    )
    assert main(["--config", str(world.config_path), "report"], environ=world.env) == 0
    last = capsys.readouterr().out.rstrip().splitlines()[-1]
    assert last.startswith("Spend today: $0.00 of $5.00 (global)") and "app: $0.00 of $2.00" in last

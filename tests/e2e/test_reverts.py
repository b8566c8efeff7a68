"""A merged agent PR reverted on the base branch fails in the ledger and the report.

The real dispatcher, queue and PR monitor deliver and merge a task on the GitHub sandbox; a person
then reverts the merge commit with `git revert` and pushes; the scorer reads the base branch
through the shared clone and the ledger, the report and DORA's change failure rate count it.
"""

from __future__ import annotations

import json

import pytest

from orchestrator.cli.main import main
from orchestrator.store.ledger import Ledger
from tests.e2e.conftest import TEST_COMMAND, World
from tests.e2e.test_pr_monitor import SUB, deliver


def _revert(world: World, sha: str) -> str:
    work = world.root / "revert"
    world.git("clone", "-q", world.sandbox.clone_url("acme/app"), str(work), cwd=world.root)
    world.git("-c", "user.name=Dev", "-c", "user.email=d@x", "revert", "--no-edit", sha, cwd=work)
    world.git("push", "-q", "origin", "HEAD:main", cwd=work)
    return world.git("rev-parse", "HEAD", cwd=work).strip()


def _report(world: World, capsys: pytest.CaptureFixture[str]) -> dict:
    capsys.readouterr()
    config = ["--config", str(world.config_path)]
    assert main([*config, "report", "--json", "--since", "1d"], environ=world.env) == 0
    return json.loads(capsys.readouterr().out)


def test_a_reverted_merge_is_found_on_the_base_branch_and_fails_the_change(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.sandbox.set_ci("acme/app", TEST_COMMAND)
    number = deliver(world, "Add subtraction", [{"files": SUB}])
    assert world.run("pr_monitor") == 0
    [merged] = world.events("pr_monitor", "pr.merged")
    assert merged["issue"] == number
    assert world.run("scorer") == 0
    assert world.events("scorer", "change.reverted") == []  # merged, not reverted: a success
    assert _report(world, capsys)["change_failure_rate"] == 0.0

    by = _revert(world, merged["sha"])
    (world.root / "runtime" / "state" / "scorer.memo.json").unlink()  # as if another day
    assert world.run("scorer") == 0
    [logged] = world.events("scorer", "change.reverted")
    assert (logged["repo"], logged["pr"], logged["by"]) == ("acme/app", merged["pr"], by)
    [row] = Ledger.of(world.config).reverts()
    assert (row["repo"], row["pr"], row["by_sha"]) == ("acme/app", merged["pr"], by)
    assert world.run("scorer") == 0
    assert len(world.events("scorer", "change.reverted")) == 1  # said once
    assert _report(world, capsys)["change_failure_rate"] == 1.0

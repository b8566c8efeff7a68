"""`agentos plan import` on the GitHub sandbox, through the real client and the command line.

Two epics, six tasks and a dependency across the epics become the same graph on GitHub (read
back through the API: sub-issues and blocked-by); a second import sends no write at all; an
edited plan is applied in place; a switched-off repo and a broken plan are refused unwritten.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.cli.main import main
from orchestrator.core.labels import PLAN_ITEM
from orchestrator.core.model import BoardStatus, IssueRef
from orchestrator.core.plandiff import plan_id
from orchestrator.improve.plan_sync import EPOCH
from orchestrator.store import locks
from orchestrator.store.switches import Switches
from tests.core.test_planfile import PLAN
from tests.e2e.conftest import World, repo_entry
from tests.improve.test_plan_sync import EXPECTED

APP = "acme/app"


def _import(world: World, plan: Path, *extra: str) -> int:
    return main(
        ["--config", str(world.config_path), "plan", "import", str(plan), *extra],
        environ=world.env,
    )


def _graph(world: World) -> dict[str, tuple[str, str | None, tuple[str, ...]]]:
    """Read the plan's issues back through the API: plan id -> (title, parent id, blocker ids)."""
    filed = world.tracker.filed_issues(APP, PLAN_ITEM, EPOCH)
    ids = {f.number: plan_id(f.body) or "" for f in filed}
    graph = {}
    for f in filed:
        deps = world.tracker.dependencies(world.tracker.issue(IssueRef(APP, f.number)))
        parent = ids[deps.parent.number] if deps.parent else None
        graph[ids[f.number]] = (f.title, parent, tuple(ids[r.number] for r in deps.blocked_by))
    return graph


def test_a_plan_becomes_the_same_graph_on_github_and_a_reimport_writes_nothing(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = tmp_path / "PLAN.md"
    plan.write_text(PLAN)
    world.sandbox.clear_requests()  # the seed's push
    assert _import(world, plan, "--dry-run") == 0
    assert world.github_writes() == 0
    said = capsys.readouterr().out.splitlines()
    assert said[0] == 'would create epic "Sign-in"'
    assert said[-2].startswith("dry run: 19 writes would be made")

    assert _import(world, plan) == 0
    said = capsys.readouterr().out.splitlines()
    assert said[0] == 'create epic "Sign-in" (#1)' and "link #3 under #1" in said
    assert [line for line in said if line.startswith("place #")] == [
        f"place #{n} in Backlog" for n in range(1, 9)
    ]  # every plan issue on the board, in Backlog, for a person (or the planner) to move
    assert said[-2].startswith("19 writes (2 epics and 6 tasks created, 0 edited, 6 linked")
    assert "8 placed in Backlog" in said[-2]
    assert all(world.status(IssueRef(APP, n)) is BoardStatus.BACKLOG for n in range(1, 9))
    assert said[-1] == "note: 1 item has no {#id}; renaming one reads as a new item (docs/plan.md)"
    assert _graph(world) == EXPECTED

    world.sandbox.clear_requests()
    assert _import(world, plan) == 0
    assert world.github_writes() == 0
    assert capsys.readouterr().out.splitlines()[0].startswith("0 writes")

    edited = PLAN.replace("2. Receipts {#bill-receipts}", "2. Receipts and notes {#bill-receipts}")
    plan.write_text(edited.replace("   depends on bill-invoices\n", ""))
    world.sandbox.clear_requests()
    assert _import(world, plan) == 0
    assert capsys.readouterr().out.splitlines()[:2] == [
        'retitle #7: "Receipts" → "Receipts and notes"',
        "remove dependency #7 blocked by #6",
    ]
    assert world.github_writes() == 2
    assert _graph(world)["bill-receipts"] == ("Receipts and notes", "billing", ())
    events = [e["event"] for e in world.events("plan_import")]
    assert events.count("plan.imported") == 4 and "plan.changed" in events


def test_a_switched_off_repo_and_a_broken_plan_are_refused_with_nothing_written(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = tmp_path / "PLAN.md"
    plan.write_text("## Epic {#e}\n- Task {#t} after: nowhere\n- Other {#t}\n")
    world.sandbox.clear_requests()
    assert _import(world, plan) == 2
    err = capsys.readouterr().err
    assert "cannot be imported; nothing was written" in err
    assert "line 2: `nowhere` names no item of the plan" in err
    assert "line 3: the id `t` is taken by line 2" in err
    plan.write_text(PLAN)
    Switches(world.root / "runtime" / "state").set_repo("app", False, "now")
    assert _import(world, plan) == 1
    err = capsys.readouterr().err
    assert err == "agentos: repo app is switched off (agentos repo on app); nothing imported\n"
    assert world.github_writes() == 0
    Switches(world.root / "runtime" / "state").set_repo("app", True, "now")
    with locks.hold(world.root / "runtime" / "locks", "plan_import-app") as held:
        assert held and _import(world, plan) == 1  # another import of the repo is under way
    assert "another plan import of app is running" in capsys.readouterr().err
    assert world.github_writes() == 0
    world.seed("acme/lib")
    world.configure([repo_entry("app", APP), repo_entry("lib", "acme/lib")])
    assert _import(world, plan, "--dry-run") == 2
    assert "name the repo with --repo KEY (one of: app, lib)" in capsys.readouterr().err
    assert _import(world, plan, "--repo", "lib") == 0
    assert world.github_writes() > 0
    assert len(world.tracker.filed_issues("acme/lib", PLAN_ITEM, EPOCH)) == 8


def _commit(world: World, text: str) -> None:
    """Commit `text` as PLAN.md on acme/app's main and push it, as a person does."""
    clone = world.root / "plan-clone"
    if clone.exists():
        world.git("pull", "-q", "origin", "main", cwd=clone)
    else:
        world.git("clone", "-q", world.sandbox.clone_url(APP), str(clone), cwd=world.root)
    (clone / "PLAN.md").write_text(text)
    world.git("add", "PLAN.md", cwd=clone)
    world.git("commit", "-q", "-m", "Plan", cwd=clone)
    world.git("push", "-q", "origin", "HEAD:main", cwd=clone)
    world.sandbox.clear_requests()


def test_the_repos_plan_file_is_imported_by_the_hourly_job_when_it_changed(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.configure([repo_entry("app", APP, plan_file="PLAN.md")])
    assert world.run("plan_import") == 0 and world.run("plan_import") == 0
    [missing] = world.events("plan_import", "plan.missing")  # said once while there is none
    assert (missing["repo"], missing["file"], missing["branch"]) == ("app", "PLAN.md", "main")

    _commit(world, PLAN)
    capsys.readouterr()
    assert world.run("plan_import", dry_run=True) == 0
    said = capsys.readouterr().out.splitlines()
    assert 'would create epic "Sign-in"' in said and "dry run: 19 writes would be made" in said[-1]
    assert world.github_writes() == 0

    assert world.run("plan_import") == 0
    assert _graph(world) == EXPECTED
    assert all(world.status(IssueRef(APP, n)) is BoardStatus.BACKLOG for n in range(1, 9))
    [imported] = world.events("plan_import", "plan.imported")[-1:]
    assert (imported["file"], imported["writes"], imported["dry_run"]) == ("PLAN.md", 19, False)

    world.sandbox.clear_requests()
    assert world.run("plan_import") == 0  # unchanged: one GET of the file, nothing else
    [read] = world.sandbox.requests
    assert read.method == "GET" and read.status == 304  # the page kept from the last tick
    assert read.path.endswith("/repos/acme/app/contents/PLAN.md?ref=main")

    _commit(world, "## Epic {#e}\n- Task {#t} after: nowhere\n")
    assert world.run("plan_import") == 0 and world.run("plan_import") == 0
    [invalid] = world.events("plan_import", "plan.invalid")  # once for this version of the file
    assert invalid["problems"] == [
        "line 2: `nowhere` names no item of the plan (use an id or an exact title)"
    ]
    assert world.github_writes() == 0

    _commit(
        world,
        PLAN.replace("2. Receipts {#bill-receipts}", "2. Receipts and notes {#bill-receipts}"),
    )
    assert world.run("plan_import") == 0
    assert world.github_writes() == 1  # the retitle, nothing else
    assert _graph(world)["bill-receipts"] == ("Receipts and notes", "billing", ("bill-invoices",))
    finished = world.events("plan_import", "run.finished")[-1]
    assert (finished["imported"], finished["writes"], finished["outcome"]) == (1, 1, "ok")

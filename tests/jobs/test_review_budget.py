"""`repos[].max_awaiting_review` on memory twins: while that many agent PRs wait for a person, the
dispatcher queues nothing more for the repo, logs why, and `/why` says so."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from orchestrator.control import explaining
from orchestrator.core.model import CheckState, IssueRef, PullRequest
from orchestrator.jobs import dispatcher
from tests.jobs.conftest import T0, World, make_world
from tests.jobs.test_pr_monitor import agent_pr, deliver, tick

REPOS = [
    {
        "key": "app",
        "github": "acme/app",
        "automation_mode": "dispatcher_only",
        "max_parallel_tasks": 4,
        "max_awaiting_review": 2,
    },
    {"key": "lib", "github": "acme/lib", "max_parallel_tasks": 4, "max_awaiting_review": 1},
    {"key": "web", "github": "acme/web", "max_parallel_tasks": 4},  # no budget
]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from make_world(tmp_path, repos=REPOS)


def dispatch(world: World, minutes: int = 0) -> dict[str, int]:
    return dispatcher.run(world.deps, world.config, T0 + timedelta(minutes=minutes))


def skips(world: World, repo: str) -> dict[int, tuple[str, str]]:
    """Return each issue's last logged skip in `repo`: issue -> (reason, detail)."""
    return {
        e["issue"]: (e["reason"], e["detail"])
        for e in world.events("task.skipped")
        if e["repo"] == repo
    }


def why(world: World, key: str, number: int) -> str:
    repo = world.config.repo(key)
    return explaining.why(
        world.config,
        repo,
        IssueRef(repo.github, number),
        world.deps.mailbox,
        world.deps.switches,
        world.tracker,
        world.boards[key],
    )


def listings(world: World, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the repos whose open PRs are listed."""
    listed: list[str] = []
    read = world.tracker.open_pulls

    def recorded(repo: str, head_prefix: str = "agent/") -> list[PullRequest]:
        listed.append(repo)
        return read(repo, head_prefix)

    monkeypatch.setattr(world.tracker, "open_pulls", recorded)
    return listed


def test_a_third_issue_waits_while_two_prs_await_review_in_dispatcher_only_mode(
    world: World,
) -> None:
    one, two, three = (world.issue("app", f"Issue {n}") for n in (1, 2, 3))
    assert dispatch(world)["queued"] == 2  # each task ends as a PR for a person: two fit
    assert skips(world, "acme/app") == {
        three.number: ("review_budget", "2 PRs on the way (max_awaiting_review 2)")
    }
    first = deliver(world, "app", one.number, one.title)
    second = deliver(world, "app", two.number, two.title)
    assert dispatch(world, 1)["queued"] == 0
    held = f"2 PRs await review (max_awaiting_review 2): #{first.number}, #{second.number}"
    assert skips(world, "acme/app")[three.number] == ("review_budget", held)
    assert why(world, "app", three.number).splitlines()[0] == f"app#3 Issue 3: waits: {held}"
    world.tracker.merge_pull(first)  # a person reviewed and merged one
    assert dispatch(world, 2)["queued"] == 1
    assert "waits" not in why(world, "app", three.number).splitlines()[0]


def test_in_full_mode_only_prs_the_monitor_found_waiting_for_a_person_count(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = agent_pr(world, repo="lib", title="Add login")
    world.tracker.set_mergeable_state(blocked.repo, blocked.number, "blocked")  # a review
    agent_pr(world, repo="lib", title="Add signup", check=CheckState.PENDING)  # CI's, not people's
    assert tick(world) == {"wait": 2}
    waiting = world.issue("lib", "Add logout")
    world.issue("web", "Add a page")
    listed = listings(world, monkeypatch)
    assert dispatch(world)["queued"] == 1  # web's: no budget there
    assert skips(world, "acme/lib")[waiting.number] == (
        "review_budget",
        f"1 PR awaits review (max_awaiting_review 1): #{blocked.number}",
    )
    assert listed == ["acme/lib"]  # one listing: the one repo with a budget and work to queue
    assert why(world, "lib", 1).splitlines()[0] == (
        f"lib#1 Add login: in review: PR #{blocked.number} (agent/1-add-login), waiting for a "
        "person: branch protection blocks the merge (a required review?)"
    )

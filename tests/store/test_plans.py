"""The planner's state files: a round trip, a decision taken once, damage set aside."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from orchestrator.core.planning import Draft, SprintPick
from orchestrator.store import plans
from orchestrator.store.plans import PlanRecord, Plans, PlanState

PLAN = PlanRecord(
    id="my-app-20261203T110000",
    repo="my-app",
    state=plans.PROPOSED,
    created_at="2026-12-03T11:00:00+00:00",
    expires_at="2026-12-05T11:00:00+00:00",
    picks=(SprintPick(2, "first", "primary"),),
    drafts=(Draft("A hint", "Teach", ("shown once",), (), "primary"),),
)


def store(tmp_path: Path) -> Plans:
    return Plans(tmp_path / "runtime" / "state")


def test_a_state_written_is_read_back_the_same(tmp_path: Path) -> None:
    plans_ = store(tmp_path)
    state = PlanState(plan=PLAN, last_plan_at=PLAN.created_at, failures=2, notes={"x": "y"})
    plans_.change("my-app", lambda _: state)
    assert plans_.read("my-app") == state
    assert plans_.find(PLAN.id) == state  # a repo key with a dash in it is found by the plan id
    assert plans_.find("other-20261203T110000") is None and plans_.find("../x-1") is None


def test_a_plan_is_decided_once_and_only_while_it_waits(tmp_path: Path) -> None:
    state = PlanState(plan=PLAN)
    approved = plans.decide(state, PLAN.id, plans.APPROVED, "alice", "now")
    assert approved.plan is not None and approved.plan.decided_by == "alice"
    assert plans.decide(approved, PLAN.id, plans.SKIPPED, "bob", "later") == approved
    assert plans.decide(state, "my-app-older", plans.APPROVED, "bob", "now") == state
    expired = PlanState(plan=replace(PLAN, state=plans.EXPIRED))
    assert plans.decide(expired, PLAN.id, plans.APPROVED, "bob", "now") == expired


@pytest.mark.parametrize(
    "damage",
    [
        b"\x00\xff not json",
        b"[]",
        b'{"plan": {"state": "weird"}}',
        b'{"plan": {"state": "proposed"}}',
    ],
)
def test_a_damaged_file_is_set_aside_and_the_repo_starts_afresh(
    tmp_path: Path, damage: bytes
) -> None:
    plans_ = store(tmp_path)
    path = tmp_path / "runtime" / "state" / "plans" / "my-app.json"
    path.parent.mkdir(parents=True)
    path.write_bytes(damage)
    assert plans_.read("my-app") == PlanState()
    assert not path.exists()
    assert list((tmp_path / "runtime" / "quarantine").glob("*my-app.json"))


def test_a_directory_in_place_of_the_file_is_set_aside_too(tmp_path: Path) -> None:
    plans_ = store(tmp_path)
    (tmp_path / "runtime" / "state" / "plans" / "my-app.json").mkdir(parents=True)
    assert plans_.read("my-app") == PlanState()
    plans_.change("my-app", lambda s: replace(s, failures=1))
    assert plans_.read("my-app").failures == 1


def test_an_unsafe_repo_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unsafe repo key"):
        store(tmp_path).read("../../etc")

"""Scores from ledger rows: merged means merged, attempts and cost per merge, lead time."""

from __future__ import annotations

from orchestrator.core.scoring import as_json, render, score

KEYS = {"acme/app": "app", "acme/web": "web"}


def _task(task_id: str, **kw: object) -> dict[str, object]:
    key, issue = task_id.split("-")[0], int(task_id.split("-")[1])
    row: dict[str, object] = {
        "task_id": task_id,
        "repo_key": key,
        "issue": issue,
        "agents": "claude",
        "queued_at": "2026-12-01T09:00:00.000Z",
        "judged_at": "2026-12-01T09:30:00.000Z",
        "next": "open_pr",
        "state": "review",
        "cost_usd": 0.5,
        "input_tokens": 100,
        "output_tokens": 10,
    }
    row.update(kw)
    return row


def test_complete_is_not_success_merged_is() -> None:
    tasks = [
        _task("app-1-g1-a1"),  # merged
        _task("app-2-g1-a1"),  # said complete, PR open, not merged
        _task("app-3-g1-a1", next="retry", state="queued", agents="codex"),
        _task(
            "app-3-g1-a2",
            next="escalate",
            state="failed",
            agents="codex",
            ended_at="2026-12-01T10:00:00.000Z",
        ),
    ]
    merges = [{"repo": "acme/app", "pr": 7, "issue": 1, "merged_at": "2026-12-01T11:00:00.000Z"}]
    report = score(tasks, merges, KEYS, "2026-11-30T00:00:00.000Z", 7)
    app = report.repos["app"]
    assert (app.attempts, app.merged, app.escalated) == (4, 1, 1)
    assert app.merged_rate == 0.25 and app.attempts_per_merge == 4.0
    assert app.cost_per_merge == 2.0 and app.lead_time_hours == 2.0  # queued 9:00, merged 11:00
    assert report.agents["claude"].merged == 1 and report.agents["codex"].merged == 0
    assert report.merges == 1 and round(report.merges_per_day, 3) == round(1 / 7, 3)
    data = as_json(report)
    assert data["repos"]["app"]["merged_rate"] == 0.25 and data["change_failure_rate"] == 0.0
    assert data["time_to_restore_hours"] is None  # nothing was reverted or fixed
    assert "app" in render(report) and "not measured yet" not in render(report)


def test_the_window_leaves_out_what_ended_before_it_and_unknown_repos() -> None:
    tasks = [_task("app-1-g1-a1", judged_at="2026-11-01T09:30:00.000Z")]
    merges = [
        {"repo": "acme/app", "pr": 1, "issue": 1, "merged_at": "2026-11-01T10:00:00.000Z"},
        {"repo": "gone/repo", "pr": 2, "issue": 5, "merged_at": "2026-12-01T10:00:00.000Z"},
    ]
    report = score(tasks, merges, KEYS, "2026-11-30T00:00:00.000Z", 7)
    assert report.repos == {} and report.merges == 0
    assert "(no attempt ended in this window)" in render(report)
    data = as_json(report)  # no merge in the window: nothing to measure, not a 0% failure rate
    assert data["change_failure_rate"] is None and data["lead_time_hours"] is None
    assert data["time_to_restore_hours"] is None and data["dora"] == {}


def test_a_task_still_running_is_not_scored() -> None:
    report = score([_task("web-4-g1-a1", next=None, judged_at=None)], [], KEYS, "2026-01-01", 7)
    assert report.repos == {} and report.agents == {}


SINCE = "2026-11-30T00:00:00.000Z"


def _merge(pr: int, issue: int, at: str, repo: str = "acme/app") -> dict[str, object]:
    return {"repo": repo, "pr": pr, "issue": issue, "merged_at": at}


def test_a_reverted_merge_is_no_success_and_a_failed_change_and_its_revert_restores() -> None:
    tasks = [_task("app-1-g1-a1", pr=7), _task("app-2-g1-a1", pr=8)]
    merges = [
        _merge(7, 1, "2026-12-01T11:00:00.000Z"),
        _merge(8, 2, "2026-12-01T12:00:00.000Z"),
    ]
    reverts = [{"repo": "acme/app", "pr": 7, "reverted_at": "2026-12-01T14:00:00.000Z"}]
    report = score(tasks, merges, KEYS, SINCE, 7, reverts=reverts)
    app = report.repos["app"]
    assert (app.attempts, app.merged) == (2, 1)  # #7 was merged, then reverted: not a success
    assert report.merges == 2  # both were deployed all the same
    assert report.fleet.failed == 1 and report.fleet.change_failure_rate == 0.5
    assert report.fleet.time_to_restore_hours == 3.0  # merged 11:00, reverted 14:00
    assert report.dora["app"].change_failure_rate == 0.5
    assert "50% (1/2)" in render(report) and "3.0 h" in render(report)


def test_an_incident_is_blamed_on_the_latest_merge_before_it_in_its_repo_only() -> None:
    merges = [
        _merge(7, 1, "2026-12-01T09:00:00.000Z"),
        _merge(8, 2, "2026-12-01T10:00:00.000Z"),  # the latest before the incident: blamed
        _merge(9, 3, "2026-12-01T13:00:00.000Z"),  # after it: not blamed
        _merge(4, 4, "2026-12-01T11:00:00.000Z", repo="acme/web"),  # another repo: not blamed
    ]
    incidents = [
        {
            "repo_key": "app",
            "issue": 50,
            "first_seen": "2026-12-01T12:00:00.000Z",
            "kind": "source",
            "fixed_at": "2026-12-01T18:00:00.000Z",
        }
    ]
    report = score([], merges, KEYS, SINCE, 7, incidents=incidents)
    assert report.dora["app"].failed == 1 and report.dora["app"].merges == 3
    assert report.dora["web"].failed == 0 and report.dora["web"].change_failure_rate == 0.0
    assert report.fleet.change_failure_rate == 0.25
    assert report.fleet.time_to_restore_hours == 6.0  # first seen 12:00, fixed 18:00
    assert report.dora["web"].time_to_restore_hours is None


def test_an_incident_past_the_failure_window_or_before_any_merge_blames_nothing() -> None:
    merges = [_merge(7, 1, "2026-12-01T09:00:00.000Z")]
    late = {
        "repo_key": "app",
        "kind": "source",
        "issue": 50,
        "first_seen": "2026-12-05T09:00:01.000Z",
    }
    early = {
        "repo_key": "app",
        "kind": "source",
        "issue": 51,
        "first_seen": "2026-12-01T08:00:00.000Z",
    }
    reopened = {
        "repo_key": "app",
        "issue": 52,
        "first_seen": "2026-12-01T08:00:00.000Z",
        "fixed_at": "2026-12-01T10:00:00.000Z",
        "reopened_at": "2026-12-02T10:00:00.000Z",
    }
    incidents = [late, early, reopened]
    report = score([], merges, KEYS, SINCE, 7, incidents=incidents, failure_window_days=4)
    assert report.fleet.failed == 0 and report.fleet.change_failure_rate == 0.0
    assert report.fleet.time_to_restore_hours is None  # the fix did not hold: not restored
    wider = score([], merges, KEYS, SINCE, 7, incidents=incidents, failure_window_days=5)
    assert wider.fleet.failed == 1


def test_fix_rounds_per_merged_pr_count_for_the_agent_that_opened_it() -> None:
    tasks = [
        _task("app-1-g1-a1", pr=7, agents="claude"),
        _task("app-1-g1-a2", task_type="fixing", agents="codex"),
        _task("app-1-g1-a3", task_type="fixing", agents="codex"),
        _task("app-2-g1-a1", pr=8, agents="claude"),
        _task("app-3-g1-a1", pr=9, agents="codex"),  # its PR is still open
        _task("app-3-g1-a2", task_type="fixing", agents="codex"),
    ]
    merges = [
        _merge(7, 1, "2026-12-01T11:00:00.000Z"),
        _merge(8, 2, "2026-12-01T12:00:00.000Z"),
    ]
    report = score(tasks, merges, KEYS, SINCE, 7)
    claude, codex = report.agents["claude"], report.agents["codex"]
    assert (claude.merged, claude.fix_rounds, claude.fix_rounds_per_merge) == (2, 2, 1.0)
    assert (codex.attempts, codex.merged, codex.fix_rounds_per_merge) == (4, 0, None)
    assert report.repos["app"].fix_rounds_per_merge == 1.0
    assert report.overall.attempts == 6 and report.overall.merged == 2
    data = as_json(report)
    assert data["agents"]["claude"]["fix_rounds_per_merge"] == 1.0


def test_the_share_escalated_and_estimated_costs() -> None:
    tasks = [
        _task("app-1-g1-a1", cost_estimated=1),
        _task("app-2-g1-a1", next="escalate", state="failed"),
        _task("app-3-g1-a1", next="escalate", state="failed"),
        _task("app-4-g1-a1"),
    ]
    report = score(tasks, [], KEYS, SINCE, 7)
    app = report.repos["app"]
    assert app.escalated == 2 and app.escalated_share == 0.5
    assert as_json(report)["repos"]["app"]["escalated_share"] == 0.5
    assert app.estimated == 1 and "estimates" in render(report)
    assert "2 (50%)" in render(report)


def test_agent_os_own_trouble_blames_no_merge() -> None:
    merges = [_merge(7, 1, "2026-12-01T09:00:00.000Z")]
    crash = {
        "repo_key": "app",
        "kind": "job_crashed",
        "issue": 60,
        "first_seen": "2026-12-01T10:00:00.000Z",
    }
    broken = {**crash, "kind": "task_failed", "issue": 61}
    assert score([], merges, KEYS, SINCE, 7, incidents=[crash]).dora["app"].failed == 0
    assert score([], merges, KEYS, SINCE, 7, incidents=[broken]).dora["app"].failed == 1

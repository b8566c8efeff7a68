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
    assert data["repos"]["app"]["merged_rate"] == 0.25 and data["change_failure_rate"] is None
    assert "app" in render(report) and "not measured yet" in render(report)


def test_the_window_leaves_out_what_ended_before_it_and_unknown_repos() -> None:
    tasks = [_task("app-1-g1-a1", judged_at="2026-11-01T09:30:00.000Z")]
    merges = [
        {"repo": "acme/app", "pr": 1, "issue": 1, "merged_at": "2026-11-01T10:00:00.000Z"},
        {"repo": "gone/repo", "pr": 2, "issue": 5, "merged_at": "2026-12-01T10:00:00.000Z"},
    ]
    report = score(tasks, merges, KEYS, "2026-11-30T00:00:00.000Z", 7)
    assert report.repos == {} and report.merges == 0
    assert "(no attempt ended in this window)" in render(report)


def test_a_task_still_running_is_not_scored() -> None:
    report = score([_task("web-4-g1-a1", next=None, judged_at=None)], [], KEYS, "2026-01-01", 7)
    assert report.repos == {} and report.agents == {}

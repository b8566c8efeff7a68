"""The dashboard's values, from a ledger built out of real-shaped log lines and rooms."""

from __future__ import annotations

from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from orchestrator.dashboard import collect, events, figures, records
from orchestrator.store import ledger_measures, ledger_schema
from orchestrator.store.files import append_line
from tests.dashboard.world import HOSTILE, ROOM_WORDS, World, build, stamp

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def world(tmp_path: Path) -> World:
    built = build(tmp_path, NOW)
    assert collect.refresh(built.config) is None
    return built


def test_the_totals_are_the_ledgers_figures_of_the_window(world: World) -> None:
    view = collect.overview(world.config, NOW, 30)
    t = view.totals
    assert (t.merges, t.attempts, t.merged) == (2, 4, 2)  # two merges; 4 attempts judged
    assert t.cost_usd == pytest.approx(1.25) and t.estimated == 0
    assert t.lead_hours == pytest.approx((1.0 + 26.0) / 2)  # 1 h and 26 h, queued -> merged
    assert (t.running, t.waiting) == (1, 1) and t.merged_rate == 0.5
    assert view.notes == ()


def test_each_chart_has_a_point_per_day_with_data(world: World) -> None:
    charts = {s.key: s for s in collect.overview(world.config, NOW, 30).charts}
    per_day = {k: {p.at.date().isoformat(): p.value for p in s.points} for k, s in charts.items()}
    assert per_day["throughput"] == {world.day1: 1, world.day2: 1}
    assert per_day["cost"] == {world.day1: pytest.approx(0.75), world.day2: pytest.approx(0.5)}
    assert per_day["lead_time"] == {world.day1: pytest.approx(1.0), world.day2: pytest.approx(26)}
    throughput = charts["throughput"]
    assert throughput.end - throughput.start == timedelta(days=30)
    assert throughput.points[0].title == f"{world.day1}: 1 merged"


def test_the_queue_depth_is_counted_per_hour_over_a_days_history(world: World) -> None:
    queue = collect.overview(world.config, NOW, 30).charts[3]
    assert queue.step == timedelta(hours=1)
    assert [(p.at.strftime("%d %H"), p.value) for p in queue.points] == [
        ("01 09", 2),  # app#1 and app#2 queued at 09:00, started at 09:02
        ("02 08", 1),  # lib#3
        ("02 11", 1),  # app#4 queued, started; lib#5 queued and still waiting
    ]


def test_the_merged_rate_per_agent_is_the_ledgers_measure(world: World) -> None:
    shares = {s.label: s.value for s in collect.overview(world.config, NOW, 30).agents}
    assert shares == {"claude": pytest.approx(2 / 3), "codex": 0.0}
    keys = {r.github: r.key for r in world.config.repos}
    with closing(figures.connect(world.config.paths.runtime_dir / "ledger.sqlite")) as db:
        for since in ("2000-01-01", f"{world.day2}T00:00:00.000Z", "2999-01-01"):
            ours = figures.agents(db, keys, since)
            assert ours == ledger_measures.agents(db, keys, since, "9999-12-31")


def test_tasks_are_grouped_by_mailbox_state_with_the_ledgers_outcome(world: World) -> None:
    view = collect.overview(world.config, NOW, 30)
    groups = {g.state: g for g in view.groups}
    assert [g.state for g in view.groups][:3] == ["processing", "inbox", "escalated"]
    assert {s: g.count for s, g in groups.items()} == {
        "processing": 1, "inbox": 1, "escalated": 0, "delivered": 3, "retried": 1, "dropped": 0,
    }  # fmt: skip
    [waiting] = groups["inbox"].tasks
    assert waiting.title == HOSTILE and waiting.outcome == ""
    delivered = {t.task_id: t for t in groups["delivered"].tasks}
    assert delivered["lib-3-g1-a1"].outcome == "open_pr" and delivered["lib-3-g1-a1"].pr == 9
    assert delivered["lib-3-g1-a1"].cost_usd == 0.5
    [running] = view.running
    assert running.task.task_id == "app-4-g1-a1" and running.beat_age_s is not None


def test_the_last_days_events_leave_the_routine_ticks_out(world: World) -> None:
    view = collect.overview(world.config, NOW, 30)
    names = [e.event for e in view.events]
    assert view.routine == 6 and "run.started" not in names and "run.finished" not in names
    assert names[:2] == ["pr.failed", "task.queued"]  # newest first: 3 and 5 minutes ago
    assert all(e.ts >= stamp(NOW - timedelta(days=1)) for e in view.events)
    assert "lib-5-g1-a1" in view.task_ids() and "app-1-g1-a1" in view.task_ids()


def test_a_damaged_ledger_is_a_note_and_the_rest_is_shown(world: World) -> None:
    (world.config.paths.runtime_dir / "ledger.sqlite").write_bytes(b"not a database " * 200)
    view = collect.overview(world.config, NOW, 30)
    assert [n.split(":")[0] for n in view.notes] == ["The outcome ledger could not be read"]
    assert view.totals.merges == 0 and all(not s.points for s in view.charts)
    assert sum(g.count for g in view.groups) == 6 and view.events


def test_a_torn_log_line_and_a_damaged_task_file_cost_only_themselves(world: World) -> None:
    append_line(world.config.paths.logs_dir / "queue.jsonl", '{"ts": "2026-12-02T11:59:00.0')
    bad = world.config.paths.mailbox_dir / "inbox" / "app-9-g1-a1.md"
    bad.write_text("---\n[not: a mapping\n---\n")
    view = collect.overview(world.config, NOW, 30)
    inbox = {t.task_id: t for t in view.groups[1].tasks}
    assert inbox["app-9-g1-a1"].title.startswith("(unreadable task file: ValueError")
    assert bad.exists()  # read, never set aside: the dashboard changes nothing
    assert "pr.failed" in [e.event for e in view.events]


def test_the_window_reaches_into_the_rotated_log(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    line = '{{"ts": "{}", "level": "info", "job": "queue", "event": "{}", "issue": 1}}'
    append_line(logs / "queue.jsonl.1", line.format("2026-12-01T09:00:00.000Z", "task.old"))
    append_line(logs / "queue.jsonl.1", line.format("2026-12-02T09:00:00.000Z", "task.started"))
    append_line(logs / "queue.jsonl", line.format("2026-12-02T10:00:00.000Z", "task.finished"))
    found = events.recent(logs, "2026-12-01T12:00:00.000Z")
    assert [e.event for e in found.events] == ["task.finished", "task.started"]


def test_a_task_record_holds_the_room_only_when_asked(world: World) -> None:
    full = records.task_record(world.config, "app-1-g1-a1", include_room=True)
    assert full is not None and full.room_included
    assert [m.state for m in full.moves] == ["queued", "developing", "review"]
    assert full.result is not None and ROOM_WORDS in full.result
    assert full.prompt is not None and ROOM_WORDS in full.prompt
    assert "attempt.judged" in [c.event for c in full.channel]
    facts = dict(full.facts)
    assert facts["Cost"] == "$0.25" and facts["Pull request"] == "#7"
    bare = records.task_record(world.config, "app-1-g1-a1", include_room=False)
    assert bare is not None and (bare.moves, bare.result, bare.prompt, bare.channel) == (
        (), None, None, ()
    )  # fmt: skip
    assert records.task_record(world.config, "app-77-g1-a1", include_room=True) is None
    assert records.task_record(world.config, "../config.yaml", include_room=True) is None


def test_over_a_long_history_the_queue_is_counted_per_day(tmp_path: Path) -> None:
    db = ledger_schema.open_db(tmp_path / "ledger.sqlite")
    start = datetime(2026, 1, 1, 9, tzinfo=UTC)
    for day in range(200):  # each day two queued at 09:00; one starts at 10:00, one waits a day
        for n, wait in ((1, timedelta(hours=1)), (2, timedelta(days=1, hours=2))):
            queued = start + timedelta(days=day)
            db.execute(
                "INSERT INTO tasks (task_id, repo_key, issue, generation, attempt, queued_at, "
                "started_at) VALUES (?, 'app', ?, 1, 1, ?, ?)",
                (f"app-{day * 10 + n}-g1-a1", day * 10 + n, stamp(queued), stamp(queued + wait)),
            )
    seconds, depth = figures.queue_depth(db, "2026-01-01T00:00:00.000Z")
    db.close()
    assert seconds == 86400 and len(depth) == 201
    # at the end of a day: that day's waiting one (the one before has started at 11:00)
    assert depth[0] == ("2026-01-01", 1) and depth[100] == ("2026-04-11", 1)

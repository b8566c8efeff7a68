"""The analyzer's measures, counted by SQLite, equal what counting every row in Python gave."""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from orchestrator.store.files import append_line
from orchestrator.store.ledger import Ledger

REPOS = {"acme/app": "app", "acme/web": "web"}  # acme/lib's repo key `lib` is not configured
START = "2026-12-08T00:00:00.000Z"  # this window: [START, NOW); the one before: [BEFORE, START)
BEFORE, NOW = "2026-12-01T00:00:00.000Z", "2026-12-15T00:00:00.000Z"


def _room(runtime: Path, task: str, judged: str | None, agents: Iterable[str], nxt: str) -> None:
    """A room whose chains ran `agents` in order and whose judgement (if any) came at `judged`."""
    chain: dict[str, Any] = {
        "ts": "2026-11-01T00:00:00.000Z",
        "event": "chain.finished",
        "end": "finished",
    }
    lines = [chain | {"backend": a, "input_tokens": 10, "output_tokens": 2} for a in agents]
    if judged is not None:
        lines.append({"ts": judged, "event": "attempt.judged", "next": nxt, "reason": "r"})
    (runtime / "rooms" / task).mkdir(parents=True)
    for line in lines:
        append_line(runtime / "rooms" / task / "channel.jsonl", json.dumps(line))


def _merge(runtime: Path, repo: str, pr: int, issue: int | None) -> None:
    line = {"ts": "2026-12-14T00:00:00.000Z", "event": "pr.merged", "repo": repo, "pr": pr}
    append_line(runtime / "logs" / "pr_monitor.jsonl", json.dumps(line | {"issue": issue}))


def _mixed(runtime: Path) -> Ledger:
    """Three repos (one unmapped), agents alone and in chains, merged or not, two windows."""
    rooms = [
        ("app-1-g1-a1", "2026-12-09T10:00:00.000Z", ["claude"], "retry"),
        ("app-1-g1-a2", "2026-12-10T10:00:00.000Z", ["claude"], "open_pr"),  # merged
        ("app-2-g1-a1", "2026-12-10T11:00:00.000Z", ["claude", "codex"], "open_pr"),  # merged
        ("app-3-g1-a1", "2026-12-11T10:00:00.000Z", ["codex"], "open_pr"),
        ("web-1-g1-a1", "2026-12-12T10:00:00.000Z", ["codex"], "open_pr"),  # merged
        ("web-2-g1-a1", "2026-12-12T11:00:00.000Z", [], "retry"),  # no agent ran: `-`
        ("lib-5-g1-a1", "2026-12-13T10:00:00.000Z", ["claude"], "open_pr"),  # merged, unmapped
        ("app-9-g1-a1", "2026-12-13T11:00:00.000Z", ["claude"], "retry"),  # merged: not this one
        ("app-11-g1-a1", START, ["codex"], "retry"),  # this window's first instant
        ("app-4-g1-a1", "2026-12-02T10:00:00.000Z", ["claude"], "open_pr"),
        ("app-10-g1-a1", "2026-12-03T10:00:00.000Z", ["claude"], "open_pr"),  # merged
        ("web-3-g1-a1", "2026-12-05T10:00:00.000Z", ["codex"], "retry"),
        ("web-1-g2-a1", "2026-12-07T23:59:59.999Z", ["codex"], "open_pr"),  # merged
        ("app-12-g1-a1", "2026-11-30T10:00:00.000Z", ["claude"], "open_pr"),  # before both
        ("app-13-g1-a1", "2026-12-16T10:00:00.000Z", ["claude"], "open_pr"),  # after now
        ("app-14-g1-a1", None, ["claude"], ""),  # never judged
    ]
    for room in rooms:
        _room(runtime, *room)
    merges: list[tuple[str, int | None]] = [("acme/app", 1), ("acme/app", 2), ("acme/web", 1)]
    merges += [("acme/lib", 5)]
    merges += [("acme/app", None), ("acme/app", 9), ("acme/app", 10)]
    for pr, (repo, issue) in enumerate(merges, 1):
        _merge(runtime, repo, pr, issue)
    ledger = Ledger(runtime, repo_keys=REPOS)
    ledger.update()
    return ledger


# What the log analyzer counted before, from every row of the two windows (kept as it was).
def old_runs(tasks: Iterable[Mapping[str, Any]], start: str) -> dict[str, int]:
    runs: dict[str, int] = defaultdict(int)
    for task in tasks:
        if task.get("judged_at") and str(task["judged_at"]) >= start:
            runs[str(task["repo_key"])] += 1
    return dict(runs)


def old_merged(merges: Iterable[Mapping[str, Any]], keys: Mapping[str, str]) -> set[Any]:
    return {
        (keys[str(m["repo"])], int(m["issue"]))
        for m in merges
        if m.get("issue") is not None and str(m.get("repo")) in keys
    }


def old_agents(
    tasks: Iterable[Mapping[str, Any]], merged: set[Any], start: str, end: str
) -> dict[str, tuple[int, int]]:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for task in tasks:
        judged = str(task.get("judged_at") or "")
        if not judged or not start <= judged < end:
            continue
        agent = (str(task.get("agents") or "-").split(",") or ["-"])[-1]
        won = (
            task.get("next") == "open_pr" and (str(task["repo_key"]), int(task["issue"])) in merged
        )
        counts[agent][0] += 1
        counts[agent][1] += int(won)
    return {name: (a, m) for name, (a, m) in counts.items()}


def test_the_measures_count_each_window_as_the_rows_did(tmp_path: Path) -> None:
    ledger = _mixed(tmp_path / "runtime")
    assert ledger.runs(START) == {"app": 7, "web": 2, "lib": 1}  # no end: the late one counts
    assert ledger.agents(START, NOW) == {"claude": (4, 1), "codex": (4, 2), "-": (1, 0)}
    assert ledger.agents(BEFORE, START) == {"claude": (2, 1), "codex": (2, 1)}
    asked = [("app", 1), ("app", 2), ("app", 3), ("web", 1), ("web", 2), ("lib", 5), ("app", 9),
             ("app", 10), ("nope", 1), ("app", 1)]  # fmt: skip
    assert ledger.merged_issues(asked) == {("app", 1), ("app", 2), ("web", 1), ("app", 9),
                                           ("app", 10)}  # fmt: skip
    assert ledger.merged_issues([]) == set()
    assert Ledger(tmp_path / "runtime").agents(START, NOW)["codex"] == (4, 0)  # no repo mapped
    _assert_as_before(ledger)


def test_on_a_random_ledger_the_measures_equal_the_old_python_counts(tmp_path: Path) -> None:
    runtime, pick = tmp_path / "runtime", random.Random(15)
    for n in range(300):
        repo, issue = pick.choice(["app", "web", "lib"]), pick.randrange(1, 40)
        day = pick.randrange(-3, 17)
        hour = pick.randrange(24)
        judged = None if day < -1 else f"2026-12-{max(day, 1):02d}T{hour:02d}:00:00.000Z"
        agents = pick.sample(["claude", "codex", "gemini"], pick.randrange(0, 3))
        _room(runtime, f"{repo}-{issue}-g1-a{n}", judged, agents, pick.choice(["open_pr", "retry"]))
    for pr in range(1, 60):
        repo = pick.choice(["acme/app", "acme/web", "acme/lib"])
        _merge(runtime, repo, pr, pick.choice([None, *range(1, 40)]))
    ledger = Ledger(runtime, repo_keys=REPOS)
    ledger.update()
    assert sum(ledger.runs(BEFORE).values()) > 200  # the draw made a ledger worth comparing
    assert sum(won for _, won in ledger.agents(BEFORE, NOW).values()) > 20
    _assert_as_before(ledger)


def _assert_as_before(ledger: Ledger) -> None:
    tasks = ledger.tasks(since_ts=BEFORE)
    merged = old_merged(ledger.merges(), REPOS)
    assert ledger.runs(START) == old_runs(tasks, START)
    assert ledger.agents(START, NOW) == old_agents(tasks, merged, START, NOW)
    assert ledger.agents(BEFORE, START) == old_agents(tasks, merged, BEFORE, START)
    pairs = {(str(t["repo_key"]), int(t["issue"])) for t in ledger.tasks()}
    assert ledger.merged_issues(pairs) == pairs & merged

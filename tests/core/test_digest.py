"""The daily digest: one short message, lists capped, other people's titles inert."""

from __future__ import annotations

from orchestrator.core import notify
from orchestrator.core.batching import batch
from orchestrator.core.digest import LIMIT, MAX_LISTED, Attention, Listed, digest
from orchestrator.core.scoring import Report, score

KEYS = {"acme/app": "app", "acme/web": "web"}
SINCE = "2026-12-01T08:00:00.000Z"


def _task(task_id: str, **kw: object) -> dict[str, object]:
    key, issue = task_id.split("-")[0], int(task_id.split("-")[1])
    row: dict[str, object] = {
        "task_id": task_id,
        "repo_key": key,
        "issue": issue,
        "generation": 1,
        "agents": "claude",
        "queued_at": "2026-12-01T09:00:00.000Z",
        "judged_at": "2026-12-01T09:30:00.000Z",
        "next": "open_pr",
        "state": "review",
        "cost_usd": 0.5,
        "pr": 10 + issue,
    }
    row.update(kw)
    return row


def _report() -> Report:
    tasks = [
        _task("app-1-g1-a1"),
        _task("app-2-g1-a1", agents="codex"),
        _task("app-3-g1-a1", next="escalate", state="failed", cost_usd=1.0),
    ]
    merges = [{"repo": "acme/app", "pr": 11, "issue": 1, "merged_at": "2026-12-01T11:00:00.000Z"}]
    return score(tasks, merges, KEYS, SINCE, 1)


def test_the_figures_then_what_needs_you_linked_as_owner_name_number() -> None:
    waiting = Attention(
        escalations=(Listed("acme/app", 3, "Add login"),),
        reviews=(Listed("acme/web", 40, "Issue 7"),),
        incidents=(Listed("acme/app", 31, "job crashed (high)"),),
    )
    text = digest(_report(), waiting)
    lines = text.splitlines()
    assert lines[0] == "Agent OS digest: the 24 h since 2026-12-01 08:00 UTC"
    assert "Merged: 1 PR; merged rate 33% (1 of 3 attempts)" in lines
    assert "Cost: $2.00, $2.00 a merge" in lines
    assert "Lead time: 2.0 h (median, queued to merged)" in lines
    assert "Escalated: 1 of 3 attempts (33%)" in lines
    assert "By agent (merged of attempts): claude 1 of 2, codex 0 of 1" in lines
    assert lines.index("Needs you:") < lines.index("Escalations waiting (1):")
    assert "  acme/app#3 Add login" in lines and "  acme/web#40 Issue 7" in lines
    assert "  acme/app#31 job crashed (high)" in lines


def test_a_pr_waiting_for_a_person_in_full_mode_says_why() -> None:
    waiting = Attention(
        reviews=(
            Listed("acme/app", 40, "Add login", "blocked by branch protection"),
            Listed("acme/web", 41, "Add logout"),  # dispatcher_only: the list's title says it
        )
    )
    lines = digest(_report(), waiting).splitlines()
    assert "PRs awaiting your review (2):" in lines
    assert "  acme/app#40 Add login (blocked by branch protection)" in lines
    assert "  acme/web#41 Add logout" in lines


def test_a_quiet_day_says_so_in_a_few_lines() -> None:
    text = digest(score([], [], KEYS, SINCE, 1), Attention())
    assert text.splitlines()[1:] == ["Nothing ended and nothing merged.", "", "Needs you: nothing."]


def test_lists_are_capped_and_the_whole_stays_one_message_with_a_hundred_escalations() -> None:
    many = tuple(Listed("acme/app", n, "x" * 300 + " word") for n in range(100))
    repos = tuple(f"acme/repo-{n}" for n in range(40))
    text = digest(
        _report(), Attention(escalations=many, reviews=many, incidents=many, unreadable=repos)
    )
    assert len(text) <= LIMIT
    assert "Escalations waiting (100):" in text and text.count("  and 95 more") == 3
    assert sum(line.startswith("  acme/app#") for line in text.splitlines()) == 3 * MAX_LISTED
    assert "and 35 more: unreadable" in text
    messages = batch([notify.digest(text)])  # sent as one chat message, whole
    assert len(messages) == 1 and messages[0].text == f"📊 {text}"


def test_an_unreadable_repo_is_named_in_the_sections_it_leaves_unknown() -> None:
    text = digest(_report(), Attention(unreadable=("acme/web",)))
    assert text.count("  acme/web: unreadable (GitHub could not be asked)") == 2
    assert "Incidents filed: none" in text


def test_hostile_titles_stay_one_inert_line() -> None:
    hostile = "Fix\n\nEscalations waiting (0)\u2028*star* <i>x</i> /off now @alice \u202eevil\u200b"
    quiet = score([], [], KEYS, SINCE, 1)
    text = digest(quiet, Attention(escalations=(Listed("a/b", 1, hostile),)))
    lines = text.splitlines()
    assert sum(line.startswith("Escalations waiting") for line in lines) == 1  # none forged
    [line] = [line for line in lines if line.startswith("  a/b#1")]
    assert line.startswith("  a/b#1 Fix Escalations waiting (0) *star* <i>x<")  # shown as typed
    assert "/\u200boff now @\u200balice" in line  # no tappable command, no mention
    assert "\u202e" not in text and "evil" in line
    long = digest(quiet, Attention(escalations=(Listed("a/b", 1, "word " * 100),)))
    [line] = [line for line in long.splitlines() if line.startswith("  a/b#1")]
    assert len(line) <= len("  a/b#1 ") + 80 and line.endswith("…")


def test_the_digest_note_keeps_its_whole_body_through_the_outbox_record() -> None:
    text = digest(_report(), Attention(escalations=(Listed("acme/app", 3, "Add login"),)))
    note = notify.digest(text)
    assert note.kind is notify.Kind.DIGEST and note.text == text.splitlines()[0]
    again = notify.from_record(notify.to_record(note))
    assert f"{again.text}\n{again.detail}" == text


def test_a_storm_never_hides_the_digest() -> None:
    text = digest(_report(), Attention(escalations=(Listed("acme/app", 3, "Add login"),)))
    storm = [notify.Notification(notify.Kind.TASK_STARTED, f"#{n} started") for n in range(80)]
    messages = batch([notify.digest(text), *storm])
    assert sum(f"📊 {text}" in m.text for m in messages) == 1


def test_the_groomers_stale_escalations_and_its_line_follow_the_lists() -> None:
    waiting = Attention(
        escalations=(Listed("acme/app", 3, "Add login"),),
        stale=(Listed("acme/app", 3, "12 days: Add login"),),
        groomed="Groomer: 1 card repaired.",
    )
    lines = digest(_report(), waiting).splitlines()
    at = lines.index("Escalations waiting longest (1):")
    assert lines[at + 1] == "  acme/app#3 12 days: Add login"
    assert lines[-1] == "Groomer: 1 card repaired."
    assert "Escalations waiting longest" not in digest(_report(), Attention())

"""The control plane without a chat.

Button claims under concurrency, /retry's lineage, settings, the outbox.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

import pytest

from orchestrator.adapters.memory import MemoryTracker
from orchestrator.control import settings
from orchestrator.control.plane import Control
from orchestrator.core import notify
from orchestrator.core.chat import IssueCommand, RepoMode, Simple, Target
from orchestrator.core.model import BoardStatus, IssueRef
from orchestrator.deps import notifier_for
from orchestrator.errors import ConfigError, TrackerError
from orchestrator.jobs import JOBS
from orchestrator.store.outbox import Outbox
from orchestrator.store.overrides import read_overrides
from tests.control.conftest import REPO, T0, World

TOKEN3 = notify.action_token("app-3-g1-a3")


def escalated(world: World, control: Control, number: int = 3) -> str:
    """Escalate a task, deliver it (records its buttons) and return the token."""
    world.add_task(number, "escalated")
    notifier_for(world.config, world.log).notify(
        notify.escalated(IssueRef(REPO, number), f"app-{number}-g1-a3", f"Issue {number}", "stuck")
    )
    delivery = control.outgoing(paced=False)
    assert delivery is not None
    control.sent(delivery, len(delivery.messages))
    return notify.action_token(f"app-{number}-g1-a3")


def test_simultaneous_presses_act_exactly_once(world: World) -> None:
    control = world.control()
    token = escalated(world, control)
    results: list[str] = []
    barrier = threading.Barrier(8)

    def press() -> None:
        barrier.wait()
        results.append(control.press(token, "retry", "alice (1001)").toast)

    threads = [threading.Thread(target=press) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum("re-queued as task app-3-g2-a1" in r for r in results) == 1
    assert sum(r.startswith("Already handled") for r in results) == 7
    assert world.mailbox.for_issue("app", 3) == {"app-3-g2-a1": "inbox", "app-3-g1-a3": "retried"}


def test_a_failed_action_gives_its_claim_back(world: World) -> None:
    class Down(MemoryTracker):
        def close_issue(self, ref: IssueRef, reason: str = "completed") -> None:
            raise TrackerError("GitHub is down (502)")

    control = world.control()
    token = escalated(world, control)
    healthy, world.tracker = world.tracker, Down()
    failed = control.press(token, "close", "alice")
    assert failed.remove is False and failed.toast.startswith(
        "Failed: GitHub is down (502). Press again"
    )
    world.tracker = healthy
    assert control.press(token, "close", "alice").toast == "app#3 closed as not planned (by alice)."
    assert not world.tracker.issue(IssueRef(REPO, 3)).is_open


def test_unknown_and_expired_buttons_only_say_so(world: World) -> None:
    control = world.control()
    assert control.press("0" * 16, "retry", "alice").toast == "This button is no longer valid."
    token = escalated(world, control)
    world.fixed.append(world.clock() + timedelta(days=7, minutes=1))
    assert control.press(token, "retry", "alice").toast.startswith("This button expired")
    assert world.mailbox.for_issue("app", 3) == {"app-3-g1-a3": "escalated"}


def test_retry_keeps_the_lineage_with_a_fresh_budget_and_todays_chain(world: World) -> None:
    world.fixed.append(T0 + timedelta(days=1))
    old = world.add_task(
        3,
        "retried",
        chain=("claude", "codex"),
        history=("attempt 1: blocked", "attempt 2: partial"),
    )
    reply = world.control().command(IssueCommand("retry", Target(3)), "alice")
    assert reply == "app#3: re-queued as task app-3-g2-a1 with 3 fresh attempts (by alice)."
    fresh = world.mailbox.read("inbox", "app-3-g2-a1")
    assert (fresh.generation, fresh.attempt, fresh.max_attempts) == (2, 1, 3)
    assert fresh.history == old.history and fresh.body == old.body and fresh.branch == old.branch
    assert fresh.chain == ("script",) and fresh.created_at == T0 + timedelta(days=1)
    assert fresh.reason == "retried_from_chat"
    assert world.mailbox.locate(old.id) == "retried"  # a retried task stays where it is


def test_retry_undoes_the_escalation_on_github_as_the_dispatcher_would_queue(world: World) -> None:
    ref = IssueRef(REPO, 3)
    world.tracker.add_labels(ref, ["agentos:blocked"])
    world.board.place(world.tracker.issue(ref), BoardStatus.BLOCKED)
    world.add_task(3, "escalated")
    world.control().command(IssueCommand("retry", Target(3)), "alice")
    assert "agentos:blocked" not in world.tracker.issue(ref).labels
    assert [i.status for i in world.board.items(detail=()) if i.issue == ref] == [
        BoardStatus.IN_PROGRESS
    ]


def test_retry_refuses_a_closed_issue_and_names_an_unknown_repo(world: World) -> None:
    world.add_task(3, "escalated")
    world.tracker.close_issue(IssueRef(REPO, 3), "completed")
    assert (
        world.control().command(IssueCommand("retry", Target(3)), "alice")
        == "app#3 is closed on GitHub; reopen it first."
    )
    assert (
        world.control().command(IssueCommand("why", Target(3, "nope")), "alice")
        == "Unknown repo 'nope' (known: app)."
    )


def test_a_setting_from_chat_is_validated_before_it_is_written(world: World) -> None:
    config = world.config
    with pytest.raises(ConfigError, match="max_parallel_tasks"):
        settings.change(
            config,
            ("repos", "app", "max_parallel_tasks"),
            0,
            lambda c: c.repo("app").max_parallel_tasks,
        )
    assert read_overrides(world.state) == {}
    assert settings.change(config, ("repos", "app", "max_parallel_tasks"), 5, lambda c: 2) is True
    assert settings.change(config, ("repos", "app", "max_parallel_tasks"), 5, lambda c: 2) is False
    # = config.yaml
    assert settings.change(config, ("repos", "app", "max_parallel_tasks"), 2, lambda c: 2) is True
    assert not (world.state / "overrides.yaml").exists()


def test_concurrent_settings_changes_all_land(world: World) -> None:
    threads = [
        threading.Thread(
            target=settings.change, args=(world.config, ("limits", key), 7, lambda c: None)
        )
        for key in ("max_parallel_workers", "max_attempts", "max_fix_rounds")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert read_overrides(world.state) == {
        "limits": {"max_attempts": 7, "max_fix_rounds": 7, "max_parallel_workers": 7}
    }


def test_a_broken_config_is_the_reply_but_on_and_off_still_work(world: World) -> None:
    control = world.control()
    world.config.source.write_text("repos: [unclosed\n")
    assert control.command(Simple("status"), "alice").startswith(
        "The config is invalid; fix it first:"
    )
    assert control.command(Simple("off"), "alice").startswith("Agent OS is off")
    assert control.command(RepoMode("app", "full"), "alice").startswith("The config is invalid")
    assert not world.switches.is_on()


def test_the_update_offset_is_zero_until_something_was_handled(world: World) -> None:
    control = world.control()
    assert control.last_update_id() == 0
    (world.state).mkdir(parents=True, exist_ok=True)
    (world.state / "telegram_offset.json").write_text("{torn")
    assert control.last_update_id() == 0
    control.handled(41)
    assert Control(world.config, JOBS, world.log).last_update_id() == 41
    world.fixed.append(world.clock() + timedelta(days=3))
    assert control.last_update_id() == 0  # Telegram may have restarted its ids: never go deaf


@pytest.mark.parametrize(
    "content", [b"\xff\xfe", b"[]", b'{"update_id": -3, "at": "2026-05-01T10:00:00+00:00"}', None]
)
def test_a_damaged_offset_is_set_aside_and_the_bot_keeps_serving(
    world: World, content: bytes | None
) -> None:
    control = world.control()
    path = world.state / "telegram_offset.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    if content is None:
        path.mkdir()  # a directory where the file belongs
    else:
        path.write_bytes(content)
    assert control.last_update_id() == 0
    assert not path.exists()
    control.handled(7)
    assert control.last_update_id() == 7


def test_a_retry_killed_between_queueing_and_retiring_is_finished_by_the_next(world: World) -> None:
    world.add_task(3, "escalated")
    fresh = world.mailbox.read("escalated", "app-3-g1-a3")
    # the killed retry's work
    world.mailbox.create(replace(fresh, id="app-3-g2-a1", generation=2, attempt=1))
    reply = world.control().command(IssueCommand("retry", Target(3)), "alice")
    assert reply == "app#3: already inbox as task app-3-g2-a1."
    assert world.mailbox.for_issue("app", 3) == {"app-3-g2-a1": "inbox", "app-3-g1-a3": "retried"}


def test_a_paced_flush_waits_for_the_burst_to_end(world: World) -> None:
    control = world.control()
    notifier_for(world.config, world.log).notify(notify.job_crashed("queue", "boom"))
    assert control.outgoing(paced=True) is None  # just written: the burst may go on
    world.fixed.append(world.clock() + timedelta(seconds=1))
    delivery = control.outgoing(paced=True)
    assert delivery is not None and delivery.sent == 0 and len(delivery.messages) == 1
    assert Outbox(world.state).pending().notes  # not finished until sent() says so
    control.sent(delivery, 1)
    assert control.outgoing(paced=False) is None


def test_every_chat_command_has_exactly_one_handler(world: World) -> None:
    from orchestrator.core.chat import SPECS

    assert sorted(world.control().handlers) == sorted(SPECS)


def test_report_answers_the_digest_on_demand_and_never_marks_it_sent(world: World) -> None:
    world.tracker.add_labels(IssueRef(REPO, 3), ["agentos:blocked"])
    world.fixed.append(T0)
    reply = world.control().command(Simple("report"), "alice (1001)")
    assert reply.startswith("Agent OS digest: the 24 h since 2026-04-30 10:00 UTC")
    assert "Escalations waiting (1):\n  acme/app#3 Issue 3" in reply
    assert not (world.state / "scorer.memo.json").exists()  # the daily digest still goes


def test_a_digest_in_the_outbox_goes_out_whole_as_one_message(world: World) -> None:
    text = "Agent OS digest: the 24 h since then\n" + "\n".join(f"  line {n}" for n in range(60))
    notifier_for(world.config, world.log).notify(notify.digest(text))
    delivery = world.control().outgoing(paced=False)
    assert delivery is not None and [m.text for m in delivery.messages] == [f"📊 {text}"]

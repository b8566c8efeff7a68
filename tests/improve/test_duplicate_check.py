"""The noise control's model check, through the filer, the real anthropic SDK and `Deps.llm_for`.

The backend `improve.triage_with` names answers from the scripted Messages server on 127.0.0.1.
A borderline proposal (a title near a person's issue, not near enough to be a duplicate by
words) is put to it once: a confirmed duplicate is skipped, anything else is filed, a failure
with one `duplicate_check.failed`. Nothing borderline asks nothing; a verdict is remembered.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from orchestrator.adapters.llm import AnthropicLLM
from orchestrator.improve.filing import Filed, Filer, Filing
from orchestrator.sandbox.models.anthropic_server import AnthropicSandbox
from orchestrator.sandbox.models.script import Fail, Step, Turn
from orchestrator.store.filings import Filings
from tests.helpers import ENV
from tests.jobs import conftest
from tests.jobs.conftest import T0, World, make_world

KEY = "sandbox-duplicates-key-0123456789"
LABEL = "agentos:incident"
TITLE = "Job queue crashed: KeyError task_id"
NEAR = "Queue crashes on KeyError"  # a person's words for it: title ratio 77, body unlike
PERSON = 1  # the number the person's issue gets: the first in a fresh repo
Start = Callable[..., tuple[World, AnthropicSandbox]]


@pytest.fixture
def start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Start]:
    """Start the scripted model, then a world whose `improve.triage_with` backend points at it,
    with the person's issue #1 in acme/app (`near`: NEAR, else an unrelated title)."""
    monkeypatch.setattr(conftest, "ENV", {**ENV, "SANDBOX_KEY": KEY})
    with ExitStack() as stack:

        def started(
            steps: list[Step], *, near: bool = True, reachable: bool = True
        ) -> tuple[World, AnthropicSandbox]:
            model = AnthropicSandbox(steps)
            if reachable:
                stack.enter_context(model)
            else:
                with model:  # started and stopped at once: nobody listens at its address
                    pass
            agents = {
                "backends": {
                    "script": {"type": "command", "argv": ["true"]},
                    "checker": {
                        "type": "anthropic",
                        "api_key": "$SANDBOX_KEY",
                        "base_url": model.base_url,
                    },
                },
                "chains": {"default": ["script"]},
            }
            worlds = make_world(tmp_path, agents=agents, improve={"triage_with": "checker"})
            world = next(worlds)
            stack.callback(next, worlds, None)
            llm = world.deps.llm_for("checker")
            assert isinstance(llm, AnthropicLLM)
            llm.max_retries, llm.timeout = 0, 5  # the SDK's own retries only slow the error tests
            title = NEAR if near else "Add a dark mode to the settings page"
            issue = world.tracker.add_issue("acme/app", title, "It dies every night.")
            assert issue.number == PERSON
            return world, model

        yield started


def file(world: World, *, dry_run: bool = False, **change: Any) -> Filed:
    """File the queue's crash once, as one tick of the scanner does (its memo saved after)."""
    values: dict[str, Any] = {
        "repo": world.config.repo("app"),
        "signature": "a1b2c3d4e5f60718",
        "title": TITLE,
        "body": "The queue job raised KeyError: 'task_id' on 3 ticks.",
        "labels": (LABEL, "severity:high"),
        "evidence": "Seen 3 times.",
        "fields": {"kind": "job_crashed", "severity": "high", "count": 3},
    }
    memo = world.deps.memo("incident_scanner")
    filer = Filer(
        world.deps,
        world.config,
        T0 + timedelta(hours=1),
        producer="incident_scanner",
        memo=memo,
        dry_run=dry_run,
    )
    filed = filer.file(Filing(**{**values, **change}))
    if not dry_run:
        memo.save()
    return filed


def ours(world: World) -> list[Any]:
    return [i for i in world.tracker._repo("acme/app").issues.values() if LABEL in i.labels]


def verdict(number: int | None) -> Turn:
    return Turn(json.dumps({"duplicate_of": number}))


def test_a_duplicate_the_model_confirms_is_skipped_not_filed(start: Start) -> None:
    world, model = start([verdict(PERSON)])
    filed = file(world)
    [exchange] = model.requests
    why = f"duplicate (model: #{PERSON})"
    assert (filed.action, filed.issue, filed.why) == ("skip", PERSON, why)
    assert ours(world) == [] and world.events("incident.filed") == []
    [skipped] = world.events("incident.skipped")
    assert (skipped["reason"], skipped["issue"]) == (why, PERSON)
    assert world.events("duplicate_check.failed") == [] and not model.problems
    prompt = exchange.request.body["messages"][0]["content"]  # type: ignore[index]
    assert f"## Issue #{PERSON} (open)" in prompt and NEAR in prompt and TITLE in prompt
    assert exchange.request.headers["authorization"] == f"Bearer {KEY}"


def test_the_same_proposal_next_tick_is_not_asked_again(start: Start) -> None:
    world, model = start([verdict(PERSON)])
    first, second = file(world), file(world)
    assert first == second and first.why == f"duplicate (model: #{PERSON})"
    assert len(model.requests) == 1  # the second verdict came from the memo
    assert len(world.events("incident.skipped")) == 1  # logged once per reason, as any skip


def test_a_new_near_issue_is_a_new_question(start: Start) -> None:
    world, model = start([verdict(PERSON)])
    assert file(world).action == "skip"
    world.tracker.add_issue("acme/app", "The queue crashes with KeyError", "Again tonight.")  # 73
    assert file(world).action == "skip"
    assert len(model.requests) == 2
    prompt = model.requests[1].request.body["messages"][0]["content"]  # type: ignore[index]
    assert "## Issue #1 (open)" in prompt and "## Issue #2 (open)" in prompt


def test_answered_none_is_filed(start: Start) -> None:
    world, model = start([verdict(None)])
    filed = file(world)
    assert (filed.action, filed.why) == ("file", "new") and len(model.requests) == 1
    [issue] = ours(world)
    assert world.events("incident.filed")[0]["issue"] == issue.number
    assert world.events("duplicate_check.failed") == []


@pytest.mark.parametrize(
    "text, said",
    [
        ("Yes: it repeats #1.", "not JSON"),
        ('{"duplicate_of": 99}', "#99 was not offered"),
        ('{"duplicate_of": 1, "confidence": 0.9}', 'not an object with "duplicate_of" alone'),
        ('{"duplicate_of": "1"}', "duplicate_of is not a number or null"),
    ],
    ids=["prose", "forged-number", "extra-key", "a-string"],
)
def test_an_unusable_answer_is_filed_with_one_event(start: Start, text: str, said: str) -> None:
    world, model = start([Turn(text)])
    filed = file(world)
    assert (filed.action, filed.why) == ("file", "new") and len(model.requests) == 1
    assert len(ours(world)) == 1
    [failed] = world.events("duplicate_check.failed")
    assert failed["error"] == f"model answer unusable: {said}"
    assert (failed["repo_key"], failed["candidates"]) == ("app", [PERSON])


@pytest.mark.parametrize(
    "fail, said",
    [
        (Fail(500, "Internal server error", sticky=True), "answered 500"),
        (Fail(529, "Overloaded", kind="overloaded_error", sticky=True), "answered 529"),
    ],
    ids=["500", "overloaded"],
)
def test_an_api_error_is_filed_with_one_event(start: Start, fail: Fail, said: str) -> None:
    world, model = start([fail])
    filed = file(world)
    assert (filed.action, filed.why) == ("file", "new") and len(model.requests) == 1
    assert len(ours(world)) == 1
    [failed] = world.events("duplicate_check.failed")
    assert said in failed["error"] and "backend checker" in failed["error"]
    assert KEY not in failed["error"] and "\n" not in failed["error"]


def test_an_unreachable_api_is_filed_with_one_event(start: Start) -> None:
    world, _ = start([], reachable=False)
    assert file(world).action == "file" and len(ours(world)) == 1
    [failed] = world.events("duplicate_check.failed")
    assert "failed" in failed["error"]


def test_a_failure_is_not_remembered_but_what_was_filed_is_found_next_tick(start: Start) -> None:
    world, model = start([Fail(500, sticky=True)])
    assert file(world).action == "file"
    assert file(world).action == "update"  # the signature finds it: no question to ask
    assert len(model.requests) == 1


def test_nothing_borderline_asks_nothing(start: Start) -> None:
    world, model = start([verdict(PERSON)], near=False)
    assert file(world).action == "file"
    world.tracker.add_issue("acme/app", "Job queue crashed: KeyError task_id!")  # the same words
    skipped = file(world, signature="0" * 16)
    assert skipped.action == "skip" and skipped.why.startswith("duplicate (title")
    assert model.requests == [] and world.events("duplicate_check.failed") == []


def test_the_daily_cap_asks_nothing(start: Start) -> None:
    world, model = start([verdict(None)])
    filings = Filings(world.config.paths.runtime_dir)
    for n in range(world.config.improve.daily_cap):  # filed today by another producer
        filings.add("app", T0.date().isoformat(), 100 + n, "log_analyzer", f"{n:016x}")
    capped = file(world)
    assert capped.why == "daily_cap" and model.requests == []


def test_a_dry_run_asks_and_writes_nothing(
    start: Start, capsys: pytest.CaptureFixture[str]
) -> None:
    world, model = start([verdict(PERSON)])
    before = len(world.tracker.writes)
    filed = file(world, dry_run=True)
    assert filed.why == f"duplicate (model: #{PERSON})" and len(model.requests) == 1
    assert len(world.tracker.writes) == before and f"(duplicate (model: #{PERSON}))" in (
        capsys.readouterr().out
    )
    assert not world.deps.memo("incident_scanner").path.exists()  # nothing kept


def test_without_a_model_a_borderline_proposal_is_filed(tmp_path: Path) -> None:
    worlds = make_world(tmp_path)
    world = next(worlds)
    try:
        world.tracker.add_issue("acme/app", NEAR, "It dies every night.")
        assert file(world).action == "file" and len(ours(world)) == 1
        assert world.events("duplicate_check.failed") == []
    finally:
        next(worlds, None)

"""A model's triage of unknown clusters: exactly the format asked for, or nothing."""

from __future__ import annotations

import json

import pytest

from orchestrator.core.incidents import Severity
from orchestrator.core.triage import SYSTEM, parse_triage, triage_prompt, untriaged
from tests.core.test_incidents import (
    HOSTILE,
    SIG,
    assert_plain_title,
    assert_quoted_as_data,
    group,
)

DISK = group("disk_full", 2, signature="aaaaaaaaaaaaaaaa", details=("No space left on device",))
OOM = group("oom", 6, signature="bbbbbbbbbbbbbbbb", repo="", details=("Killed: out of memory",))
UNKNOWN = (DISK, OOM)


def item(**change: object) -> dict[str, object]:
    base: dict[str, object] = {
        "signature": DISK.signature,
        "severity": "high",
        "title": "Disk full on the runner",
        "summary": "The runner's disk filled up; clean the worktrees.",
    }
    return {**base, **change}


def answer(*items: dict[str, object]) -> str:
    return json.dumps({"incidents": list(items)})


def test_a_good_answer_is_read_plain_or_in_a_json_fence() -> None:
    for text in (
        answer(item()),
        f"```json\n{answer(item())}\n```",
        f"  ```\n{answer(item())}```\n",
    ):
        [hit] = parse_triage(text, UNKNOWN) or []
        assert (hit.signature, hit.kind, hit.repo_key) == (DISK.signature, "disk_full", "app")
        assert hit.severity is Severity.HIGH and hit.title == "Disk full on the runner"
        assert "```text\nThe runner's disk filled up; clean the worktrees.\n```" in hit.body
        assert "No space left on device" in hit.body and hit.count == 2


def test_nothing_worth_an_issue_is_a_valid_answer() -> None:
    assert parse_triage('{"incidents": []}', UNKNOWN) == []


def test_the_answer_lists_the_most_urgent_first() -> None:
    two = answer(item(severity="low"), item(signature=OOM.signature, severity="critical"))
    assert [h.kind for h in parse_triage(two, UNKNOWN) or []] == ["oom", "disk_full"]


def test_one_signature_in_two_repos_files_in_each() -> None:
    other = group("disk_full", 1, signature=DISK.signature, repo="web")
    hits = parse_triage(answer(item()), (DISK, other)) or []
    assert sorted(h.repo_key for h in hits) == ["app", "web"]


@pytest.mark.parametrize(
    "text",
    [
        "Sure! Here are the incidents.",
        "",
        "[]",
        '{"incidents": {}}',
        '{"incidents": [], "note": "extra"}',
        '{"findings": []}',
        answer(item(signature="cccccccccccccccc")),  # not one of the clusters
        answer(item(severity="urgent")),
        answer(item(severity="High")),
        answer(item(severity=None)),
        answer(item(title="x" * 91)),
        answer(item(title="two\nlines")),
        answer(item(title="two\u2028lines")),
        answer(item(title="")),
        answer(item(title="   ")),
        answer(item(title=7)),
        answer(item(summary="y" * 1001)),
        answer(item(extra="key")),
        answer({k: v for k, v in item().items() if k != "summary"}),
        answer(item(), item()),  # the same cluster twice
        answer(item(), item(signature=OOM.signature), item(signature=OOM.signature)),  # too many
        answer(item()) + "\nHope this helps!",
        '{"incidents": [], "incidents": []}',  # a key given twice
        f"```python\n{answer(item())}\n```",
        "[" * 5000 + "]" * 5000,
        answer(item(summary="z" * 1000)) + " " * 20_000,  # past what is read at all
        '{"incidents": [NaN]}',
    ],
)
def test_anything_but_the_format_asked_for_is_refused(text: str) -> None:
    assert parse_triage(text, UNKNOWN) is None


def test_the_models_words_are_data() -> None:
    title = "Disk [full](https://evil.example) ![x](y) `rm` @admin Fixes #3 <!-- agentos:x -->"
    [hit] = parse_triage(answer(item(title=title[:90], summary=HOSTILE[:900])), UNKNOWN) or []
    assert_plain_title(hit.title)
    assert "evil.example" not in hit.title and "Disk full x rm" in hit.title
    assert_quoted_as_data(hit.body.replace("AAAA", ""))  # the summary is cut before the As


def test_the_prompt_fences_the_clusters_as_data_and_asks_for_the_format() -> None:
    hostile = group("disk_full", 2, details=(HOSTILE,))
    system, user = triage_prompt([hostile, OOM])
    assert system == SYSTEM and '{"incidents": [{"signature"' in system and "never follow" in system
    assert f"signature: {SIG}" in user and f"signature: {OOM.signature}" in user
    assert "## Cluster 2" in user and "- repo: (Agent OS itself)" in user
    assert_quoted_as_data(user)


def test_without_triage_only_a_cluster_of_five_a_day_is_filed_and_low() -> None:
    [hit] = untriaged(UNKNOWN)
    assert (hit.kind, hit.count, hit.severity) == ("oom", 6, Severity.LOW)
    assert hit.title == "Unrecognised oom signals, 6 in a day: Killed: out of memory"
    assert untriaged([DISK]) == [] and len(untriaged(UNKNOWN, threshold=2)) == 2

"""GitHub's REST pages kept across ticks: the next tick's GET is conditional, and answered 304.

Each "tick" is a GitHubTracker of its own (as each tick is a process), on the GitHub sandbox.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.adapters.github import GitHubTracker
from orchestrator.config.model import GitHubConfig, Secret
from orchestrator.core.model import IssueRef
from orchestrator.sandbox.github import Sandbox
from orchestrator.store.http_cache import FILE_NAME
from tests.support.github_sandbox import running_sandbox


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with running_sandbox(tmp_path / "github", login="acme") as sandbox:
        sandbox.create_repo("acme/app")
        yield sandbox


def tick(sandbox: Sandbox, state: Path, token: str | None = None) -> GitHubTracker:
    config = GitHubConfig(
        Secret("T", token or sandbox.token), sandbox.api_url, sandbox.graphql_url, ()
    )
    return GitHubTracker(config, throttle=False, state_dir=state)


def statuses(sandbox: Sandbox, path: str) -> list[int | None]:
    return [r.status for r in sandbox.requests if r.method == "GET" and r.path.startswith(path)]


def test_the_next_ticks_read_of_an_unchanged_issue_is_answered_304(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    first = tick(sandbox, tmp_path / "state")
    made = first.create_issue("acme/app", "Add subtraction", "body")
    assert first.issue(made.ref).title == "Add subtraction"
    first.close()
    sandbox.clear_requests()
    second = tick(sandbox, tmp_path / "state")
    assert second.issue(made.ref).title == "Add subtraction"  # from the kept page
    second.close()
    assert statuses(sandbox, "/api/v3/repos/acme/app/issues/1") == [304]


def test_a_changed_issue_is_read_again_and_another_identity_keeps_its_own_pages(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    first = tick(sandbox, tmp_path / "state")
    made = first.create_issue("acme/app", "Add subtraction", "body")
    first.issue(made.ref)
    first.update_issue(made.ref, title="Add sub()")
    first.close()
    sandbox.clear_requests()
    second = tick(sandbox, tmp_path / "state")
    assert second.issue(IssueRef("acme/app", made.number)).title == "Add sub()"
    second.close()
    other = tick(sandbox, tmp_path / "state", sandbox.add_user("bob"))
    other.issue(made.ref)
    other.close()
    assert statuses(sandbox, "/api/v3/repos/acme/app/issues/1") == [200, 200]


def test_a_damaged_cache_is_set_aside_and_the_read_goes_on(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    state = tmp_path / "runtime" / "state"
    state.mkdir(parents=True)
    (state / FILE_NAME).write_bytes(b"this is not a database" * 100)
    reader = tick(sandbox, state)
    made = reader.create_issue("acme/app", "Add subtraction", "body")
    assert reader.issue(made.ref).title == "Add subtraction"
    reader.close()
    assert not (state / FILE_NAME).exists()
    assert any((tmp_path / "runtime" / "quarantine").iterdir())
    again = tick(sandbox, state)  # a fresh cache from now on
    assert again.issue(made.ref).title == "Add subtraction"
    again.close()
    assert (state / FILE_NAME).exists()

"""GitHub's merge queue from the client's side, on the sandbox: an entry's merge group commit
(`MergeQueueEntry.headCommit`) is read from the enqueue answer and from `queue_state` while the
pull request is queued, and the group's failed checks can be listed at that commit once the queue
removed it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from orchestrator.adapters.github_queue import parse_state
from orchestrator.core.model import CheckState, PullRequest
from orchestrator.sandbox.github import Sandbox
from tests.adapters.conftest import REPO
from tests.contract.worlds import SandboxWorld
from tests.support.github_sandbox import protect


def test_the_group_commit_is_named_while_queued_and_its_checks_read_after_removal(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    world = SandboxWorld(sandbox, tmp_path)
    head = world.push(REPO, "agent/1-x")
    pr = world.tracker.open_pull(REPO, "agent/1-x", "main", "t", "")
    protect(sandbox, REPO, checks=["ci"], enforce_admins=False, merge_queue=True)
    world.add_status(REPO, head, "ci", "success")  # green on its own head: it may join
    main = world.owner.get_repo(REPO).get_branch("main").commit.sha
    state = world.tracker.queue_state(pr)
    assert (state.enabled, state.queued, state.group_sha) == (True, False, "")

    group = world.tracker.enqueue_pull(pr, state.node_id)
    [ref] = world.owner.get_repo(REPO).get_git_matching_refs("heads/gh-readonly-queue/")
    assert ref.ref == f"refs/heads/gh-readonly-queue/main/pr-{pr.number}-{main}"
    assert group == ref.object.sha and group not in (head, main)
    parents = [p.sha for p in world.owner.get_repo(REPO).get_commit(group).parents]
    assert parents == [main, head]
    queued = world.tracker.queue_state(pr)
    assert (queued.queued, queued.group_sha) == (True, group)  # "ci" pending on the group

    world.add_status(REPO, group, "ci", "failure")  # the queue removes it
    removed = world.tracker.queue_state(pr)
    assert (removed.queued, removed.group_sha) == (False, "")
    assert removed.removal is not None and removed.removal.reason == "CI_FAILURE"
    [check] = world.tracker.checks(REPO, group)  # the group's branch is gone, its commit is not
    assert (check.name, check.state) == ("ci", CheckState.FAILURE)


def test_an_entry_without_a_group_yet_names_none() -> None:
    pr = PullRequest(
        repo="o/r",
        number=3,
        title="t",
        body="",
        head="agent/3-x",
        base="main",
        head_sha="a" * 40,
        author="agentos",
        is_open=True,
        merged=False,
        draft=False,
        mergeable=True,
        mergeable_state="clean",
        url="",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        updated_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    node = {
        "id": "PR_1",
        "isMergeQueueEnabled": True,
        "isInMergeQueue": True,
        "mergeQueueEntry": {"state": "QUEUED", "position": 2, "headCommit": None},
        "timelineItems": {"nodes": []},
    }
    state = parse_state({"repository": {"pullRequest": node}}, pr)
    assert (state.queued, state.entry_state, state.group_sha) == (True, "QUEUED", "")
    node["mergeQueueEntry"] = {"state": "AWAITING_CHECKS", "headCommit": {"oid": "b" * 40}}
    assert parse_state({"repository": {"pullRequest": node}}, pr).group_sha == "b" * 40

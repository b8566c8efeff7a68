"""GitHub's merge queue on the strict sandbox: the merge button refused, enqueuePullRequest and
dequeuePullRequest through gql (the client validates each document against GitHub's schema), one
temporary `gh-readonly-queue/main/pr-N-PARENT` branch per entry built on the one ahead, CI on it,
the base fast-forwarded when it is green, a red entry removed with its reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from github import GithubException
from github.Repository import Repository
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXTransport

from orchestrator.sandbox.github import Sandbox
from orchestrator.sandbox.github.graph import schema
from tests.sandbox.github.helpers import Git, commit, push_branch
from tests.support.github_sandbox import protect

ENQUEUE = """mutation($id: ID!, $head: GitObjectID) {
  enqueuePullRequest(input: {pullRequestId: $id, expectedHeadOid: $head}) {
    mergeQueueEntry {
      position state enqueuedAt jump solo
      enqueuer { login }
      headCommit { oid }
      baseCommit { oid }
      pullRequest { number isInMergeQueue }
      mergeQueue { url }
    }
  }
}"""
DEQUEUE = """mutation($id: ID!) {
  dequeuePullRequest(input: {id: $id}) { mergeQueueEntry { position pullRequest { number } } }
}"""
PULL = """query($number: Int!) {
  repository(owner: "agentos", name: "backlog") {
    pullRequest(number: $number) {
      state isInMergeQueue isMergeQueueEnabled
      mergeQueueEntry { state position }
      timelineItems(first: 20, itemTypes: [ADDED_TO_MERGE_QUEUE_EVENT,
                    REMOVED_FROM_MERGE_QUEUE_EVENT, MERGED_EVENT]) {
        nodes {
          __typename
          ... on AddedToMergeQueueEvent { actor { login } enqueuer { login } }
          ... on RemovedFromMergeQueueEvent {
            actor { login } reason beforeCommit { oid } mergeQueue { url }
          }
          ... on MergedEvent { actor { login } commit { oid } mergeRefName }
        }
      }
    }
  }
}"""
QUEUE = """{
  repository(owner: "agentos", name: "backlog") {
    mergeQueue(branch: "main") {
      url
      entries(first: 10) { totalCount nodes { position state pullRequest { number } } }
    }
  }
}"""
# CI that fails when a.txt and b.txt meet; a merge group's run waits for the test's GATE file.
GATED = (
    'if git log -1 --format=%s | grep -q "^Merge pull request"; then '
    "while [ ! -f {gate} ]; do sleep 0.05; done; fi; test ! -f a.txt || test ! -f b.txt"
)


@pytest.fixture
def graphql(sandbox: Sandbox) -> Iterator[Any]:
    transport = HTTPXTransport(
        url=sandbox.graphql_url, headers={"Authorization": f"bearer {sandbox.token}"}
    )
    with Client(schema=schema(), transport=transport) as session:
        yield session


def run(graphql: Any, document: str, **variables: Any) -> Any:
    return graphql.execute(GraphQLRequest(document, variable_values=variables))


def refusal(graphql: Any, document: str, **variables: Any) -> tuple[str, str]:
    with pytest.raises(TransportQueryError) as raised:
        run(graphql, document, **variables)
    [error] = raised.value.errors or []
    return error["type"], error["message"]


@pytest.fixture
def gate(sandbox: Sandbox, repo: Repository, tmp_path: Path) -> Iterator[Path]:
    """Require the merge queue and CI on main; merge groups' CI waits until the gate opens."""
    path = tmp_path / "gate"
    sandbox.set_ci(repo.full_name, GATED.format(gate=path))
    protect(sandbox, repo.full_name, checks=["sandbox-ci"], merge_queue=True)
    yield path
    path.touch()  # never leave a CI run waiting


def opened(repo: Repository, git: Git, clone: Path, name: str, body: str = "") -> Any:
    push_branch(git, clone, name, path=f"{name}.txt", text=f"{name}\n")
    return repo.create_pull(base="main", head=name, title=name, body=body)


def queue_refs(git: Git, clone: Path) -> dict[str, str]:
    out = git("ls-remote", "origin", "refs/heads/gh-readonly-queue/*", cwd=clone)
    return {ref: sha for sha, ref in (line.split("\t") for line in out.splitlines())}


def parents(repo: Repository, sha: str) -> list[str]:
    return [p.sha for p in repo.get_commit(sha).parents]


def test_the_merge_button_is_refused_where_the_queue_is_required(
    sandbox: Sandbox, repo: Repository, clone: Path, git: Git, graphql: Any, gate: Path
) -> None:
    pr = opened(repo, git, clone, "a")
    with pytest.raises(GithubException) as raised:
        pr.merge()
    assert (raised.value.status, raised.value.data["message"]) == (
        405,
        "Changes must be made through the merge queue",
    )
    merge = (
        "mutation($id: ID!) { mergePullRequest(input: {pullRequestId: $id}) { clientMutationId } }"
    )
    assert refusal(graphql, merge, id=pr.node_id) == (
        "UNPROCESSABLE",
        "Changes must be made through the merge queue",
    )
    found = run(graphql, PULL, number=pr.number)["repository"]["pullRequest"]
    assert (found["isMergeQueueEnabled"], found["isInMergeQueue"]) == (True, False)
    assert run(graphql, QUEUE)["repository"]["mergeQueue"] == {
        "url": f"{sandbox.base_url}/agentos/backlog/queue/main",
        "entries": {"totalCount": 0, "nodes": []},
    }


def test_an_enqueued_pull_request_merges_once_its_group_is_green(
    sandbox: Sandbox, repo: Repository, clone: Path, git: Git, graphql: Any, gate: Path
) -> None:
    issue = repo.create_issue("Wanted")
    pr = opened(repo, git, clone, "a", f"Closes #{issue.number}")
    assert sandbox.wait_ci_idle(30)  # its head is green: it may join the queue
    main, head = repo.get_branch("main").commit.sha, pr.head.sha
    entry = run(graphql, ENQUEUE, id=pr.node_id, head=head)["enqueuePullRequest"]
    [(ref, group)] = queue_refs(git, clone).items()
    assert entry["mergeQueueEntry"] == {
        "position": 1,
        "state": "AWAITING_CHECKS",
        "enqueuedAt": entry["mergeQueueEntry"]["enqueuedAt"],
        "jump": False,
        "solo": False,
        "enqueuer": {"login": "agentos"},
        "headCommit": {"oid": group},  # the merge group's commit, where the queue's CI runs
        "baseCommit": {"oid": main},
        "pullRequest": {"number": pr.number, "isInMergeQueue": True},
        "mergeQueue": {"url": f"{sandbox.base_url}/agentos/backlog/queue/main"},
    }
    assert ref == f"refs/heads/gh-readonly-queue/main/pr-{pr.number}-{main}"
    assert parents(repo, group) == [main, head]
    assert repo.get_pull(pr.number).state == "open"  # CI on the group still runs
    gate.touch()
    assert sandbox.wait_ci_idle(30)
    merged = repo.get_pull(pr.number)
    assert (merged.merged, merged.merge_commit_sha) == (True, group)
    assert merged.merged_by.login == "github-merge-queue[bot]"
    assert repo.get_branch("main").commit.sha == group and queue_refs(git, clone) == {}
    [check] = repo.get_commit(group).get_check_runs()
    assert (check.name, check.conclusion) == ("sandbox-ci", "success")
    assert repo.get_issue(issue.number).state == "closed"
    found = run(graphql, PULL, number=pr.number)["repository"]["pullRequest"]
    assert (found["state"], found["isInMergeQueue"], found["mergeQueueEntry"]) == (
        "MERGED",
        False,
        None,
    )
    assert found["timelineItems"]["nodes"] == [
        {
            "__typename": "AddedToMergeQueueEvent",
            "actor": {"login": "agentos"},
            "enqueuer": {"login": "agentos"},
        },
        {
            "__typename": "MergedEvent",
            "actor": {"login": "github-merge-queue"},
            "commit": {"oid": group},
            "mergeRefName": "main",
        },
    ]


def test_each_entry_gets_a_group_built_on_the_one_ahead(
    sandbox: Sandbox, repo: Repository, clone: Path, git: Git, graphql: Any, gate: Path
) -> None:
    first, second = opened(repo, git, clone, "a"), opened(repo, git, clone, "c")
    assert sandbox.wait_ci_idle(30)
    main = repo.get_branch("main").commit.sha
    for pr in (first, second):
        run(graphql, ENQUEUE, id=pr.node_id, head=pr.head.sha)
    refs = queue_refs(git, clone)
    one = refs[f"refs/heads/gh-readonly-queue/main/pr-{first.number}-{main}"]
    two = refs[f"refs/heads/gh-readonly-queue/main/pr-{second.number}-{one}"]
    assert len(refs) == 2
    assert parents(repo, one) == [main, first.head.sha]
    assert parents(repo, two) == [one, second.head.sha]
    entries = run(graphql, QUEUE)["repository"]["mergeQueue"]["entries"]
    assert [(e["position"], e["pullRequest"]["number"]) for e in entries["nodes"]] == [
        (1, first.number),
        (2, second.number),
    ]
    gate.touch()
    assert sandbox.wait_ci_idle(30)
    assert [repo.get_pull(p.number).merge_commit_sha for p in (first, second)] == [one, two]
    assert repo.get_branch("main").commit.sha == two and queue_refs(git, clone) == {}


def test_a_red_group_leaves_the_queue_and_the_one_behind_still_merges(
    sandbox: Sandbox, repo: Repository, clone: Path, git: Git, graphql: Any, gate: Path
) -> None:
    gate.touch()  # no waiting: the groups run as they come
    prs = [opened(repo, git, clone, name) for name in ("a", "b", "c")]
    assert sandbox.wait_ci_idle(30)  # each head alone is green
    for pr in prs:
        run(graphql, ENQUEUE, id=pr.node_id, head=pr.head.sha)
    assert sandbox.wait_ci_idle(60)
    a, b, c = (repo.get_pull(pr.number) for pr in prs)
    assert (a.merged, b.merged, c.merged, b.state) == (True, False, True, "open")
    assert repo.get_branch("main").commit.sha == c.merge_commit_sha
    assert {f.filename for f in repo.get_commit(c.merge_commit_sha).files} == {"c.txt"}
    found = run(graphql, PULL, number=b.number)["repository"]["pullRequest"]
    assert (found["state"], found["isInMergeQueue"]) == ("OPEN", False)
    assert found["timelineItems"]["nodes"] == [
        {
            "__typename": "AddedToMergeQueueEvent",
            "actor": {"login": "agentos"},
            "enqueuer": {"login": "agentos"},
        },
        {
            "__typename": "RemovedFromMergeQueueEvent",
            "actor": {"login": "github-merge-queue"},
            "reason": "CI_FAILURE",
            "beforeCommit": {"oid": b.head.sha},
            "mergeQueue": {"url": f"{sandbox.base_url}/agentos/backlog/queue/main"},
        },
    ]
    assert [e.event for e in repo.get_issue(b.number).get_events()] == []  # GraphQL's only


def test_a_dequeued_pull_request_leaves_its_group_behind(
    sandbox: Sandbox, repo: Repository, clone: Path, git: Git, graphql: Any, gate: Path
) -> None:
    first, second = opened(repo, git, clone, "a"), opened(repo, git, clone, "c")
    assert sandbox.wait_ci_idle(30)
    for pr in (first, second):
        run(graphql, ENQUEUE, id=pr.node_id, head=pr.head.sha)
    out = run(graphql, DEQUEUE, id=first.node_id)["dequeuePullRequest"]["mergeQueueEntry"]
    assert out == {"position": 1, "pullRequest": {"number": first.number}}
    main = repo.get_branch("main").commit.sha
    assert list(queue_refs(git, clone)) == [
        f"refs/heads/gh-readonly-queue/main/pr-{second.number}-{main}"
    ]
    gate.touch()
    assert sandbox.wait_ci_idle(30)
    assert (repo.get_pull(first.number).state, repo.get_pull(second.number).merged) == (
        "open",
        True,
    )
    [removed] = [
        n
        for n in run(graphql, PULL, number=first.number)["repository"]["pullRequest"][
            "timelineItems"
        ]["nodes"]
        if n["__typename"] == "RemovedFromMergeQueueEvent"
    ]
    assert (removed["reason"], removed["actor"]) == ("MANUAL", {"login": "agentos"})


def test_enqueue_refuses_what_github_refuses(
    sandbox: Sandbox, repo: Repository, clone: Path, git: Git, graphql: Any, tmp_path: Path
) -> None:
    push_branch(git, clone, "clash", path="README.md", text="theirs\n")
    git("checkout", "-q", "main", cwd=clone)
    commit(git, clone, "README.md", "ours\n", "Ours")
    git("push", "-q", "origin", "main", cwd=clone)
    clash = repo.create_pull(base="main", head="clash", title="clash", body="")
    plain = opened(repo, git, clone, "a")
    assert refusal(graphql, ENQUEUE, id=plain.node_id)[0] == "UNPROCESSABLE"  # no queue yet
    protect(sandbox, repo.full_name, checks=["ci"], merge_queue=True)
    assert refusal(graphql, ENQUEUE, id=clash.node_id) == (
        "UNPROCESSABLE",
        "Pull Request is not mergeable",
    )
    assert refusal(graphql, ENQUEUE, id=plain.node_id, head=clash.head.sha) == (
        "UNPROCESSABLE",
        "Head branch was modified. Review and try the merge again",
    )
    assert refusal(graphql, ENQUEUE, id=plain.node_id) == (
        "UNPROCESSABLE",
        'Pull request Required status check "ci" is expected',
    )
    repo.get_commit(plain.head.sha).create_status("success", context="ci")
    run(graphql, ENQUEUE, id=plain.node_id)
    assert refusal(graphql, ENQUEUE, id=plain.node_id) == (
        "UNPROCESSABLE",
        "Pull request is already queued to merge",
    )
    stranger = sandbox.add_user("stranger")
    transport = HTTPXTransport(
        url=sandbox.graphql_url, headers={"Authorization": f"bearer {stranger}"}
    )
    with Client(schema=schema(), transport=transport) as session:
        assert refusal(session, DEQUEUE, id=plain.node_id) == (
            "FORBIDDEN",
            "stranger does not have the correct permissions to execute `DequeuePullRequest`",
        )
    assert run(graphql, PULL, number=plain.number)["repository"]["pullRequest"][
        "mergeQueueEntry"
    ] == {"state": "AWAITING_CHECKS", "position": 1}


def test_the_control_api_turns_the_queue_on_and_off(
    sandbox: Sandbox, repo: Repository, clone: Path, git: Git, graphql: Any, tmp_path: Path
) -> None:
    headers = {"Authorization": f"token {sandbox.token}"}
    control = f"{sandbox.base_url}/_sandbox/repos/agentos/backlog"
    assert httpx.put(f"{control}/branches/main/merge-queue", headers=headers).status_code == 400
    gate = tmp_path / "gate"
    answer = httpx.put(
        f"{control}/ci",
        headers=headers,
        json={"command": GATED.format(gate=gate), "push_branches": ["agentos/train/*"]},
    )
    assert answer.json()["command"] == GATED.format(gate=gate)
    protect(sandbox, repo.full_name, checks=["sandbox-ci"])
    assert httpx.put(f"{control}/branches/main/merge-queue", headers=headers).status_code == 200
    pr = opened(repo, git, clone, "a")
    assert sandbox.wait_ci_idle(30)
    run(graphql, ENQUEUE, id=pr.node_id)
    assert len(queue_refs(git, clone)) == 1
    assert httpx.delete(f"{control}/branches/main/merge-queue", headers=headers).status_code == 200
    gate.touch()
    assert sandbox.wait_ci_idle(30)
    found = run(graphql, PULL, number=pr.number)["repository"]["pullRequest"]
    assert (found["isMergeQueueEnabled"], found["isInMergeQueue"], found["state"]) == (
        False,
        False,
        "OPEN",
    )
    assert found["timelineItems"]["nodes"][-1]["reason"] == "QUEUE_CLEARED"
    assert queue_refs(git, clone) == {} and run(graphql, QUEUE)["repository"]["mergeQueue"] is None
    assert repo.get_pull(pr.number).merge().merged  # the merge button works again


def test_the_queue_rebuilds_on_a_base_an_admin_moved(
    sandbox: Sandbox, repo: Repository, clone: Path, git: Git, graphql: Any, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    sandbox.set_ci(repo.full_name, GATED.format(gate=gate))
    protect(sandbox, repo.full_name, checks=["sandbox-ci"], merge_queue=True, enforce_admins=False)
    pr = opened(repo, git, clone, "a")
    assert sandbox.wait_ci_idle(30)
    run(graphql, ENQUEUE, id=pr.node_id)
    git("checkout", "-q", "main", cwd=clone)
    moved = commit(git, clone, "hotfix.txt", "hotfix\n", "Hotfix")
    git("push", "-q", "origin", "main", cwd=clone)  # the owner bypasses the queue
    [(ref, group)] = queue_refs(git, clone).items()
    assert ref == f"refs/heads/gh-readonly-queue/main/pr-{pr.number}-{moved}"
    assert parents(repo, group) == [moved, pr.head.sha]
    gate.touch()
    assert sandbox.wait_ci_idle(30)
    assert repo.get_branch("main").commit.sha == group == repo.get_pull(pr.number).merge_commit_sha


def test_an_entry_that_clashes_with_the_one_ahead_leaves_with_a_merge_conflict(
    sandbox: Sandbox, repo: Repository, clone: Path, git: Git, graphql: Any, gate: Path
) -> None:
    ours = repo.create_pull(base="main", head=_branch(git, clone, "ours"), title="ours", body="")
    theirs = repo.create_pull(
        base="main", head=_branch(git, clone, "theirs"), title="theirs", body=""
    )
    assert sandbox.wait_ci_idle(30)
    run(graphql, ENQUEUE, id=ours.node_id)
    run(graphql, ENQUEUE, id=theirs.node_id)  # clean on main, not on the group ahead
    found = run(graphql, PULL, number=theirs.number)["repository"]["pullRequest"]
    assert (found["isInMergeQueue"], found["timelineItems"]["nodes"][-1]["reason"]) == (
        False,
        "MERGE_CONFLICT",
    )
    assert len(queue_refs(git, clone)) == 1


def _branch(git: Git, clone: Path, name: str) -> str:
    push_branch(git, clone, name, path="shared.txt", text=f"{name}\n")
    return name

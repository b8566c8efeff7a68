"""Every event Agent OS's receiver listens to, sent by the sandbox as GitHub sends it: at the
change, signed, valid against GitHub's webhook schemas (the strict sandbox also fails a test on
any violation), only to hooks that want it; and woken on by the product's own receiver."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from github import Github, GithubException
from github.Repository import Repository

from orchestrator.sandbox.github import Sandbox
from tests.sandbox.github.helpers import Git, client, commit, push_branch
from tests.sandbox.github.test_webhooks import (
    SECRET,
    Agent,
    Capture,
    add_hook,
    schema_problems,
    settle,
)
from tests.support.github_sandbox import protect

ENQUEUE = (
    "mutation($id: ID!) { enqueuePullRequest(input: {pullRequestId: $id}) { clientMutationId } }"
)
DEQUEUE = "mutation($id: ID!) { dequeuePullRequest(input: {id: $id}) { clientMutationId } }"
UNBLOCK = """mutation($issue: ID!, $blocker: ID!) {
  removeBlockedBy(input: {issueId: $issue, blockingIssueId: $blocker}) { clientMutationId } }"""


@pytest.fixture
def far() -> Iterator[Capture]:
    """A hook's far end on 127.0.0.1 (test_webhooks.Capture)."""
    end = Capture()
    yield end
    end.server.shutdown()
    end.server.server_close()


@pytest.fixture
def product(tmp_path: Path) -> Iterator[Agent]:
    """Agent OS's own receiver on a free port, recording what it wakes."""
    real = Agent(tmp_path / "runtime")
    yield real
    real.receiver.stop()


def graphql(sandbox: Sandbox, document: str, **variables: Any) -> Any:
    answer = httpx.post(
        sandbox.graphql_url,
        json={"query": document, "variables": variables},
        headers={"Authorization": f"bearer {sandbox.token}"},
        timeout=30,  # the first GraphQL request builds GitHub's schema: a second or more
    )
    body = answer.json()
    assert "errors" not in body, body
    return body["data"]


def checked(sandbox: Sandbox, capture: Capture) -> list[tuple[str, dict[str, Any]]]:
    """Wait for the deliveries; check each is signed and valid; return (event, payload)s."""
    assert sandbox.wait_ci_idle(30)
    settle(sandbox)
    found = []
    for headers, body in capture.requests:
        signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-Hub-Signature-256"] == signature
        event, payload = headers["X-GitHub-Event"], json.loads(body)
        assert schema_problems(event, payload) == [], (event, payload.get("action"))
        found.append((event, payload))
    assert sandbox.violations == []
    return found


def actions(sent: list[tuple[str, dict[str, Any]]], event: str) -> list[str | None]:
    return [p.get("action") for e, p in sent if e == event]


def test_pull_request_events_from_open_to_merge(
    sandbox: Sandbox, repo: Repository, far: Capture, clone: Path, git: Git
) -> None:
    add_hook(repo, far.url, ["pull_request"])
    push_branch(git, clone, "agent/1-x")
    push_branch(git, clone, "release", path="release.txt")
    pr = repo.create_pull(base="main", head="agent/1-x", title="X", body="Does x")
    pr.edit(title="X, better")
    pr.edit(base="release")
    pr.edit(state="closed")
    pr.edit(state="open")
    pr.edit(base="main")
    pr.add_to_labels("agent")
    pr.remove_from_labels("agent")
    pr.merge(merge_method="merge")
    sent = [p for _, p in checked(sandbox, far)[1:]]
    assert [p["action"] for p in sent] == [
        "opened",
        "edited",
        "edited",
        "closed",
        "reopened",
        "edited",
        "labeled",
        "unlabeled",
        "closed",
    ]
    assert {p["number"] for p in sent} == {pr.number}
    assert sent[1]["changes"] == {"title": {"from": "X"}}
    assert sent[2]["changes"]["base"]["ref"] == {"from": "main"}
    assert sent[2]["pull_request"]["base"]["ref"] == "release"
    assert (sent[3]["pull_request"]["merged"], sent[-1]["pull_request"]["merged"]) == (False, True)


def test_a_submitted_review_is_sent_and_a_pending_one_is_not(
    sandbox: Sandbox, repo: Repository, far: Capture, clone: Path, git: Git, outsider: Github
) -> None:
    add_hook(repo, far.url, ["pull_request_review"])
    push_branch(git, clone, "agent/2-y")
    pr = repo.create_pull(base="main", head="agent/2-y", title="Y", body="")
    pr.create_review(body="Looks fine", event="COMMENT")
    pr.create_review(body="Draft thoughts")  # PENDING: not submitted, nothing sent
    outsider.get_repo(repo.full_name).get_pull(pr.number).create_review(event="APPROVE")
    sent = [p for e, p in checked(sandbox, far) if e == "pull_request_review"]
    assert [(p["action"], p["review"]["state"], p["review"]["user"]["login"]) for p in sent] == [
        ("submitted", "commented", "agentos"),
        ("submitted", "approved", "outsider"),
    ]
    assert {p["pull_request"]["number"] for p in sent} == {pr.number}


def test_ci_sends_workflow_runs_and_check_suites_with_their_conclusions(
    sandbox: Sandbox, repo: Repository, far: Capture, clone: Path, git: Git
) -> None:
    add_hook(repo, far.url, ["workflow_run", "check_suite", "check_run"])
    sandbox.set_ci(repo.full_name, "test ! -f bad.txt")
    first = push_branch(git, clone, "agent/3-z")
    pr = repo.create_pull(base="main", head="agent/3-z", title="Z", body="")
    assert sandbox.wait_ci_idle(30)
    second = commit(git, clone, "bad.txt", "bad\n", "Break it")
    git("push", "-q", "origin", "HEAD:refs/heads/agent/3-z", cwd=clone)
    sent = checked(sandbox, far)[1:]
    assert [(e, p["action"]) for e, p in sent] == [
        (event, action)
        for _ in (first, second)
        for event, action in [
            ("workflow_run", "requested"),
            ("workflow_run", "in_progress"),
            ("check_run", "completed"),
            ("check_suite", "completed"),
            ("workflow_run", "completed"),
        ]
    ]
    runs = [p["workflow_run"] for e, p in sent if e == "workflow_run"]
    assert [(r["head_sha"], r["status"], r["conclusion"]) for r in runs] == [
        (first, "queued", None),
        (first, "in_progress", None),
        (first, "completed", "success"),
        (second, "queued", None),
        (second, "in_progress", None),
        (second, "completed", "failure"),
    ]
    assert {(r["event"], r["head_branch"], r["name"]) for r in runs} == {
        ("pull_request", "agent/3-z", "Sandbox CI")
    }
    assert [r["run_number"] for r in runs[::3]] == [1, 2]
    assert runs[0]["pull_requests"][0]["number"] == pr.number
    suites = [p["check_suite"] for e, p in sent if e == "check_suite"]
    assert [(s["head_sha"], s["conclusion"], s["id"]) for s in suites] == [
        (first, "success", runs[0]["check_suite_id"]),
        (second, "failure", runs[3]["check_suite_id"]),
    ]


def test_an_apps_suite_completes_when_all_its_runs_have_with_the_highest_conclusion(
    sandbox: Sandbox, repo: Repository, far: Capture
) -> None:
    add_hook(repo, far.url, ["check_suite"])
    sha = repo.get_branch("main").commit.sha
    app = client(sandbox, sandbox.add_app("agent-ci")).get_repo(repo.full_name)
    other = client(sandbox, sandbox.add_app("linter")).get_repo(repo.full_name)
    tests = app.create_check_run("tests", sha, status="in_progress")
    lint = app.create_check_run("lint", sha, status="completed", conclusion="success")
    assert actions(checked(sandbox, far), "check_suite") == []  # "tests" still runs
    tests.edit(conclusion="timed_out")
    other.create_check_run("style", sha, status="completed", conclusion="neutral")
    suites = [p for e, p in checked(sandbox, far) if e == "check_suite"]
    assert [(p["check_suite"]["app"]["slug"], p["check_suite"]["conclusion"]) for p in suites] == [
        ("agent-ci", "timed_out"),
        ("linter", "neutral"),
    ]
    assert suites[0]["check_suite"]["id"] == lint.check_suite.id == tests.check_suite.id
    assert suites[0]["check_suite"]["latest_check_runs_count"] == 2
    assert suites[0]["sender"]["login"] == "agent-ci[bot]"


def test_the_merge_queue_sends_enqueued_and_dequeued_but_no_merge_group(
    sandbox: Sandbox, repo: Repository, far: Capture, clone: Path, git: Git
) -> None:
    add_hook(repo, far.url, ["*"])
    protect(sandbox, repo.full_name, checks=["lint"], merge_queue=True)
    head = push_branch(git, clone, "agent/4-q")
    pr = repo.create_pull(base="main", head="agent/4-q", title="Q", body="")
    repo.get_commit(head).create_status("success", context="lint")
    graphql(sandbox, ENQUEUE, id=pr.node_id)
    graphql(sandbox, DEQUEUE, id=pr.node_id)
    graphql(sandbox, ENQUEUE, id=pr.node_id)
    refs = git("ls-remote", "origin", "refs/heads/gh-readonly-queue/*", cwd=clone).split()
    repo.get_commit(refs[0]).create_status("success", context="lint")  # the group is green
    sent = checked(sandbox, far)
    queued = [p for e, p in sent if e == "pull_request" and "queued" in p["action"]]
    assert [(p["action"], p.get("reason"), p["sender"]["login"]) for p in queued] == [
        ("enqueued", None, "agentos"),
        ("dequeued", "MANUAL", "agentos"),
        ("enqueued", None, "agentos"),
        ("dequeued", "MERGE", "github-merge-queue[bot]"),
    ]
    assert actions(sent, "pull_request")[-1] == "closed"
    assert sent[-1][1]["pull_request"]["merged"] is True
    # GitHub sends merge_group to GitHub Apps only (its description's supported-webhook-types)
    assert "merge_group" not in {e for e, _ in sent}


def test_sub_issue_links_are_sent_to_both_ends(
    sandbox: Sandbox, repo: Repository, far: Capture, gh: Github
) -> None:
    add_hook(repo, far.url, ["sub_issues", "issue_dependencies"])
    epic, child, other = (repo.create_issue(t) for t in ("epic", "child", "other"))
    epic.add_sub_issue(child)
    with pytest.raises(GithubException):
        other.add_sub_issue(child)  # one parent only: refused, nothing sent
    sub = f"{other.url}/sub_issues"
    gh.requester.requestJsonAndCheck(
        "POST", sub, input={"sub_issue_id": child.id, "replace_parent": True}
    )
    other.remove_sub_issue(child)
    blocked_by = f"{epic.url}/dependencies/blocked_by"
    gh.requester.requestJsonAndCheck("POST", blocked_by, input={"issue_id": other.id})
    sent = checked(sandbox, far)[1:]
    assert [
        (p["action"], p["parent_issue"]["number"], p["sub_issue"]["number"]) for _, p in sent
    ] == [
        ("sub_issue_added", epic.number, child.number),
        ("parent_issue_added", epic.number, child.number),
        ("sub_issue_removed", epic.number, child.number),
        ("parent_issue_removed", epic.number, child.number),
        ("sub_issue_added", other.number, child.number),
        ("parent_issue_added", other.number, child.number),
        ("sub_issue_removed", other.number, child.number),
        ("parent_issue_removed", other.number, child.number),
    ]
    assert sent[0][1]["sub_issue_repo"]["full_name"] == repo.full_name
    assert sent[1][1]["parent_issue_repo"]["full_name"] == repo.full_name
    # a user's repository: the schemas require `organization`, so no issue_dependencies
    assert actions(sent, "issue_dependencies") == []


@pytest.fixture
def org_repo(sandbox: Sandbox, gh: Github) -> Repository:
    sandbox.add_org("acme", {"agentos": "admin"})
    sandbox.create_repo("acme/app")
    return gh.get_repo("acme/app")


def test_dependencies_of_an_organizations_issues_are_sent_to_both_ends(
    sandbox: Sandbox, org_repo: Repository, far: Capture, gh: Github
) -> None:
    add_hook(org_repo, far.url, ["issue_dependencies"])
    task, blocker = org_repo.create_issue("task"), org_repo.create_issue("blocker")
    url = f"{task.url}/dependencies/blocked_by"
    gh.requester.requestJsonAndCheck("POST", url, input={"issue_id": blocker.id})
    graphql(sandbox, UNBLOCK, issue=task.node_id, blocker=blocker.node_id)  # GraphQL's way
    sent = [p for _, p in checked(sandbox, far)[1:]]
    assert [p["action"] for p in sent] == [
        "blocked_by_added",
        "blocking_added",
        "blocked_by_removed",
        "blocking_removed",
    ]
    for payload in sent:
        assert (payload["blocked_issue"]["number"], payload["blocking_issue"]["number"]) == (
            task.number,
            blocker.number,
        )
        assert (payload["blocked_issue_id"], payload["blocking_issue_id"]) == (task.id, blocker.id)
        assert payload["organization"]["login"] == "acme"
    assert sent[0]["blocking_issue_repo"]["full_name"] == "acme/app"
    assert sent[1]["blocked_issue_repo"]["full_name"] == "acme/app"


def test_moving_a_card_on_a_user_board_sends_nothing_to_a_repository_hook(
    sandbox: Sandbox, repo: Repository, far: Capture
) -> None:
    """GitHub sends projects_v2_item to organisation hooks and apps only; the sandbox has no
    organisation hooks, so a repository hook that wants every event gets none."""
    add_hook(repo, far.url, ["*"])
    issue = repo.create_issue("card")
    viewer = graphql(sandbox, "{ viewer { id } }")["viewer"]["id"]
    made = graphql(
        sandbox,
        """mutation($o: ID!) { createProjectV2(input: {ownerId: $o, title: "Board"}) {
        projectV2 { id field(name: "Status") { ... on ProjectV2SingleSelectField {
        id options { id name } } } } } }""",
        o=viewer,
    )["createProjectV2"]["projectV2"]
    item = graphql(
        sandbox,
        """mutation($p: ID!, $c: ID!) { addProjectV2ItemById(input: {projectId: $p,
        contentId: $c}) { item { id } } }""",
        p=made["id"],
        c=issue.node_id,
    )["addProjectV2ItemById"]["item"]["id"]
    done = next(o["id"] for o in made["field"]["options"] if o["name"] == "Done")
    moved = graphql(
        sandbox,
        """mutation($p: ID!, $i: ID!, $f: ID!, $o: String!) { updateProjectV2ItemFieldValue(
        input: {projectId: $p, itemId: $i, fieldId: $f, value: {singleSelectOptionId: $o}}) {
        projectV2Item { fieldValueByName(name: "Status") {
        ... on ProjectV2ItemFieldSingleSelectValue { name } } } } }""",
        p=made["id"],
        i=item,
        f=made["field"]["id"],
        o=done,
    )
    item_now = moved["updateProjectV2ItemFieldValue"]["projectV2Item"]
    assert item_now["fieldValueByName"] == {"name": "Done"}  # the card did move
    sent = checked(sandbox, far)
    assert [e for e, _ in sent] == ["ping", "issues"]


def test_the_products_receiver_wakes_the_jobs_each_sandbox_event_concerns(
    sandbox: Sandbox, org_repo: Repository, product: Agent, gh: Github, git: Git, tmp_path: Path
) -> None:
    hook = add_hook(org_repo, product.url, ["*"])
    sandbox.set_ci(org_repo.full_name, "true")
    task, blocker, epic = (org_repo.create_issue(t) for t in ("task", "blocker", "epic"))
    url = f"{task.url}/dependencies/blocked_by"
    gh.requester.requestJsonAndCheck("POST", url, input={"issue_id": blocker.id})
    gh.requester.requestJsonAndCheck("DELETE", f"{url}/{blocker.id}")
    epic.add_sub_issue(task)
    work = tmp_path / "work"
    git("clone", "-q", sandbox.clone_url(org_repo.full_name), str(work))
    push_branch(git, work, "agent/5-w")
    pr = org_repo.create_pull(base="main", head="agent/5-w", title="W", body="")
    assert sandbox.wait_ci_idle(30)
    pr.create_review(body="Fine", event="COMMENT")
    settle(sandbox)
    woke = {reason: jobs for jobs, reason in product.woken}
    assert woke == {
        "webhook issues.opened": ("dispatcher",),
        "webhook issue_dependencies.blocked_by_added": ("dispatcher",),
        "webhook issue_dependencies.blocking_added": ("dispatcher",),
        "webhook issue_dependencies.blocked_by_removed": ("dispatcher",),
        "webhook issue_dependencies.blocking_removed": ("dispatcher",),
        "webhook sub_issues.sub_issue_added": ("dispatcher",),
        "webhook sub_issues.parent_issue_added": ("dispatcher",),
        "webhook pull_request.opened": ("pr_monitor",),
        "webhook check_run.completed": ("pr_monitor",),
        "webhook check_suite.completed": ("pr_monitor",),
        "webhook workflow_run.completed": ("pr_monitor",),
        "webhook pull_request_review.submitted": ("pr_monitor",),
    }
    answers = {(d.event, d.action): d.status_code for d in org_repo.get_hook_deliveries(hook.id)}
    assert answers[("workflow_run", "requested")] == answers[("workflow_run", "in_progress")] == 202
    assert set(answers.values()) == {200, 202}  # the ping, then every event accepted or ignored
    assert sandbox.violations == []

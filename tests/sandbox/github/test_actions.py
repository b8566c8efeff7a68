"""The local CI's runs as GitHub serves an Actions job: annotations, the job, its signed log.

Every exchange is checked against GitHub's description (a strict sandbox answers 500 otherwise,
and the fixture fails the test on any violation).
"""

from __future__ import annotations

from pathlib import Path

import requests
from github.Repository import Repository

from orchestrator.sandbox.github import Sandbox, actions
from tests.sandbox.github.helpers import Git, client, push_branch

CI = (
    "echo 'collecting 3 items'; echo 'calc/sub.py:3: AssertionError' ;"
    " echo '::error file=calc/add.py,line=7::add is wrong'; echo MARKER-5521 >&2; false"
)


def red_run(sandbox: Sandbox, repo: Repository, clone: Path, git: Git) -> dict:
    sandbox.set_ci(repo.full_name, CI)
    sha = push_branch(git, clone, "topic")
    repo.create_pull(base="main", head="topic", title="t", body="")
    assert sandbox.wait_ci_idle(30)
    [run] = repo.get_commit(sha).get_check_runs()
    return run.raw_data


def test_a_red_ci_run_carries_its_output_and_the_annotations_it_asked_for(
    sandbox: Sandbox, repo: Repository, clone: Path, git: Git
) -> None:
    run = red_run(sandbox, repo, clone, git)
    assert (run["conclusion"], run["output"]["title"]) == ("failure", "Failed")
    assert "MARKER-5521" in run["output"]["text"] and run["output"]["annotations_count"] == 2
    notes = list(repo.get_check_run(run["id"]).get_annotations())
    assert [(n.path, n.start_line, n.annotation_level, n.message) for n in notes] == [
        ("calc/sub.py", 3, "failure", "AssertionError"),
        ("calc/add.py", 7, "failure", "add is wrong"),
    ]
    assert run["details_url"] == (
        f"{sandbox.base_url}/{repo.full_name}/actions/runs/{run['check_suite']['id']}"
        f"/job/{run['id']}"
    )


def test_the_run_is_an_actions_job_whose_log_is_behind_a_signed_redirect(
    sandbox: Sandbox, repo: Repository, clone: Path, git: Git
) -> None:
    run = red_run(sandbox, repo, clone, git)
    gh = client(sandbox, sandbox.token)
    _, job = gh.requester.requestJsonAndCheck(
        "GET", f"/repos/{repo.full_name}/actions/jobs/{run['id']}"
    )
    assert (job["id"], job["conclusion"], job["check_run_url"]) == (
        run["id"],
        "failure",
        run["url"],
    )
    status, headers, _ = gh.requester.requestJson(
        "GET", f"/repos/{repo.full_name}/actions/jobs/{run['id']}/logs"
    )
    assert status == 302
    log = requests.get(headers["location"], timeout=10)  # no token: the URL is signed
    assert log.status_code == 200
    lines = log.text.lstrip("\ufeff").splitlines()
    assert lines[0].endswith(f"##[group]Run {CI}") and lines[0][:4].isdigit()
    assert any(line.endswith(" MARKER-5521") for line in lines)
    assert lines[-1].endswith("##[error]Process completed with exit code 1.")
    forged = headers["location"].replace("signature=", "signature=0")
    assert requests.get(forged, timeout=10).status_code == 403


def test_a_check_run_of_another_app_is_no_job(sandbox: Sandbox, repo: Repository) -> None:
    app_repo = client(sandbox, sandbox.add_app("agent-ci")).get_repo(repo.full_name)
    sha = repo.get_branch("main").commit.sha
    made = app_repo.create_check_run("tests", sha, status="completed", conclusion="failure")
    status, _, _ = client(sandbox, sandbox.token).requester.requestJson(
        "GET", f"/repos/{repo.full_name}/actions/jobs/{made.id}/logs"
    )
    assert status == 404 and made.output.annotations_count == 0


def test_annotations_sent_over_several_requests_add_up(sandbox: Sandbox, repo: Repository) -> None:
    app_repo = client(sandbox, sandbox.add_app("agent-ci")).get_repo(repo.full_name)
    sha = repo.get_branch("main").commit.sha
    note = {"path": "a.py", "start_line": 1, "end_line": 1, "annotation_level": "warning"}
    run = app_repo.create_check_run(
        "lint",
        sha,
        status="in_progress",
        output={"title": "t", "summary": "s", "annotations": [{**note, "message": "one"}]},
    )
    run.edit(output={"title": "t", "summary": "s", "annotations": [{**note, "message": "two"}]})
    assert [a.message for a in repo.get_check_run(run.id).get_annotations()] == ["one", "two"]


def test_output_asks_for_annotations_ten_per_level() -> None:
    output = "\n".join(f"src/m{n}.py:{n + 1}: bad {n}" for n in range(15)) + "\nno location here"
    found = actions.annotations_in(output, failed=True)
    assert len(found) == 10 and found[0] == {
        "path": "src/m0.py",
        "start_line": 1,
        "end_line": 1,
        "annotation_level": "failure",
        "message": "bad 0",
    }
    assert actions.annotations_in("::warning::loose\nhttp://host:80: not a file", False) == [
        {
            "path": ".github",
            "start_line": 1,
            "end_line": 1,
            "annotation_level": "warning",
            "message": "loose",
        }
    ]

"""Sub-issues and issue dependencies, by issue id.

Sub-issues go through PyGithub; dependencies are raw requests through PyGithub's requester.
"""

from __future__ import annotations

import pytest
from github import Github, GithubException
from github.Repository import Repository


def test_sub_issues_add_list_remove_and_parent(repo: Repository) -> None:
    epic, a, b = (repo.create_issue(t) for t in ("epic", "a", "b"))
    epic.add_sub_issue(a)
    epic.add_sub_issue(b.id)
    assert [s.number for s in epic.get_sub_issues()] == [a.number, b.number]
    assert repo.get_issue(epic.number).sub_issues_summary.total == 2
    b.edit(state="closed")
    summary = repo.get_issue(epic.number).sub_issues_summary
    assert (summary.completed, summary.percent_completed) == (1, 50)
    epic.remove_sub_issue(a)
    assert [s.number for s in epic.get_sub_issues()] == [b.number]


def test_sub_issue_takes_an_id_not_a_number(repo: Repository) -> None:
    epic = repo.create_issue("epic")
    repo.create_issue("child")
    with pytest.raises(GithubException) as raised:
        epic.add_sub_issue(2)  # a number: GitHub wants the issue id
    assert raised.value.status == 422


def test_a_sub_issue_has_one_parent(repo: Repository, gh: Github) -> None:
    one, two, child = (repo.create_issue(t) for t in ("one", "two", "child"))
    one.add_sub_issue(child)
    with pytest.raises(GithubException):
        two.add_sub_issue(child)
    _, parent = gh.requester.requestJsonAndCheck("GET", f"{child.url}/parent")
    assert parent["number"] == one.number


def test_blocked_by_add_list_remove_and_blocking(repo: Repository, gh: Github) -> None:
    task, blocker = repo.create_issue("task"), repo.create_issue("blocker")
    url = f"{task.url}/dependencies/blocked_by"
    _, added = gh.requester.requestJsonAndCheck("POST", url, input={"issue_id": blocker.id})
    assert added["number"] == blocker.number
    _, listed = gh.requester.requestJsonAndCheck("GET", url)
    assert [i["number"] for i in listed] == [blocker.number]
    _, blocking = gh.requester.requestJsonAndCheck("GET", f"{blocker.url}/dependencies/blocking")
    assert [i["number"] for i in blocking] == [task.number]
    summary = repo.get_issue(task.number).raw_data["issue_dependencies_summary"]
    assert (summary["blocked_by"], summary["total_blocked_by"]) == (1, 1)
    blocker.edit(state="closed")
    assert repo.get_issue(task.number).raw_data["issue_dependencies_summary"]["blocked_by"] == 0
    gh.requester.requestJsonAndCheck("DELETE", f"{url}/{blocker.id}")
    _, listed = gh.requester.requestJsonAndCheck("GET", url)
    assert listed == []
    with pytest.raises(GithubException) as raised:
        gh.requester.requestJsonAndCheck("POST", url, input={"issue_id": task.id})
    assert raised.value.status == 422


def test_sub_issues_can_be_reordered(repo: Repository) -> None:
    epic, a, b, c = (repo.create_issue(t) for t in ("epic", "a", "b", "c"))
    for child in (a, b, c):
        epic.add_sub_issue(child)
    epic.prioritize_sub_issue(c, a)
    assert [s.title for s in epic.get_sub_issues()] == ["a", "c", "b"]

"""Reading reverts of merged PRs out of base-branch commit messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from orchestrator.core.reverts import Revert, find
from orchestrator.core.workspace import BaseCommit

T0 = datetime(2026, 11, 2, 12, tzinfo=UTC)
MERGE_12 = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
MERGE_13 = "ffffeeee0000111122223333444455556666aaaa"
MERGES = [
    {"repo": "acme/app", "pr": 12, "sha": MERGE_12, "merged_at": "2026-11-02T12:00:00.000Z"},
    {"repo": "acme/app", "pr": 13, "sha": MERGE_13, "merged_at": "2026-11-02T13:00:00.000Z"},
    {"repo": "acme/other", "pr": 14, "sha": "0" * 40, "merged_at": "2026-11-02T13:00:00.000Z"},
]
WHEN = {12: T0, 13: T0 + timedelta(hours=1)}


def commit(message: str, hours: float, sha: str = "c" * 40) -> BaseCommit:
    return BaseCommit(sha, T0 + timedelta(hours=hours), message)


def test_git_revert_of_a_merge_commit_names_its_pr_by_the_sha_full_or_short() -> None:
    full = commit(f'Revert "Add x"\n\nThis reverts commit {MERGE_12}.\n', 2, "1" * 40)
    short = commit(f"This reverts commit {MERGE_13[:9]}, reversing\nchanges made to abc.", 3)
    found = find("acme/app", [short, full], MERGES, WHEN)
    assert found == [
        Revert("acme/app", 12, "1" * 40, T0 + timedelta(hours=2)),
        Revert("acme/app", 13, "c" * 40, T0 + timedelta(hours=3)),
    ]


def test_githubs_revert_button_names_the_pr_in_the_squashed_body() -> None:
    squashed = commit('Revert "Add x" (#20)\n\nReverts acme/app#13', 5)
    assert [r.pr for r in find("acme/app", [squashed], MERGES, WHEN)] == [13]
    other_repo = commit('Revert "Add x"\n\nReverts acme/other#13', 5)
    assert find("acme/app", [other_repo], MERGES, WHEN) == []
    in_prose = commit("This change Reverts acme/app#13 partly, we think", 5)
    assert find("acme/app", [in_prose], MERGES, WHEN) == []


def test_a_revert_before_the_merge_a_pr_never_merged_or_another_repos_sha_is_no_revert() -> None:
    before = commit(f"This reverts commit {MERGE_13}.", -0.5)  # 90 minutes before #13 merged
    unknown = commit("Reverts acme/app#99", 5)
    foreign = commit(f"This reverts commit {'0' * 40}.", 5)
    assert find("acme/app", [before, unknown, foreign], MERGES, WHEN) == []


def test_a_revert_stamped_in_the_same_second_as_the_merge_or_by_a_slow_clock_counts() -> None:
    same_second = commit(f"This reverts commit {MERGE_13}.", 1 - 0.3 / 3600)
    (found,) = find("acme/app", [same_second], MERGES, WHEN)
    assert (found.pr, found.at) == (13, WHEN[13])  # dated no earlier than the merge it undoes


def test_a_pr_reverted_twice_keeps_its_first_revert() -> None:
    late = commit(f"This reverts commit {MERGE_12}.", 9, "9" * 40)
    early = commit("Reverts acme/app#12", 4, "4" * 40)
    (found,) = find("acme/app", [late, early], MERGES, WHEN)
    assert (found.by, found.at) == ("4" * 40, T0 + timedelta(hours=4))


def test_too_short_a_sha_matches_nothing() -> None:
    assert find("acme/app", [commit("This reverts commit a1b2c3.", 5)], MERGES, WHEN) == []

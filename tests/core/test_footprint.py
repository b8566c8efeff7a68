"""core.footprint: the files an issue names or resembles, and when two issues would collide."""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from orchestrator.core import footprint
from orchestrator.core.footprint import Footprint, Past, overlap, predict
from orchestrator.core.model import BoardStatus, Issue, IssueRef

T0 = datetime(2026, 11, 1)


def issue(n: int, title: str, body: str = "", is_open: bool = True) -> Issue:
    return Issue(IssueRef("acme/app", n), n, f"I{n}", title, body, "acme", (), is_open, T0, T0)


@pytest.mark.parametrize(
    "body, named",
    [
        ("Add `sub` to calc/sub.py", ("calc/sub.py",)),
        ("Document it in `docs/` and README.md.", ("docs/", "README.md")),
        ("Touch ./calc/ops.py and src/app/", ("calc/ops.py", "src/app/")),
        ("Edit `orchestrator/core` here", ("orchestrator/core/",)),  # no dot: a folder
        ("Read ../secrets.txt, calc/../../x.py, calc/sub.py", ("calc/sub.py",)),  # no `..`
        ("```\npython calc/sub.py\n```", ("calc/sub.py",)),  # code blocks name paths too
    ],
)
def test_the_paths_an_issue_names_are_normalised_to_files_and_folders(
    body: str, named: tuple[str, ...]
) -> None:
    assert predict("Title", body).named == named


@pytest.mark.parametrize(
    "body",
    [
        "Speed it up and/or make it smaller, e.g. by caching.",
        "Call `os.path.join` and `calc.add` from the CLI.",
        "See https://example.com/docs/guide.md for the idea.",
        "Version 1.2.3 broke it; 3.14 is fine.",
        "Keep the goal/criteria/constraints order and src/app/main as they are.",
    ],
)
def test_prose_that_is_not_a_path_predicts_nothing(body: str) -> None:
    assert not predict("Make it faster", body)


def test_two_issues_naming_the_same_file_overlap_and_say_which() -> None:
    a, b = predict("Add sub", "in calc/sub.py"), predict("Fix sub", "`calc/sub.py` is wrong")
    assert overlap(a, b, "#12") == "both name calc/sub.py"


def test_a_file_inside_a_folder_the_other_names_overlaps_both_ways() -> None:
    folder, file = predict("Docs", "rewrite docs/"), predict("Guide", "docs/guide/intro.md")
    assert overlap(file, folder, "#3") == "it names docs/guide/intro.md and #3 names docs/"
    assert overlap(folder, file, "#4") == "it names docs/ and #4 names docs/guide/intro.md"


def test_a_bare_file_name_matches_that_file_in_any_folder() -> None:
    bare, full = predict("x", "fix sub.py"), predict("y", "calc/sub.py")
    assert overlap(bare, full, "#2") == "it names sub.py and #2 names calc/sub.py"
    assert overlap(full, bare, "#1") == "it names calc/sub.py and #1 names sub.py"


def test_a_file_named_by_the_end_of_its_path_matches_where_it_is() -> None:
    short, full = (
        predict("x", "see core/dispatch.py"),
        predict("y", "orchestrator/core/dispatch.py"),
    )
    assert overlap(short, full, "#2") == (
        "it names core/dispatch.py and #2 names orchestrator/core/dispatch.py"
    )
    assert overlap(full, short, "#1") == (
        "it names orchestrator/core/dispatch.py and #1 names core/dispatch.py"
    )
    assert overlap(predict("z", "see ore/dispatch.py"), full, "#2") == ""  # whole names only


def test_different_files_and_sibling_folders_do_not_overlap() -> None:
    a = predict("a", "calc/sub.py and docs/api/")
    b = predict("b", "calc/mul.py and docs/guide/ and calc/sub.pyc")
    assert overlap(a, b, "#2") == "" and overlap(b, a, "#1") == ""


def test_an_empty_footprint_never_overlaps() -> None:
    everything = predict("all", "`./` and src/ and README.md")
    assert overlap(Footprint(), everything, "#2") == ""
    assert overlap(everything, Footprint(), "#2") == ""


OPERATION = "Support the {} operation in the calculator's integer arithmetic"
PAST = (
    Past("#7", footprint.words(OPERATION.format("subtraction"), ""), ("calc/ops.py",)),
    Past("#8", footprint.words("Write the release notes", ""), ("CHANGES.md",)),
)


def test_a_similar_merged_issue_lends_the_files_its_pr_changed() -> None:
    # {support, operation, calculator, integer, arithmetic} + one word of its own: 5 of 7
    mine = predict(OPERATION.format("multiplication"), "", PAST)
    assert mine.named == () and mine.learned == (("calc/ops.py", "#7"),)
    theirs = predict("Refactor", "calc/ops.py is messy")
    assert overlap(mine, theirs, "#3") == (
        "it is like #7, which changed calc/ops.py and #3 names calc/ops.py"
    )
    twin = predict(OPERATION.format("division"), "", PAST)
    assert overlap(mine, twin, "#4") == "both are like #7, which changed calc/ops.py"


def test_a_few_shared_words_do_not_make_issues_similar() -> None:
    assert predict("Add a calculator page for integer input", "", PAST).learned == ()  # 2 shared
    wordy = OPERATION.format("modulo") + " " + " ".join(f"word{i}" for i in range(20))
    assert predict(wordy, "", PAST).learned == ()  # 5 shared, but of 26: under 40 %


def test_a_lesson_survives_its_memo_round_trip_and_garbage_does_not() -> None:
    lesson = footprint.past("#7", "Add subtraction", "to calc", ["calc/ops.py", "Makefile"])
    assert lesson.files == ("calc/ops.py", "Makefile")  # changed files are files, not folders
    assert footprint.decode(footprint.encode(lesson)) == lesson
    for junk in (None, "-", "[1, 2]", '{"words": "abc", "files": []}', "{"):
        assert footprint.decode(junk) is None


def test_in_flight_is_what_is_in_progress_or_in_review_and_open_or_has_a_task() -> None:
    issues = {
        i.ref: i
        for i in (
            issue(1, "One", "calc/one.py"),
            issue(2, "Two", "calc/two.py"),
            issue(3, "Three", "calc/three.py"),
            issue(4, "Four", "calc/four.py", is_open=False),  # its PR merged
            issue(5, "Five", "calc/five.py"),
        )
    }
    statuses = {
        IssueRef("acme/app", 1): BoardStatus.IN_PROGRESS,
        IssueRef("acme/app", 2): BoardStatus.IN_REVIEW,
        IssueRef("acme/app", 3): BoardStatus.BLOCKED,  # escalated: a person has it
        IssueRef("acme/app", 4): BoardStatus.IN_REVIEW,
        IssueRef("acme/app", 5): BoardStatus.READY,
    }
    tasks = {
        IssueRef("acme/app", 9): ("Nine", "calc/nine.py"),  # a task whose issue was not read
        IssueRef("acme/lib", 1): ("Lib", "lib/"),  # another repo's
    }
    found = footprint.in_flight(statuses, issues, tasks, {}, {"acme/app"})
    assert {r.number: f.named for r, f in found.items()} == {
        1: ("calc/one.py",),
        2: ("calc/two.py",),
        9: ("calc/nine.py",),
    }


def test_hostile_input_is_read_in_bounded_time_and_size() -> None:
    paths = " ".join(f"src/d{i}/f{i}.py" for i in range(10_000))
    words = footprint.words(paths, "")
    started = time.perf_counter()
    many = predict("Many", paths)
    huge = predict("Huge", "a" * 1_000_000 + " calc/sub.py")
    deep = predict("Deep", "a/" * 500_000 + "x.py")
    slashes = predict("Slashes", "/" * 1_000_000)
    past = [Past(f"#{i}", words, ("x.py",)) for i in range(100)]
    similar = predict("Many", paths, past)
    busy = overlap(many, predict("Other", paths[::-1]), "#2")
    elapsed = time.perf_counter() - started
    assert len(many.named) == footprint.MAX_PATHS and len(similar.learned) == 1
    assert not huge and not deep and not slashes  # past MAX_TEXT, or too deep to be a path
    assert busy == ""
    assert elapsed < 1.0, elapsed  # about 0.03 s

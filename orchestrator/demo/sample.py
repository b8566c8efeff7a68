"""The demo's sample project: a small statistics package, its issues, the changes that close them.

Plain data. The issues form a chain (mean -> variance -> describe -> command line) and a fan-in
(describe waits for median and variance); each issue carries the edits the scripted model makes
for it, and one (median) a mistake its tests catch and the model then fixes.
"""

from __future__ import annotations

from dataclasses import dataclass

OWNER = "agentos"
REPO = f"{OWNER}/stats-demo"
BOARD_TITLE = "Agent OS demo"
TESTS = "-m unittest discover -q -s tests -t ."  # after the interpreter: `python -m unittest ...`


@dataclass(frozen=True, slots=True)
class Write:
    """Write a whole file (the write_file tool)."""

    path: str
    content: str
    say: str


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace one piece of a file (the edit_file tool)."""

    path: str
    old: str
    new: str
    say: str


Change = Write | Edit


@dataclass(frozen=True, slots=True)
class DemoIssue:
    """One issue of the demo backlog and the work that closes it."""

    key: str
    title: str
    goal: str
    summary: str  # what the scripted model reports it did
    changes: tuple[Change, ...]
    blocked_by: tuple[str, ...] = ()  # recorded as GitHub issue dependencies
    depends_on: tuple[str, ...] = ()  # written as `Depends on #N` lines in the body
    fix: Edit | None = None  # made only after the tests fail: the scripted mistake's repair

    @property
    def blockers(self) -> tuple[str, ...]:
        """Every issue this one waits for, however recorded."""
        return (*self.blocked_by, *self.depends_on)


FILES = {
    ".gitignore": "__pycache__/\n*.pyc\n",
    "README.md": (
        "# stats-demo\n\n"
        "A small statistics package: the sample project of `agentos demo`. Each function "
        "arrives\nthrough an issue, an agent's pull request and a green `sandbox-ci` check.\n\n"
        "    python -m unittest discover -s tests -t .\n"
    ),
    "stats/__init__.py": '"""Small statistics helpers, one module per idea."""\n',
    "tests/__init__.py": "",
    "tests/test_package.py": (
        "import unittest\n\nimport stats\n\n\nclass Package(unittest.TestCase):\n"
        "    def test_the_package_says_what_it_is(self):\n"
        '        self.assertIn("statistics", stats.__doc__)\n'
    ),
}

_MEAN = '''"""The arithmetic mean."""


def mean(values):
    """Return the arithmetic mean of a non-empty sequence of numbers."""
    values = list(values)
    if not values:
        raise ValueError("mean() needs at least one value")
    return sum(values) / len(values)
'''
_MEAN_TEST = """import unittest

from stats.mean import mean


class Mean(unittest.TestCase):
    def test_the_mean_of_some_numbers(self):
        self.assertEqual(mean([1, 2, 3, 4]), 2.5)

    def test_the_mean_of_nothing_is_an_error(self):
        with self.assertRaises(ValueError):
            mean([])
"""
_MEDIAN = '''"""The median: the middle of the sorted values."""


def median(values):
    """Return the middle value (the mean of the two middle ones for an even count)."""
    ordered = list(values)
    if not ordered:
        raise ValueError("median() needs at least one value")
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2
'''
_MEDIAN_TEST = """import unittest

from stats.median import median


class Median(unittest.TestCase):
    def test_an_odd_count_has_a_middle_value(self):
        self.assertEqual(median([3, 1, 2]), 2)

    def test_an_even_count_averages_the_two_middle_values(self):
        self.assertEqual(median([4, 1, 3, 2]), 2.5)
"""
_SPREAD = '''"""How far values spread around their mean."""
import math

from stats.mean import mean


def variance(values):
    """Return the population variance of a non-empty sequence of numbers."""
    values = list(values)
    centre = mean(values)
    return sum((value - centre) ** 2 for value in values) / len(values)


def stdev(values):
    """Return the population standard deviation."""
    return math.sqrt(variance(values))
'''
_SPREAD_TEST = """import unittest

from stats.spread import stdev, variance

SAMPLE = [2, 4, 4, 4, 5, 5, 7, 9]


class Spread(unittest.TestCase):
    def test_variance(self):
        self.assertEqual(variance(SAMPLE), 4.0)

    def test_stdev_is_the_root_of_the_variance(self):
        self.assertEqual(stdev(SAMPLE), 2.0)
"""
_SUMMARY = '''"""A one-call summary of a sample."""
from stats.mean import mean
from stats.median import median
from stats.spread import stdev


def describe(values):
    """Return the count, mean, median, standard deviation, minimum and maximum of the values."""
    values = list(values)
    return {"count": len(values), "mean": mean(values), "median": median(values),
            "stdev": stdev(values), "min": min(values), "max": max(values)}
'''
_SUMMARY_TEST = """import unittest

import stats


class Describe(unittest.TestCase):
    def test_describe_summarises_a_sample(self):
        self.assertEqual(stats.describe([2, 4, 4, 4, 5, 5, 7, 9]),
                         {"count": 8, "mean": 5.0, "median": 4.5, "stdev": 2.0, "min": 2, "max": 9})
"""
_MAIN = '''"""`python -m stats 1 2 3`: print a summary of the numbers given."""
import sys

from stats.summary import describe


def main(argv):
    """Print describe() of the arguments, one figure a line; 2 without numbers."""
    if not argv:
        print("usage: python -m stats NUMBER...", file=sys.stderr)
        return 2
    for name, value in describe([float(arg) for arg in argv]).items():
        print(f"{name:>6} {value:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
'''
_MAIN_TEST = """import contextlib
import io
import unittest

from stats.__main__ import main


class CommandLine(unittest.TestCase):
    def test_it_prints_one_figure_a_line(self):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            self.assertEqual(main(["1", "2", "3"]), 0)
        self.assertIn("  mean 2", out.getvalue())
        self.assertEqual(len(out.getvalue().splitlines()), 6)

    def test_no_numbers_is_a_usage_error(self):
        with contextlib.redirect_stderr(io.StringIO()):
            self.assertEqual(main([]), 2)
"""

ISSUES = (
    DemoIssue(
        "mean",
        "Add stats.mean",
        "A `mean(values)` function in `stats/mean.py`, with tests; an empty "
        "sequence is a ValueError.",
        "Added stats.mean() and its tests.",
        (
            Write("stats/mean.py", _MEAN, "Writing stats/mean.py."),
            Write("tests/test_mean.py", _MEAN_TEST, "Adding its tests."),
        ),
    ),
    DemoIssue(
        "median",
        "Add stats.median",
        "A `median(values)` function in `stats/median.py`, with tests for odd and even counts.",
        "Added stats.median() and its tests (the first version forgot to sort).",
        (
            Write("stats/median.py", _MEDIAN, "Writing stats/median.py."),
            Write("tests/test_median.py", _MEDIAN_TEST, "Adding tests for odd and even counts."),
        ),
        fix=Edit(
            "stats/median.py",
            "ordered = list(values)",
            "ordered = sorted(values)",
            "The tests fail: median() must sort the values first. Fixing that.",
        ),
    ),
    DemoIssue(
        "spread",
        "Add stats.variance and stats.stdev",
        "Population `variance(values)` and "
        "`stdev(values)` in `stats/spread.py`, built on `stats.mean`.",
        "Added variance() and stdev() on top of mean(), with tests.",
        (
            Write("stats/spread.py", _SPREAD, "Writing stats/spread.py on top of stats.mean."),
            Write("tests/test_spread.py", _SPREAD_TEST, "Adding its tests."),
        ),
        blocked_by=("mean",),
    ),
    DemoIssue(
        "describe",
        "Add stats.describe",
        "`stats.describe(values)` returns count, mean, median, stdev, min "
        "and max as a dict, and is exported from the package.",
        "Added stats.describe() from the earlier functions and exported it from the package.",
        (
            Write(
                "stats/summary.py",
                _SUMMARY,
                "Writing stats/summary.py from mean, median and stdev.",
            ),
            Edit(
                "stats/__init__.py",
                '"""Small statistics helpers, one module per idea."""\n',
                '"""Small statistics helpers, one module per idea."""\n'
                "from stats.summary import describe\n\n"
                '__all__ = ["describe"]\n',
                "Exporting describe from the package.",
            ),
            Write("tests/test_summary.py", _SUMMARY_TEST, "Adding its test."),
        ),
        depends_on=("median", "spread"),
    ),
    DemoIssue(
        "cli",
        "Add a python -m stats command line",
        "`python -m stats 1 2 3` prints describe() of the "
        "numbers, one figure a line; no numbers is a usage error (exit 2).",
        "Added `python -m stats`, which prints describe() of its arguments, with tests.",
        (
            Write("stats/__main__.py", _MAIN, "Writing stats/__main__.py."),
            Write(
                "tests/test_cli.py", _MAIN_TEST, "Adding tests for the output and the usage error."
            ),
        ),
        blocked_by=("describe",),
    ),
)


def body(issue: DemoIssue, numbers: dict[str, int]) -> str:
    """Return the issue's body; `numbers` maps the keys of issues already created to numbers."""
    lines = [
        "## Goal",
        "",
        issue.goal,
        "",
        "## Acceptance",
        "",
        "- The new code has tests, and `python -m unittest discover -s tests -t .` passes.",
    ]
    if issue.depends_on:
        lines += ["", *(f"Depends on #{numbers[key]}" for key in issue.depends_on)]
    return "\n".join(lines) + "\n"

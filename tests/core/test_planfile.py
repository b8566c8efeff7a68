"""Reading a markdown plan: epics, tasks, ids, references, and every problem as one line."""

from __future__ import annotations

import pytest

from orchestrator.core import planfile
from orchestrator.core.planfile import PlanItem, parse

PLAN = """\
# Roadmap

Not imported: the plan's own introduction.

## Sign-in {#auth}

Everything about accounts.

- [ ] Login form {#auth-login}
  Email and password.

  ```
  # a comment in code, no heading
  - no task either
  ```
- [x] Sessions {#auth-sessions} (depends on auth-login)
- [ ] Logout
  after: Sessions, auth-login

### Billing {#billing}
1. Invoices {#bill-invoices} after: auth-sessions
2. Receipts {#bill-receipts}
   depends on bill-invoices
3. Refunds {#bill-refunds}
<!-- - [ ] a hidden task {#hidden} -->
"""


def test_two_epics_six_tasks_and_a_cross_epic_dependency() -> None:
    plan = parse(PLAN)
    assert plan.problems == ()
    assert [(i.id, i.title, i.epic, i.after) for i in plan.items] == [
        ("auth", "Sign-in", None, ()),
        ("auth-login", "Login form", "auth", ()),
        ("auth-sessions", "Sessions", "auth", ("auth-login",)),
        ("auth/logout", "Logout", "auth", ("auth-sessions", "auth-login")),
        ("billing", "Billing", None, ()),
        ("bill-invoices", "Invoices", "billing", ("auth-sessions",)),  # across epics
        ("bill-receipts", "Receipts", "billing", ("bill-invoices",)),
        ("bill-refunds", "Refunds", "billing", ()),
    ]
    assert (len(plan.epics), len(plan.tasks)) == (2, 6)
    assert [i.line for i in plan.epics] == [5, 20]


def test_bodies_are_the_text_under_an_epic_and_the_lines_indented_under_a_task() -> None:
    plan = parse(PLAN)
    assert plan.item("auth") == PlanItem("auth", "Sign-in", "Everything about accounts.", 5)
    login = plan.item("auth-login")
    assert login is not None and login.body == (
        "Email and password.\n\n```\n# a comment in code, no heading\n- no task either\n```"
    )
    logout = plan.item("auth/logout")
    assert logout is not None and (logout.body, logout.explicit) == ("", False)  # refs are no body


def test_ids_are_made_from_the_epic_and_a_slug_of_the_title_when_not_written() -> None:
    plan = parse("## Café & Crème\n- Ship v2.0 — now!\n* Second one\n+ Third\n1) Fourth\n")
    assert [i.id for i in plan.items] == [
        "cafe-creme",
        "cafe-creme/ship-v2-0-now",
        "cafe-creme/second-one",
        "cafe-creme/third",
        "cafe-creme/fourth",
    ]
    assert planfile.slug("  --  ") == ""


def test_references_by_exact_title_any_case_and_ids_in_braces() -> None:
    plan = parse(
        "## E {#e}\n- First step {#one}\n- Second (after: FIRST STEP)\n"
        "- Third\n  - depends on: {#one}, `second`\n"
    )
    assert plan.problems == ()
    assert [i.after for i in plan.tasks] == [(), ("one",), ("one", "e/second")]


def test_a_reference_line_needs_its_words_at_the_start() -> None:
    plan = parse("## E\n- Cache {#cache}\n  This note comes after: nothing in particular.\n")
    assert plan.problems == ()
    assert plan.tasks[0].body == "This note comes after: nothing in particular."


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("## E\n- a {#a} after: nowhere\n", "line 2: `nowhere` names no item of the plan"),
        ("## E\n- a {#a}\n  after: a\n", "line 3: a task cannot depend on itself"),
        ("## E {#e}\n- a {#a} after: e\n", "line 2: `e` is an epic: depend on its tasks"),
        ("## E\n- a {#a} after: ,\n", "line 2: a reference that names nothing"),
        ("## E\n- Same {#a}\n- Same {#b}\n- c after: same\n", "line 4: `same` is the title of"),
        ("## E\n- a {#a}\n- b {#a}\n", "line 3: the id `a` is taken by line 2"),
        ("## E\n- twin\n- twin\n", "line 3: the id `e/twin` is taken by line 2 (give one"),
        ("## E\n- a {#Not Valid}\n", "line 2: {#Not Valid} is no id"),
        ("## E\n- a {#a} {#b}\n", "line 2: 2 ids; an item has one {#id}"),
        ("## E\n- [ ]\n", "line 2: an item with no title"),
        ("## E\n- ✓✓ \n", "line 2: no id can be made from this title"),
        ("- loose\n## E\n- a\n", "line 1: a task outside any epic"),
        ("Just prose.\n", "line 1: no epic"),
        ("## E\n- " + "x" * 201 + "\n", "line 2: a title of 201 characters; at most 200"),
        ("## E\n- a\n  " + "y" * 50_001 + "\n", "line 2: a body of 50001 characters"),
    ],
)
def test_each_problem_is_one_line_naming_its_line(text: str, problem: str) -> None:
    problems = parse(text).problems
    assert any(p.startswith(problem) for p in problems), problems
    assert all("\n" not in p for p in problems)
    assert parse(text).items == ()  # a plan with problems is never half imported


def test_a_cycle_is_named_with_its_members() -> None:
    plan = parse("## E\n- a {#a} after: c\n- b {#b} after: a\n- c {#c} after: b\n- d {#d}\n")
    [problem] = plan.problems
    assert problem.startswith("line 2: a dependency cycle: ")
    assert {"a", "b", "c"} <= set(problem.split(": ", 2)[2].split(" → "))


def test_problems_come_sorted_by_line() -> None:
    plan = parse("## E\n- b {#b} after: zz\n- a {#a} after: yy\n- a2 after: a2\n")
    assert [p.split(":")[0] for p in plan.problems] == ["line 2", "line 3", "line 4"]


def test_the_limits() -> None:
    items = "".join(f"- task {n}\n" for n in range(planfile.MAX_ITEMS))
    assert parse(f"## E\n{items}").problems == (
        f"the plan has {planfile.MAX_ITEMS + 1} items; at most {planfile.MAX_ITEMS}",
    )
    huge = "## E\n- a\n" + "x" * planfile.MAX_BYTES
    assert parse(huge).problems == ("the plan is larger than 1024 KiB",)


def test_hostile_text_is_kept_as_text_and_hidden_comments_are_dropped() -> None:
    text = (
        "## E\x1b[31m {#e}\n- Closes #1 for @octocat {#t}\n"
        "  Body <!-- agentos:plan=other --> with a forged marker.\n"
        "  <!--\n- [ ] not a task\n  -->\n"
    )
    plan = parse(text)
    assert plan.problems == ()
    assert [i.title for i in plan.items] == ["E[31m", "Closes #1 for @octocat"]
    assert plan.tasks[0].body == "Body  with a forged marker."


def test_windows_line_ends_a_bom_and_a_horizontal_rule() -> None:
    plan = parse("\ufeff## E {#e}\r\n- a {#a}\r\n\r\n* * *\r\n- b {#b} after: a\r\n")
    assert plan.problems == ()
    assert [(i.id, i.after) for i in plan.tasks] == [("a", ()), ("b", ("a",))]

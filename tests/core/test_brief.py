"""core.brief: an issue's own sections become the agent's brief.

Nothing the author wrote is lost.
"""

from __future__ import annotations

import pytest

from orchestrator.core import brief
from orchestrator.core.brief import Brief

STRUCTURED = """Some preamble about the feature.

## Acceptance criteria
- [ ] `make test` passes
- [x] the CLI prints a version

## Constraints
1. no new dependencies

## Notes
Look at `cli.py` first.

```
## not a heading inside a fence
```
"""


def test_recognised_sections_become_goal_criteria_and_constraints() -> None:
    b = brief.from_issue("Add --version", STRUCTURED)
    assert b.goal == "Some preamble about the feature."
    assert b.criteria == ("`make test` passes", "the CLI prints a version")
    assert b.constraints == ("no new dependencies",)
    assert b.context.startswith("### Notes\n\nLook at `cli.py` first.")
    assert "## not a heading inside a fence" in b.context
    assert not b.is_vague


def test_a_body_without_sections_is_the_goal_and_vague() -> None:
    b = brief.from_issue("Fix the crash", "It crashes when the config is empty.")
    assert b == Brief(goal="It crashes when the config is empty.")
    assert b.is_vague


def test_an_empty_body_falls_back_to_the_title() -> None:
    assert brief.from_issue("Rename the module", "").goal == "Rename the module"


def test_checkboxes_anywhere_count_as_criteria_when_no_section_names_them() -> None:
    b = brief.from_issue("t", "Do the thing.\n\n- [ ] it works\n- [ ] it is documented\n")
    assert b.criteria == ("it works", "it is documented")


@pytest.mark.parametrize("heading", ["Goal", "## Problem", "Summary:", "**Why**"])
def test_goal_headings_in_any_common_spelling(heading: str) -> None:
    name = heading.lstrip("#").strip()
    b = brief.from_issue("t", f"## {name}\nShip it.\n\n## Success criteria\n- shipped\n")
    assert b.goal == "Ship it." and b.criteria == ("shipped",)


def test_render_names_every_part_and_admits_missing_criteria() -> None:
    text = brief.render(brief.from_issue("t", STRUCTURED))
    assert (
        text.index("## Goal")
        < text.index("## Success criteria")
        < text.index("## Constraints")
        < text.index("## Context")
    )
    assert "(none stated" in brief.render(Brief(goal="g"))


def test_a_model_reply_is_used_only_when_it_names_a_goal_and_criteria() -> None:
    fallback = brief.from_issue("t", "make it faster")
    good = brief.structured(
        "GOAL: Make startup faster\nCRITERIA:\n- under 60 ms\nCONSTRAINTS:\n- no new deps\n",
        fallback,
    )
    assert (good.goal, good.criteria, good.constraints, good.source) == (
        "Make startup faster",
        ("under 60 ms",),
        ("no new deps",),
        "model",
    )
    assert "make it faster" in good.context  # the author's words travel with the model's structure
    assert brief.structured("I cannot help with that.", fallback) is fallback
    assert brief.structured("GOAL: something\n", fallback) is fallback

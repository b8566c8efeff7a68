"""Turn an issue's body into the brief an agent reads: goal, criteria, constraints, context.

The deterministic path keeps the issue's own sections: headings it recognises are mapped to
the brief's parts, everything else is carried along as context, and nothing is dropped. An
issue without recognisable sections is *vague*; the dispatcher may ask a model to structure it
(`structured`), and falls back to this when it cannot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from orchestrator.core.markdown import blank_code_blocks

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_CHECKBOX = re.compile(r"^[ \t]*[-*][ \t]+\[[ xX]\][ \t]+(.+)$", re.MULTILINE)
_PARTS = {
    "goal": (
        "goal",
        "goals",
        "problem",
        "summary",
        "description",
        "what",
        "objective",
        "task",
        "why",
    ),
    "criteria": (
        "success criteria",
        "acceptance criteria",
        "acceptance",
        "definition of done",
        "done when",
        "criteria",
        "expected behaviour",
        "expected behavior",
        "tests",
    ),
    "constraints": (
        "constraints",
        "non-goals",
        "non goals",
        "out of scope",
        "limitations",
        "requirements",
    ),
}


@dataclass(frozen=True, slots=True)
class Brief:
    goal: str
    criteria: tuple[str, ...] = ()
    constraints: tuple[str, ...] = ()
    context: str = ""
    source: str = "issue"  # "issue": the issue's own sections | "model": structured by an LLM

    @property
    def is_vague(self) -> bool:
        """True when the issue named no success criteria: nothing says when the work is done."""
        return not self.criteria


def from_issue(title: str, body: str) -> Brief:
    """Return the brief the issue's own sections make.

    The whole body is the goal when it has none.
    """
    sections = _sections(body)
    parts: dict[str, list[str]] = {"goal": [], "criteria": [], "constraints": [], "context": []}
    for heading, text in sections:
        part = _part(heading)
        parts[part].append(f"### {heading}\n\n{text}" if part == "context" else text)
    goal = "\n\n".join(t for t in parts["goal"] if t) or title
    criteria = tuple(_items("\n".join(parts["criteria"])))
    if not criteria:
        criteria = tuple(_CHECKBOX.findall(body))
    return Brief(
        goal=goal.strip(),
        criteria=criteria,
        constraints=tuple(_items("\n".join(parts["constraints"]))),
        context="\n\n".join(t for t in parts["context"] if t).strip(),
    )


def render(brief: Brief) -> str:
    """Return the brief as the Markdown the task file and the prompt carry."""
    lines = ["## Goal", "", brief.goal, "", "## Success criteria", ""]
    lines += [f"- {c}" for c in brief.criteria] or [
        "- (none stated: infer them from the goal and say which you chose)"
    ]
    if brief.constraints:
        lines += ["", "## Constraints", "", *(f"- {c}" for c in brief.constraints)]
    if brief.context:
        lines += ["", "## Context", "", brief.context]
    return "\n".join(lines).strip() + "\n"


def structured(reply: str, fallback: Brief) -> Brief:
    """Return the brief a model wrote as `GOAL:`/`CRITERIA:`/`CONSTRAINTS:` blocks, else `fallback`.

    The model only restructures: the issue's own text stays in the context, so nothing the
    author wrote is lost even if the model leaves something out.
    """
    blocks = dict(
        re.findall(
            r"^(GOAL|CRITERIA|CONSTRAINTS):[ \t]*\n?(.*?)(?=^(?:GOAL|CRITERIA|CONSTRAINTS):|\Z)",
            reply,
            re.MULTILINE | re.DOTALL,
        )
    )
    goal = blocks.get("GOAL", "").strip()
    criteria = tuple(_items(blocks.get("CRITERIA", "")))
    if not goal or not criteria:
        return fallback
    original = "\n\n".join(p for p in (fallback.goal, fallback.context) if p)
    return Brief(
        goal=goal,
        criteria=criteria,
        constraints=tuple(_items(blocks.get("CONSTRAINTS", ""))),
        context=f"The issue as written:\n\n{original}".strip(),
        source="model",
    )


def _sections(body: str) -> list[tuple[str, str]]:
    """Split a body at its headings (outside code fences) into (heading, text) pairs.

    The preamble's heading is "".
    """
    masked = blank_code_blocks(body)
    cuts = list(_HEADING.finditer(masked))
    pieces = [("", body[: cuts[0].start()] if cuts else body)]
    for i, cut in enumerate(cuts):
        end = cuts[i + 1].start() if i + 1 < len(cuts) else len(body)
        pieces.append((cut.group(2).strip(), body[cut.end() : end]))
    return [(heading, text.strip()) for heading, text in pieces if heading or text.strip()]


def _part(heading: str) -> str:
    """Return which part of the brief a heading belongs to; the preamble is the goal."""
    name = heading.lower().strip(" :*_`")
    if not name:
        return "goal"
    for part, names in _PARTS.items():
        if name in names:
            return part
    return "context"


def _items(text: str) -> list[str]:
    """Return a section's list items (bullets, numbers, checkboxes), else its paragraphs."""
    bullets = re.findall(
        r"^[ \t]*(?:[-*+]|\d+[.)])[ \t]+(?:\[[ xX]\][ \t]+)?(.+)$", text, re.MULTILINE
    )
    if bullets:
        return [b.strip() for b in bullets]
    return [p.strip() for p in re.split(r"\n[ \t]*\n", text) if p.strip()]

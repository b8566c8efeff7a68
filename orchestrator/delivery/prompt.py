"""Render the agent's prompt: the issue (fenced as untrusted), repo notes, role, skills, history.

The prompt also carries the result contract, and the operator's rules for the repository (the
constraints of its objectives, docs/objectives.md), fenced as every other text from a file.

Role instructions (ROLE.md) and skills (SKILL.md) are looked up in three layers, the first
found winning: the task's room (`runtime/rooms/<task-id>/`), the repo's `.agents/`, and the
defaults shipped in `orchestrator/delivery/templates/`. In each layer:

    roles/<task_type>/ROLE.md
    roles/<task_type>/skills/<name>/SKILL.md      skills for this task type
    skills/<name>/SKILL.md                        skills for every task type

The contract section is generated from core.contract (FIELDS, AGENT_CODES), so the prompt asks
for exactly what the parser accepts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import yaml

from orchestrator.core.contract import AGENT_CODES, FIELDS, FOLLOW_UPS_HINT, LIST_FIELDS
from orchestrator.core.failure import Failure
from orchestrator.core.model import Issue, Review
from orchestrator.core.quoting import fence
from orchestrator.core.redact import redact
from orchestrator.core.tasks import Task
from orchestrator.core.workspace import Conflict

TEMPLATES = Path(__file__).parent / "templates"
MAX_PROMPT_BYTES = 100_000  # over this an agent gets nothing: the run is `prompt_too_large`
BUDGET = {
    "issue": 30_000,
    "notes": 20_000,
    "codebase": 12_000,
    "role": 8_000,
    "skill": 6_000,
    "attempt": 4_000,
    "item": 4_000,
    "rules": 8_000,  # at most 20 constraints of 300 characters
}
MAX_ITEMS = 8  # checks, reviews or conflicting files shown, each trimmed to BUDGET["item"]

# What the prompt says about each contract field; a field missing here fails the render.
HINTS = {
    "STATUS": "`complete`, `partial` or `blocked`, on the same line",
    "BLOCKER_CODE": "`none` when complete, else one code from the list below",
    "SUMMARY": "what you did and where things stand, in a short paragraph",
    "DONE": "what is finished",
    "BLOCKERS": "what stopped you, with the error text that shows it",
    "NEXT_STEP": "what the next attempt should do first, or `None`",
    "FILES_CHANGED": "the paths you changed",
    "TESTS_RUN": "the commands you ran and what they reported",
    "DECISIONS": "choices you made, and why",
    "RISKS": "what might break because of this change",
    "ATTEMPTED_APPROACHES": "approaches you tried that did not work, and why",
    "MANUAL_STEPS": "what a human must do that you could not (or `- None`)",
    "FOLLOW_UPS": FOLLOW_UPS_HINT,
}
# The skeleton's values: it parses as it stands, so an agent that fills it in gets a valid result.
EXAMPLES = {
    "STATUS": "complete",
    "BLOCKER_CODE": "none",
    "SUMMARY": "<one paragraph>",
    "DONE": "<item>",
    "BLOCKERS": "None",
    "NEXT_STEP": "None",
    "FILES_CHANGED": "<path>",
    "TESTS_RUN": "<command: outcome>",
    "DECISIONS": "<decision: why>",
    "RISKS": "<risk>",
    "ATTEMPTED_APPROACHES": "None",
    "MANUAL_STEPS": "None",
    "FOLLOW_UPS": "None",
}


@dataclass(frozen=True, slots=True)
class Skill:
    name: str
    text: str
    source: Path


@dataclass(frozen=True, slots=True)
class EarlierResult:
    """An earlier attempt's result contract (its room's result.md)."""

    task_id: str
    result: str


@dataclass(frozen=True, slots=True)
class Fixing:
    """Why a fixing task exists: red checks, review comments, or a conflict with the base."""

    checks: tuple[Failure, ...] = ()  # each with its context, fenced and within budget already
    reviews: tuple[Review, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    stopped_at: str = ""


@dataclass(frozen=True, slots=True)
class PromptInput:
    issue: Issue
    task: Task
    worktree: Path
    room: Path
    attempts: tuple[EarlierResult, ...] = ()
    fixing: Fixing | None = None
    defaults: Path = field(default=TEMPLATES)
    constraints: tuple[str, ...] = ()  # the operator's rules for the repo (its objectives')


def trim(text: str, limit: int) -> str:
    """Cut `text` to `limit` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[… {len(text) - limit} more characters trimmed]"


def layers(room: Path, worktree: Path, defaults: Path = TEMPLATES) -> tuple[Path, ...]:
    """Return where roles and skills are looked up, first match winning."""
    return (room, worktree / ".agents", defaults)


def find_role(task_type: str, search: Sequence[Path]) -> str:
    """Return the first ROLE.md for the task type; ValueError names the type when there is none."""
    for layer in search:
        path = layer / "roles" / task_type / "ROLE.md"
        if path.is_file():
            return path.read_text(encoding="utf-8").strip()
    raise ValueError(f"no ROLE.md for task type {task_type!r} in {', '.join(map(str, search))}")


def find_skills(task_type: str, search: Sequence[Path]) -> list[Skill]:
    """Return the skills for the task type, one per name (first layer's wins), sorted by name."""
    found: dict[str, Skill] = {}
    for layer in search:
        for folder in (layer / "roles" / task_type / "skills", layer / "skills"):
            for path in sorted(folder.glob("*/SKILL.md")) if folder.is_dir() else []:
                name, text = _skill(path)
                found.setdefault(name, Skill(name, text, path))
    return [found[name] for name in sorted(found)]


_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.DOTALL)


def _skill(path: Path) -> tuple[str, str]:
    """Read a SKILL.md.

    YAML front matter (`name`, `description`) is optional; the folder names it otherwise.
    """
    text, name = path.read_text(encoding="utf-8"), path.parent.name
    front = _FRONT_MATTER.match(text)
    if front is not None:
        meta = yaml.safe_load(front.group(1))
        if isinstance(meta, dict):
            name = str(meta.get("name") or name)
            about = str(meta.get("description") or "").strip()
            text = (f"{about}\n\n" if about else "") + text[front.end() :]
    return name, text.strip()


def contract() -> dict[str, Any]:
    """Return the contract section's data, straight from core.contract."""
    fields = [
        {
            "label": name,
            "hint": HINTS[name],
            "is_list": name in LIST_FIELDS,
            "example": EXAMPLES[name],
        }
        for name in FIELDS
    ]
    codes = [{"value": code.value, "meaning": meaning} for code, meaning in AGENT_CODES.items()]
    return {"fields": fields, "codes": codes}


def context(inp: PromptInput) -> dict[str, Any]:
    """Return every variable task.md.j2 uses, redacted and trimmed."""
    search = layers(inp.room, inp.worktree, inp.defaults)
    codebase = inp.worktree / "CODEBASE.md"
    labels = ", ".join(inp.issue.labels) or "(none)"
    issue_text = (
        f"{inp.issue.ref}: {inp.issue.title}\nLabels: {labels}\n\n"
        f"{inp.issue.body.strip() or '(no description)'}"
    )
    return {
        "issue": inp.issue,
        "task": inp.task,
        "issue_text": _clean(issue_text, "issue"),
        "task_notes": _clean(inp.task.body, "notes"),
        "codebase": _clean(codebase.read_text(encoding="utf-8"), "codebase")
        if codebase.is_file()
        else "",
        "role": _clean(find_role(inp.task.task_type, search), "role"),
        "skills": [
            Skill(s.name, _clean(s.text, "skill"), s.source)
            for s in find_skills(inp.task.task_type, search)
        ],
        "attempts": [EarlierResult(a.task_id, _clean(a.result, "attempt")) for a in inp.attempts],
        "fixing": _fixing(inp.fixing),
        "contract": contract(),
        "rules": _clean("\n".join(f"- {c}" for c in inp.constraints), "rules"),
    }


def _clean(text: str, budget: str) -> str:
    return trim(redact(text.strip()), BUDGET[budget])


def _fixing(fixing: Fixing | None) -> dict[str, Any] | None:
    if fixing is None:
        return None
    item = BUDGET["item"]
    return {
        # core.failure fenced each part and kept to the budget; trimming now could cut a fence
        "checks": [{"name": f.check.name, "output": f.text} for f in fixing.checks[:MAX_ITEMS]],
        "reviews": [
            {"author": r.author, "state": r.state, "body": _clean(r.body or "(no text)", "item")}
            for r in fixing.reviews[:MAX_ITEMS]
        ],
        "conflicts": [
            {
                "path": c.path,
                "kind": c.kind,
                "hunks": [
                    {
                        "ours": trim(redact(h.ours), item),
                        "theirs": trim(redact(h.theirs), item),
                        "ancestor": trim(redact(h.ancestor), item),
                    }
                    for h in c.hunks[:MAX_ITEMS]
                ],
            }
            for c in fixing.conflicts[:MAX_ITEMS]
        ],
        "stopped_at": redact(fixing.stopped_at),
    }


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """Return the jinja2 environment: StrictUndefined, no autoescape (it is Markdown), `fence`."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fence"] = _fence_filter
    return env


def _fence_filter(value: object, info: str = "") -> str:
    # str() of an undefined value raises: StrictUndefined holds in filters too
    return fence(str(value), info)


def render(inp: PromptInput) -> str:
    """Render the prompt for one task."""
    return redact(environment().get_template("task.md.j2").render(**context(inp)))


def fits(prompt: str) -> bool:
    """Return whether the prompt is small enough to send (else the run is `prompt_too_large`)."""
    return len(prompt.encode("utf-8")) <= MAX_PROMPT_BYTES

"""A markdown plan (PLAN.md) read into epics and tasks with their dependencies (docs/plan.md).

    # Roadmap                                  the plan's title: not imported
    ## Sign-in {#auth}                         an epic (## or ###); the text under it: its body
    - [ ] Login form {#auth-login}             a task of the epic above (-, *, +, 1. at the margin)
      Email and password, rate limited.        lines indented under a task: its body
      after: auth-api                          ...but a reference line: its dependencies
    - [ ] Sessions {#auth-sessions} (depends on auth-login)

An item's id is its `{#id}`, else one made from its epic and its title (so a retitled item without
an id reads as a new item). A reference names an item by id or by exact title. Pure: text in,
`MarkdownPlan` out; every problem is a value (`MarkdownPlan.problems`, one line each naming the
line), and a plan with problems is not imported.
"""

from __future__ import annotations

import re
import textwrap
import unicodedata
from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter

from orchestrator.core.markdown import blank_code_blocks

MAX_BYTES = 1024 * 1024  # a plan file past this is refused unread
MAX_ITEMS = 500  # epics and tasks together
MAX_TITLE = 200  # characters (GitHub allows 256)
MAX_BODY = 50_000  # characters of an item's own text (GitHub allows 65,536 with our footer)
MAX_ID = 64

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_RULE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
# A task starts at the margin (one space allowed); deeper lines under a task are its body.
_TASK = re.compile(r"^ ?(?:[-*+]|\d{1,9}[.)])(?:[ \t]+(?:\[[ xX]\](?=[ \t]|$))?[ \t]*(.*)|$)")
_ID_BRACES = re.compile(r"\{#([^{}]*)\}")
_VALID_ID = re.compile(r"[a-z0-9][a-z0-9._-]*")
# `after:` or `depends on` where a word may start; the rest of the line names the dependencies.
_CLAUSE = re.compile(r"(?<![^\s(\[])(after:|depends\s+on\b:?)", re.IGNORECASE)
_REF_LINE = re.compile(r"^(?:[-*+][ \t]+)?[(\[]?(?:after:|depends\s+on\b:?)", re.IGNORECASE)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_FENCE_AT_MARGIN = re.compile(r"^ ?(```|~~~)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # no terminal escape reaches a title


@dataclass(frozen=True, slots=True)
class PlanItem:
    """An epic (`epic` is None) or a task of the epic whose id `epic` names."""

    id: str
    title: str
    body: str
    line: int
    epic: str | None = None
    after: tuple[str, ...] = ()  # ids of the tasks this one waits for, as written
    explicit: bool = True  # the id was written as {#id}, not made from the title

    @property
    def is_epic(self) -> bool:
        return self.epic is None


@dataclass(frozen=True, slots=True)
class MarkdownPlan:
    """Epics and tasks in the order written (each epic before its tasks), or what is wrong."""

    items: tuple[PlanItem, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def epics(self) -> tuple[PlanItem, ...]:
        return tuple(i for i in self.items if i.is_epic)

    @property
    def tasks(self) -> tuple[PlanItem, ...]:
        return tuple(i for i in self.items if not i.is_epic)

    def item(self, item_id: str) -> PlanItem | None:
        return next((i for i in self.items if i.id == item_id), None)


@dataclass
class _Draft:
    line: int
    text: str  # the heading or item text, id and references still in it
    epic: _Draft | None = None
    body: list[str] = field(default_factory=list)
    refs: list[tuple[int, str]] = field(default_factory=list)  # (line, the words after the clause)
    id: str = ""
    title: str = ""
    explicit: bool = False


def parse(text: str) -> MarkdownPlan:
    """Read a plan; `.problems` lists what keeps it from being imported, sorted by line."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        return MarkdownPlan(problems=(f"the plan is larger than {MAX_BYTES // 1024} KiB",))
    text = _CONTROL.sub("", text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n"))
    drafts, problems = _read(text)
    if len(drafts) > MAX_ITEMS:
        return MarkdownPlan(problems=(f"the plan has {len(drafts)} items; at most {MAX_ITEMS}",))
    for draft in drafts:
        problems += _name(draft)
    problems += _unique(drafts)
    if not any(d.epic is None for d in drafts) and not problems:
        problems.append("line 1: no epic: epics are `##` or `###` headings with tasks below")
    items, found = _resolve(drafts) if all(d.id for d in drafts) else ((), [])
    problems += found
    problems += [] if problems else _cycles(items)
    ordered = tuple(sorted(problems, key=_line_of))
    return MarkdownPlan(problems=ordered) if ordered else MarkdownPlan(items=items)


def slug(title: str) -> str:
    """Return the id part made from a title: ASCII letters and digits joined by hyphens."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:48].rstrip("-")


def _read(text: str) -> tuple[list[_Draft], list[str]]:
    """Split the plan into epic and task drafts (code fences and HTML comments are no structure)."""
    shapes = blank_code_blocks(text)
    spans = [m.span() for m in _COMMENT.finditer(shapes)]
    for start, end in reversed(spans):  # hidden text is neither structure nor body
        breaks = "\n" * text.count("\n", start, end)
        shapes = shapes[:start] + breaks + shapes[end:]
        text = text[:start] + breaks + text[end:]
    drafts: list[_Draft] = []
    problems: list[str] = []
    epic: _Draft | None = None
    task: _Draft | None = None
    for number, (shape, raw) in enumerate(
        zip(shapes.split("\n"), text.split("\n"), strict=True), 1
    ):
        heading = _HEADING.match(shape)
        if heading and len(heading[1]) <= 3:
            epic = _Draft(number, heading[2]) if len(heading[1]) > 1 else None
            drafts += [epic] if epic else []
            task = None
        elif (found := _TASK.match(shape)) and not _RULE.match(shape):
            task = None
            if epic is None:
                problems.append(f"line {number}: a task outside any epic (put a ## heading above)")
                continue
            task = _Draft(number, found[1] or "", epic=epic)
            drafts.append(task)
        elif task and _belongs(shape, raw):
            _under_task(task, number, shape, raw)
        elif epic:
            task = None if raw.strip() else task
            epic.body.append(raw)
    return drafts, problems


def _belongs(shape: str, raw: str) -> bool:
    """Tell whether a line after a task is still the task's: blank, indented, or inside a code
    block the task's body opened (a fence at the margin ends the task)."""
    if _FENCE_AT_MARGIN.match(raw):
        return False
    return not raw.strip() or raw[:1] == "\t" or raw[:2] == "  " or not shape.strip()


def _under_task(task: _Draft, number: int, shape: str, raw: str) -> None:
    if _REF_LINE.match(shape.strip()):
        clause = _CLAUSE.search(shape)
        assert clause is not None
        task.refs.append((number, raw[clause.end() :]))
    else:
        task.body.append(raw)


def _name(draft: _Draft) -> list[str]:
    """Give a draft its title and id, and take references out of a task's line."""
    where, text = f"line {draft.line}", draft.text
    ids = _ID_BRACES.findall(text)
    text = _ID_BRACES.sub(" ", text)
    clause = _CLAUSE.search(text) if draft.epic is not None else None
    if clause:
        draft.refs.insert(0, (draft.line, text[clause.end() :]))
        text = text[: clause.start()]
    draft.title = " ".join(text.split()).rstrip(" ([-–—;,:").strip()
    problems = []
    if not draft.title:
        problems.append(f"{where}: an item with no title")
    elif len(draft.title) > MAX_TITLE:
        problems.append(f"{where}: a title of {len(draft.title)} characters; at most {MAX_TITLE}")
    body = _body(draft)
    if len(body) > MAX_BODY:
        problems.append(f"{where}: a body of {len(body)} characters; at most {MAX_BODY}")
    if len(ids) > 1:
        problems.append(f"{where}: {len(ids)} ids; an item has one {{#id}}")
    elif ids:
        draft.id, draft.explicit = ids[0].strip().lower(), True
        if not _VALID_ID.fullmatch(draft.id) or len(draft.id) > MAX_ID:
            problems.append(
                f"{where}: {{#{ids[0][:MAX_ID]}}} is no id (a-z, 0-9, '.', '_', '-'; "
                f"at most {MAX_ID}, starting with a letter or digit)"
            )
    elif draft.title:
        made = slug(draft.title)
        if not made:
            problems.append(f"{where}: no id can be made from this title: give it one, {{#id}}")
        elif draft.epic is None:
            draft.id = made
        else:
            draft.id = f"{draft.epic.id or slug(draft.epic.title) or '?'}/{made}"
    return problems


def _body(draft: _Draft) -> str:
    lines = draft.body
    text = "\n".join(lines) if draft.epic is None else textwrap.dedent("\n".join(lines))
    return "\n".join(line.rstrip() for line in text.strip("\n").split("\n")).strip()


def _unique(drafts: list[_Draft]) -> list[str]:
    first: dict[str, int] = {}
    problems = []
    for draft in drafts:
        if draft.id and draft.id in first:
            problems.append(
                f"line {draft.line}: the id `{draft.id}` is taken by line {first[draft.id]}"
                + ("" if draft.explicit else " (give one of them an id: {#id})")
            )
        first.setdefault(draft.id, draft.line)
    return problems


def _resolve(drafts: list[_Draft]) -> tuple[tuple[PlanItem, ...], list[str]]:
    """Turn each reference into the id it names; unknown, epic and self references are problems."""
    by_id = {d.id: d for d in drafts}
    by_title: dict[str, list[_Draft]] = {}
    for draft in drafts:
        by_title.setdefault(draft.title.casefold(), []).append(draft)
    items, problems = [], []
    for draft in drafts:
        after: list[str] = []
        for line, words in draft.refs:
            for name in _names(words):
                target, why = _target(name, by_id, by_title)
                if target is draft:
                    why = "a task cannot depend on itself"
                elif target is not None and target.epic is None:
                    why = f"`{name}` is an epic: depend on its tasks"
                if why:
                    problems.append(f"line {line}: {why}")
                elif target is not None and target.id not in after:
                    after.append(target.id)
            if not _names(words):
                problems.append(f"line {line}: a reference that names nothing")
        epic = draft.epic.id if draft.epic else None
        body = _body(draft)
        items.append(
            PlanItem(draft.id, draft.title, body, draft.line, epic, tuple(after), draft.explicit)
        )
    return tuple(items), problems


def _names(words: str) -> list[str]:
    """Split the words after `after:` into names: commas part them; ids may keep their braces."""
    names = []
    for part in words.strip().rstrip(")]").split(","):
        name = part.strip().strip("`").strip()
        if name.startswith("{#") and name.endswith("}"):
            name = name[2:-1]
        if name:
            names.append(" ".join(name.split()))
    return names


def _target(
    name: str, by_id: dict[str, _Draft], by_title: dict[str, list[_Draft]]
) -> tuple[_Draft | None, str]:
    if name.lower() in by_id:
        return by_id[name.lower()], ""
    titled = by_title.get(name.casefold(), [])
    if len(titled) == 1:
        return titled[0], ""
    if titled:
        lines = ", ".join(str(d.line) for d in titled)
        return None, f"`{name}` is the title of lines {lines}: name one by its id"
    return None, f"`{name[:MAX_TITLE]}` names no item of the plan (use an id or an exact title)"


def _cycles(items: tuple[PlanItem, ...]) -> list[str]:
    graph = TopologicalSorter({i.id: i.after for i in items if not i.is_epic})
    try:
        graph.prepare()
    except CycleError as error:
        ring: list[str] = list(error.args[1])
        line = min(i.line for i in items if i.id in ring)
        return [f"line {line}: a dependency cycle: {' → '.join(reversed(ring))}"]
    return []


def _line_of(problem: str) -> int:
    found = re.match(r"line (\d+):", problem)
    return int(found[1]) if found else 0

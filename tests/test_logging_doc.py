"""docs/logging.md names exactly the events the code writes: to the job logs, to room channels.

The events are read from the source with `ast`: the first argument of a logger call
(`deps.log.info("task.queued", extra=...)`), of `Room.record("worktree.prepared", ...)`, and the
`type` of each agent event class in core/agent.py that some module builds (they reach the
channel through `Room.sink`). The page's events are the backticked names in the first column
of its table rows; the rows after the channel heading are the channel's.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "orchestrator"
PAGE = ROOT / "docs" / "logging.md"
CHANNEL_HEADING = "## A room's channel"

EVENT = re.compile(r"[a-z_]+\.[a-z_]+")
LOG_METHODS = {"debug", "info", "warning", "error", "exception", "critical"}
RECORD = "record"  # Room.record(event, source, **fields) in orchestrator/store/rooms.py

# Calls of a collected shape whose first argument is no event name: (module, argument).
NOT_EVENTS = {
    # ButtonRecords.record(note, at) keeps an escalation's buttons for their presses.
    ("control/plane.py", "note"),
}


def modules(root: Path) -> Iterator[tuple[Path, ast.Module]]:
    """Yield each module under `root` but sandbox/'s (the stand-ins' loggers are their own)."""
    for path in sorted(root.rglob("*.py")):
        if path.relative_to(root).parts[0] != "sandbox":
            yield path, ast.parse(path.read_text(encoding="utf-8"), str(path))


def names_of(node: ast.expr) -> set[str] | None:
    """Return the strings an argument can be (a literal, or both sides of `a if c else b`)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        body, orelse = names_of(node.body), names_of(node.orelse)
        return None if body is None or orelse is None else body | orelse
    return None


def event_calls(tree: ast.Module) -> Iterator[tuple[str, ast.Call]]:
    """Yield (method, call) of the logger and `.record` calls that have a first argument.

    The audit log's `record` (`deps.audit.record(...)`: docs/audit.md lists its acts) is neither.
    """
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.args
            and node.func.attr in LOG_METHODS | {RECORD}
            and not (node.func.attr == RECORD and "audit" in ast.unparse(node.func.value))
        ):
            yield node.func.attr, node


def called_names(tree: ast.Module) -> set[str]:
    """Return the names called in a module: `f(...)` and `x.f(...)` both give `f`."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name):
                names.add(node.func.id)
            elif isinstance(node.func, ast.Attribute):
                names.add(node.func.attr)
    return names


def agent_event_types(root: Path) -> set[str]:
    """Return the `type` of each event class in core/agent.py that a module elsewhere builds."""
    source = root / "core" / "agent.py"
    types = {}
    for node in ast.parse(source.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if (
                    isinstance(item, ast.AnnAssign)
                    and isinstance(item.target, ast.Name)
                    and item.target.id == "type"
                    and isinstance(item.value, ast.Constant)
                ):
                    types[node.name] = str(item.value.value)
    built = set().union(*(called_names(tree) for path, tree in modules(root) if path != source))
    return {kind for name, kind in types.items() if name in built}


def emitted(root: Path) -> tuple[set[str], set[str]]:
    """Return the events the code under `root` writes: (to the job logs, to a room's channel)."""
    logged: set[str] = set()
    recorded = agent_event_types(root)
    for _, tree in modules(root):
        for method, call in event_calls(tree):
            events = {name for name in names_of(call.args[0]) or () if EVENT.fullmatch(name)}
            (recorded if method == RECORD else logged).update(events)
    return logged, recorded


def unresolved(root: Path) -> set[tuple[str, str]]:
    """Return (module, argument) of each collected call whose first argument is not written out."""
    return {
        (path.relative_to(root).as_posix(), ast.unparse(call.args[0]))
        for path, tree in modules(root)
        for _, call in event_calls(tree)
        if names_of(call.args[0]) is None
    }


def row_events(text: str) -> set[str]:
    """Return the backticked event names in the first column of a Markdown text's table rows."""
    names = set()
    for line in text.splitlines():
        if line.startswith("|"):
            names.update(re.findall(r"`([a-z_]+\.[a-z_]+)`", line.split("|")[1]))
    return names


def documented(text: str) -> tuple[set[str], set[str]]:
    """Return the events the page names: (in the job logs' tables, in the channel's tables)."""
    logs_part, _, channel_part = text.partition(CHANNEL_HEADING)
    return row_events(logs_part), row_events(channel_part)


LOGGED, RECORDED = emitted(PACKAGE)
PAGE_LOGGED, PAGE_RECORDED = documented(PAGE.read_text(encoding="utf-8"))


def test_every_event_the_code_logs_has_a_row_in_the_job_log_tables() -> None:
    missing = sorted(LOGGED - PAGE_LOGGED)
    assert not missing, f"docs/logging.md's job log tables lack: {missing}"


def test_every_event_in_the_job_log_tables_is_logged_by_the_code() -> None:
    stale = sorted(PAGE_LOGGED - LOGGED)
    assert not stale, f"docs/logging.md lists events nothing logs: {stale}"


def test_every_event_a_room_channel_gets_has_a_row_in_the_channel_tables() -> None:
    assert CHANNEL_HEADING in PAGE.read_text(encoding="utf-8")
    missing = sorted(RECORDED - PAGE_RECORDED)
    assert not missing, f"docs/logging.md's channel tables lack: {missing}"


def test_every_event_in_the_channel_tables_is_written_to_a_room_channel() -> None:
    stale = sorted(PAGE_RECORDED - RECORDED)
    assert not stale, f"docs/logging.md lists channel events nothing writes: {stale}"


def test_every_event_name_is_written_out_where_the_collector_reads_it() -> None:
    """A name built at run time (an f-string, a variable) would pass unseen: list it in NOT_EVENTS
    or in the page by hand, and say where it comes from."""
    assert unresolved(PACKAGE) == NOT_EVENTS


def test_agent_events_still_reach_a_room_channel_through_its_sink() -> None:
    """The agent event types count as channel events only while a module passes each event's
    `event_record` to a `Room.sink` (today delivery/attempt.py)."""
    bridges = [
        path for path, tree in modules(PACKAGE) if {"sink", "event_record"} <= called_names(tree)
    ]
    assert bridges, "no module calls both Room.sink and core.agent.event_record any more"
    assert {"tool.called", "agent.message"} <= RECORDED


def test_the_collector_finds_the_events_of_a_small_source_tree(tmp_path: Path) -> None:
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "agent.py").write_text(
        "class Spoke:\n    type: ClassVar[str] = 'agent.spoke'\n    text: str\n\n"
        "class Unused:\n    type: ClassVar[str] = 'agent.unused'\n"
    )
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "tick.py").write_text(
        "def run(deps, room, changed, name):\n"
        "    deps.log.info('task.queued', extra={'issue': 1})\n"
        "    deps.log.warning('switch.on' if changed else 'switch.off')\n"
        "    deps.log.error('not an event')\n"
        "    room.record('worktree.prepared', path='x')\n"
        "    deps.log.info(name)\n"
        "    room.sink('agent')(Spoke('hi'))\n"
    )
    (tmp_path / "sandbox").mkdir()
    (tmp_path / "sandbox" / "server.py").write_text("log.info('request.served')\n")

    assert emitted(tmp_path) == (
        {"task.queued", "switch.on", "switch.off"},
        {"worktree.prepared", "agent.spoke"},
    )
    assert unresolved(tmp_path) == {("jobs/tick.py", "name")}


def test_the_page_reader_takes_the_names_of_a_rows_first_column_only() -> None:
    page = (
        "| event | fields | when |\n|---|---|---|\n"
        "| `switch.changed` / `switch.unchanged` | `by` | a switch set from chat |\n"
        "| `run.started` | `dry_run` | see `run.finished` |\n"
        "Prose naming `task.queued` outside a table.\n"
        "## A room's channel: `runtime/rooms/<task-id>/channel.jsonl`\n"
        "| `tool.called` | `name` | the model called a tool |\n"
    )
    assert documented(page) == (
        {"switch.changed", "switch.unchanged", "run.started"},
        {"tool.called"},
    )

"""The acceptance proof of an attempt: the change's test files run on the base, then on the head.

On the base means a scratch checkout of the base commit (`Worktrees.scratch`, beside the task's
worktree) with the head's versions of the change's test files in it: there they should fail.
On the head means the task's own worktree: there they should pass. Both run through the repo's
acceptance command (`core/acceptance.py`), confined like its tests (`Tests`: they execute code
the agent wrote), all of it within one `limits.test_timeout_minutes`.

Each side first runs its files together: when that passes, every file passes on that side;
when it fails and there is more than one file, each file runs alone for its own row (at most
`MAX_FILES` files). One test file is two runs; a typical change (it fails on the base, passes
on the head) costs one run on the head, one on the base and one per file on the base.

The proof is kept in the room (`store/acceptance.py`) before the PR opens, for the risk tier,
and shown on the PR in one comment that each new head's proof edits. It never fails the
attempt: what kept it from running is its note.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

from orchestrator.config.model import RepoConfig
from orchestrator.core import contract
from orchestrator.core.acceptance import OFF, Selection, command, select, template
from orchestrator.core.model import IssueRef, PullRequest
from orchestrator.core.quoting import code_span, one_line
from orchestrator.core.redact import redact
from orchestrator.core.workspace import CommitOutcome, Workspace
from orchestrator.delivery import stopping
from orchestrator.deps import Deps
from orchestrator.errors import AgentOSError, TrackerError
from orchestrator.store import rooms
from orchestrator.store.acceptance import Acceptance, AcceptanceRow, read, write

MARKER = "<!-- agentos:acceptance -->"
MIN_RUN_S = 1.0  # a run is not started with less time than this left
Results = dict[str, bool | None]  # test file -> passed (None: no verdict)


def prove(
    deps: Deps,
    repo: RepoConfig,
    ws: Workspace,
    committed: CommitOutcome,
    outcome: contract.AgentResult,
    room: rooms.Room,
) -> Acceptance | None:
    """Prove a complete attempt's change with its test files; keep the proof in the room."""
    if outcome.status is not contract.Status.COMPLETE or not committed.has_changes:
        return None
    started = time.monotonic()
    chosen = select(committed.files, lambda path: os.path.isfile(Path(ws.path) / path))
    found = template(repo.acceptance_command, repo.test_command)
    if not chosen.run:
        proof = Acceptance(committed.sha, ws.base_sha, (), _join("no test file to run", chosen))
    elif found is None:
        rows = tuple(AcceptanceRow(path, None, None) for path in chosen.run)
        proof = Acceptance(committed.sha, ws.base_sha, rows, OFF)
    else:
        budget = deps.config.limits.test_timeout_minutes * 60
        proof = _run(deps, ws, committed.sha, chosen, found, started + budget)
    write(room.path, proof)
    room.record(
        "acceptance.finished",
        files=[row.path for row in proof.rows],
        fails_on_base=[row.fails_on_base for row in proof.rows],
        passes_on_head=[row.passes_on_head for row in proof.rows],
        pass_on_base=proof.tests_pass_on_base,
        note=proof.note,
        seconds=round(time.monotonic() - started, 1),
    )
    return proof


def _run(
    deps: Deps, ws: Workspace, head: str, chosen: Selection, text: str, deadline: float
) -> Acceptance:
    """Run the chosen files on the base (a scratch checkout), then on the head."""
    notes = [chosen.note()]
    base: Results = dict.fromkeys(chosen.run)
    try:
        scratch = deps.worktrees.scratch(ws, ws.base_sha, head, chosen.overlay)
        try:
            base = _side(deps, text, scratch, chosen.run, ws, deadline)
        finally:
            deps.worktrees.remove_scratch(ws)
    except (AgentOSError, OSError) as error:
        notes.append(f"the base could not be checked out: {error}")
    on_head = _side(deps, text, ws.path, chosen.run, ws, deadline)
    rows = tuple(
        AcceptanceRow(path, None if base[path] is None else not base[path], on_head[path])
        for path in chosen.run
    )
    if any(None in _flags(row) for row in rows):
        if stopping.requested():
            notes.append("cut short: the worker was told to stop")
        elif time.monotonic() + MIN_RUN_S >= deadline:
            minutes = deps.config.limits.test_timeout_minutes
            notes.append(f"cut short: the proof may take {minutes:g} min (test_timeout_minutes)")
    return Acceptance(head, ws.base_sha, rows, "; ".join(n for n in notes if n)[:500])


def _side(
    deps: Deps, text: str, cwd: str, files: Sequence[str], ws: Workspace, deadline: float
) -> Results:
    """Return whether each file passes in `cwd`: together first, then one by one if that fails."""
    results: Results = dict.fromkeys(files)
    if len(files) > 1:
        together = _once(deps, text, cwd, files, ws, deadline)
        if together is not False:  # all pass; or no verdict (out of time, not confinable)
            return dict.fromkeys(files, together)
    for path in files:
        results[path] = _once(deps, text, cwd, (path,), ws, deadline)
    return results


def _once(
    deps: Deps, text: str, cwd: str, files: Sequence[str], ws: Workspace, deadline: float
) -> bool | None:
    left = deadline - time.monotonic()
    if left < MIN_RUN_S or stopping.requested():  # `off --now` waits for no proof
        return None
    readable = (ws.objects,) if ws.objects else ()
    run = deps.tests.run(command(text, files), cwd, left, readable=readable)
    return run.passed if run.ran else None


def _flags(row: AcceptanceRow) -> tuple[bool | None, bool | None]:
    return row.fails_on_base, row.passes_on_head


def _join(first: str, chosen: Selection) -> str:
    return "; ".join(part for part in (first, chosen.note()) if part)


# -- on the pull request ---------------------------------------------------------------------------
def attach(deps: Deps, pr: PullRequest, room: rooms.Room) -> None:
    """Show the room's proof on the PR: one comment, which a fixing round's new proof edits.

    Only a proof that was tried (test files to run and a command to run them); a comment that
    cannot be written is logged, never raised.
    """
    proof = read(room.path)
    if proof is None or not proof.rows or proof.note == OFF:
        return
    try:
        deps.tracker.upsert_comment(IssueRef(pr.repo, pr.number), MARKER, table(proof))
    except TrackerError as error:
        deps.log.warning(
            "acceptance.comment_failed", extra={"pr": pr.number, "error": str(error)[:200]}
        )


def table(proof: Acceptance) -> str:
    """Return the comment: a row per test file, then what the proof says."""
    lines = [
        "### Acceptance proof",
        "",
        "| test file | base (expect fail) | head (expect pass) |",
        "|---|---|---|",
    ]
    for row in proof.rows:
        base = _cell(row.fails_on_base, "fails", "passes")
        head = _cell(row.passes_on_head, "passes", "fails")
        lines.append(f"| {_path(row.path)} | {base} | {head} |")
    lines += ["", verdict(proof)]
    if proof.note:
        lines += ["", f"Note: {one_line(proof.note, 300)}"]
    lines += [
        "",
        f"The head's versions of these test files, run on the base `{proof.base_sha[:12]}` "
        f"and on the head `{proof.head_sha[:12]}` as the repo's tests run. A new head's proof "
        "edits this comment.",
    ]
    return redact("\n".join(lines) + "\n")


def verdict(proof: Acceptance) -> str:
    """One line: the proof proves the change, proves nothing, or is incomplete."""
    passing = [row.path for row in proof.rows if row.fails_on_base is False]
    failing = [row.path for row in proof.rows if row.passes_on_head is False]
    if passing:
        return (
            f"**Its tests already pass on the base: they prove nothing** ({_paths(passing)}). "
            "The risk tier counts this."
        )
    if failing:
        return f"**Some of its tests fail on the head** ({_paths(failing)})."
    if all(row.fails_on_base and row.passes_on_head for row in proof.rows):
        return "**This proves the change**: its tests fail on the base and pass on the head."
    return "**Incomplete**: not every test file could be run on both sides."


def _cell(value: bool | None, yes: str, no: str) -> str:
    if value is None:
        return "– not run"
    return f"✓ {yes}" if value else f"✗ {no}"


def _path(path: str) -> str:
    """A path the agent chose, as a code span a table cell keeps (`|` escaped, as GFM reads)."""
    return code_span(path).replace("|", "\\|")


def _paths(paths: Sequence[str], shown: int = 3) -> str:
    more = f" and {len(paths) - shown} more" if len(paths) > shown else ""
    return ", ".join(_path(path) for path in paths[:shown]) + more

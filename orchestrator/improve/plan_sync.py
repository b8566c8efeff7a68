"""A markdown plan brought onto GitHub (`agentos plan import`, docs/plan.md): gather, decide, act.

`apply` is an import, whoever asks: the command with a local file, the `plan_import` job with the
repo's own `plan_file`; both hold the repo's lock (`lock_name`) while it runs.

Gather: the repo's issues labelled `agentos:plan-item`, open and closed, each with the plan id
its marker names; each plan epic's sub-issues; each plan task's blockers (and the parent of a
task under none of the plan's epics). Decide: `core.plandiff.diff`. Act: its writes in its
order, each line said as soon as it is done, so a killed import leaves a trail and the next one
finds what exists by its marker and finishes the job. A dry run reads the same, writes nothing.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from orchestrator.config.model import RepoConfig
from orchestrator.core.labels import PLAN_ITEM
from orchestrator.core.model import BoardStatus, Issue, IssueRef
from orchestrator.core.plandiff import ChangeKind, IssueTarget, PlanChange, PlanIssue, diff, plan_id
from orchestrator.core.planfile import MarkdownPlan
from orchestrator.deps import Deps
from orchestrator.ports import Board, Tracker

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # closed since: every closed plan issue is still one
SHOWN = 120  # characters of a title in a line of output

Say = Callable[[str], None]


def lock_name(repo_key: str) -> str:
    """Return the repo's plan-import lock (runtime/locks/<name>.lock): one import at a time."""
    return f"plan_import-{repo_key}"


def apply(
    deps: Deps,
    repo: RepoConfig,
    plan: MarkdownPlan,
    file: str,
    say: Say,
    *,
    dry_run: bool = False,
    sha: str | None = None,
) -> Counter[str]:
    """Import `plan` (read from `file`) into `repo`: the writes, then, unless a dry run, the
    Backlog placement, each said as it is done; then the closing line. Log `plan.imported` (with
    the blob's `sha` when the plan came from the repo) and return the counts."""
    counts = sync(deps.tracker, repo.github, plan, deps.log, say, dry_run=dry_run)
    if not dry_run:
        board = deps.board_for(repo)
        counts["placed"] = place(deps.tracker, board, repo.github, plan, deps.log, say)
    say(summary(counts, dry_run=dry_run))
    source = {"file": file, "dry_run": dry_run, **({"sha": sha} if sha else {})}
    deps.log.info("plan.imported", extra={"repo": repo.key, **source, **counts})
    return counts


def read(tracker: Tracker, repo: str, plan: MarkdownPlan) -> list[PlanIssue]:
    """Return the plan issues in `repo`, with the links of those the plan has as tasks."""
    planned = {item.id: item for item in plan.items}
    marked = [
        (f, found)
        for f in tracker.filed_issues(repo, PLAN_ITEM, EPOCH)
        if (found := plan_id(f.body)) is not None
    ]
    parents: dict[int, IssueRef] = {}
    for filed, item_id in marked:
        item = planned.get(item_id)
        if item is not None and item.is_epic:
            epic = IssueRef(repo, filed.number)
            for sub in tracker.dependencies(tracker.issue(epic)).sub_issues:
                if sub.repo == repo:
                    parents[sub.number] = epic
    issues = []
    for filed, item_id in marked:
        item = planned.get(item_id)
        if item is None or item.is_epic:
            issues.append(PlanIssue(filed.number, item_id, filed.title, filed.body))
            continue
        ref = IssueRef(repo, filed.number)
        parent = parents.get(filed.number) or tracker.dependencies(tracker.issue(ref)).parent
        issues.append(
            PlanIssue(
                filed.number, item_id, filed.title, filed.body, parent, tracker.blocked_by(ref)
            )
        )
    return issues


def sync(
    tracker: Tracker,
    repo: str,
    plan: MarkdownPlan,
    log: logging.Logger,
    say: Say,
    *,
    dry_run: bool = False,
) -> Counter[str]:
    """Bring `repo`'s plan issues in line with `plan`; say each change; return the counts."""
    changes = diff(plan, read(tracker, repo, plan), repo)
    numbers: dict[str, int] = {}  # plan id -> the number of an issue created by this run
    issues: dict[int, Issue] = {}
    counts: Counter[str] = Counter()
    for change in changes:
        if change.writes and not dry_run:
            try:
                _write(tracker, repo, change, numbers, issues)
            except Exception as error:
                log.error(
                    "plan.failed",
                    extra={"repo": repo, "change": change.kind.value, "error": str(error)[:300]},
                )
                raise
        counts[_count(change)] += 1
        line = describe(change, numbers, dry_run=dry_run)
        extra: dict[str, object] = {"repo": repo, "change": change.kind.value}
        extra |= {"item": change.subject.item, "issue": _number(change.subject, numbers)}
        extra |= {"dry_run": dry_run, "line": line}
        log.info("plan.changed" if change.writes else "plan.reported", extra=extra)
        say(line)
    counts["writes"] = sum(1 for c in changes if c.writes)
    return counts


def place(
    tracker: Tracker, board: Board, repo: str, plan: MarkdownPlan, log: logging.Logger, say: Say
) -> int:
    """Put each plan issue that is on no board column yet in Backlog; return how many.

    One read of the board; an issue already in a column (wherever a person moved it) is left.
    """
    numbers = sorted(p.number for p in read(tracker, repo, plan))
    items = {i.issue.number: i for i in board.items(detail=()) if i.issue.repo == repo}
    placed = 0
    for number in numbers:
        item = items.get(number)
        if item is not None and item.status is not None:
            continue
        issue = tracker.issue(IssueRef(repo, number))
        if not issue.is_open:
            continue
        board.set_status(item or board.add(issue), BoardStatus.BACKLOG)
        log.info("plan.placed", extra={"repo": repo, "issue": number, "status": "Backlog"})
        say(f"place #{number} in Backlog")
        placed += 1
    return placed


def _write(
    tracker: Tracker,
    repo: str,
    change: PlanChange,
    numbers: dict[str, int],
    issues: dict[int, Issue],
) -> None:
    subject = IssueRef(repo, _number(change.subject, numbers) or 0)

    def issue(target: IssueTarget | None) -> Issue:
        assert target is not None
        number = _number(target, numbers)
        assert number is not None, target
        if number not in issues:
            issues[number] = tracker.issue(IssueRef(repo, number))
        return issues[number]

    if change.kind is ChangeKind.CREATE:
        made = tracker.create_issue(repo, change.title, change.body, [PLAN_ITEM])
        numbers[change.subject.item], issues[made.number] = made.number, made
    elif change.kind is ChangeKind.EDIT:
        tracker.update_issue(subject, title=change.title or None, body=change.body or None)
    elif change.kind is ChangeKind.LINK:
        tracker.add_sub_issue(issue(change.other).ref, issue(change.subject))
    elif change.kind is ChangeKind.BLOCK:
        tracker.add_blocker(subject, issue(change.other))
    elif change.kind is ChangeKind.UNBLOCK:
        tracker.remove_blocker(subject, issue(change.other))


def _number(target: IssueTarget, numbers: Mapping[str, int]) -> int | None:
    return target.number if target.number is not None else numbers.get(target.item)


def _count(change: PlanChange) -> str:
    if change.kind is ChangeKind.CREATE:
        return "epics" if change.epic else "tasks"
    return change.kind.value


def describe(change: PlanChange, numbers: Mapping[str, int], *, dry_run: bool = False) -> str:
    """Return the change as one line of output: `link #13 under #12`, `not in the plan: #16 …`."""

    def name(target: IssueTarget | None) -> str:
        assert target is not None
        number = _number(target, numbers)
        return f"#{number}" if number is not None else f'"{shown(target.title)}"'

    subject, other = name(change.subject), name(change.other) if change.other else ""
    kind, title = change.kind, shown(change.title)
    if kind is ChangeKind.CREATE:
        what = "epic" if change.epic else "task"
        made = f" ({subject})" if subject.startswith("#") else ""
        line = f'create {what} "{title}"{made}'
    elif kind is ChangeKind.EDIT:
        old = shown(change.subject.title)
        retitle = f'retitle {subject}: "{old}" → "{title}"' if change.title else ""
        rewrite = f"rewrite the description of {subject}" if change.body else ""
        line = "; ".join(p for p in (retitle, rewrite) if p)
    elif kind is ChangeKind.LINK:
        line = f"link {subject} under {other}"
    elif kind in (ChangeKind.BLOCK, ChangeKind.UNBLOCK):
        verb = "add" if kind is ChangeKind.BLOCK else "remove"
        line = f"{verb} dependency {subject} blocked by {other}"
    elif kind is ChangeKind.NOT_MOVED:
        return (
            f'not moved: {subject} "{shown(change.subject.title)}" is a sub-issue of '
            f"{change.parent}; the plan puts it under {other} (move it on GitHub)"
        )
    elif kind is ChangeKind.DUPLICATE:
        return (
            f'duplicate: {subject} "{shown(change.subject.title)}" carries the plan id '
            f"{change.subject.item} of {other} (close one of them)"
        )
    else:
        return f'not in the plan: {subject} "{shown(change.subject.title)}"'
    return f"would {line}" if dry_run else line


def summary(counts: Mapping[str, int], *, dry_run: bool = False) -> str:
    """Return the closing line: how many writes, of which kind, and what is only reported."""
    get = counts.get
    parts = (
        f"{plural(get('epics', 0), 'epic')} and {plural(get('tasks', 0), 'task')} created",
        f"{get(ChangeKind.EDIT.value, 0)} edited",
        f"{get(ChangeKind.LINK.value, 0)} linked",
        f"{plural(get(ChangeKind.BLOCK.value, 0), 'dependency', 'dependencies')} added",
        f"{get(ChangeKind.UNBLOCK.value, 0)} removed",
        *([f"{get('placed', 0)} placed in Backlog"] if get("placed") else []),
    )
    reported = (
        f"{get(ChangeKind.UNLISTED.value, 0)} not in the plan",
        f"{get(ChangeKind.NOT_MOVED.value, 0)} not moved",
        f"{plural(get(ChangeKind.DUPLICATE.value, 0), 'duplicate')}",
    )
    writes = plural(get("writes", 0), "write")
    head = f"dry run: {writes} would be made" if dry_run else writes
    return f"{head} ({', '.join(parts)}); {', '.join(reported)}"


def plural(count: int, word: str, words: str = "") -> str:
    """Return `1 epic`, `2 epics`, `0 dependencies`."""
    return f"{count} {word if count == 1 else words or word + 's'}"


def shown(text: str) -> str:
    """Return a title fit for a terminal line: no control character, at most SHOWN characters."""
    clean = "".join(c if c.isprintable() else " " for c in text)
    return clean if len(clean) <= SHOWN else clean[: SHOWN - 1] + "…"

"""The log analyzer's rules: what keeps going wrong week over week. No quota: a quiet week is [].

Three findings, each from plain data the ledger gives with simple SQL:

- **chronic**: a signature seen at least `min_count` times in the window, or (at least
  `MIN_SHARE_COUNT` times) on at least `min_share` of its repo's judged attempts. Severity low,
  medium when it is on half the repo's attempts or more: it recurs, it is not on fire.
- **agent_rate**: an agent whose merged rate fell by `drop` or more (absolute: 0.8 to 0.6 is
  0.2) from the previous window to this one, with at least `MIN_ATTEMPTS` attempts in both (five
  attempts make a rate; fewer make an anecdote). Medium.
- **flaky**: tests that fail and yet the work merges. The simplest honest heuristic: a
  task_failed signature whose excerpt reads like a test run (`_TEST_RUN`: "test", "assert",
  "spec", Go's "--- FAIL"), seen on at least `FLAKY_ISSUES` distinct issues of one repo in the
  window, of which at least half were merged later. It does not see whether the merging attempt
  changed the tests (a fix there would also end the failure), so the body says "likely". One
  finding per repo, its signatures listed, filed in that repo's backlog (scope product). Medium.

A finding's signature is a hash of what stays the same from one week to the next (the repo,
kind and original signature; the agent; the repo), never of counts or dates, so the noise control
keeps updating the one issue instead of filing a new one each week. It is hashed directly, not
through `signatures.signature`, whose normalising would read the 16 hex digits of an original
signature (or the digits of an agent's name) as a placeholder and merge them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from orchestrator.core.evidence import SignalGroup
from orchestrator.core.incidents import (
    PRODUCT,
    SYSTEM,
    Incident,
    Severity,
    facts,
    render,
    rule_for,
    urgency,
)
from orchestrator.core.quoting import one_line, safe_name

MIN_COUNT = 5  # improve.chronic_count
MIN_SHARE = 0.2  # improve.chronic_share
MIN_SHARE_COUNT = 3  # a share of fewer occurrences than this is an anecdote (1 of 2 runs)
DROP = 0.2  # improve.rate_drop
MIN_ATTEMPTS = 5  # attempts an agent needs in each window for its rate to be compared
FLAKY_ISSUES = 3  # distinct issues one test failure must have been seen on
_TEST_RUN = re.compile(r"test|assert|spec\b|--- fail", re.IGNORECASE)
_EPSILON = 1e-9  # 0.7 - 0.5 is 0.19999999999999996 in floats


@dataclass(frozen=True, slots=True)
class FlakyEvidence:
    """One task_failed signature in one repo over the window, with its issues' fate."""

    repo_key: str
    signature: str
    detail: str  # an excerpt of the failure, as the ledger kept it
    issues: tuple[int, ...]  # distinct issues an attempt of which failed with it
    merged: tuple[int, ...]  # of those, the ones whose work was merged afterwards


def analyse(
    totals: Sequence[SignalGroup],
    runs: Mapping[str, int],
    agents_now: Mapping[str, tuple[int, int]],
    agents_before: Mapping[str, tuple[int, int]],
    flaky: Sequence[FlakyEvidence] = (),
    *,
    min_count: int = MIN_COUNT,
    min_share: float = MIN_SHARE,
    drop: float = DROP,
    window_days: int = 7,
) -> list[Incident]:
    """Return the week's findings, most urgent first; [] when nothing keeps going wrong.

    `totals`: each (repo, kind, signature)'s signals over the window; `runs`: judged attempts per
    repo in it; `agents_now` / `agents_before`: (attempts, merged) per agent in this window and
    the one before.
    """
    found = [
        _chronic(group, runs.get(group.repo_key, 0), window_days)
        for group in totals
        if _is_chronic(group, runs.get(group.repo_key, 0), min_count, min_share)
    ]
    found += _rates(agents_now, agents_before, drop, window_days)
    found += _flaky(flaky, window_days)
    return sorted(found, key=urgency)


def stable_signature(*parts: str) -> str:
    """Return 16 hex digits naming a finding by what stays the same week over week."""
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _is_chronic(group: SignalGroup, runs: int, min_count: int, min_share: float) -> bool:
    if group.count >= max(1, min_count):
        return True
    return (
        runs > 0 and group.count >= MIN_SHARE_COUNT and group.count / runs >= min_share - _EPSILON
    )


def _chronic(group: SignalGroup, runs: int, days: int) -> Incident:
    share = group.count / runs if runs else None
    severity = Severity.MEDIUM if share is not None and share >= 0.5 else Severity.LOW
    kind = safe_name(group.kind)
    said = "\n".join(group.details).splitlines()
    excerpt = next((line.strip() for line in said if re.search(r"\w", line)), "")
    on = f", on {share:.0%} of {runs} attempts" if share is not None else ""
    what = (
        f"`{kind}` signals with one signature came back {group.count} times in {days} days{on}. "
        "Each may have been handled; together they keep costing attempts."
    )
    rule = rule_for(group.kind)
    look = f"The ledger's signals of kind `{kind}`."
    if rule:
        look = rule.look.format_map({"job": "<job>", "source": "<source>", "kind": kind})
    lines = facts(group, severity, days * 24)
    lines.insert(1, ("Kind", f"`{kind}` (signature `{safe_name(group.signature)}`)"))
    where = f" in {safe_name(group.repo_key)}" if group.repo_key else ""
    return Incident(
        repo_key=group.repo_key,
        kind="chronic",
        signature=stable_signature("chronic", group.repo_key, group.kind, group.signature),
        severity=severity,
        title=one_line(f"Recurring {kind}{where}, {group.count} in {days} days: {excerpt}"),
        body=render(what, lines, group.details, look),
        count=group.count,
        first_ts=group.first_ts,
        last_ts=group.last_ts,
        task_ids=group.task_ids,
        scope=rule.scope if rule else SYSTEM,
        details=group.details,
        window_hours=days * 24,
        reason=f"{group.count}_in_{days}d" + (f"_on_{share:.0%}_of_{runs}" if share else ""),
    )


def _rates(
    now: Mapping[str, tuple[int, int]],
    before: Mapping[str, tuple[int, int]],
    drop: float,
    days: int,
) -> list[Incident]:
    found = []
    for agent in sorted(now):
        if agent not in before:
            continue
        (tried, merged), (tried_before, merged_before) = now[agent], before[agent]
        if min(tried, tried_before) < MIN_ATTEMPTS:
            continue
        rate = min(max(merged, 0), tried) / tried
        rate_before = min(max(merged_before, 0), tried_before) / tried_before
        if rate_before - rate < drop - _EPSILON:
            continue
        name = safe_name(agent) or "-"
        what = (
            f"The agent `{name}` merged {rate:.0%} of its attempts in the last {days} days, "
            f"against {rate_before:.0%} in the {days} before."
        )
        lines = [
            ("Severity", Severity.MEDIUM.value),
            ("This window", f"{merged} merged of {tried} attempts ({rate:.0%})"),
            ("The window before", f"{merged_before} merged of {tried_before} ({rate_before:.0%})"),
        ]
        look = (
            f"`agentos report --since {days}d`; the rooms of `{name}`'s attempts that did not "
            "merge (their `channel.jsonl`); a change of its model, prompt or backend."
        )
        found.append(
            Incident(
                repo_key="",
                kind="agent_rate",
                signature=stable_signature("agent_rate", agent),
                severity=Severity.MEDIUM,
                title=one_line(
                    f"Agent {name}'s merged rate fell from {rate_before:.0%} to {rate:.0%}"
                ),
                body=render(what, lines, (), look),
                count=tried,
                first_ts="",
                last_ts="",
                task_ids=(),
                reason=f"rate_{rate_before:.2f}_to_{rate:.2f}",
            )
        )
    return found


def _flaky(rows: Sequence[FlakyEvidence], days: int) -> list[Incident]:
    by_repo: dict[str, list[FlakyEvidence]] = {}
    for row in rows:
        issues = set(row.issues)
        if len(issues) >= FLAKY_ISSUES and _TEST_RUN.search(row.detail):
            if 2 * len(issues & set(row.merged)) >= len(issues):
                by_repo.setdefault(row.repo_key, []).append(row)
    return [_flaky_finding(repo, found, days) for repo, found in sorted(by_repo.items())]


def _flaky_finding(repo: str, rows: list[FlakyEvidence], days: int) -> Incident:
    name = safe_name(repo) or "-"
    rows = sorted(rows, key=lambda r: (-len(set(r.issues)), r.signature))
    lines = [("Severity", Severity.MEDIUM.value), ("Repo", f"`{name}`")]
    for row in rows:
        issues, merged = sorted(set(row.issues)), set(row.issues) & set(row.merged)
        lines.append(
            (
                f"Signature `{safe_name(row.signature)}`",
                f"failed on {len(issues)} issues ("
                + ", ".join(str(n) for n in issues[:10])
                + f"), {len(merged)} of them merged later",
            )
        )
    what = (
        f"Tests in `{name}` likely flake: in the last {days} days the same test failure stopped "
        "attempts on several issues whose work was merged afterwards anyway."
    )
    look = "The failing tests named in the excerpts; run them repeatedly, in random order."
    return Incident(
        repo_key=repo,
        kind="flaky",
        signature=stable_signature("flaky", repo),
        severity=Severity.MEDIUM,
        title=one_line(f"Tests flake in {name}"),
        body=render(what, lines, [r.detail for r in rows[:3]], look),
        count=sum(len(set(r.issues)) for r in rows),
        first_ts="",
        last_ts="",
        task_ids=(),
        scope=PRODUCT,
        details=tuple(r.detail for r in rows[:3]),
        window_hours=days * 24,
        reason=f"{len(rows)}_test_failures_merged_anyway",
    )

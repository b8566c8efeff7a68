"""The incident scanner's rules: which runtime signals deserve an issue, and the words it files.

Every 15 minutes the scanner hands `assess` the signal groups that arrived since its cursor and,
for each key (repo, kind, signature), the key's totals over its rule's window (`rule_for(kind)`
says which window), so a failure that arrives two now and one next tick still reaches three. A
kind no rule covers is returned as an `unknown` cluster, for a model's triage (`core.triage`).

| kind | at least | in | severity | why |
|---|---|---|---|---|
| job_crashed | 1 | 1 h | high | a crashed tick did none of its work; the next may crash too |
| escalated | 3 alike | 24 h | medium | one is a person's job by design; 3 alike a day, a pattern |
| task_failed | 3 tasks | 24 h | medium | one task failing is its agent's; 3 alike, the setup's |
| worker_recovered | 2 | 24 h | medium | one recovery is a restart or a kill; 2 a day, workers die |
| quota | 3 | 1 h | low | hits are expected and waited out; 3 in an hour is a storm |
| github_error | 5 | 1 h | medium | GitHub has transient 5xx; 5 in an hour, an outage or our bug |
| ... "unauthorized" | 1 | 1 h | critical | a refused token stops every job and does not heal |
| gate_refused | 1 | 24 h | high | a change nearly carried a secret out: each one is read |
| canary | 1 | 24 h | critical | a planted fake credential was on its way out: a leak |
| source | 1 | 1 h | the config's | the user's software said so; theirs to grade (product) |

`thresholds` (kind -> count) replaces a rule's count; a distinct-task count is capped at 5, the
task ids the ledger keeps per group. A word rule (`Rule.words`) fires at the first occurrence.
A job_crashed detail reads `<job>: <error>` and a source's `<source name>: <text>`: the title
names them from there. Bodies quote the excerpts as untrusted log text (`quote_log`): redacted,
defused (no mention, closing keyword or forged marker survives), fenced past any backtick run.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from orchestrator.core import labels
from orchestrator.core.evidence import SignalGroup
from orchestrator.core.quoting import one_line, quote_log, safe_name, times, window_text
from orchestrator.core.redact import redact

MAX_TASK_IDS = 5  # task ids the ledger keeps per group: a distinct-task threshold is capped here
SYSTEM, PRODUCT = "system", "product"  # Agent OS's own failure, or the user's software's


class Severity(enum.StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:  # 0 for the most urgent
        return list(Severity).index(self)


@dataclass(frozen=True, slots=True)
class Rule:
    """One kind's rule: how many in how long make an incident, and how it reads."""

    kind: str
    threshold: int
    window_hours: float
    severity: Severity
    title: str  # a template: {job} {source} {detail} {count} {times} {tasks} {repo} {kind}
    scope: str  # SYSTEM or PRODUCT: decides which backlog gets it
    distinct_tasks: bool = False  # count distinct tasks, not occurrences
    what: str = ""  # the body's first sentence, the same template
    look: str = ""  # where to look, the same template
    words: tuple[tuple[str, Severity], ...] = ()  # a word in a detail: this severity, at once


_QUEUE = "`runtime/logs/queue.jsonl`"
RULES: tuple[Rule, ...] = (
    Rule(
        kind="job_crashed",
        threshold=1,
        window_hours=1,
        severity=Severity.HIGH,
        scope=SYSTEM,
        title="Job {job} crashed: {detail}",
        what="The `{job}` job crashed {times}: its tick did none of its work.",
        look="`runtime/logs/{job}.jsonl`, event `run.crashed` (its `traceback`).",
    ),
    Rule(
        kind="escalated",
        threshold=3,
        window_hours=24,
        severity=Severity.MEDIUM,
        scope=SYSTEM,
        title="Tasks escalated {count} times for one reason: {detail}",
        what="Tasks were handed to a person {times} for the same reason.",
        look=f"{_QUEUE} and `runtime/logs/pr_monitor.jsonl`, event `task.escalated`; the rooms "
        "of the example tasks.",
    ),
    Rule(
        kind="task_failed",
        threshold=3,
        window_hours=24,
        severity=Severity.MEDIUM,
        scope=SYSTEM,
        title="The same failure on {tasks} tasks: {detail}",
        distinct_tasks=True,
        what="{tasks} different tasks failed the same way: the cause is likely shared.",
        look="`runtime/rooms/<task-id>/channel.jsonl` of the example tasks.",
    ),
    Rule(
        kind="worker_recovered",
        threshold=2,
        window_hours=24,
        severity=Severity.MEDIUM,
        scope=SYSTEM,
        title="Workers died {count} times: {detail}",
        what="The queue recovered tasks from dead workers {times}.",
        look=f"{_QUEUE}, events `task.recovered` (`reason`, `deaths`) and `task.crashed`.",
    ),
    Rule(
        kind="quota",
        threshold=3,
        window_hours=1,
        severity=Severity.LOW,
        scope=SYSTEM,
        title="Quota storm, {count} hits in an hour: {detail}",
        what="Agents hit their quota {times} in an hour; the queue waits meanwhile.",
        look=f"{_QUEUE}, events `task.deferred` and `agent.finished` (`end`); the backends' "
        "limits.",
    ),
    Rule(
        kind="github_error",
        threshold=5,
        window_hours=1,
        severity=Severity.MEDIUM,
        scope=SYSTEM,
        title="GitHub errors, {count} in an hour: {detail}",
        what="GitHub answered with an error {times}.",
        look="`runtime/logs/*.jsonl`, events `run.unauthorized`, `pr.failed`, `board.unreadable`"
        ", `pulls.unreadable`; for a refusal, the token the config names.",
        words=(("unauthorized", Severity.CRITICAL), ("bad credentials", Severity.CRITICAL)),
    ),
    Rule(
        kind="gate_refused",
        threshold=1,
        window_hours=24,
        severity=Severity.HIGH,
        scope=SYSTEM,
        title="The outbound gate refused a change: {detail}",
        what="The outbound gate refused a change {times}: nothing was pushed (docs/security.md).",
        look=f"{_QUEUE}, event `gate.refused` (`code`, `places`).",
    ),
    Rule(
        kind="canary",
        threshold=1,
        window_hours=24,
        severity=Severity.CRITICAL,
        scope=SYSTEM,
        title="A canary was on its way out: {detail}",
        what="A planted fake credential showed up in what an attempt would carry out.",
        look=f"{_QUEUE}, event `security.canary_tripped` (`places`); the task's room.",
    ),
    Rule(
        kind="source",
        threshold=1,
        window_hours=1,
        severity=Severity.HIGH,
        scope=PRODUCT,
        title="{source} reported: {detail}",
        what="The source `{source}` reported a failure {times}.",
        look="The software behind the source `{source}` (`improve.sources` in the config).",
    ),
)
_BY_KIND = {rule.kind: rule for rule in RULES}
# A kind no rule covers, when no model triaged it (`core.triage.untriaged`): five a day is worth
# a look, fewer waits in the ledger (the weekly analyzer sees it if it keeps coming).
GENERIC = Rule(
    kind="unknown",
    threshold=5,
    window_hours=24,
    severity=Severity.LOW,
    scope=SYSTEM,
    title="Unrecognised {kind} signals, {count} in a day: {detail}",
    what="Signals of kind `{kind}` arrived {times}; no incident rule covers that kind.",
    look="The ledger's signals of kind `{kind}`, and the job that records them.",
)


def rule_for(kind: str) -> Rule | None:
    """Return the rule of a kind, or None (then `GENERIC` applies when nothing triages it)."""
    return _BY_KIND.get(kind)


def window_hours(kind: str) -> float:
    """Return how far back the scanner sums a kind's signals for `assess`'s `recent`."""
    return (rule_for(kind) or GENERIC).window_hours


@dataclass(frozen=True, slots=True)
class Incident:
    """An issue to file (or to update): the job wraps signature, title and body in a Proposal."""

    repo_key: str
    kind: str
    signature: str
    severity: Severity
    title: str  # one line, at most quoting.TITLE_MAX characters, no Markdown
    body: str  # Markdown, excerpts fenced; the job adds the signature marker
    count: int
    first_ts: str
    last_ts: str
    task_ids: tuple[str, ...]
    scope: str = SYSTEM
    details: tuple[str, ...] = ()  # the latest excerpts, as the ledger kept them
    window_hours: float = 0.0  # what `count` counts over (0: not a window's count)
    reason: str = ""  # why it was found, for the log: "3_tasks_in_24h", "word:unauthorized"


@dataclass(frozen=True, slots=True)
class Assessment:
    incidents: tuple[Incident, ...]  # most urgent first
    unknown: tuple[SignalGroup, ...]  # clusters of kinds no rule covers, with their totals


def assess(
    new: Sequence[SignalGroup],
    recent: Mapping[tuple[str, str, str], SignalGroup],
    *,
    thresholds: Mapping[str, int] | None = None,
    source_severity: Mapping[str, str] | None = None,
) -> Assessment:
    """Return the incidents the new signals make, judged on their keys' window totals."""
    found: list[Incident] = []
    unknown: list[SignalGroup] = []
    seen: set[tuple[str, str, str]] = set()
    for group in new:
        key = (group.repo_key, group.kind, group.signature)
        if key in seen:
            continue
        seen.add(key)
        total = recent.get(key, group)
        rule = rule_for(group.kind)
        if rule is None:
            unknown.append(total)
            continue
        fired = _fires(rule, total, thresholds or {}, source_severity or {})
        if fired is not None:
            found.append(incident(rule, total, *fired, sources=source_severity))
    return Assessment(tuple(sorted(found, key=urgency)), tuple(unknown))


def _fires(
    rule: Rule, group: SignalGroup, thresholds: Mapping[str, int], sources: Mapping[str, str]
) -> tuple[Severity, str] | None:
    """Return the severity and the reason when the rule fires on the group's totals."""
    text = " ".join(group.details).lower()
    for word, severity in rule.words:
        if word in text:
            return severity, f"word:{word}"
    need = max(1, thresholds.get(rule.kind, rule.threshold))
    have, what = group.count, "signals"
    if rule.distinct_tasks:
        need, have, what = min(need, MAX_TASK_IDS), len(set(group.task_ids)), "tasks"
    if have < need:
        return None
    reason = f"{have}_{what}_in_{rule.window_hours:g}h"
    if rule.kind == "source":
        name = _subject(group, sources)[0]
        given = sources.get(name) or sources.get(group.repo_key) or ""
        return (Severity(given), reason) if given in set(Severity) else (rule.severity, reason)
    return rule.severity, reason


def urgency(found: Incident) -> tuple[int, str, str, str]:
    """Sort key: the most urgent first, then by repo, kind and signature."""
    return (found.severity.rank, found.repo_key, found.kind, found.signature)


def incident(
    rule: Rule,
    group: SignalGroup,
    severity: Severity,
    reason: str = "",
    *,
    sources: Mapping[str, str] | None = None,
) -> Incident:
    """Return the incident a rule makes of a group's totals (`sources`: the source rule's names)."""
    name, detail = "", _first_line(group.details[0] if group.details else "")
    if rule.kind in ("job_crashed", "source"):
        name, detail = _subject(group, (sources or {}) if rule.kind == "source" else None)
    fields = {
        "job": name or "unknown",
        "source": name or safe_name(group.repo_key) or "a source",
        "detail": detail or "(no excerpt)",
        "count": str(group.count),
        "times": times(group.count),
        "tasks": str(len(set(group.task_ids))),
        "repo": safe_name(group.repo_key),
        "kind": safe_name(group.kind),
    }
    what, look = rule.what.format_map(fields), rule.look.format_map(fields)
    return from_group(group, rule, severity, rule.title.format_map(fields), what, look, reason)


def from_group(
    group: SignalGroup,
    rule: Rule,
    severity: Severity,
    title: str,
    what: str,
    look: str,
    reason: str,
) -> Incident:
    """Return the incident of a group: its title made one line, its body rendered with the
    group's facts and excerpts under the rule's scope and window."""
    return Incident(
        repo_key=group.repo_key,
        kind=group.kind,
        signature=group.signature,
        severity=severity,
        title=one_line(title),
        body=render(what, facts(group, severity, rule.window_hours), group.details, look),
        count=group.count,
        first_ts=group.first_ts,
        last_ts=group.last_ts,
        task_ids=group.task_ids,
        scope=rule.scope,
        details=group.details,
        window_hours=rule.window_hours,
        reason=reason,
    )


_SUBJECT = re.compile(r"\s*([\w.-]{1,64}):[ \t]+(.*)", re.DOTALL)
_JOB = re.compile(r"[a-z][a-z0-9_]*")  # a job's name; an exception's (KeyError) is no job's


def _subject(group: SignalGroup, sources: Mapping[str, str] | None) -> tuple[str, str]:
    """Return the name before `: ` in the first excerpt (a job's, or with `sources` one of its
    keys) and the first line after it; ("", the first line) when it names none."""
    first = group.details[0] if group.details else ""
    found = _SUBJECT.match(first)
    if found:
        name = found.group(1)
        if name in sources if sources is not None else _JOB.fullmatch(name):
            return name, _first_line(found.group(2))
    return "", _first_line(first)


def _first_line(text: str) -> str:
    """Return the first line with a letter or digit in it (a fence's ``` says nothing)."""
    return next((line.strip() for line in text.splitlines() if re.search(r"\w", line)), "")


def facts(group: SignalGroup, severity: Severity, window_hours: float) -> list[tuple[str, str]]:
    """Return the evidence lines of a group: what a reader checks first."""
    seen = f"{times(group.count)} {window_text(window_hours)}".rstrip()
    tasks = ", ".join(f"`{safe_name(t)}`" for t in group.task_ids) or "none"
    return [
        ("Severity", severity.value),
        ("Where", f"`{safe_name(group.repo_key)}`" if group.repo_key else "Agent OS itself"),
        ("Seen", f"{seen} (first {safe_name(group.first_ts)}, last {safe_name(group.last_ts)})"),
        ("Example tasks", tasks),
        ("Signature", f"`{safe_name(group.signature)}`"),
    ]


def render(what: str, lines: Sequence[tuple[str, str]], excerpts: Sequence[str], look: str) -> str:
    """Return an incident's body: what happened, the evidence, the excerpts, where to look."""
    parts = [what, "", *(f"- **{label}:** {value}" for label, value in lines), ""]
    if excerpts:
        parts += ["**Excerpts** (log text, quoted as data: not instructions):", ""]
        parts += [quote_log(text) + "\n" for text in excerpts]
    parts.append(f"**Where to look:** {look}")
    return redact("\n".join(parts)) + "\n"


def update_text(found: Incident) -> str:
    """Return the comment kept up to date on the open issue while its signature recurs."""
    seen = f"{times(found.count)} {window_text(found.window_hours)}".rstrip()
    when = [
        f"{label} seen {safe_name(ts)}"
        for label, ts in (("first", found.first_ts), ("last", found.last_ts))
        if ts
    ]
    lines = [f"**Still happening:** {'; '.join([seen, *when])} (severity {found.severity.value})."]
    if found.task_ids:
        lines.append("Example tasks: " + ", ".join(f"`{safe_name(t)}`" for t in found.task_ids))
    if found.details:
        lines += ["", "Latest excerpts (log text, quoted as data: not instructions):", ""]
        lines += [quote_log(text) + "\n" for text in found.details]
    return redact("\n".join(lines)).rstrip() + "\n"


def reopen_text(found: Incident, fixed_by_pr: int | None) -> str:
    """Return the comment that reopens a closed issue whose signature came back."""
    after = f"after #{fixed_by_pr} was merged" if fixed_by_pr and fixed_by_pr > 0 else ""
    head = f"**This came back** {after or 'after this issue was closed'}: reopened by Agent OS."
    return f"{head}\n\n{update_text(found)}"


def labels_for(found: Incident) -> tuple[str, ...]:
    """Return the labels an incident's issue carries."""
    return (labels.INCIDENT, labels.SEVERITY.format(found.severity.value))

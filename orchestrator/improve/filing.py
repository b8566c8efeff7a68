"""File what a producer found, through the one noise control every producer uses.

A `Filing` is what to say and where; `Filer.file` reads the repo's issues once per run (the
producer's own, open or closed in the last 90 days, and every open one), asks
`improve.noise.judge`, and then files a new issue (labelled, on the board in Backlog or Ready),
edits its evidence comment in place (the same signature, still open), reopens it (the same
signature came back after its issue was closed as completed: the comment names the pull request
that was meant to fix it), or skips (a duplicate by words, the daily cap, closed as not planned).
A decision to file that names borderline issues is put to the model `improve.triage_with` names,
when it names one (`improve.duplicate_check`): a duplicate it confirms is skipped, anything else
is filed (a failed check logs `duplicate_check.failed`). A dry run asks it too, and keeps nothing.

Every step can be killed and run again: the signature marker in the issue body is what finds an
earlier filing, so a repeat updates instead of filing twice. Each act logs `incident.filed`,
`.updated`, `.reopened` or `.skipped` (with the producer), which the outcome ledger reads.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from orchestrator.config.model import Config, RepoConfig
from orchestrator.core import incidents, labels
from orchestrator.core.incidents import Incident
from orchestrator.core.model import BoardStatus, FiledIssue, IssueRef
from orchestrator.deps import Deps
from orchestrator.errors import TrackerError, Unauthorized
from orchestrator.improve import duplicate_check, noise
from orchestrator.store.filings import Filings
from orchestrator.store.memo import Memo

EVIDENCE = "<!-- agentos:evidence={} -->"  # the comment edited in place as evidence grows


@dataclass(frozen=True, slots=True)
class Filing:
    """One thing to file in one repo."""

    repo: RepoConfig
    signature: str
    title: str
    body: str
    labels: tuple[str, ...]  # the first is the producer's own: earlier filings are found by it
    colours: dict[str, str] = field(default_factory=dict, hash=False)  # label -> colour
    ready: bool = False  # on the board in Ready rather than Backlog
    evidence: str = ""  # the comment kept up to date while the same signature recurs
    fields: dict[str, Any] = field(default_factory=dict, hash=False)  # extra event fields
    reopen: bool = True  # False: a closed issue of the same signature stays closed (skip)


@dataclass(frozen=True, slots=True)
class Filed:
    """What became of a filing."""

    action: str  # file | update | reopen | skip
    issue: int | None
    why: str
    fixed_by: int | None = None  # reopen: the merged PR that was meant to fix it


def incident_filing(config: Config, item: Incident) -> Filing | None:
    """Return what to file for an incident (scanner's or analyzer's), in the repo it belongs to.

    A product incident goes to its own repo (None when that repo left the config); Agent OS's
    own to `improve.incidents_repo`, else the repo it is about, else the first repo.
    """
    keys = {r.key for r in config.repos}
    if item.scope == incidents.PRODUCT:
        if item.repo_key not in keys:
            return None
        repo = config.repo(item.repo_key)
    elif config.improve.incidents_repo:
        repo = config.repo(config.improve.incidents_repo)
    else:
        repo = config.repo(item.repo_key) if item.repo_key in keys else config.repos[0]
    tags = incidents.labels_for(item)
    return Filing(
        repo=repo,
        signature=item.signature,
        title=item.title,
        body=item.body,
        labels=tags,
        colours={t: labels.INCIDENT_COLOURS.get(t, "ededed") for t in tags},
        ready=item.severity.value in config.improve.ready_severities,
        evidence=incidents.update_text(item),
        fields={
            "kind": item.kind,
            "severity": item.severity.value,
            "count": item.count,
            "first_seen": item.first_ts,
            "last_seen": item.last_ts,
        },
    )


class Filer:
    """Files for one producer during one run; caches what it read from GitHub per repo."""

    def __init__(
        self,
        deps: Deps,
        config: Config,
        now: datetime,
        *,
        producer: str,
        memo: Memo,
        dry_run: bool = False,
    ) -> None:
        self.deps, self.config, self.now = deps, config, now
        self.producer, self.memo, self.dry_run = producer, memo, dry_run
        self.filings = Filings(config.paths.runtime_dir)
        self._own: dict[str, list[FiledIssue]] = {}
        self._open: dict[str, list[noise.Known]] = {}
        self._labelled: set[str] = set()

    @property
    def log(self) -> logging.Logger:
        log: logging.Logger = self.deps.log
        return log

    def file(self, filing: Filing) -> Filed:
        """Judge one filing and act on the verdict; a GitHub error is logged, not raised."""
        try:
            decision = self._judge(filing)
            if self.dry_run:
                print(
                    f"{filing.repo.key}: {decision.action} {decision.issue or ''} "
                    f"({decision.why}): {filing.title}"
                )
                return decision
            return self._act(filing, decision)
        except Unauthorized:
            raise
        except TrackerError as error:
            self.log.warning(
                "incident.failed",
                extra={
                    "repo": filing.repo.key,
                    "signature": filing.signature,
                    "error": str(error)[:200],
                },
            )
            return Filed("skip", None, "github_error")

    def _judge(self, filing: Filing) -> Filed:
        own = self._own_issues(filing)
        watch = self.now - timedelta(days=self.config.improve.watch_days)
        # a same-signature issue closed before the watch began is history: this is news again
        old = {
            i.number
            for i in own
            if not i.is_open
            and i.closed_at is not None
            and i.closed_at < watch
            and noise.Known(i.number, i.title, i.body, False).signature == filing.signature
        }
        known = [
            noise.Known(i.number, i.title, i.body, i.is_open, i.closed_at)
            for i in own
            if i.number not in old
        ]
        numbers = {k.number for k in known}
        known += [k for k in self._open_issues(filing.repo) if k.number not in numbers | old]
        today = self.now.date().isoformat()
        proposal = noise.Proposal(filing.signature, filing.title, filing.body)
        verdict = noise.judge(
            proposal,
            known,
            self.filings.count(filing.repo.key, today),
            self.now,
            cap=self.config.improve.daily_cap,
        )
        if verdict.action == "reopen":
            closed = next(i for i in own if i.number == verdict.issue)
            if closed.state_reason == "not_planned":  # a person said no: respect it
                return Filed("skip", verdict.issue, "closed_as_not_planned")
            if not filing.reopen:
                return Filed("skip", verdict.issue, "closed")
        if verdict.action == "file" and verdict.near and self.config.improve.triage_with:
            near = [k for number in verdict.near for k in known if k.number == number]
            return self._second_opinion(filing, proposal, near, self.config.improve.triage_with)
        return Filed(verdict.action, verdict.issue, verdict.why)

    def _second_opinion(
        self, filing: Filing, proposal: noise.Proposal, near: list[noise.Known], model: str
    ) -> Filed:
        """Ask the model whether a borderline proposal repeats a near issue; file unless it does."""
        found = duplicate_check.second_opinion(
            lambda: self.deps.llm_for(model),
            self.memo,
            f"{filing.repo.key}:{filing.signature}",
            proposal,
            near,
        )
        if found.problem:
            self.log.warning(
                "duplicate_check.failed",
                extra={
                    "repo_key": filing.repo.key,
                    "signature": filing.signature,
                    "candidates": [k.number for k in near],
                    "error": found.problem[:200],
                },
            )
        if found.duplicate_of is not None:
            return Filed("skip", found.duplicate_of, f"duplicate (model: #{found.duplicate_of})")
        return Filed("file", None, "new")

    def _act(self, filing: Filing, decision: Filed) -> Filed:
        repo = filing.repo
        fields = {
            "repo_key": repo.key,
            "producer": self.producer,
            "signature": filing.signature,
            **filing.fields,
        }
        if decision.action == "skip":
            if self.memo.changed("skipped", f"{repo.key}:{filing.signature}", decision.why):
                self.log.info(
                    "incident.skipped",
                    extra={**fields, "issue": decision.issue, "reason": decision.why},
                )
            return decision
        if decision.action == "file":
            return self._file_new(filing, fields)
        assert decision.issue is not None
        ref = IssueRef(repo.github, decision.issue)
        if decision.action == "update":
            self._evidence(ref, filing, "")
            self.log.info("incident.updated", extra={**fields, "issue": decision.issue})
            return decision
        fixed_by = self.deps.tracker.closer(ref)
        self.deps.tracker.reopen_issue(ref)
        note = (
            f"This came back after #{fixed_by}, which was meant to fix it, was merged."
            if fixed_by
            else "This came back after the issue was closed."
        )
        self._evidence(ref, filing, note)
        self._place(repo, ref, filing.ready)
        self._forget(repo.key)
        self.log.info(
            "incident.reopened", extra={**fields, "issue": decision.issue, "pr": fixed_by}
        )
        return Filed("reopen", decision.issue, decision.why, fixed_by)

    def _file_new(self, filing: Filing, fields: dict[str, Any]) -> Filed:
        repo, tracker = filing.repo, self.deps.tracker
        if repo.key not in self._labelled and filing.colours:
            tracker.ensure_labels(repo.github, filing.colours)
            self._labelled.add(repo.key)
        body = noise.body_with_marker(filing.body, filing.signature)
        issue = tracker.create_issue(repo.github, filing.title, body, filing.labels)
        self.filings.add(
            repo.key, self.now.date().isoformat(), issue.number, self.producer, filing.signature
        )
        self._place(repo, issue.ref, filing.ready)
        self._forget(repo.key)
        self.log.info("incident.filed", extra={**fields, "issue": issue.number})
        return Filed("file", issue.number, "new")

    def _evidence(self, ref: IssueRef, filing: Filing, note: str) -> None:
        text = f"{note}\n\n{filing.evidence}".strip() if note else filing.evidence
        if text:
            self.deps.tracker.upsert_comment(ref, EVIDENCE.format(filing.signature), text)

    def _place(self, repo: RepoConfig, ref: IssueRef, ready: bool) -> None:
        """Put the issue on the board in Backlog (Ready when allowed); a board error is logged."""
        status = BoardStatus.READY if ready else BoardStatus.BACKLOG
        try:
            board = self.deps.board_for(repo)
            board.set_status(board.add(self.deps.tracker.issue(ref)), status)
        except Unauthorized:
            raise
        except TrackerError as error:
            self.log.warning(
                "board.update_failed",
                extra={"repo": repo.key, "issue": ref.number, "error": str(error)[:200]},
            )

    def _own_issues(self, filing: Filing) -> list[FiledIssue]:
        key = filing.repo.key
        if key not in self._own:
            since = self.now - noise.RECENT
            self._own[key] = self.deps.tracker.filed_issues(
                filing.repo.github, filing.labels[0], since
            )
        return self._own[key]

    def _open_issues(self, repo: RepoConfig) -> list[noise.Known]:
        if repo.key not in self._open:
            self._open[repo.key] = [
                noise.Known(i.number, i.title, i.body, True)
                for i in self.deps.tracker.open_issues(repo.github)
                if not i.is_pull_request
            ]
        return self._open[repo.key]

    def _forget(self, key: str) -> None:
        """What this run filed or reopened must be found by the next filing of the run."""
        self._own.pop(key, None)
        self._open.pop(key, None)

    def watch_fixes(self, repo: RepoConfig, label: str) -> int:
        """Log `incident.fixed` once for each filed issue a merged pull request closed.

        The ledger measures time to restore from it, and a recurrence reopens the issue.
        """
        found = 0
        since = self.now - timedelta(days=self.config.improve.watch_days)
        for issue in self.deps.tracker.filed_issues(repo.github, label, since):
            signature = noise.Known(issue.number, issue.title, issue.body, False).signature
            if issue.is_open or not signature or issue.state_reason == "not_planned":
                continue
            stamp = issue.closed_at.isoformat() if issue.closed_at else ""
            if self.memo.get("fixed", f"{repo.key}#{issue.number}") == stamp:
                continue  # this closing was looked at already
            pr = self.deps.tracker.closer(IssueRef(repo.github, issue.number))
            if not self.dry_run:
                self.memo.changed("fixed", f"{repo.key}#{issue.number}", stamp)
            if pr is None:
                continue
            found += 1
            self.log.info(
                "incident.fixed",
                extra={
                    "repo_key": repo.key,
                    "issue": issue.number,
                    "signature": signature,
                    "pr": pr,
                    "merged_at": stamp,
                },
            )
        return found

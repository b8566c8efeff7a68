"""Keep a repo's backlog tidy: read it, let `core.grooming` decide, and say each thing once.

Per repo, the reads come in this order: the board (with the dependencies of its Backlog, Ready
and Blocked issues), the mailbox, the open issues, the open pull requests. A task leaves the
mailbox's inbox/ and processing/ only after its PR is open or its escalation label is set, and the
dispatcher writes its task file before it moves the card, so a task that ends while the groomer
reads is never taken for a lost one.

Then, each through `improve.notes` (one marked comment per issue and purpose, never repeated):
duplicates by `improve.noise`'s measures (and, with `improve.triage_with`, its model check for
the borderline) marked on the newer issue and labelled `agentos:duplicate`; Ready issues without
success criteria asked for them (a model's draft with `dispatcher.structure_briefs_with`); issues
whose blockers are all closed noted as free; issues waiting for one closed as not planned flagged
`agentos:needs-decision`; In Progress and In Review cards that disagree with what is true moved
(`core.grooming.repair`), each move made once; and the escalations older than
`improve.stale_days` listed for the digest. Nothing is ever closed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from orchestrator.config.model import Config, RepoConfig
from orchestrator.core import brief, grooming, labels
from orchestrator.core.dependencies import body_blockers
from orchestrator.core.grooming import Blocker, Card, Repair, Stale
from orchestrator.core.model import BoardItem, BoardStatus, Issue, IssueRef
from orchestrator.core.tasks import ACTIVE, parse_id
from orchestrator.delivery.briefs import Briefs
from orchestrator.deps import Deps
from orchestrator.errors import TrackerError, Unauthorized
from orchestrator.improve import duplicate_check, noise
from orchestrator.improve.notes import Notes, digest

MEMO = "groomer"  # runtime/state/groomer.memo.json: what was said, and card moves made
DETAIL = (BoardStatus.BACKLOG, BoardStatus.READY, BoardStatus.BLOCKED)  # read with dependencies
MAX_ISSUES = 1000  # the newest open issues compared for duplicates, each with the older ones
MAX_CHECKS = 20  # borderline pairs put to the model in one run; the rest wait for the next


@dataclass(frozen=True, slots=True)
class RepoFacts:
    """One repo as the groomer read it."""

    repo: RepoConfig
    items: list[BoardItem]
    issues: dict[int, Issue]  # the open issues (no pull requests), by number
    live: set[int]  # issues with a task in inbox/ or processing/
    reviewed: set[int]  # issues an open PR works on or closes


class Groomer:
    """One run over the repos: what it did (`counts`) and the stale escalations it found."""

    def __init__(self, deps: Deps, config: Config, now: datetime, *, dry_run: bool = False):
        self.deps, self.config, self.now, self.dry_run = deps, config, now, dry_run
        self.memo = deps.memo(MEMO)
        self.notes = Notes(deps, self.memo, labels.GROOMER_COLOURS, dry_run=dry_run)
        self.counts = dict.fromkeys(grooming.ACTIONS, 0)
        self.stale: list[Stale] = []
        self.issues = 0
        self._checks = 0
        self._known: dict[IssueRef, Issue | None] = {}
        self._idle: set[str] = set()  # open issues with neither a live task nor an open PR

    @property
    def log(self) -> logging.Logger:
        log: logging.Logger = self.deps.log
        return log

    def groom(self, repo: RepoConfig) -> None:
        """Read one repo and tidy it: TrackerError when a read fails; a failed write is logged."""
        seen = self._read(repo)
        self.issues += len(seen.issues)
        self._duplicates(seen)
        self._briefs(seen)
        self._blockers(seen)
        self._cards(seen)
        self._escalations(seen)

    def finish(self, complete: bool) -> None:
        """Save the memo. With every repo read, a card move is forgotten once its issue moved on
        (a task, a PR, closed): should that card go wrong again, it is repaired again."""
        if self.dry_run:
            return
        if complete:
            self.memo.keep_only("repaired", self._idle)
        self.memo.save()

    def _read(self, repo: RepoConfig) -> RepoFacts:
        board = self.deps.board_for(repo).items(detail=DETAIL)
        items = [i for i in board if i.issue.repo == repo.github]
        live = {
            parsed[1]
            for state in ACTIVE
            for tid in self.deps.mailbox.ids(state)
            if (parsed := parse_id(tid)) is not None and parsed[0] == repo.key
        }
        tracker = self.deps.tracker
        issues = {i.number: i for i in tracker.open_issues(repo.github) if not i.is_pull_request}
        reviewed: set[int] = set()
        for pr in tracker.open_pulls(repo.github, ""):
            reviewed |= grooming.pr_issues(pr.head, pr.body)
        self._known.update({i.issue: i.content for i in items if i.content is not None})
        self._known.update({i.ref: i for i in issues.values()})
        return RepoFacts(repo, items, issues, live, reviewed)

    def _issue(self, ref: IssueRef) -> Issue | None:
        if ref not in self._known:
            try:
                self._known[ref] = self.deps.tracker.issue(ref)
            except Unauthorized:
                raise
            except TrackerError:  # deleted, moved or out of reach: nothing is known of it
                self._known[ref] = None
        return self._known[ref]

    def _did(self, action: str) -> bool:
        """Count an action; True when it is to be logged (a dry run prints instead: notes.py)."""
        self.counts[action] += 1
        return not self.dry_run

    # -- duplicates --------------------------------------------------------------------------------
    def _duplicates(self, seen: RepoFacts) -> None:
        """Judge each open issue against the older ones; mark the newer of a pair on itself."""
        older: list[noise.Known] = []
        for issue in sorted(seen.issues.values(), key=lambda i: i.number)[-MAX_ISSUES:]:
            known = noise.Known(issue.number, issue.title, issue.body, True)
            found = self._original(seen.repo, known, older) if older else None
            older.append(known)
            if found is None:
                continue
            original, why = found
            text = grooming.duplicate_text(original, grooming.duplicate_why(why))
            marked = self.notes.note(
                seen.repo, issue, grooming.DUPLICATE_NOTE, text, labels.DUPLICATE
            )
            if marked and self._did("duplicates"):
                self.log.info(
                    "duplicate.marked",
                    extra={
                        "repo": seen.repo.key,
                        "issue": issue.number,
                        "duplicate_of": original,
                        "why": why,
                    },
                )

    def _original(
        self, repo: RepoConfig, issue: noise.Known, older: list[noise.Known]
    ) -> tuple[int, str] | None:
        """Return the older issue this one repeats and why, by the noise control's measures."""
        proposal = noise.Proposal(issue.signature or "", issue.title, issue.body)
        verdict = noise.judge(proposal, older, 0, self.now, cap=1)
        if verdict.action in ("update", "skip") and verdict.issue is not None:
            return verdict.issue, verdict.why
        model = self.config.improve.triage_with
        if not verdict.near or model is None or self._checks >= MAX_CHECKS:
            return None
        self._checks += 1
        near = [k for number in verdict.near for k in older if k.number == number]
        key = f"{repo.key}:#{issue.number}"
        found = duplicate_check.second_opinion(
            lambda: self.deps.llm_for(model), self.memo, key, proposal, near
        )
        if found.problem:
            self.log.warning(
                "duplicate_check.failed",
                extra={
                    "repo_key": repo.key,
                    "issue": issue.number,
                    "signature": proposal.signature,
                    "candidates": [k.number for k in near],
                    "error": found.problem[:200],
                },
            )
        if found.duplicate_of is None:
            return None
        return found.duplicate_of, f"duplicate (model: #{found.duplicate_of})"

    # -- Ready issues without success criteria -----------------------------------------------------
    def _briefs(self, seen: RepoFacts) -> None:
        for item in seen.items:
            issue = seen.issues.get(item.issue.number)
            if item.status is not BoardStatus.READY or issue is None:
                continue
            if item.dependencies is not None and item.dependencies.sub_issues:
                continue  # an epic: its sub-issues are the work
            asked = digest(issue.title + "\n" + issue.body)
            if self.memo.get("briefs", str(issue.ref)) == asked:
                continue  # this text was answered already: the model is not asked again
            if not brief.from_issue(issue.title, issue.body).is_vague:
                continue
            text, drafted = self._brief_text(issue)
            if self.notes.note(seen.repo, issue, grooming.BRIEF_NOTE, text):
                if self._did("briefs"):
                    self.log.info(
                        "brief.requested",
                        extra={"repo": seen.repo.key, "issue": issue.number, "drafted": drafted},
                    )
            if not self.dry_run:
                self.memo.changed("briefs", str(issue.ref), asked)

    def _brief_text(self, issue: Issue) -> tuple[str, bool]:
        """Return the note for a vague issue: a model's draft to confirm, else what is missing."""
        llm = None if self.dry_run else self.deps.llm
        if llm is None:
            return grooming.missing_text(), False
        made = Briefs(llm, self.log).brief(issue)  # a failure logs brief.fallback
        if made.source != "model":
            return grooming.missing_text(), False
        return grooming.draft_text(brief.render(made)), True

    # -- blockers ----------------------------------------------------------------------------------
    def _blockers(self, seen: RepoFacts) -> None:
        """Note issues whose blockers are all closed; flag those waiting for abandoned work."""
        repo = seen.repo
        for item in seen.items:
            issue = seen.issues.get(item.issue.number)
            if issue is None or item.status not in DETAIL:
                continue
            recorded = item.dependencies.blocked_by if item.dependencies else ()
            refs = sorted({*recorded, *body_blockers(issue.body, repo.github)} - {issue.ref})
            found = [self._blocker(ref) for ref in refs]
            verdict = grooming.blockers_verdict(found)
            if not grooming.needs_note(item.status, verdict, issue.labels):
                continue
            named = [str(ref) for ref in refs]
            fields = {"repo": repo.key, "issue": issue.number}
            if verdict == "free":
                text = grooming.free_text(refs, repo.github)
                if self.notes.note(repo, issue, grooming.FREE_NOTE, text):
                    if self._did("free"):
                        self.log.info("blockers.cleared", extra={**fields, "blockers": named})
                continue
            gone = [b.ref for b in found if not b.is_open and b.not_planned]
            text = grooming.decision_text(gone, repo.github)
            if self.notes.note(repo, issue, grooming.DECISION_NOTE, text, labels.NEEDS_DECISION):
                if self._did("needs_decision"):
                    self.log.info("decision.requested", extra={**fields, "blockers": named})

    def _blocker(self, ref: IssueRef) -> Blocker:
        issue = self._issue(ref)
        if issue is None:
            return Blocker(ref, is_open=True)
        return Blocker(ref, issue.is_open, issue.state_reason == "not_planned")

    # -- cards -------------------------------------------------------------------------------------
    def _cards(self, seen: RepoFacts) -> None:
        for item in seen.items:
            if item.content is None or item.content.is_pull_request:
                continue  # a pull request's own card: the PR monitor's business
            number, issue = item.issue.number, seen.issues.get(item.issue.number)
            if issue is not None and number not in seen.live | seen.reviewed:
                self._idle.add(str(item.issue))  # a move made for this card still stands
            card = Card(
                item.status,
                is_open=issue is not None,
                escalated=issue is not None and labels.BLOCKED in issue.labels,
                live_task=number in seen.live,
                open_pr=number in seen.reviewed,
            )
            fix = grooming.repair(card)
            if fix is not None and item.status is not None:
                self._repair(seen.repo, item, item.status, fix, issue)

    def _repair(
        self,
        repo: RepoConfig,
        item: BoardItem,
        was: BoardStatus,
        fix: Repair,
        issue: Issue | None,
    ) -> None:
        move = f"{was.value}>{fix.target.value}"
        if self.memo.get("repaired", str(item.issue)) is not None:
            return  # moved once already: a person moved the card since, and it is theirs
        if fix.target is BoardStatus.BACKLOG and issue is not None:  # said first: a run killed
            text = grooming.card_text(was, fix.target, fix.reason)  # after the move still says it
            self.notes.note(repo, issue, grooming.CARD_NOTE, text)
        if not self.notes.move(repo, item, fix.target) or not self._did("repaired"):
            return
        self.log.info(
            "card.repaired",
            extra={
                "repo": repo.key,
                "issue": item.issue.number,
                "was": was.value,
                "status": fix.target.value,
                "reason": fix.reason,
            },
        )
        self.memo.changed("repaired", str(item.issue), move)

    # -- stale escalations -------------------------------------------------------------------------
    def _escalations(self, seen: RepoFacts) -> None:
        days = self.config.improve.stale_days
        for issue in sorted(seen.issues.values(), key=lambda i: i.number):
            if labels.BLOCKED not in issue.labels:
                continue
            trail = self.deps.tracker.label_events(issue.ref)
            waited = grooming.stale_days(
                grooming.blocked_since(trail, issue.created_at), self.now, days
            )
            if waited is not None:
                self.stale.append(Stale(seen.repo.github, issue.number, issue.title, waited))

"""The writes a job asked of the in-memory Tracker, kept as values.

A test asserts on `tracker.writes`.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.core.model import IssueRef


@dataclass(frozen=True, slots=True)
class CreateIssue:
    repo: str
    title: str
    labels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class UpdateIssue:
    ref: IssueRef
    title: str | None = None
    body: str | None = None


@dataclass(frozen=True, slots=True)
class CloseIssue:
    ref: IssueRef
    reason: str = "completed"


@dataclass(frozen=True, slots=True)
class ReopenIssue:
    ref: IssueRef


@dataclass(frozen=True, slots=True)
class PinIssue:
    ref: IssueRef


@dataclass(frozen=True, slots=True)
class AddLabels:
    ref: IssueRef
    labels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RemoveLabel:
    ref: IssueRef
    label: str


@dataclass(frozen=True, slots=True)
class EnsureLabels:
    repo: str
    labels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AddBlocker:
    ref: IssueRef
    blocker: IssueRef


@dataclass(frozen=True, slots=True)
class RemoveBlocker:
    ref: IssueRef
    blocker: IssueRef


@dataclass(frozen=True, slots=True)
class AddSubIssue:
    parent: IssueRef
    child: IssueRef


@dataclass(frozen=True, slots=True)
class UpsertComment:
    ref: IssueRef
    marker: str
    body: str


@dataclass(frozen=True, slots=True)
class OpenPull:
    repo: str
    head: str
    base: str
    title: str


@dataclass(frozen=True, slots=True)
class EnqueuePull:
    repo: str
    number: int
    sha: str


@dataclass(frozen=True, slots=True)
class MergePull:
    repo: str
    number: int
    method: str = "squash"


@dataclass(frozen=True, slots=True)
class ClosePull:
    repo: str
    number: int


@dataclass(frozen=True, slots=True)
class DeleteBranch:
    repo: str
    branch: str


@dataclass(frozen=True, slots=True)
class CreateStatus:
    repo: str
    sha: str
    context: str
    state: str


@dataclass(frozen=True, slots=True)
class CreateReview:
    repo: str
    number: int
    event: str
    author: str


Write = (
    CreateIssue
    | UpdateIssue
    | CloseIssue
    | ReopenIssue
    | PinIssue
    | AddLabels
    | RemoveLabel
    | EnsureLabels
    | AddBlocker
    | RemoveBlocker
    | AddSubIssue
    | UpsertComment
    | OpenPull
    | MergePull
    | EnqueuePull
    | ClosePull
    | DeleteBranch
    | CreateStatus
    | CreateReview
)

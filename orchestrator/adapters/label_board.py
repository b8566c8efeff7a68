"""Implement the Board port on `status:*` labels, through any Tracker.

It serves repos without a Projects board.
"""

from __future__ import annotations

from collections.abc import Collection

from orchestrator.core.board import LABEL_COLOURS, status_from_labels
from orchestrator.core.model import BoardItem, BoardStatus, Issue
from orchestrator.ports import Tracker


class LabelBoard:
    """Every open issue of the repo is on this board.

    Its status is its `status:*` label (`status:ready`). A read costs the tracker's open-issue
    listing (one conditional GET per 100 on GitHub) plus `dependencies` for each open issue in the
    detailed statuses. Closed issues are not listed: closing an issue is what finishes it here.
    """

    def __init__(self, tracker: Tracker, repo: str) -> None:
        self._tracker, self.repo = tracker, repo

    def stamp(self, previous: str | None = None) -> str | None:
        """None: reading this board costs no GraphQL (its listing is conditional REST)."""
        return None

    def items(self, detail: Collection[BoardStatus] = (BoardStatus.READY,)) -> list[BoardItem]:
        """List open issues with the status their labels give, oldest first as a board would."""
        found = [self._item(issue) for issue in reversed(self._tracker.open_issues(self.repo))]
        return [
            BoardItem(
                i.item_id,
                i.issue,
                i.status,
                i.status_name,
                i.content,
                self._tracker.dependencies(i.content),
            )
            if i.status in detail and i.content
            else i
            for i in found
        ]

    def add(self, issue: Issue) -> BoardItem:
        """Return the issue's item, read afresh.

        Every open issue is on this board already, so nothing is written.
        """
        return self._item(self._tracker.issue(issue.ref))

    def set_status(self, item: BoardItem, status: BoardStatus) -> BoardItem:
        """Add the status's label, then take the other `status:*` labels off; read the issue back.

        Adding first means a run killed half-way leaves two labels, and the one furthest along wins.
        """
        self._tracker.ensure_labels(self.repo, {status.label: LABEL_COLOURS[status]})
        self._tracker.add_labels(item.issue, [status.label])
        current = self._tracker.issue(item.issue)
        for other in BoardStatus:
            if other is not status and other.label in current.labels:
                self._tracker.remove_label(item.issue, other.label)
        return self._item(self._tracker.issue(item.issue))

    @staticmethod
    def _item(issue: Issue) -> BoardItem:
        status = status_from_labels(issue.labels)
        return BoardItem(
            item_id=str(issue.ref),
            issue=issue.ref,
            status=status,
            status_name=status.label if status else None,
            content=issue,
        )

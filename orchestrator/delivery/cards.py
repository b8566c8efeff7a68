"""Move an issue's card on its repo's board, adding it first when it is not on the board yet."""

from __future__ import annotations

from orchestrator.config.model import RepoConfig
from orchestrator.core.model import BoardStatus, IssueRef
from orchestrator.deps import Deps
from orchestrator.errors import TrackerError


def move(deps: Deps, repo: RepoConfig, ref: IssueRef, status: BoardStatus) -> bool:
    """Set the card's status; False (logged) when GitHub refused.

    A card is never worth failing a task for.
    """
    try:
        board = deps.board_for(repo)
        item = board.add(deps.tracker.issue(ref))
        if item.status is not status:
            board.set_status(item, status)
    except TrackerError as error:
        deps.log.warning(
            "board.update_failed",
            extra={
                "issue": ref.number,
                "repo": ref.repo,
                "status": status.value,
                "error": str(error)[:200],
            },
        )
        return False
    return True

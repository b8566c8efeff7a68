"""Whose issues may run: writers and trusted users at once, anyone else once a writer approves."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from orchestrator.core.labels import APPROVED
from orchestrator.core.model import LabelEvent, Permission


def trust(
    author: str,
    permission: Permission,
    trusted_users: Collection[str],
    events: Callable[[], Sequence[LabelEvent]],
    permission_of: Callable[[str], Permission],
) -> tuple[bool, str]:
    """Return (trusted, reason) for an issue's author.

    The approval label counts only while it stands and only when the user who added it last
    can write to the repo: a stranger adding `agentos:approved` to their own issue does nothing.
    `events` is asked for the label trail only when the author is neither a writer nor trusted,
    so a writer's issue costs no request for it.
    """
    if permission >= Permission.WRITE:
        return True, "write_access"
    if author.lower() in {u.lower() for u in trusted_users}:
        return True, "trusted_user"
    approver = _standing_approver(events())
    if approver is not None and permission_of(approver) >= Permission.WRITE:
        return True, f"approved_by:{approver}"
    return False, "untrusted"


def _standing_approver(events: Sequence[LabelEvent]) -> str | None:
    """Return who added the approval label last, if it was not removed after that."""
    approver = None
    for event in sorted(events, key=lambda e: e.created_at):
        if event.label == APPROVED:
            approver = event.actor if event.added else None
    return approver

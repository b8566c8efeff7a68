"""Whose issues may run: writers and trusted users at once, anyone else once a writer approves."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime

from orchestrator.core.labels import APPROVED
from orchestrator.core.model import LabelEvent, Permission

STALE = "approval_stale"  # a writer approved, then the title or body changed


def trust(
    author: str,
    permission: Permission,
    trusted_users: Collection[str],
    events: Callable[[], Sequence[LabelEvent]],
    permission_of: Callable[[str], Permission],
    edited_at: Callable[[], datetime | None],
) -> tuple[bool, str]:
    """Return (trusted, reason) for an issue's author.

    The approval label counts only while it stands, only when the user who added it last can
    write to the repo (a stranger adding `agentos:approved` to their own issue does nothing), and
    only when it is newer than the last edit of the issue's title or body: a writer approves the
    text they read, so an edit after it (`approval_stale`) waits for a new approval. `events` and
    `edited_at` are asked only when needed, so a writer's issue costs no request for either, and an
    outsider's unapproved one none for its edits.
    """
    if permission >= Permission.WRITE:
        return True, "write_access"
    if author.lower() in {u.lower() for u in trusted_users}:
        return True, "trusted_user"
    approval = _standing_approval(events())
    if approval is None or permission_of(approval.actor) < Permission.WRITE:
        return False, "untrusted"
    edited = edited_at()
    if edited is not None and edited >= approval.created_at:  # same second: not newer
        return False, STALE
    return True, f"approved_by:{approval.actor}"


def _standing_approval(events: Sequence[LabelEvent]) -> LabelEvent | None:
    """Return the event that added the approval label last, if it was not removed after that."""
    approval = None
    for event in sorted(events, key=lambda e: e.created_at):
        if event.label == APPROVED:
            approval = event if event.added else None
    return approval

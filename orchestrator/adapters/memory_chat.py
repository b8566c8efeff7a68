"""In-memory twins of the chat-side ports, for job tests: a Notifier that keeps what it was told.

(A module of its own because adapters/memory.py is at the size limit.)
"""

from __future__ import annotations

from orchestrator.core.notify import Kind, Notification


class MemoryNotifier:
    """The Notifier port in memory: `notes` lists every notification, in order."""

    def __init__(self) -> None:
        self.notes: list[Notification] = []

    def notify(self, note: Notification) -> None:
        """Keep the note."""
        self.notes.append(note)

    def kinds(self) -> list[Kind]:
        """Return the kinds notified so far, in order (what most assertions need)."""
        return [note.kind for note in self.notes]

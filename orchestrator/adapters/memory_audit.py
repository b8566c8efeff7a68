"""The in-memory twin of the AuditLog port, for job tests: a real chain, kept in a list.

Lines are sealed as `store.audit` seals them, with a fixed key, so a test can check the chain
(`core.audit.check`) as well as read what was recorded.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import UTC, datetime

from orchestrator.core import audit
from orchestrator.core.audit import AuditEntry, FieldValue
from orchestrator.core.redact import redact, redact_all

KEY = b"memory-audit-key-for-tests-only!"


def memory_mac(text: str) -> str:
    """The twin's MAC: HMAC-SHA256 under the fixed test key."""
    return hmac.new(KEY, text.encode(), hashlib.sha256).hexdigest()


class MemoryAudit:
    """The AuditLog port in memory: `entries` is the chain, oldest first."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.entries: list[AuditEntry] = []
        self._clock = clock or (lambda: datetime.now(UTC))

    def record(self, act: str, *, actor: str, **fields: FieldValue | None) -> None:
        """Seal the act onto the chain (None fields left out, strings redacted)."""
        last = self.entries[-1] if self.entries else None
        moment = self._clock().astimezone(UTC).isoformat(timespec="milliseconds")
        self.entries.append(
            audit.seal(
                seq=last.seq + 1 if last else 1,
                time=moment.replace("+00:00", "Z"),
                act=redact(act),
                actor=redact(actor),
                fields={k: redact_all(v, 500) for k, v in fields.items() if v is not None},
                prev=last.hash if last else audit.GENESIS,
                mac=memory_mac,
            )
        )

    def acts(self) -> list[str]:
        """Return the acts recorded so far, in order (what most assertions need)."""
        return [entry.act for entry in self.entries]

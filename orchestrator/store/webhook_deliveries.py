"""The webhook deliveries already handled, so a redelivery wakes nothing, even after a restart.

GitHub names each event with the `X-GitHub-Delivery` header and keeps the name when a delivery
is sent again (a redelivery from the hook's settings, or the API's). The receiver claims each
name here before it wakes a job; a name claimed already is a duplicate. The names live in
`runtime/state/webhook_deliveries.json` (`{"ids": [oldest, ..., newest]}`), at most `MAX_IDS`
of them, written atomically after each new one. A damaged file is set aside in
`runtime/quarantine/` and the set starts empty: the worst a lost set costs is one extra tick per
event delivered again.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from pathlib import Path

from orchestrator.config.model import Paths
from orchestrator.store import quarantine
from orchestrator.store.files import atomic_write, read_state

FILE = "webhook_deliveries.json"
MAX_IDS = 2000  # about a busy day of events; GitHub lets a delivery be sent again for 3 days
MAX_ID_LENGTH = 100
MAX_BYTES = 1 << 20


class SeenDeliveries:
    """A bounded, persisted set of delivery ids; safe to use from the receiver's threads."""

    def __init__(self, state_dir: Path, runtime_dir: Path, limit: int = MAX_IDS) -> None:
        self.path, self.runtime_dir, self.limit = state_dir / FILE, runtime_dir, limit
        self._ids: OrderedDict[str, None] = OrderedDict.fromkeys(self._load())
        self._lock = threading.Lock()

    @classmethod
    def of(cls, paths: Paths) -> SeenDeliveries:
        """Return the set kept under a config's `runtime/state/`."""
        return cls(paths.state_dir, paths.runtime_dir)

    def __contains__(self, delivery: object) -> bool:
        with self._lock:
            return delivery in self._ids

    def __len__(self) -> int:
        with self._lock:
            return len(self._ids)

    def claim(self, delivery: str) -> bool:
        """Add a delivery id; False when it was there already (a duplicate). Not yet saved."""
        with self._lock:
            if delivery in self._ids:
                return False
            self._ids[delivery] = None
            while len(self._ids) > self.limit:
                self._ids.popitem(last=False)
            return True

    def forget(self, delivery: str) -> None:
        """Drop a claimed id whose handling failed, so that its redelivery is handled."""
        with self._lock:
            self._ids.pop(delivery, None)

    def save(self) -> None:
        """Write the set atomically; OSError when it cannot be written (the set stays in memory)."""
        with self._lock:
            atomic_write(self.path, json.dumps({"ids": list(self._ids)}) + "\n")

    def _load(self) -> list[str]:
        try:
            data = json.loads(read_state(self.path, MAX_BYTES))
            ids = data["ids"]
            if not isinstance(ids, list) or not all(
                isinstance(i, str) and 0 < len(i) <= MAX_ID_LENGTH for i in ids
            ):
                raise ValueError("ids is not a list of delivery ids")
            return ids[-self.limit :]
        except FileNotFoundError:
            return []
        except (OSError, ValueError, KeyError, TypeError) as exc:
            why = f"unreadable webhook deliveries ({type(exc).__name__})"
            quarantine.set_aside(self.path, self.runtime_dir, why)
            return []

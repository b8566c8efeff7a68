"""Where the chat left off: the last Telegram update handled, and when.

`runtime/state/telegram_offset.json`, written atomically after each handled update. A damaged
file is set aside and the bot starts afresh (Telegram then resends what it still holds).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from orchestrator.config.model import Paths
from orchestrator.store import quarantine
from orchestrator.store.files import atomic_write, read_state

OFFSET_FILE = "telegram_offset.json"
# Telegram keeps unconfirmed updates for 24 hours, and after a week without updates it may
# restart update ids below the last one. An offset older than this protects nothing and
# could make the bot deaf, so it is forgotten.
OFFSET_TTL = timedelta(hours=48)


def last_update_id(paths: Paths, now: datetime) -> int:
    """Return the last handled update id; 0 when there is none, or it is stale."""
    path = paths.state_dir / OFFSET_FILE
    try:
        saved = json.loads(read_state(path))
        update_id, at = saved["update_id"], datetime.fromisoformat(saved["at"])
        if not isinstance(update_id, int) or isinstance(update_id, bool) or update_id < 0:
            raise ValueError(f"update_id {update_id!r}")
        return 0 if now - at > OFFSET_TTL else update_id
    except FileNotFoundError:
        return 0
    except (OSError, ValueError, KeyError, TypeError) as exc:  # set aside: start afresh
        why = f"unreadable Telegram offset ({type(exc).__name__})"
        quarantine.set_aside(path, paths.runtime_dir, why)
        return 0


def handled(state_dir: Path, update_id: int, now: datetime) -> None:
    """Persist the update id and when, atomically."""
    atomic_write(
        state_dir / OFFSET_FILE, json.dumps({"update_id": update_id, "at": now.isoformat()})
    )

"""One poll round of the Telegram control bot: handle commands and presses, deliver notifications.

Cron runs it every minute, holding the job's lock, so two pollers never race for the update
offset; `agentos bot` holds the same lock while it long-polls, and these ticks then skip.
"""

from __future__ import annotations

from datetime import datetime

from orchestrator.config.model import Config
from orchestrator.deps import Deps


def run(deps: Deps, config: Config, now: datetime, *, dry_run: bool = False) -> dict[str, int]:
    """Poll once; with `dry_run`, only count the waiting updates (nothing handled, nothing sent)."""
    chat = deps.chat
    if chat is None:
        deps.log.info(
            "telegram.not_configured", extra={"reason": "no telegram section in the config"}
        )
        return {"updates": 0, "messages": 0}
    result = chat.poll_round(deps.control, dry_run=dry_run)
    return {"updates": result.updates, "messages": result.messages}

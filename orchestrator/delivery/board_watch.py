"""Spare a dispatcher tick its full board read when no board and nothing of its own changed.

The decision is `core.board_reads`; this module takes the stamps (`Board.stamp`) and keeps what
the last full read saw in the dispatcher's memo, under `boards`: a stamp per repo key, `local`
(the digest of the config, the repos switched on and the tasks in flight) and `read_at`. A tick
woken by a webhook (`agentos serve` sets AGENTOS_WAKE) always reads: the hook may announce what
no stamp sees, such as a blocker closed on another repo.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from orchestrator.config.model import Config, RepoConfig
from orchestrator.core.board_reads import local_digest, reason_to_read
from orchestrator.deps import Deps
from orchestrator.store.memo import Memo

SECTION = "boards"
LOCAL, READ_AT = "local", "read_at"  # keys of SECTION beside the repo keys
WAKE_VAR = "AGENTOS_WAKE"  # why `agentos serve` started the tick: "webhook issues.labeled" …


@dataclass(frozen=True, slots=True)
class Look:
    """What a tick saw before reading: why it must read ("" if it need not), and the stamps."""

    reason: str
    stamps: Mapping[str, str | None]  # repo key -> stamp taken before the read


def look(
    deps: Deps,
    memo: Memo,
    config: Config,
    repos: Sequence[RepoConfig],
    active: Collection[str],
    now: datetime,
    environ: Mapping[str, str] = os.environ,
) -> Look:
    """Take each board's stamp and decide whether the boards must be read in full."""
    before = {key: value for key in memo.keys(SECTION) if (value := memo.get(SECTION, key))}
    read_at = _when(before.pop(READ_AT, None))
    stamps = {r.key: deps.board_for(r).stamp(before.get(r.key)) for r in repos}
    reason = reason_to_read(
        before,
        {**stamps, LOCAL: _local(config, repos, active)},
        read_at=read_at,
        now=now,
        refresh=timedelta(minutes=config.dispatcher.full_read_minutes),
        woken=environ.get(WAKE_VAR, "").startswith("webhook"),
    )
    return Look(reason, stamps)


def remember(
    deps: Deps,
    memo: Memo,
    config: Config,
    repos: Sequence[RepoConfig],
    seen: Look,
    failed: Collection[str],
    active: Collection[str],
    now: datetime,
) -> None:
    """Record a full read: each board's stamp from before it (or, for a board that had none yet,
    from now: the read taught it how), the tick's own inputs as they are now, and the time. A
    board that could not be read keeps no stamp, so the next tick reads it again."""
    memo.keep_only(SECTION, set())
    for repo in repos:
        if repo.key in failed:
            continue
        stamp = seen.stamps.get(repo.key) or deps.board_for(repo).stamp(None)
        if stamp is not None:
            memo.changed(SECTION, repo.key, stamp, digest=False)
    memo.changed(SECTION, LOCAL, _local(config, repos, active), digest=False)
    memo.changed(SECTION, READ_AT, now.isoformat(), digest=False)


def _local(config: Config, repos: Sequence[RepoConfig], active: Collection[str]) -> str:
    return local_digest([repr(config), *sorted(r.key for r in repos), *sorted(active)])


def _when(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:  # a damaged memo: read, as after a loss
        return None

"""Read the cost caps and the quota waits: `limits.max_cost_per_task`, `max_cost_per_day`,
`max_deferrals`, and each repo's own `repos[].max_cost_per_task` and `max_cost_per_day`.

They are taken out of `limits` and `repos[]` before those sections are read (`split`), and read
here: a cap is USD, a positive number up to MAX_USD; absent or null, there is none. A repo's
task cap defaults to the one in `limits`; its day cap is its own, beside the global one.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from orchestrator.config.model import Caps, RepoConfig
from orchestrator.config.reader import Reader

LIMIT_KEYS = ("max_cost_per_task", "max_cost_per_day", "max_deferrals")
REPO_KEYS = ("max_cost_per_task", "max_cost_per_day")
MAX_USD = 100_000.0  # a cap past this is a slip of the keyboard
MAX_DEFERRALS = 100


def split(raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return `raw` without the cap keys of `limits` and `repos[]`, and those keys apart.

    `raw` itself is left as it was. Apart, they are `{"limits": {...}, "repos": {key: (i,
    {...})}}`: each repo's by its key, with its place in the list (for the messages).
    """
    rest: dict[str, Any] = dict(raw)
    taken: dict[str, Any] = {"limits": {}, "repos": {}}
    limits = raw.get("limits")
    if isinstance(limits, dict):
        rest["limits"] = {k: v for k, v in limits.items() if k not in LIMIT_KEYS}
        taken["limits"] = {k: v for k, v in limits.items() if k in LIMIT_KEYS}
    repos = raw.get("repos")
    if isinstance(repos, list):
        rest["repos"] = [_without(item) for item in repos]
        taken["repos"] = {
            item["key"]: (i, {k: v for k, v in item.items() if k in REPO_KEYS})
            for i, item in enumerate(repos)
            if isinstance(item, dict) and isinstance(item.get("key"), str)
        }
    return rest, taken


def _without(item: Any) -> Any:
    return {k: v for k, v in item.items() if k not in REPO_KEYS} if isinstance(item, dict) else item


def read(r: Reader, taken: dict[str, Any]) -> Caps:
    """Read the caps of `limits` taken apart by `split`."""
    node = taken["limits"]
    deferrals = r.integer(
        node, "max_deferrals", "limits", default=Caps().max_deferrals, maximum=MAX_DEFERRALS
    )
    return Caps(
        max_cost_per_task=_usd(r, node, "max_cost_per_task", "limits"),
        max_cost_per_day=_usd(r, node, "max_cost_per_day", "limits"),
        max_deferrals=deferrals,
    )


def for_repos(
    r: Reader, taken: dict[str, Any], repos: tuple[RepoConfig, ...], caps: Caps
) -> tuple[RepoConfig, ...]:
    """Return the repos with their caps: their own, else the task cap of `limits`."""
    capped = []
    for repo in repos:
        i, node = taken["repos"].get(repo.key, (0, {}))
        path = f"repos[{i}]"
        own = _usd(r, node, "max_cost_per_task", path)
        capped.append(
            replace(
                repo,
                max_cost_per_task=caps.max_cost_per_task if own is None else own,
                max_cost_per_day=_usd(r, node, "max_cost_per_day", path),
            )
        )
    return tuple(capped)


def _usd(r: Reader, node: dict[str, Any], key: str, path: str) -> float | None:
    if node.get(key) is None:
        return None
    value = r.number(node, key, path, 0.0, maximum=MAX_USD)
    return value if value > 0 else None

"""A Projects board's stamp: a fingerprint of its items, read through REST with ETags.

`GET /users/{owner}/projectsV2/{n}/items` (or `/orgs/...`) lists every item with its content
(the issue: state, labels, updated_at) and, with `fields=<the Status field's id>`, its status.
Each page is asked for with the ETag of its last answer (the REST client keeps them across ticks:
store.http_cache), and GitHub answers an unchanged page 304, which its rate limit does not count.
So an idle board's stamp costs a request per 100 items and none of the hourly budget, where a full
GraphQL read costs three points a page. The REST paths need to know whether the owner is a user or
an organisation and the Status field's number: the GraphQL read tells both, and the stamp
carries them (`users/123/<digest>`), so the next tick's stamp needs no GraphQL at all.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from github import GithubException
from requests import RequestException

from orchestrator.adapters.github_http import Rest

KINDS = {"User": "users", "Organization": "orgs"}
_STAMP = re.compile(r"^(users|orgs)/([0-9]{1,19})/[0-9a-f]{32}$")


def where_of(project: Mapping[str, Any]) -> tuple[str, int] | None:
    """Return (users|orgs, Status field number) from a GraphQL read of the board, if it says."""
    kind = KINDS.get(str((project.get("owner") or {}).get("__typename")))
    number = (project.get("field") or {}).get("databaseId")
    return (kind, number) if kind and isinstance(number, int) else None


def where_in(stamp: str | None) -> tuple[str, int] | None:
    """Return what an earlier stamp carried; None for none or a damaged one."""
    found = _STAMP.match(stamp or "")
    return (found.group(1), int(found.group(2))) if found else None


def take(rest: Rest, owner: str, number: int, where: tuple[str, int]) -> str | None:
    """Return the board's stamp; None when REST cannot tell (the caller then reads in full)."""
    kind, field = where
    path = f"/{kind}/{quote(owner, safe='')}/projectsV2/{number}/items"
    try:
        items = rest.pages(path, fields=str(field))
    except (GithubException, RequestException, ValueError, TypeError):
        return None  # the full read that follows reports the trouble, with its reasons
    if not isinstance(items, list):
        return None
    digest = hashlib.sha256()
    for item in items:
        digest.update(json.dumps(item, sort_keys=True, separators=(",", ":")).encode() + b"\n")
    return f"{kind}/{field}/{digest.hexdigest()[:32]}"

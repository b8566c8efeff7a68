"""Read one file of a repository at a ref: GitHub's contents API, base64 in JSON.

`GET /repos/{owner}/{repo}/contents/{path}?ref=...` answers a file with its blob sha and its
bytes in base64 (up to 1 MB), a directory with a list of its entries, and 404 when the path (or
the ref) is not there. A larger file comes back without its content (or, from older servers, as a
403 `too_large`): that is an error here, never an empty file.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import quote

from github import GithubException

from orchestrator.adapters.github_errors import one_line, translated, validation_says
from orchestrator.adapters.github_http import Rest
from orchestrator.core.model import RepoFile
from orchestrator.errors import TrackerError


def file_text(rest: Rest, repo: str, path: str, ref: str) -> RepoFile | None:
    """Return the file at `ref` as text with its blob sha, or None: one conditional GET."""
    subject = f"{repo}:{path} at {ref}"
    with translated(subject, "read"):
        try:
            found = rest.get(f"/repos/{repo}/contents/{quote(path)}", ref=ref)
        except GithubException as error:
            if error.status == 404:  # no such file, ref or repository (GitHub says no more)
                return None
            if validation_says(error, 403, "too_large", "too large"):
                raise _too_large(subject) from None
            raise
    return repo_file(found, subject)


def repo_file(found: Any, subject: str) -> RepoFile:
    """Return a contents answer as a RepoFile; TrackerError for anything but a text file."""
    if isinstance(found, list):
        raise TrackerError(one_line(f"{subject} is a directory, not a file"))
    kind = found.get("type") if isinstance(found, dict) else None
    if kind != "file":
        raise TrackerError(one_line(f"{subject} is not a file (GitHub says: {kind})"))
    if found.get("encoding") != "base64":  # "none" past 1 MB: the content is left out
        raise _too_large(subject)
    try:
        data = base64.b64decode(str(found.get("content") or ""))
    except binascii.Error as error:
        raise TrackerError(one_line(f"GitHub sent {subject} garbled ({error})")) from None
    try:
        return RepoFile(data.decode("utf-8"), str(found["sha"]))
    except UnicodeDecodeError as error:
        raise TrackerError(one_line(f"{subject} is not UTF-8 text (byte {error.start})")) from None


def _too_large(subject: str) -> TrackerError:
    return TrackerError(one_line(f"{subject} is over 1 MB, more than the contents API sends"))

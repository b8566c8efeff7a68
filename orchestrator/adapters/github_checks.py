"""Read what a failed check says beyond the list of checks: its annotations and its job's log.

A GitHub Actions job's log (`Check.job`: `github_normalize.job_of`) is two steps, as GitHub
serves it: `GET …/actions/jobs/J/logs` answers 302 with a signed URL that lives a minute, on a
host other than the API's (PyGithub refuses to follow it there), which is then fetched without
the token. A log too big to want whole keeps its head and its end.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

import requests
from github import GithubException

from orchestrator.adapters.github_errors import is_rate_limited, translated
from orchestrator.adapters.github_http import Rest
from orchestrator.adapters.github_normalize import Json, text
from orchestrator.core.model import Annotation, Check, CheckDetails

ANNOTATIONS_READ = 50  # the first page: the fixer is shown 20
LOG_KEEP = 1_000_000  # bytes kept from each end of a bigger log
LOG_READ = 50_000_000  # bytes read at most; past them the log's end is not reached
TIMEOUT = 30.0  # seconds to connect to the log's host, and between bytes
MISSING = (403, 404, 410)  # no Actions permission, no such job, logs expired: no log


def check_details(rest: Rest, repo: str, check: Check) -> CheckDetails:
    """Read a check run's annotations (when it has any) and its Actions job's log (when it is one):
    up to two REST requests and a download; nothing at all for a commit status."""
    if check.run_id is None:
        return CheckDetails()
    annotations: tuple[Annotation, ...] = ()
    if check.annotations:
        path = f"/repos/{repo}/check-runs/{check.run_id}/annotations"
        with translated(f"{repo} check run {check.run_id}", "read the annotations of"):
            annotations = tuple(
                map(normalize_annotation, rest.get(path, per_page=ANNOTATIONS_READ))
            )
    log = job_log(rest, repo, check.job) if check.job is not None else ""
    return CheckDetails(annotations, log)


def normalize_annotation(raw: Json) -> Annotation:
    """Return a check annotation (its title leads its message when it has one)."""
    title, message = text(raw.get("title")).strip(), text(raw.get("message")).strip()
    line = raw.get("start_line")
    return Annotation(
        path=text(raw.get("path")),
        line=int(line) if isinstance(line, int) else None,
        message=f"{title}: {message}" if title and title not in message else message,
        level=text(raw.get("annotation_level")) or "failure",
    )


def job_log(rest: Rest, repo: str, job: int) -> str:
    """Return an Actions job's log; "" when GitHub has none to give (expired, or not ours)."""
    subject = f"{repo} job {job}"
    with translated(subject, "read the log of"):
        try:
            where = rest.location(f"/repos/{repo}/actions/jobs/{job}/logs")
        except GithubException as error:
            if error.status in MISSING and not is_rate_limited(error):
                return ""
            raise
    if not where:
        return ""
    with translated(subject, "download the log of"):  # signed: the token is not sent there
        with requests.get(where, stream=True, timeout=TIMEOUT) as response:
            response.raise_for_status()
            return ends(response.iter_content(65536))


def ends(chunks: Iterable[bytes], keep: int = LOG_KEEP, most: int = LOG_READ) -> str:
    """Return the text of `chunks`, only `keep` bytes of its head and of its end when longer,
    reading at most `most` bytes."""
    head, tail, tail_size, read = bytearray(), deque[bytes](), 0, 0
    for chunk in chunks:
        read += len(chunk)
        taken = max(0, keep - len(head))
        head += chunk[:taken]
        if len(chunk) > taken:
            tail.append(chunk[taken:])
            tail_size += len(chunk) - taken
        while tail and tail_size - len(tail[0]) >= keep:
            tail_size -= len(tail.popleft())
        if read >= most:
            break
    end = b"".join(tail)[-keep:]
    skipped = read - len(head) - len(end)
    note = f"\n[… {skipped} bytes of the log left out …]\n" if skipped > 0 else ""
    if read >= most:
        note = f"\n[… the log goes on past {most} bytes: what follows is not its end …]\n"
    return bytes(head).decode("utf-8", "replace") + note + end.decode("utf-8", "replace")

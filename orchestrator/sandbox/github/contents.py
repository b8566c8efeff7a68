"""Serve the contents API: a file or a directory of a repository at a ref, read from git.

Also the `download_url` it hands out (`/OWNER/NAME/raw/REF/PATH` on the sandbox's host).
"""

from __future__ import annotations

import base64
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote

from orchestrator.sandbox.github import gitrepo
from orchestrator.sandbox.github.access import can, repo_for
from orchestrator.sandbox.github.api import ApiError, Call, Reply, not_found
from orchestrator.sandbox.github.gitrepo import TreeEntry
from orchestrator.sandbox.github.routing import ROUTES
from orchestrator.sandbox.github.server import Outgoing
from orchestrator.sandbox.github.state import Json, Store

MAX_JSON_BLOB = 1024 * 1024  # GitHub's JSON form carries files up to 1 MB
MAX_ENTRIES = 1000  # "This API has an upper limit of 1,000 files for a directory."
RAW_TYPE = "application/vnd.github.v3.raw; charset=utf-8"  # as GitHub answers (recorded)
_MEDIA = re.compile(r"application/vnd\.github(?:\.v3)?\.(raw|html|object)(?:\+json)?")
_TOO_LARGE = (
    "This API returns blobs up to 1 MB in size. The requested blob is too large to fetch via the "
    "API, but you can use the Git Data API to request blobs up to 100 MB in size."
)


@dataclass(frozen=True)
class At:
    """A repository at a ref: where its contents live and the URLs GitHub gives them."""

    call: Call
    repo: Json
    ref: str
    commit: str

    @property
    def git_dir(self) -> Path:
        """Return the bare repository."""
        return self.call.store.git_dir(self.repo)

    def _repo_api(self) -> str:
        return f"{self.call.api}/repos/{self.repo['owner']}/{self.repo['name']}"

    def _repo_html(self) -> str:
        return f"{self.call.base}/{self.repo['owner']}/{self.repo['name']}"

    def render(self, entry: TreeEntry, kind: str) -> Json:
        """Return the fields every contents object has (`kind`: file, dir, symlink, submodule)."""
        path, ref = quote(entry.path), quote(self.ref, safe="/")
        url = f"{self._repo_api()}/contents/{path}?ref={quote(self.ref, safe='')}"
        git_url: str | None = None
        html_url: str | None = None
        if entry.kind != "commit":
            git_url = f"{self._repo_api()}/git/{'trees' if kind == 'dir' else 'blobs'}/{entry.sha}"
            html_url = f"{self._repo_html()}/{'tree' if kind == 'dir' else 'blob'}/{ref}/{path}"
        download = f"{self._repo_html()}/raw/{ref}/{path}" if entry.kind == "blob" else None
        return {
            "type": kind,
            "size": entry.size,
            "name": posixpath.basename(entry.path),
            "path": entry.path,
            "sha": entry.sha,
            "url": url,
            "git_url": git_url,
            "html_url": html_url,
            "download_url": download,
            "_links": {"self": url, "git": git_url, "html": html_url},
        }


def _kind(entry: TreeEntry) -> str:
    if entry.kind == "tree":
        return "dir"
    if entry.kind == "commit":
        return "file"  # "submodules have their type specified as file" in a listing
    return "symlink" if entry.mode == "120000" else "file"


@ROUTES.route("GET", "/repos/{owner}/{repo}/contents/{path+}", "repos/get-content")
def get_content(call: Call) -> Reply:
    """Return a file (base64 content) or a directory (a list of entries) at `ref`."""
    path = call.params["path"].strip("/")
    if not _is_tree_path(path):
        raise not_found()
    return _serve(call, path)


# The root is get-content with an empty path; GitHub serves it with and without the slash.
_ROOT = "/repos/{owner}/{repo}/contents/"


@ROUTES.route("GET", "/repos/{owner}/{repo}/contents", "repos/get-content", _ROOT)
@ROUTES.route("GET", _ROOT, "repos/get-content")
def get_root(call: Call) -> Reply:
    """Return the root directory at `ref`."""
    return _serve(call, "")


def _serve(call: Call, path: str) -> Reply:
    repo = repo_for(call)
    media = _MEDIA.search(call.header("accept"))
    if media and media.group(1) != "raw":
        raise ApiError(
            501,
            f"The sandbox does not implement the {media.group(0)} media type of repos/get-content",
        )
    at = _at(call, repo)
    if not path:
        return _listing(at, "")
    entry = gitrepo.tree_entry(at.git_dir, at.commit, path)
    if entry is None:
        raise not_found()
    if entry.kind == "tree":
        return _listing(at, path)
    if entry.kind == "commit":
        url = gitrepo.submodule_url(at.git_dir, at.commit, path) or ""
        return Reply(200, {**at.render(entry, "submodule"), "submodule_git_url": url})
    if entry.mode == "120000":
        target = gitrepo.read_blob(at.git_dir, entry.sha).decode(errors="replace")
        found = _followed(at, entry, target)
        if found is None:
            return Reply(200, {**at.render(entry, "symlink"), "target": target})
        entry = found
    return _file(at, entry, bool(media))


def _at(call: Call, repo: Json) -> At:
    git_dir = call.store.git_dir(repo)
    if not gitrepo.refs(git_dir, "refs/heads/"):
        raise ApiError(404, "This repository is empty.")
    ref = call.arg("ref") or repo["default_branch"]
    commit = gitrepo.resolve(git_dir, ref) if "\x00" not in ref else None
    if commit is None:
        raise ApiError(404, f"No commit found for the ref {ref}")
    return At(call, repo, ref, commit)


def _is_tree_path(path: str) -> bool:
    """Return whether `path` can name something in a tree (git refuses "..", "." and NUL)."""
    return "\x00" not in path and all(part not in ("", ".", "..") for part in path.split("/"))


def _listing(at: At, path: str) -> Reply:
    entries = gitrepo.list_tree(at.git_dir, at.commit, path)[:MAX_ENTRIES]
    return Reply(200, [at.render(e, _kind(e)) for e in entries])


def _followed(at: At, link: TreeEntry, target: str) -> TreeEntry | None:
    """Return the regular file a symlink points at inside the repository, or None."""
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(link.path), target))
    if target.startswith("/") or resolved.startswith(".."):
        return None
    found = gitrepo.tree_entry(at.git_dir, at.commit, resolved)
    return found if found and found.kind == "blob" and found.mode != "120000" else None


def _file(at: At, entry: TreeEntry, raw: bool) -> Reply:
    data = gitrepo.read_blob(at.git_dir, entry.sha)
    if raw:
        return Reply(
            200, data, {"Content-Type": RAW_TYPE, "X-GitHub-Media-Type": "github.v3; param=raw"}
        )
    if len(data) > MAX_JSON_BLOB:
        raise ApiError(
            403, _TOO_LARGE, [{"resource": "Blob", "field": "data", "code": "too_large"}]
        )
    text = base64.b64encode(data).decode()
    content = "".join(f"{text[i : i + 60]}\n" for i in range(0, len(text), 60))
    return Reply(200, {**at.render(entry, "file"), "content": content, "encoding": "base64"})


RAW = re.compile(r"^/(?!api/)([^/]+)/([^/]+)/raw/(.+)$")  # a contents `download_url`


def raw_response(store: Store, path: str, login: str) -> Outgoing:
    """Answer a contents `download_url` with the file's bytes, as raw.githubusercontent does."""
    owner, name, rest = unquote(path).lstrip("/").split("/", 2)
    data = raw_file(store, login, owner, name, rest.removeprefix("raw/"))
    if data is None:
        return Outgoing(404, {"Content-Type": "text/plain; charset=utf-8"}, b"404: Not Found")
    return Outgoing(200, {"Content-Type": "text/plain; charset=utf-8"}, data)


def raw_file(store: Store, login: str, owner: str, name: str, rest: str) -> bytes | None:
    """Return the bytes a `download_url` names (REF/PATH, the ref may hold slashes), or None."""
    repo = store.repo(owner, name)
    if repo is None or not can(store, repo, login, "pull"):
        return None
    git_dir, parts = store.git_dir(repo), rest.split("/")
    if not _is_tree_path(rest):
        return None
    for cut in range(1, len(parts)):
        commit = gitrepo.resolve(git_dir, "/".join(parts[:cut]))
        entry = commit and gitrepo.tree_entry(git_dir, commit, "/".join(parts[cut:]))
        if entry and entry.kind == "blob":
            return gitrepo.read_blob(git_dir, entry.sha)
    return None

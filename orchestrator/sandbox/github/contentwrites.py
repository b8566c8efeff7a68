"""Write a file through the contents API (`PUT …/contents/{path}`): one commit on a branch.

As GitHub: creating needs no `sha`; replacing an existing file needs its blob `sha` (422
without it, 409 when it is not the file's current one); the branch defaults to the default
branch, and a protected branch refuses the commit (409). A classic token without the
`workflow` scope may not write under `.github/workflows/`: GitHub answers 404.
"""

from __future__ import annotations

import base64
import binascii
import posixpath
from urllib.parse import quote

from orchestrator.sandbox.github import gitdata, gitrepo, pushrules, validation
from orchestrator.sandbox.github.access import repo_for
from orchestrator.sandbox.github.api import ApiError, Call, Reply, invalid, not_found
from orchestrator.sandbox.github.routing import ROUTES
from orchestrator.sandbox.github.state import Json

WORKFLOWS = ".github/workflows/"

# 403 for a caller without write access (the description lists 404, 409 and 422 only).
validation.ALLOWED_RESPONSE_DEVIATIONS.add(("repos/create-or-update-file-contents", 403))


def _scopes(call: Call) -> list[str] | None:
    """Return the calling token's OAuth scopes; None for a token that has none (an app's)."""
    scheme, _, value = call.header("authorization").partition(" ")
    if scheme.lower() not in ("token", "bearer"):
        return None
    record = call.store.tokens.get(value.strip())
    if record is None or "app" in call.store.users.get(record["login"], {}):
        return None
    return list(record["scopes"])


def _content(call: Call) -> str:
    raw = call.field("content")
    if not isinstance(raw, str):
        raise invalid("Content", "content", "missing_field")
    try:
        return base64.b64decode(raw, validate=False).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise ApiError(422, "content is not valid Base64") from None


def _person(call: Call, name: str) -> dict[str, str]:
    given = call.field(name)
    if isinstance(given, dict) and given.get("name") and given.get("email"):
        return gitrepo.identity(str(given["name"]), str(given["email"]), given.get("date"))
    user = call.store.users[call.login]
    return gitrepo.identity(str(user.get("name") or user["login"]), str(user["email"]))


@ROUTES.route(
    "PUT", "/repos/{owner}/{repo}/contents/{path+}", "repos/create-or-update-file-contents"
)
def put_content(call: Call) -> Reply:
    """Commit one file on the branch: 201 when it is new, 200 when it replaced one."""
    repo = repo_for(call, "push", 403)
    path = posixpath.normpath(call.params["path"].strip("/"))
    if path in (".", "") or path.startswith(("../", "/")) or not call.field("message"):
        raise invalid("Content", "message" if not call.field("message") else "path")
    scopes = _scopes(call)
    if path.startswith(WORKFLOWS) and scopes is not None and "workflow" not in scopes:
        raise not_found()  # GitHub hides the refusal of a workflow file as a 404
    text = _content(call)
    branch = str(call.field("branch") or repo["default_branch"])
    bare = call.store.git_dir(repo)
    old = gitrepo.resolve(bare, f"refs/heads/{branch}")
    if old is None:
        raise ApiError(404, f"Branch {branch} not found")
    entry = gitrepo.tree_entry(bare, old, path)
    given = call.field("sha")
    if entry is not None and given is None:
        raise invalid("Content", "sha", "missing_field", '"sha" wasn\'t supplied.')
    if entry is not None and given != entry.sha:
        raise ApiError(409, f"{path} does not match {given}")
    author, committer = _person(call, "author"), _person(call, "committer")
    with call.store.lock:
        new = gitrepo.commit_files(
            bare, branch, {path: text}, str(call.field("message")), {**author, **committer}
        )
        refused = pushrules.refusal(call.store, repo, call.login, old, new, f"refs/heads/{branch}")
        if refused:
            gitrepo.set_ref(bare, f"refs/heads/{branch}", old, new)
            raise ApiError(409, refused)
    call.hooks.pushed(repo, [(old, new, f"refs/heads/{branch}")], call.login)
    return Reply(201 if entry is None else 200, _render(call, repo, branch, path, new))


def _render(call: Call, repo: Json, branch: str, path: str, sha: str) -> Json:
    bare = call.store.git_dir(repo)
    entry = gitrepo.tree_entry(bare, sha, path)
    assert entry is not None
    api = f"{call.api}/repos/{repo['owner']}/{repo['name']}"
    html = f"{call.base}/{repo['owner']}/{repo['name']}"
    url = f"{api}/contents/{quote(path)}?ref={quote(branch, safe='')}"
    blob_html = f"{html}/blob/{quote(branch, safe='/')}/{quote(path)}"
    content = {
        "name": posixpath.basename(path),
        "path": path,
        "sha": entry.sha,
        "size": entry.size,
        "url": url,
        "html_url": blob_html,
        "git_url": f"{api}/git/blobs/{entry.sha}",
        "download_url": f"{html}/raw/{quote(branch, safe='/')}/{quote(path)}",
        "type": "file",
        "_links": {"self": url, "git": f"{api}/git/blobs/{entry.sha}", "html": blob_html},
    }
    rendered = gitdata.render_commit(call, repo, sha)
    commit = rendered["commit"]
    return {
        "content": content,
        "commit": {
            "sha": sha,
            "node_id": rendered["node_id"],
            "url": f"{api}/git/commits/{sha}",
            "html_url": rendered["html_url"],
            "author": commit["author"],
            "committer": commit["committer"],
            "message": commit["message"],
            "tree": commit["tree"],
            "parents": [
                {"url": p["url"], "html_url": p.get("html_url", ""), "sha": p["sha"]}
                for p in rendered["parents"]
            ],
            "verification": commit["verification"],
        },
    }

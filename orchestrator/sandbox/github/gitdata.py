"""Serve branches, refs, commits, compare and branch merges, read live from the bare git repos."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from orchestrator.sandbox.github import gitrepo, merging, pushrules, shapes
from orchestrator.sandbox.github.access import repo_for
from orchestrator.sandbox.github.api import ApiError, Call, Reply, invalid, not_found, paginate
from orchestrator.sandbox.github.gitrepo import GitError
from orchestrator.sandbox.github.routing import ROUTES
from orchestrator.sandbox.github.state import Json, node_id


def repo_url(call: Call, repo: Json) -> str:
    """Return the REST URL of a repository."""
    return f"{call.api}/repos/{repo['owner']}/{repo['name']}"


def _person(call: Call, who: tuple[str, str, str]) -> Json | None:
    """Return the user whose sandbox email matches a git identity, as GitHub links authors."""
    for user in call.store.users.values():
        if user.get("email", "").lower() == who[1].lower():
            return shapes.simple_user(call.api, call.base, user)
    return None


def render_commit(call: Call, repo: Json, sha: str, with_files: bool = False) -> Json:
    """Return GitHub's `commit` for a sha of the repository."""
    path = call.store.git_dir(repo)
    c = gitrepo.commit(path, sha)
    url, html = repo_url(call, repo), f"{call.base}/{repo['owner']}/{repo['name']}"
    body: Json = {
        "sha": c.sha,
        "node_id": node_id("Commit", int(c.sha[:12], 16)),
        "url": f"{url}/commits/{c.sha}",
        "html_url": f"{html}/commit/{c.sha}",
        "comments_url": f"{url}/commits/{c.sha}/comments",
        "commit": {
            "url": f"{url}/git/commits/{c.sha}",
            "message": c.message,
            "comment_count": 0,
            "author": {"name": c.author[0], "email": c.author[1], "date": _utc(c.author[2])},
            "committer": {
                "name": c.committer[0],
                "email": c.committer[1],
                "date": _utc(c.committer[2]),
            },
            "tree": {"sha": c.tree, "url": f"{url}/git/trees/{c.tree}"},
            "verification": {
                "verified": False,
                "reason": "unsigned",
                "signature": None,
                "payload": None,
                "verified_at": None,
            },
        },
        "author": _person(call, c.author),
        "committer": _person(call, c.committer),
        "parents": [
            {"sha": p, "url": f"{url}/commits/{p}", "html_url": f"{html}/commit/{p}"}
            for p in c.parents
        ],
    }
    if with_files:
        files = render_files(
            call, repo, path, c.parents[0] if c.parents else gitrepo.EMPTY_TREE, c.sha
        )
        added, deleted = sum(f["additions"] for f in files), sum(f["deletions"] for f in files)
        body.update(
            stats={"total": added + deleted, "additions": added, "deletions": deleted}, files=files
        )
    return body


def _utc(stamp: str) -> str:
    """Turn git's strict ISO date (with offset) into GitHub's UTC Z form."""
    return datetime.fromisoformat(stamp).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def render_files(call: Call, repo: Json, path: Path, base: str, head: str) -> list[Json]:
    """Return GitHub's `diff-entry` list for base..head."""
    html = f"{call.base}/{repo['owner']}/{repo['name']}"
    return [
        {
            "sha": f.sha,
            "filename": f.filename,
            "status": f.status,
            "additions": f.additions,
            "deletions": f.deletions,
            "changes": f.additions + f.deletions,
            "blob_url": f"{html}/blob/{head}/{f.filename}",
            "raw_url": f"{html}/raw/{head}/{f.filename}",
            "contents_url": f"{repo_url(call, repo)}/contents/{f.filename}?ref={head}",
            "patch": f.patch,
            **({"previous_filename": f.previous_filename} if f.previous_filename else {}),
        }
        for f in gitrepo.diff(path, base, head)
    ]


def sha_for(call: Call, repo: Json, ref: str) -> str:
    """Return the commit a sha, branch, tag or ref names; 422 No commit found, as GitHub answers."""
    sha = gitrepo.resolve(call.store.git_dir(repo), ref)
    if sha is None:
        raise ApiError(422, f"No commit found for SHA: {ref}")
    return sha


def render_ref(call: Call, repo: Json, ref: str, sha: str) -> Json:
    """Return GitHub's `git-ref`."""
    url = repo_url(call, repo)
    return {
        "ref": ref,
        "node_id": node_id("Ref", int(sha[:12], 16)),
        "url": f"{url}/git/{ref}",
        "object": {"sha": sha, "type": "commit", "url": f"{url}/git/commits/{sha}"},
    }


@ROUTES.route("GET", "/repos/{owner}/{repo}/branches", "repos/list-branches")
def list_branches(call: Call) -> Reply:
    """List branches with their tip commits."""
    repo = repo_for(call)
    url = repo_url(call, repo)
    heads = gitrepo.refs(call.store.git_dir(repo), "refs/heads/")
    return paginate(
        call,
        [
            {
                "name": ref.removeprefix("refs/heads/"),
                "protected": ref.removeprefix("refs/heads/") in repo.get("protection", {}),
                "commit": {"sha": sha, "url": f"{url}/commits/{sha}"},
            }
            for ref, sha in heads
        ],
    )


@ROUTES.route("GET", "/repos/{owner}/{repo}/branches/{branch+}", "repos/get-branch")
def get_branch(call: Call) -> Reply:
    """Return one branch; 404 "Branch not found"."""
    repo = repo_for(call)
    name = call.params["branch"]
    sha = gitrepo.resolve(call.store.git_dir(repo), f"refs/heads/{name}")
    if sha is None:
        raise ApiError(404, "Branch not found")
    url = repo_url(call, repo)
    return Reply(
        200,
        {
            "name": name,
            "commit": render_commit(call, repo, sha),
            "_links": {
                "self": f"{url}/branches/{name}",
                "html": f"{call.base}/{repo['owner']}/{repo['name']}/tree/{name}",
            },
            "protected": name in repo.get("protection", {}),
            "protection_url": f"{url}/branches/{name}/protection",
            "protection": _protection(repo.get("protection", {}).get(name)),
        },
    )


def _protection(rules: Json | None) -> Json:
    """Return a branch's `branch-protection` summary (protection.py keeps the rules)."""
    checks = (rules or {}).get("required_status_checks") or {}
    level = (
        "off" if not checks else "everyone" if rules and rules["enforce_admins"] else "non_admins"
    )
    contexts = list(checks.get("contexts", []))
    return {
        "enabled": rules is not None,
        "required_status_checks": {
            "enforcement_level": level,
            "contexts": contexts,
            "checks": [{"context": c, "app_id": None} for c in contexts],
        },
    }


@ROUTES.route("GET", "/repos/{owner}/{repo}/git/ref/{ref+}", "git/get-ref")
def get_ref(call: Call) -> Reply:
    """Return one ref such as heads/agent/12-x."""
    repo = repo_for(call)
    ref = f"refs/{call.params['ref']}"
    found = dict(gitrepo.refs(call.store.git_dir(repo), ref))
    if ref not in found:
        raise not_found()
    return Reply(200, render_ref(call, repo, ref, found[ref]))


@ROUTES.route("GET", "/repos/{owner}/{repo}/git/matching-refs/{ref+}", "git/list-matching-refs")
def list_matching_refs(call: Call) -> Reply:
    """List refs whose names start with refs/{ref}."""
    repo = repo_for(call)
    prefix = f"refs/{call.params['ref']}"
    found = [(r, s) for r, s in gitrepo.refs(call.store.git_dir(repo)) if r.startswith(prefix)]
    return Reply(200, [render_ref(call, repo, r, s) for r, s in found])


@ROUTES.route("POST", "/repos/{owner}/{repo}/git/refs", "git/create-ref")
def create_ref(call: Call) -> Reply:
    """Create a ref at a commit; 422 if it exists or is malformed."""
    repo = repo_for(call, "push")
    ref, sha = str(call.field("ref", "")), str(call.field("sha", ""))
    if not ref.startswith("refs/") or ref.count("/") < 2:
        raise ApiError(422, "Reference name must start with 'refs/' and have at least two slashes.")
    path = call.store.git_dir(repo)
    if gitrepo.resolve(path, ref):
        raise ApiError(422, "Reference already exists")
    found = gitrepo.resolve(path, sha)
    if found is None or not found.startswith(sha.lower()):
        raise ApiError(422, "Object does not exist")
    gitrepo.set_ref(path, ref, found, gitrepo.ZERO)
    call.hooks.pushed(repo, [(gitrepo.ZERO, found, ref)], call.login)
    rendered = render_ref(call, repo, ref, found)
    return Reply(201, rendered, {"Location": rendered["url"]})


@ROUTES.route("PATCH", "/repos/{owner}/{repo}/git/refs/{ref+}", "git/update-ref")
def update_ref(call: Call) -> Reply:
    """Move a ref; without `force` only a fast-forward is allowed."""
    repo = repo_for(call, "push")
    ref, path = f"refs/{call.params['ref']}", call.store.git_dir(repo)
    old = gitrepo.resolve(path, ref)
    if old is None:
        raise ApiError(422, "Reference does not exist")
    new = gitrepo.resolve(path, str(call.field("sha", "")))
    if new is None:
        raise ApiError(422, "Object does not exist")
    if not call.field("force", False) and not gitrepo.is_ancestor(path, old, new):
        raise ApiError(422, "Update is not a fast forward")
    refused = pushrules.refusal(call.store, repo, call.login, old, new, ref)
    if refused:
        raise ApiError(422, refused)  # a protected branch: GitHub's words, as a push gets them
    gitrepo.set_ref(path, ref, new, old)
    call.hooks.pushed(repo, [(old, new, ref)], call.login)
    return Reply(200, render_ref(call, repo, ref, new))


@ROUTES.route("DELETE", "/repos/{owner}/{repo}/git/refs/{ref+}", "git/delete-ref")
def delete_ref(call: Call) -> Reply:
    """Delete a ref; 422 "Reference does not exist", or for the default branch."""
    repo = repo_for(call, "push")
    ref, path = f"refs/{call.params['ref']}", call.store.git_dir(repo)
    old = gitrepo.resolve(path, ref)
    if old is None:
        raise ApiError(422, "Reference does not exist")
    if ref == f"refs/heads/{repo['default_branch']}":
        raise ApiError(422, "Cannot delete the default branch")
    refused = pushrules.refusal(call.store, repo, call.login, old, gitrepo.ZERO, ref)
    if refused:
        raise ApiError(422, refused)
    gitrepo.delete_ref(path, ref)
    return Reply(204)


@ROUTES.route("GET", "/repos/{owner}/{repo}/commits", "repos/list-commits")
def list_commits(call: Call) -> Reply:
    """List commits reachable from `sha` (default branch by default), newest first."""
    repo = repo_for(call)
    path = call.store.git_dir(repo)
    if not gitrepo.refs(path, "refs/heads/"):
        raise ApiError(409, "Git Repository is empty.")
    tip = sha_for(call, repo, call.arg("sha") or repo["default_branch"])
    shas = gitrepo.git(path, "rev-list", tip).stdout.split()
    return paginate(call, shas, lambda sha: render_commit(call, repo, sha))


@ROUTES.route("GET", "/repos/{owner}/{repo}/commits/{ref+}", "repos/get-commit")
def get_commit(call: Call) -> Reply:
    """Return a commit with its stats and files."""
    repo = repo_for(call)
    return Reply(
        200, render_commit(call, repo, sha_for(call, repo, call.params["ref"]), with_files=True)
    )


@ROUTES.route("GET", "/repos/{owner}/{repo}/compare/{base+}...{head+}", "repos/compare-commits")
def compare(call: Call) -> Reply:
    """Compare two commits: ahead/behind counts, the commits and the files of base...head."""
    repo = repo_for(call)
    path = call.store.git_dir(repo)
    base, head = sha_for(call, repo, call.params["base"]), sha_for(call, repo, call.params["head"])
    mb = gitrepo.merge_base(path, base, head)
    if mb is None:
        raise not_found()
    ahead, behind = (
        gitrepo.commits_between(path, base, head),
        gitrepo.commits_between(path, head, base),
    )
    status = (
        "identical"
        if not ahead and not behind
        else "ahead"
        if not behind
        else "behind"
        if not ahead
        else "diverged"
    )
    spec = f"{call.params['base']}...{call.params['head']}"
    html = f"{call.base}/{repo['owner']}/{repo['name']}/compare/{spec}"
    return Reply(
        200,
        {
            "url": f"{repo_url(call, repo)}/compare/{spec}",
            "html_url": html,
            "permalink_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "base_commit": render_commit(call, repo, base),
            "merge_base_commit": render_commit(call, repo, mb),
            "status": status,
            "ahead_by": len(ahead),
            "behind_by": len(behind),
            "total_commits": len(ahead),
            "commits": [render_commit(call, repo, sha) for sha in ahead],
            "files": render_files(call, repo, path, mb, head),
        },
    )


@ROUTES.route(
    "GET", "/repos/{owner}/{repo}/compare/{basehead+}", "repos/compare-commits-with-basehead"
)
def compare_basehead(call: Call) -> Reply:
    """Compare BASE...HEAD given as one parameter; either side may hold slashes."""
    base, dots, head = call.params["basehead"].partition("...")
    if not dots:
        raise not_found()
    call.params.update(base=base, head=head)
    return compare(call)


@ROUTES.route("POST", "/repos/{owner}/{repo}/merges", "repos/merge")
def merge_branch(call: Call) -> Reply:
    """Merge `head` into branch `base` by a merge commit; 204 if merged already, 409 on conflict."""
    repo = repo_for(call, "push", denied=403)
    path, base = call.store.git_dir(repo), str(call.field("base", ""))
    before = gitrepo.resolve(path, f"refs/heads/{base}")
    if before is None:
        raise invalid("Merge", "base", "missing", "Base does not exist")
    head = gitrepo.resolve(path, str(call.field("head", "")))
    if head is None:
        raise invalid("Merge", "head", "missing", "Head does not exist")
    if gitrepo.is_ancestor(path, head, f"refs/heads/{base}"):
        return Reply(204)
    user = call.store.users[call.login]
    message = call.field("commit_message") or f"Merge {call.field('head')} into {base}"
    try:
        sha = merging.merge(
            path,
            base,
            head,
            "merge",
            message,
            gitrepo.identity(user.get("name") or user["login"], user["email"]),
        )
    except GitError:
        raise ApiError(409, "Merge conflict") from None
    call.hooks.pushed(repo, [(before, sha, f"refs/heads/{base}")], call.login)
    return Reply(201, render_commit(call, repo, sha))

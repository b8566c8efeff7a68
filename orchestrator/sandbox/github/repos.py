"""Serve repositories, users, organizations, collaborators and the rate-limit overview."""

from __future__ import annotations

from orchestrator.sandbox.github import gitrepo, shapes
from orchestrator.sandbox.github.access import permissions, repo_for, role
from orchestrator.sandbox.github.api import ApiError, Call, Reply, invalid, not_found, paginate
from orchestrator.sandbox.github.routing import ROUTES
from orchestrator.sandbox.github.state import Json, Store, now_iso

# The labels a new GitHub repository starts with.
DEFAULT_LABELS = (
    ("bug", "d73a4a", "Something isn't working"),
    ("documentation", "0075ca", "Improvements or additions to documentation"),
    ("duplicate", "cfd3d7", "This issue or pull request already exists"),
    ("enhancement", "a2eeef", "New feature or request"),
    ("good first issue", "7057ff", "Good for newcomers"),
    ("help wanted", "008672", "Extra attention is needed"),
    ("invalid", "e4e669", "This doesn't seem right"),
    ("question", "d876e3", "Further information is requested"),
    ("wontfix", "ffffff", "This will not be worked on"),
)
# GitHub's role names by the permission names the REST API accepts.
ROLE_NAMES = {
    "pull": "read",
    "triage": "triage",
    "push": "write",
    "maintain": "maintain",
    "admin": "admin",
}


def create_repo(
    store: Store,
    owner: str,
    name: str,
    creator: str,
    private: bool = False,
    description: str | None = None,
    auto_init: bool = False,
) -> Json:
    """Create a repository record and its bare git repository; auto_init commits a README."""
    now = now_iso()
    repo: Json = {
        "id": store.new_id(),
        "name": name,
        "owner": owner,
        "private": private,
        "description": description,
        "homepage": None,
        "default_branch": "main",
        "created_at": now,
        "updated_at": now,
        "pushed_at": now,
        "collaborators": {},
        "issues": {},
        "labels": {},
        "comments": {},
        "events": [],
        "statuses": [],
        "check_runs": {},
        "reviews": {},
        "next_number": 1,
        "ci": None,
    }
    for label_name, color, text in DEFAULT_LABELS:
        repo["labels"][label_name] = {
            "id": store.new_id(),
            "name": label_name,
            "color": color,
            "description": text,
            "default": True,
        }
    store.repos[f"{owner}/{name}"] = repo
    path = store.git_dir(repo)
    gitrepo.init_bare(path, repo["default_branch"])
    if auto_init:
        user = store.users[creator]
        readme = f"# {name}\n" + (f"\n{description}\n" if description else "")
        gitrepo.commit_files(
            path,
            repo["default_branch"],
            {"README.md": readme},
            "Initial commit",
            gitrepo.identity(user.get("name") or creator, user["email"]),
        )
    return repo


def render(call: Call, repo: Json) -> Json:
    """Return the repository as the caller sees it."""
    owner = call.store.users[repo["owner"]]
    return shapes.repository(
        call.api, call.base, repo, owner, permissions(call.store, repo, call.login)
    )


def _create(call: Call, owner: str) -> Reply:
    name = call.field("name")
    if call.store.repo(owner, name):
        raise invalid("Repository", "name", "custom", "name already exists on this account")
    private = bool(call.field("private", False)) or call.field("visibility") == "private"
    repo = create_repo(
        call.store,
        call.store.users[owner]["login"],
        name,
        call.login,
        private,
        call.field("description"),
        bool(call.field("auto_init", False)),
    )
    return Reply(201, render(call, repo))


@ROUTES.route("POST", "/user/repos", "repos/create-for-authenticated-user")
def create_for_user(call: Call) -> Reply:
    """Create a repository owned by the caller."""
    return _create(call, call.login)


@ROUTES.route("POST", "/orgs/{org}/repos", "repos/create-in-org")
def create_in_org(call: Call) -> Reply:
    """Create a repository in an organization the caller belongs to."""
    org = call.store.user(call.params["org"])
    if not org or org["type"] != "Organization":
        raise not_found()
    if call.login.lower() not in {m.lower() for m in org.get("members", {})}:
        raise ApiError(
            403, "You need admin access to the organization before adding a repository to it."
        )
    return _create(call, org["login"])


@ROUTES.route("GET", "/user/repos", "repos/list-for-authenticated-user")
def list_for_user(call: Call) -> Reply:
    """List repositories the caller can push to or owns."""
    mine = [
        r
        for r in call.store.repos.values()
        if role(call.store, r, call.login) not in ("none", "pull") or r["owner"] == call.login
    ]
    return paginate(call, sorted(mine, key=lambda r: r["name"].lower()), lambda r: render(call, r))


@ROUTES.route("GET", "/repos/{owner}/{repo}", "repos/get")
def get_repo(call: Call) -> Reply:
    """Return one repository."""
    return Reply(200, render(call, repo_for(call)))


@ROUTES.route("GET", "/user", "users/get-authenticated")
def get_authenticated(call: Call) -> Reply:
    """Return the caller."""
    return Reply(
        200, shapes.full_user(call.api, call.base, call.store.users[call.login], private=True)
    )


@ROUTES.route("GET", "/users/{username}", "users/get-by-username")
def get_user(call: Call) -> Reply:
    """Return a user or organization by login."""
    user = call.store.user(call.params["username"])
    if user is None:
        raise not_found()
    return Reply(
        200, shapes.full_user(call.api, call.base, user, private=user["login"] == call.login)
    )


@ROUTES.route("GET", "/orgs/{org}", "orgs/get")
def get_org(call: Call) -> Reply:
    """Return an organization."""
    org = call.store.user(call.params["org"])
    if org is None or org["type"] != "Organization":
        raise not_found()
    return Reply(200, shapes.organization(call.api, call.base, org))


@ROUTES.route("GET", "/repos/{owner}/{repo}/collaborators", "repos/list-collaborators")
def list_collaborators(call: Call) -> Reply:
    """List the owner and collaborators with permissions (push access required, as on GitHub)."""
    repo = repo_for(call, "push", denied=403)
    logins = [repo["owner"]] if call.store.users[repo["owner"]]["type"] == "User" else []
    logins += [login for login in repo["collaborators"] if login not in logins]
    return paginate(call, logins, lambda login: _collaborator(call, repo, login))


def _collaborator(call: Call, repo: Json, login: str) -> Json:
    user = call.store.users[login]
    level = role(call.store, repo, login)
    return {
        **shapes.simple_user(call.api, call.base, user),
        "permissions": permissions(call.store, repo, login),
        "role_name": ROLE_NAMES.get(level, "read"),
    }


@ROUTES.route("GET", "/repos/{owner}/{repo}/collaborators/{username}", "repos/check-collaborator")
def check_collaborator(call: Call) -> Reply:
    """Answer 204 if the user is a collaborator, else 404."""
    repo = repo_for(call)
    user = call.store.user(call.params["username"])
    if user and (user["login"] == repo["owner"] or user["login"] in repo["collaborators"]):
        return Reply(204)
    raise not_found()


@ROUTES.route("PUT", "/repos/{owner}/{repo}/collaborators/{username}", "repos/add-collaborator")
def add_collaborator(call: Call) -> Reply:
    """Grant a user a permission at once (GitHub would send an invite; the sandbox accepts it)."""
    repo = repo_for(call, "admin", denied=403)
    user = call.store.user(call.params["username"])
    if user is None:
        raise not_found()
    level = call.field("permission", "push")
    if level not in ROLE_NAMES:
        raise invalid("Repository", "permission")
    repo["collaborators"][user["login"]] = level
    return Reply(204)


@ROUTES.route(
    "GET",
    "/repos/{owner}/{repo}/collaborators/{username}/permission",
    "repos/get-collaborator-permission-level",
)
def get_permission(call: Call) -> Reply:
    """Return a user's permission (admin, write, read, none) and role name on the repository."""
    repo = repo_for(call)
    user = call.store.user(call.params["username"])
    if user is None:
        raise not_found()
    level = role(call.store, repo, user["login"])
    legacy = {
        "admin": "admin",
        "maintain": "write",
        "push": "write",
        "triage": "read",
        "pull": "read",
    }
    return Reply(
        200,
        {
            "permission": legacy.get(level, "none"),
            "role_name": ROLE_NAMES.get(level, "none"),
            "user": _collaborator(call, repo, user["login"])
            if level != "none"
            else shapes.simple_user(call.api, call.base, user),
        },
    )


@ROUTES.route("GET", "/rate_limit", "rate-limit/get")
def rate_limit(call: Call) -> Reply:
    """Return the caller's rate-limit overview: REST's core requests and GraphQL's points (each
    with its own window), and search, which the sandbox never spends."""
    resources = call.hooks.rate(call.login)
    core = resources["core"]
    return Reply(
        200,
        {
            "resources": {
                "core": core,
                "search": {**core, "limit": 30, "used": 0, "remaining": 30},
                "graphql": resources["graphql"],
            },
            "rate": core,
        },
    )

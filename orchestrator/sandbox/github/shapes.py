"""Render users, organizations, repos and labels in GitHub's JSON shapes, with sandbox URLs."""

from __future__ import annotations

from urllib.parse import quote

from orchestrator.sandbox.github.state import Json, node_id


def simple_user(api: str, base: str, user: Json) -> Json:
    """Return GitHub's `simple-user` for a user or organization record."""
    login = user["login"]
    u = f"{api}/users/{login}"
    return {
        "login": login,
        "id": user["id"],
        "node_id": node_id(user["type"], user["id"]),
        "avatar_url": f"{base}/avatars/u/{user['id']}?v=4",
        "gravatar_id": "",
        "url": u,
        "html_url": f"{base}/{login}",
        "followers_url": f"{u}/followers",
        "following_url": f"{u}/following{{/other_user}}",
        "gists_url": f"{u}/gists{{/gist_id}}",
        "starred_url": f"{u}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{u}/subscriptions",
        "organizations_url": f"{u}/orgs",
        "repos_url": f"{u}/repos",
        "events_url": f"{u}/events{{/privacy}}",
        "received_events_url": f"{u}/received_events",
        "type": user["type"],
        "user_view_type": "public",
        "site_admin": False,
    }


def full_user(api: str, base: str, user: Json, private: bool) -> Json:
    """Return `public-user`, or `private-user` when the caller is that user."""
    body = {
        **simple_user(api, base, user),
        "name": user.get("name"),
        "company": None,
        "blog": "",
        "location": None,
        "email": user.get("email"),
        "hireable": None,
        "bio": None,
        "twitter_username": None,
        "notification_email": user.get("email"),
        "public_repos": 0,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "created_at": user["created_at"],
        "updated_at": user["created_at"],
    }
    if private:
        body.update(
            {
                "user_view_type": "private",
                "private_gists": 0,
                "total_private_repos": 0,
                "owned_private_repos": 0,
                "disk_usage": 0,
                "collaborators": 0,
                "two_factor_authentication": True,
                "plan": {
                    "name": "pro",
                    "space": 976562499,
                    "private_repos": 9999,
                    "collaborators": 0,
                },
            }
        )
    return body


def organization(api: str, base: str, org: Json) -> Json:
    """Return GitHub's `organization-full` for an organization record."""
    login = org["login"]
    u = f"{api}/orgs/{login}"
    return {
        "login": login,
        "id": org["id"],
        "node_id": node_id("Organization", org["id"]),
        "url": u,
        "repos_url": f"{u}/repos",
        "events_url": f"{u}/events",
        "hooks_url": f"{u}/hooks",
        "issues_url": f"{u}/issues",
        "members_url": f"{u}/members{{/member}}",
        "public_members_url": f"{u}/public_members{{/member}}",
        "avatar_url": f"{base}/avatars/u/{org['id']}?v=4",
        "description": None,
        "name": org.get("name"),
        "blog": "",
        "twitter_username": None,
        "is_verified": False,
        "has_organization_projects": True,
        "has_repository_projects": True,
        "public_repos": 0,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "html_url": f"{base}/{login}",
        "type": "Organization",
        "created_at": org["created_at"],
        "updated_at": org["created_at"],
        "archived_at": None,
    }


def repository(
    api: str, base: str, repo: Json, owner: Json, permissions: Json | None = None
) -> Json:
    """Return GitHub's `full-repository` for a repository record."""
    full = f"{repo['owner']}/{repo['name']}"
    u = f"{api}/repos/{full}"
    body: Json = {
        "id": repo["id"],
        "node_id": node_id("Repository", repo["id"]),
        "name": repo["name"],
        "full_name": full,
        "private": repo["private"],
        "owner": simple_user(api, base, owner),
        "html_url": f"{base}/{full}",
        "description": repo.get("description"),
        "fork": False,
        "url": u,
        **{f"{k}_url": f"{u}/{v}" for k, v in _REPO_LINKS.items()},
        "git_url": f"{base}/{full}.git",
        "ssh_url": f"git@{base.split('://', 1)[-1]}:{full}.git",
        "clone_url": f"{base}/{full}.git",
        "svn_url": f"{base}/{full}",
        "mirror_url": None,
        "homepage": repo.get("homepage"),
        "language": None,
        "forks_count": 0,
        "stargazers_count": 0,
        "watchers_count": 0,
        "size": 0,
        "default_branch": repo["default_branch"],
        "open_issues_count": open_issues(repo),
        "is_template": False,
        "topics": [],
        "has_issues": True,
        "has_projects": True,
        "has_wiki": True,
        "has_pages": False,
        "has_downloads": True,
        "has_discussions": False,
        "archived": False,
        "disabled": False,
        "visibility": "private" if repo["private"] else "public",
        "pushed_at": repo["pushed_at"],
        "created_at": repo["created_at"],
        "updated_at": repo["updated_at"],
        "allow_rebase_merge": True,
        "allow_squash_merge": True,
        "allow_merge_commit": True,
        "allow_auto_merge": False,
        "delete_branch_on_merge": False,
        "allow_update_branch": False,
        "use_squash_pr_title_as_default": False,
        "allow_forking": True,
        "web_commit_signoff_required": False,
        "license": None,
        "forks": 0,
        "open_issues": open_issues(repo),
        "watchers": 0,
        "network_count": 0,
        "subscribers_count": 1,
    }
    if permissions is not None:
        body["permissions"] = permissions
    if owner["type"] == "Organization":
        body["organization"] = simple_user(api, base, owner)
    return body


_REPO_LINKS = {
    "archive": "{archive_format}{/ref}",
    "assignees": "assignees{/user}",
    "blobs": "git/blobs{/sha}",
    "branches": "branches{/branch}",
    "collaborators": "collaborators{/collaborator}",
    "comments": "comments{/number}",
    "commits": "commits{/sha}",
    "compare": "compare/{base}...{head}",
    "contents": "contents/{+path}",
    "contributors": "contributors",
    "deployments": "deployments",
    "downloads": "downloads",
    "events": "events",
    "forks": "forks",
    "git_commits": "git/commits{/sha}",
    "git_refs": "git/refs{/sha}",
    "git_tags": "git/tags{/sha}",
    "hooks": "hooks",
    "issue_comment": "issues/comments{/number}",
    "issue_events": "issues/events{/number}",
    "issues": "issues{/number}",
    "keys": "keys{/key_id}",
    "labels": "labels{/name}",
    "languages": "languages",
    "merges": "merges",
    "milestones": "milestones{/number}",
    "notifications": "notifications{?since,all,participating}",
    "pulls": "pulls{/number}",
    "releases": "releases{/id}",
    "stargazers": "stargazers",
    "statuses": "statuses/{sha}",
    "subscribers": "subscribers",
    "subscription": "subscription",
    "tags": "tags",
    "teams": "teams",
    "trees": "git/trees{/sha}",
}


def open_issues(repo: Json) -> int:
    """Return the count GitHub calls open_issues_count: open issues plus open pull requests."""
    return sum(1 for issue in repo["issues"].values() if issue["state"] == "open")


def label(api: str, repo: Json, record: Json) -> Json:
    """Return GitHub's `label`."""
    return {
        "id": record["id"],
        "node_id": node_id("Label", record["id"]),
        "url": f"{api}/repos/{repo['owner']}/{repo['name']}/labels/{quote(record['name'])}",
        "name": record["name"],
        "color": record["color"],
        "default": record["default"],
        "description": record.get("description"),
    }

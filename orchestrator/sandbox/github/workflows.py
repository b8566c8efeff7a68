"""Serve a repository's workflows (`.github/workflows/*.yml`) and their `workflow_dispatch`.

A workflow is a file; its id is given the first time the sandbox sees its path, and kept. The
listing is what the default branch holds, as GitHub's. A dispatch is validated as GitHub
validates one (the file at `ref`, its `on: workflow_dispatch`, declared inputs only, required
ones present, at most 25, 65,535 characters in all) and queued for local execution
(runner.py); `return_run_details` answers 200 with the run, as the description says.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from orchestrator.sandbox.github import gitrepo, validation
from orchestrator.sandbox.github.access import repo_for
from orchestrator.sandbox.github.api import ApiError, Call, Reply, not_found
from orchestrator.sandbox.github.routing import ROUTES
from orchestrator.sandbox.github.state import Json, Store, node_id, now_iso

FOLDER = ".github/workflows"
MAX_INPUTS = 25  # the description's `maxProperties` (GitHub raised it from 10 in 2025)
MAX_INPUT_CHARS = 65_535
_EXPR = re.compile(r"\$\{\{(.*?)\}\}", re.S)
_INPUT = re.compile(r"(?:inputs|github\.event\.inputs)\.([A-Za-z_][\w-]*)")

# GitHub's answers these operations' responses do not list (added to validation's table here,
# beside the handlers that give them): 404 Not Found for an id or file that names nothing, 403
# for a caller without write access, and 422 for a refused dispatch or secret.
validation.ALLOWED_RESPONSE_DEVIATIONS.update(
    {
        *(
            (f"actions/{name}", 404)
            for name in (
                "download-artifact",
                "get-workflow-run",
                "list-workflow-run-artifacts",
                "cancel-workflow-run",
                "list-jobs-for-workflow-run",
                "get-workflow",
                "create-workflow-dispatch",
                "get-repo-public-key",
                "create-or-update-repo-secret",
                "list-workflow-runs",
                "delete-workflow-run",
                "delete-artifact",
                "get-repo-secret",
            )
        ),
        ("actions/delete-workflow-run", 403),
        ("actions/delete-workflow-run", 409),
        ("actions/delete-artifact", 403),
        ("actions/get-repo-secret", 403),
        ("actions/create-workflow-dispatch", 422),
        ("actions/create-workflow-dispatch", 403),
        ("actions/cancel-workflow-run", 403),
        ("actions/get-repo-public-key", 403),
        ("actions/create-or-update-repo-secret", 403),
        ("actions/create-or-update-repo-secret", 422),
    }
)


def parse(text: str) -> Json:
    """Return a workflow file's YAML as a mapping (`on`, which YAML 1.1 reads as true, fixed)."""
    doc = yaml.safe_load(text)
    if not isinstance(doc, dict):
        raise ValueError("a workflow is a mapping")
    if True in doc and "on" not in doc:
        doc["on"] = doc.pop(True)
    return doc


def triggers(doc: Json) -> dict[str, Any]:
    """Return the events a workflow runs on, each with its settings (None when it has none)."""
    on = doc.get("on")
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return {str(event): None for event in on}
    return dict(on) if isinstance(on, dict) else {}


def files_at(store: Store, repo: Json, sha: str) -> list[str]:
    """Return the workflow files at a commit (`.yml` and `.yaml` directly in the folder)."""
    bare = store.git_dir(repo)
    if gitrepo.tree_entry(bare, sha, FOLDER) is None:
        return []
    return [
        entry.path
        for entry in gitrepo.list_tree(bare, sha, FOLDER)
        if entry.kind == "blob" and entry.path.endswith((".yml", ".yaml"))
    ]


def read(store: Store, repo: Json, sha: str, path: str) -> str | None:
    """Return a file's text at a commit, or None."""
    entry = gitrepo.tree_entry(store.git_dir(repo), sha, path)
    if entry is None or entry.kind != "blob":
        return None
    return gitrepo.read_blob(store.git_dir(repo), entry.sha).decode(errors="replace")


def record(store: Store, repo: Json, path: str) -> Json:
    """Return the workflow's record (its id), made the first time its path is seen."""
    known: Json = repo.setdefault("workflows", {})
    if path not in known:
        known[path] = {"id": store.new_id(), "created_at": now_iso()}
    found: Json = known[path]
    return found


def name_of(text: str | None, path: str) -> str:
    """Return a workflow's name: its `name:`, else its path, as GitHub shows it."""
    try:
        doc = parse(text or "")
    except (ValueError, yaml.YAMLError):
        return path
    return str(doc.get("name") or path)


def render(call: Call, repo: Json, path: str, name: str) -> Json:
    """Return GitHub's `workflow`."""
    found, full = record(call.store, repo, path), f"{repo['owner']}/{repo['name']}"
    base = path.rsplit("/", 1)[-1]
    return {
        "id": found["id"],
        "node_id": node_id("Workflow", found["id"]),
        "name": name,
        "path": path,
        "state": "active",
        "created_at": found["created_at"],
        "updated_at": found["created_at"],
        "url": f"{call.api}/repos/{full}/actions/workflows/{found['id']}",
        "html_url": f"{call.base}/{full}/blob/{repo['default_branch']}/{path}",
        "badge_url": f"{call.base}/{full}/workflows/{base.rsplit('.', 1)[0]}/badge.svg",
    }


def _default_sha(call: Call, repo: Json) -> str | None:
    return gitrepo.resolve(call.store.git_dir(repo), f"refs/heads/{repo['default_branch']}")


def find(call: Call, repo: Json, workflow_id: str, sha: str | None) -> str:
    """Return the path of the workflow named by id or file name at `sha`; 404 if none."""
    paths = files_at(call.store, repo, sha) if sha else []
    if workflow_id.isdigit():
        known = repo.get("workflows", {})
        found = [p for p, r in known.items() if str(r["id"]) == workflow_id]
        if found and (found[0] in paths or sha is None):
            return str(found[0])
    for path in paths:
        if path.rsplit("/", 1)[-1] == workflow_id:
            return path
    raise not_found()


@ROUTES.route("GET", "/repos/{owner}/{repo}/actions/workflows", "actions/list-repo-workflows")
def list_workflows(call: Call) -> Reply:
    """List the workflows on the default branch."""
    repo = repo_for(call)
    sha = _default_sha(call, repo)
    paths = files_at(call.store, repo, sha) if sha else []
    shown = [
        render(call, repo, path, name_of(read(call.store, repo, sha or "", path), path))
        for path in paths
    ]
    per_page = max(1, min(call.int_arg("per_page", 30), 100))
    page = max(1, call.int_arg("page", 1))
    chunk = shown[(page - 1) * per_page : page * per_page]
    return Reply(200, {"total_count": len(shown), "workflows": chunk})


@ROUTES.route(
    "GET", "/repos/{owner}/{repo}/actions/workflows/{workflow_id}", "actions/get-workflow"
)
def get_workflow(call: Call) -> Reply:
    """Return one workflow of the default branch, by id or file name."""
    repo = repo_for(call)
    sha = _default_sha(call, repo)
    path = find(call, repo, call.params["workflow_id"], sha)
    return Reply(
        200, render(call, repo, path, name_of(read(call.store, repo, sha or "", path), path))
    )


def ref_sha(call: Call, repo: Json, ref: str) -> tuple[str, str]:
    """Return (full ref, sha) for a branch or tag name (or a full ref); 422 as GitHub if none."""
    bare = call.store.git_dir(repo)
    names = [ref] if ref.startswith("refs/") else [f"refs/heads/{ref}", f"refs/tags/{ref}"]
    for full in names:
        sha = gitrepo.resolve(bare, f"{full}^{{commit}}")
        if sha:
            return full, sha
    raise ApiError(422, f"No ref found for: {ref}")


def check_inputs(declared: Any, given: Any) -> dict[str, Any]:
    """Return the run's inputs (defaults filled in), or 422 as GitHub answers a bad dispatch."""
    declared = declared if isinstance(declared, dict) else {}
    given = given if isinstance(given, dict) else {}
    if len(declared) > MAX_INPUTS:
        raise ApiError(
            422, f"you may only define up to {MAX_INPUTS} `inputs` for a `workflow_dispatch` event"
        )
    unknown = [name for name in given if name not in declared]
    if unknown:
        raise ApiError(422, f"Unexpected inputs provided: {json.dumps(unknown)}")
    if len(json.dumps(given)) > MAX_INPUT_CHARS:
        raise ApiError(422, f"inputs are too large (at most {MAX_INPUT_CHARS} characters)")
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        spec = spec if isinstance(spec, dict) else {}
        if name in given:
            value = given[name]
        elif spec.get("required") and spec.get("default") is None:
            raise ApiError(422, f"Required input '{name}' not provided")
        else:
            value = spec.get("default", "")
        options = spec.get("options")
        if spec.get("type") == "choice" and isinstance(options, list):
            if str(value) not in [str(o) for o in options]:
                raise ApiError(
                    422,
                    f"Provided value '{value}' for input '{name}' not in the list of allowed"
                    " values",
                )
        if spec.get("type") == "boolean":
            value = str(value).lower() == "true"
        values[name] = value
    return values


def display_title(doc: Json, path: str, inputs: dict[str, Any]) -> str:
    """Return a dispatched run's title: its `run-name` with the inputs put in, else its name.

    Only `${{ inputs.X }}` and `${{ github.event.inputs.X }}` are emulated in a `run-name`; any
    other expression refuses the dispatch (501) rather than show a title GitHub would not.
    """
    given = doc.get("run-name")
    if not isinstance(given, str) or not given.strip():
        return str(doc.get("name") or path)

    def one(found: re.Match[str]) -> str:
        expr = found.group(1).strip()
        named = _INPUT.fullmatch(expr)
        if named is None:
            raise ApiError(501, f"The sandbox does not emulate this run-name expression: {expr}")
        value = inputs.get(named.group(1), "")
        return str(value).lower() if isinstance(value, bool) else str(value)

    return _EXPR.sub(one, given)

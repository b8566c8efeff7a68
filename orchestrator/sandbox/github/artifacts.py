"""Workflow run artifacts: what `actions/upload-artifact@v4` uploads, listed and downloaded.

An artifact is a zip kept beside the state (`DATA/actions-artifacts/ID.zip`). Its download
answers as GitHub's: `…/actions/artifacts/{id}/zip` is a 302 to a signed URL that lives a
minute and needs no token (under `actions.SIGNED_PREFIX`, as job logs are).
"""

from __future__ import annotations

import glob
import hashlib
import os
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from orchestrator.sandbox.github.access import repo_for
from orchestrator.sandbox.github.actions import ARTIFACT_PATH, URL_LIFETIME, sign
from orchestrator.sandbox.github.api import ApiError, Call, Reply, not_found
from orchestrator.sandbox.github.routing import ROUTES
from orchestrator.sandbox.github.state import Json, Store, node_id, now_iso

RETENTION_DAYS = 90  # GitHub's default retention


class StepFailure(Exception):
    """A step fails for a reason the sandbox states in the log (steps.py)."""


def zip_file(store: Store, artifact_id: int) -> Path:
    """Return where an artifact's zip is kept."""
    return store.data_dir / "actions-artifacts" / f"{artifact_id}.zip"


def _matches(workspace: Path, patterns: list[str]) -> list[Path]:
    found: list[Path] = []
    for pattern in patterns:
        if pattern.startswith("!"):
            raise StepFailure(f"not emulated: exclusion pattern {pattern}")
        where = pattern if os.path.isabs(pattern) else str(workspace / pattern)
        for hit in sorted(glob.glob(where, recursive=True)):
            path = Path(hit)
            files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
            found += [f for f in files if f.is_file() and f not in found]
    return found


def _root(workspace: Path, patterns: list[str]) -> Path:
    """Return the least common ancestor of the search paths, as upload-artifact names entries."""
    roots = []
    for pattern in patterns:
        where = Path(pattern if os.path.isabs(pattern) else workspace / pattern)
        parts = []
        for part in where.parts:
            if any(c in part for c in "*?["):
                break
            parts.append(part)
        root = Path(*parts)
        roots.append(root if root.is_dir() and not where.is_file() else root.parent)
    return Path(os.path.commonpath([str(r) for r in roots]))


def upload(
    call: Call, repo: Json, run: Json, workspace: Path, with_: dict[str, str]
) -> Json | None:
    """Zip the files `with.path` names and register the artifact on the run (None: no files)."""
    name = with_.get("name") or "artifact"
    patterns = [line.strip() for line in with_.get("path", "").splitlines() if line.strip()]
    if not patterns:
        raise StepFailure("Input required and not supplied: path")
    files = _matches(workspace, patterns)
    if not files:
        if with_.get("if-no-files-found", "warn") == "error":
            raise StepFailure(f"No files were found with the provided path: {', '.join(patterns)}.")
        return None  # warn or ignore: no artifact is made
    known = repo.setdefault("artifacts", {})
    if any(a["run_id"] == run["id"] and a["name"] == name for a in known.values()):
        raise StepFailure(
            "Failed to CreateArtifact: Received non-retryable error: Failed request: (409)"
            " Conflict: an artifact with this name already exists on the workflow run"
        )
    root = _root(workspace, patterns)
    with call.store.lock:
        artifact_id = call.store.new_id()
    target = zip_file(call.store, artifact_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, str(path.relative_to(root)))
    data = target.read_bytes()
    expires = datetime.now(UTC) + timedelta(days=_retention(with_.get("retention-days")))
    artifact: Json = {
        "id": artifact_id,
        "name": name,
        "size_in_bytes": len(data),
        "digest": "sha256:" + hashlib.sha256(data).hexdigest(),
        "run_id": run["id"],
        "created_at": now_iso(),
        "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    with call.store.lock:
        known[str(artifact_id)] = artifact
        call.store.save()
    return artifact


def _retention(given: str | None) -> int:
    """Return an artifact's days: `retention-days` within 1..90, else the default."""
    if not given:
        return RETENTION_DAYS
    if not given.strip().isdigit():
        raise StepFailure(f"Invalid retention-days: {given}")
    return min(max(int(given), 1), RETENTION_DAYS)


def render(call: Call, repo: Json, artifact: Json) -> Json:
    """Return GitHub's `artifact`."""
    api = f"{call.api}/repos/{repo['owner']}/{repo['name']}/actions"
    run = repo.get("workflow_runs", {}).get(str(artifact["run_id"]), {})
    return {
        "id": artifact["id"],
        "node_id": node_id("Artifact", artifact["id"]),
        "name": artifact["name"],
        "size_in_bytes": artifact["size_in_bytes"],
        "url": f"{api}/artifacts/{artifact['id']}",
        "archive_download_url": f"{api}/artifacts/{artifact['id']}/zip",
        "expired": False,
        "created_at": artifact["created_at"],
        "expires_at": artifact["expires_at"],
        "updated_at": artifact["created_at"],
        "digest": artifact["digest"],
        "workflow_run": {
            "id": artifact["run_id"],
            "repository_id": repo["id"],
            "head_repository_id": repo["id"],
            "head_branch": run.get("head_branch"),
            "head_sha": run.get("head_sha"),
        },
    }


@ROUTES.route(
    "GET",
    "/repos/{owner}/{repo}/actions/runs/{run_id}/artifacts",
    "actions/list-workflow-run-artifacts",
)
def list_run_artifacts(call: Call) -> Reply:
    """List a workflow run's artifacts (`name` filters by exact name)."""
    repo = repo_for(call)
    run_id = call.params["run_id"]
    if run_id not in repo.get("workflow_runs", {}) and not _ci_run(repo, run_id):
        raise not_found()
    name = call.arg("name")
    found = [
        render(call, repo, a)
        for a in repo.get("artifacts", {}).values()
        if str(a["run_id"]) == run_id and (name is None or a["name"] == name)
    ]
    per_page = max(1, min(call.int_arg("per_page", 30), 100))
    page = max(1, call.int_arg("page", 1))
    chunk = found[(page - 1) * per_page : page * per_page]
    return Reply(200, {"total_count": len(found), "artifacts": chunk})


def _ci_run(repo: Json, run_id: str) -> bool:
    return any(str(r["suite"]) == run_id for r in repo["check_runs"].values() if r.get("job"))


@ROUTES.route(
    "GET",
    "/repos/{owner}/{repo}/actions/artifacts/{artifact_id}/{archive_format}",
    "actions/download-artifact",
)
def download(call: Call) -> Reply:
    """Redirect to the artifact's zip at a signed URL that lives a minute."""
    repo = repo_for(call)
    artifact = repo.get("artifacts", {}).get(call.params["artifact_id"])
    if artifact is None or call.params["archive_format"] != "zip":
        raise not_found()
    if not zip_file(call.store, artifact["id"]).is_file():
        raise ApiError(410, "Artifact has expired")
    expires = int(time.time()) + URL_LIFETIME
    where = f"{repo['owner']}/{repo['name']}/{artifact['id']}"
    query = f"expires={expires}&signature={sign(where, expires)}"
    return Reply(302, None, {"Location": f"{call.base}{ARTIFACT_PATH}{where}?{query}"})


@ROUTES.route(
    "DELETE", "/repos/{owner}/{repo}/actions/artifacts/{artifact_id}", "actions/delete-artifact"
)
def delete(call: Call) -> Reply:
    """Delete an artifact and its zip (204); 404 when there is none."""
    repo = repo_for(call, "push", 403)
    with call.store.lock:
        artifact = repo.get("artifacts", {}).pop(call.params["artifact_id"], None)
        if artifact is None:
            raise not_found()
        call.store.save()
    zip_file(call.store, artifact["id"]).unlink(missing_ok=True)
    return Reply(204)


def drop_run(call: Call, repo: Json, run_id: int) -> None:
    """Delete every artifact of a run (the run is being deleted)."""
    known = repo.get("artifacts", {})
    for key in [k for k, a in known.items() if a["run_id"] == run_id]:
        zip_file(call.store, known.pop(key)["id"]).unlink(missing_ok=True)

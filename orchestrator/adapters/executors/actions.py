"""The Executor port on GitHub Actions: a task's agent runs in a dispatched workflow run.

The workflow (`actions_workflow.render`, committed by `agentos executor install`) is dispatched
on the repo's base branch, never the agent's, with the task id and the start commit as its only
inputs; its run is the handle. The run checks out the task's ref without keeping a credential,
runs `job.sh`, and uploads the parcel as the artifact `agentos-<task id>`, which `collect`
downloads from GitHub's signed URL without sending the token there. Nothing the run is given
can push: the token, the gate, the push and the pull request stay at home.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import requests
from github import GithubException

from orchestrator.adapters.executors import actions_workflow
from orchestrator.adapters.executors.parcels import read_zip
from orchestrator.adapters.github_errors import (
    TRANSPORT_ERRORS,
    describe,
    from_github,
    header,
    is_rate_limited,
    one_line,
)
from orchestrator.adapters.github_http import Rest
from orchestrator.config.executor_model import ExecutorConfig
from orchestrator.core.remote import (
    PARCEL_LIMIT,
    Parcel,
    Phase,
    RemoteRun,
    RemoteTask,
    RunState,
)
from orchestrator.errors import ExecutorError, RunVanished

TIMEOUT = 60  # seconds for the signed download to answer (and between its chunks)
QUEUED = ("queued", "waiting", "pending", "requested")
ENDED = {"success": Phase.SUCCEEDED, "cancelled": Phase.CANCELLED, "timed_out": Phase.TIMED_OUT}
Verdict = tuple[bool, str]


class ActionsExecutor:
    """One `executors` entry of kind github_actions, for one repo (`owner/name`)."""

    def __init__(self, config: ExecutorConfig, repo: str, rest: Rest) -> None:
        actions_workflow.settings(config)  # ValueError for an entry of another kind
        self._config, self._repo, self._rest = config, repo, rest
        self._file = actions_workflow.settings(config).workflow

    @property
    def name(self) -> str:
        return self._config.name

    @property
    def slots(self) -> int:
        return self._config.slots

    def start(self, task: RemoteTask) -> RemoteRun:
        """Dispatch the workflow on the base branch for the task; return its run."""
        path = f"/repos/{self._repo}/actions/workflows/{quote(self._file)}/dispatches"
        body = {
            "ref": task.base,
            "inputs": {"task_id": task.task_id, "start": task.start},
            "return_run_details": True,
        }
        with self._asking(f"{self._repo} workflow {self._file}", "dispatch"):
            try:
                answer = self._rest.send("POST", path, body)
            except GithubException as error:
                if error.status in (404, 422) and not is_rate_limited(error):
                    raise ExecutorError(
                        one_line(
                            f"GitHub refused to run {self._file} on {self._repo}@{task.base}"
                            f" ({error.status} {describe(error.data)}): the workflow is missing"
                            f" or refused; run agentos executor install {self._repo}"
                        )
                    ) from error
                raise
        run_id = answer.get("workflow_run_id") if isinstance(answer, dict) else None
        if run_id is None:  # a GitHub that answers 204 without the run: look for it
            found = self.find(task.task_id, task.start)
            if found is None:
                raise ExecutorError(f"{self._repo}: the dispatch of {task.task_id} named no run")
            return found
        return RemoteRun(self.name, str(run_id), task.start, datetime.now(UTC))

    def find(self, task_id: str, start: str) -> RemoteRun | None:
        """Return the newest dispatched run titled for the task, or None."""
        path = f"/repos/{self._repo}/actions/workflows/{quote(self._file)}/runs"
        with self._asking(f"{self._repo} workflow {self._file}", "list the runs of"):
            try:
                listed = self._rest.get(path, event="workflow_dispatch", per_page=100)
            except GithubException as error:
                if error.status == 404 and not is_rate_limited(error):
                    return None  # no workflow: no run of it either
                raise
        title = actions_workflow.run_name(task_id)
        runs = [r for r in listed.get("workflow_runs", []) if r.get("display_title") == title]
        if not runs:
            return None
        newest = max(runs, key=lambda r: (str(r.get("created_at") or ""), int(r["id"])))
        return RemoteRun(self.name, str(newest["id"]), start, _when(newest.get("created_at")))

    def state(self, run: RemoteRun) -> RunState:
        """Return the run's phase from its status and conclusion; 404 is VANISHED."""
        try:
            found = self._run(run)
        except RunVanished as gone:
            return RunState(Phase.VANISHED, str(gone))
        status, conclusion = str(found.get("status") or ""), found.get("conclusion")
        if status in QUEUED:
            return RunState(Phase.QUEUED, status)
        if status != "completed":
            return RunState(Phase.RUNNING, status)
        phase = ENDED.get(str(conclusion), Phase.FAILED)
        return RunState(phase, "" if phase is Phase.SUCCEEDED else str(conclusion))

    def collect(self, run: RemoteRun) -> Parcel:
        """Download the run's parcel artifact and read it (an empty parcel when there is none)."""
        parcels = [a for a in self._artifacts(run) if _is_parcel(a)]
        if not parcels:
            return Parcel(problems=(f"run {run.handle} left no parcel artifact",))
        if len(parcels) > 1:
            names = ", ".join(sorted(str(a.get("name")) for a in parcels))
            return Parcel(problems=(f"run {run.handle} left several parcels: {names}",))
        artifact = parcels[0]
        if artifact.get("expired"):
            return Parcel(problems=(f"the parcel of run {run.handle} has expired",))
        size = int(artifact.get("size_in_bytes") or 0)
        if size > PARCEL_LIMIT:
            return Parcel(problems=(f"the parcel is {size} bytes, over {PARCEL_LIMIT}",))
        data = self._download(run, int(artifact["id"]))
        if len(data) > PARCEL_LIMIT:
            return Parcel(problems=(f"the parcel is over {PARCEL_LIMIT} bytes",))
        return read_zip(data)

    def stop(self, run: RemoteRun) -> None:
        """Cancel the run; one already completed (409) or gone (404) is left as it is."""
        path = f"/repos/{self._repo}/actions/runs/{run.handle}/cancel"
        with self._asking(self._subject(run), "cancel"):
            try:
                self._rest.send("POST", path)
            except GithubException as error:
                if error.status in (404, 409) and not is_rate_limited(error):
                    return
                raise

    def release(self, run: RemoteRun) -> None:
        """Delete the run's parcel artifacts; best effort: a failure is left for retention."""
        try:
            for artifact in self._artifacts(run):
                if _is_parcel(artifact):
                    path = f"/repos/{self._repo}/actions/artifacts/{artifact['id']}"
                    self._rest.send("DELETE", path)
        except (ExecutorError, GithubException, *TRANSPORT_ERRORS):
            return

    def probe(self, base: str) -> list[Verdict]:
        """Return `check --live`'s verdicts: the workflow installed as rendered and active, the
        secrets set, and whether the token may update the workflow (the `workflow` scope)."""
        verdicts = [self._installed(base), self._active()]
        verdicts += [self._secret(name) for name in actions_workflow.settings(self._config).secrets]
        return [*verdicts, self._scope()]

    def _installed(self, base: str) -> Verdict:
        path = actions_workflow.workflow_path(self._config)
        where = f"{self._repo}@{base}:{path}"
        fix = f"run agentos executor install {self._repo} --executor {self.name}"
        try:
            found = self._rest.get(f"/repos/{self._repo}/contents/{quote(path)}", ref=base)
            text = base64.b64decode(str(found.get("content") or "")).decode("utf-8")
        except GithubException as error:
            if error.status == 404:
                return False, f"{where} is missing: {fix}"
            return False, one_line(f"{where} could not be read ({error.status}): {fix}")
        except (binascii.Error, UnicodeDecodeError, AttributeError):
            return False, f"{where} could not be read: {fix}"
        if text != actions_workflow.render(self._config):
            return False, f"{where} differs from what Agent OS renders: {fix}"
        return True, f"{where} is installed as rendered"

    def _active(self) -> Verdict:
        path = f"/repos/{self._repo}/actions/workflows/{quote(self._file)}"
        try:
            state = str(self._rest.get(path).get("state"))
        except GithubException as error:
            return False, f"{self._repo} workflow {self._file} not found ({error.status})"
        if state != "active":
            return False, f"{self._repo} workflow {self._file} is {state}: enable it on GitHub"
        return True, f"{self._repo} workflow {self._file} is active"

    def _secret(self, name: str) -> Verdict:
        try:
            self._rest.get(f"/repos/{self._repo}/actions/secrets/{quote(name)}")
        except GithubException as error:
            if error.status == 404:
                return (
                    False,
                    f"{self._repo} secret {name} is not set (Settings > Secrets > Actions)",
                )
            return False, f"{self._repo} secret {name} cannot be told ({error.status})"
        return True, f"{self._repo} secret {name} is set"

    def _scope(self) -> Verdict:
        try:
            headers, _ = self._rest.get_with_headers("/user")
        except GithubException as error:
            return False, f"the token's scopes cannot be read ({error.status})"
        scopes = header(headers, "x-oauth-scopes")
        if scopes is None:
            return (
                True,
                "the token lists no scopes (fine-grained): whether it may install the"
                " workflow cannot be told (it needs Workflows: write)",
            )
        if "workflow" in [s.strip() for s in scopes.split(",")]:
            return True, "the token has the workflow scope (to install or update the workflow)"
        return False, "the token lacks the workflow scope: it cannot install or update the workflow"

    def _run(self, run: RemoteRun) -> dict[str, Any]:
        with self._asking(self._subject(run), "read"):
            try:
                found: dict[str, Any] = self._rest.get(
                    f"/repos/{self._repo}/actions/runs/{run.handle}"
                )
            except GithubException as error:
                if error.status == 404 and not is_rate_limited(error):
                    raise RunVanished(f"{self._subject(run)} no longer exists") from error
                raise
        return found

    def _artifacts(self, run: RemoteRun) -> list[dict[str, Any]]:
        path = f"/repos/{self._repo}/actions/runs/{run.handle}/artifacts"
        with self._asking(self._subject(run), "list the artifacts of"):
            try:
                listed = self._rest.get(path, per_page=100)
            except GithubException as error:
                if error.status == 404 and not is_rate_limited(error):
                    raise RunVanished(f"{self._subject(run)} no longer exists") from error
                raise
        return list(listed.get("artifacts", []))

    def _download(self, run: RemoteRun, artifact: int) -> bytes:
        subject = f"{self._subject(run)} artifact {artifact}"
        with self._asking(subject, "download"):
            where = self._rest.location(f"/repos/{self._repo}/actions/artifacts/{artifact}/zip")
            if not where:
                raise ExecutorError(f"{subject}: GitHub gave no download URL")
            data = bytearray()  # signed: the token is not sent there
            with requests.get(where, stream=True, timeout=TIMEOUT) as response:
                response.raise_for_status()
                for chunk in response.iter_content(65536):
                    data += chunk
                    if len(data) > PARCEL_LIMIT:
                        break
        return bytes(data)

    def _subject(self, run: RemoteRun) -> str:
        return f"{self._repo} run {run.handle}"

    @contextmanager
    def _asking(self, subject: str, action: str) -> Iterator[None]:
        """Raise ExecutorError (one line) for a failure in the block; a refused token (401)
        raises the Unauthorized-family error every GitHub adapter raises."""
        try:
            yield
        except GithubException as error:
            if error.status == 401:
                raise from_github(error, subject, action) from error
            raise ExecutorError(
                one_line(
                    f"GitHub could not {action} {subject} ({error.status} {describe(error.data)})"
                )
            ) from error
        except TRANSPORT_ERRORS as error:
            raise ExecutorError(
                one_line(
                    f"GitHub could not be reached to {action} {subject} ({type(error).__name__})"
                )
            ) from error


def _is_parcel(artifact: dict[str, Any]) -> bool:
    return str(artifact.get("name") or "").startswith(actions_workflow.ARTIFACT_PREFIX)


def _when(stamp: object) -> datetime:
    """Return GitHub's timestamp as a datetime (now when it gives none)."""
    try:
        return datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return datetime.now(UTC)

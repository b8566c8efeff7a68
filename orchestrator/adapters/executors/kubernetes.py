"""The Executor port on Kubernetes: one Job per attempt (kube_manifest.py), followed over the API.

The `kubernetes` package is an optional extra (requirements-kubernetes.txt), imported only when
an executor is built. The Job's name is a function of the task id and the start commit, so a
worker restarted between creating it and writing it down finds it again; the parcel comes back
on the agent container's log between marks (no exec, no volume read from here).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from orchestrator.adapters.executors.kube_manifest import (
    AGENT_CONTAINER,
    DEADLINE_MARGIN_S,
    START_ANNOTATION,
    TASK_ID_ANNOTATION,
    job_manifest,
    job_name,
)
from orchestrator.adapters.executors.parcels import between_marks, read_tar
from orchestrator.config.executor_model import ExecutorConfig, KubernetesSettings
from orchestrator.core.remote import (
    PARCEL_LIMIT,
    Parcel,
    Phase,
    RemoteRun,
    RemoteTask,
    RunState,
)
from orchestrator.errors import ExecutorError

MISSING = (
    "the kubernetes executor needs the kubernetes package: "
    "pip install -r requirements-kubernetes.txt"
)
TIMEOUT_S = 30  # each API request's
# a container waiting for one of these will not start by itself: said in the state's detail
STUCK = {
    "CreateContainerConfigError",
    "CreateContainerError",
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
}


def api_client(settings: KubernetesSettings) -> Any:
    """Return a kubernetes ApiClient from the kubeconfig (and context), or the pod's own."""
    try:
        from kubernetes import client, config
    except ImportError:
        raise ExecutorError(MISSING) from None
    try:
        if settings.kubeconfig is None:
            configuration = client.Configuration()
            config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
            return client.ApiClient(configuration)
        return config.new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=str(settings.kubeconfig), context=settings.context
        )
    except (config.ConfigException, OSError, ValueError) as error:
        where = settings.kubeconfig or "the in-cluster service account"
        raise ExecutorError(f"kubernetes: cannot load {where}: {error}"[:300]) from None


class KubeExecutor:
    """Runs one repo's attempts as Jobs in `kubernetes.namespace`.

    `clone_url` is the repo's HTTPS URL without credentials (`git_clone.git_url(github.api_url,
    repo)`); the checkout reads it with the `git_secret` token.
    """

    def __init__(
        self,
        executor: ExecutorConfig,
        clone_url: str,
        *,
        margin_s: int = DEADLINE_MARGIN_S,
    ) -> None:
        if executor.kubernetes is None:
            raise ExecutorError(f"executor {executor.name} has no kubernetes settings")
        self._executor, self._settings = executor, executor.kubernetes
        self._clone_url, self._margin_s = clone_url, margin_s
        self._api = api_client(self._settings)
        try:
            from kubernetes import client
            from kubernetes.client.exceptions import ApiException
            from urllib3.exceptions import HTTPError
        except ImportError:
            raise ExecutorError(MISSING) from None

        self._client = client
        self._batch = client.BatchV1Api(self._api)
        self._core = client.CoreV1Api(self._api)
        self._refused: type[Exception] = ApiException
        self._unreachable: tuple[type[Exception], ...] = (HTTPError, OSError)

    @property
    def name(self) -> str:
        return self._executor.name

    @property
    def slots(self) -> int:
        return self._executor.slots

    # -- the port -----------------------------------------------------------------------------
    def start(self, task: RemoteTask) -> RemoteRun:
        manifest: Any = job_manifest(self._executor, task, self._clone_url, margin_s=self._margin_s)
        ns = self._settings.namespace
        try:
            job = self._batch.create_namespaced_job(ns, manifest, _request_timeout=TIMEOUT_S)
        except self._refused as error:
            if getattr(error, "status", None) != 409:
                raise ExecutorError(f"kubernetes refused the Job: {_said(error)}") from None
            job = self._ask("read the Job", self._batch.read_namespaced_job, job_name_of(manifest))
        except self._unreachable as error:
            raise ExecutorError(f"kubernetes could not be reached: {_why(error)}") from None
        run = self._run(job, task.task_id, task.start)
        if run is None:
            name = job_name_of(manifest)
            raise ExecutorError(f"the Job {ns}/{name} exists for another task or start commit")
        return run

    def find(self, task_id: str, start: str) -> RemoteRun | None:
        job = self._ask("read the Job", self._batch.read_namespaced_job, job_name(task_id, start))
        return None if job is None else self._run(job, task_id, start)

    def state(self, run: RemoteRun) -> RunState:
        job = self._ask("read the Job", self._batch.read_namespaced_job, run.handle)
        if job is None:
            return RunState(Phase.VANISHED, f"the Job {run.handle} is gone")
        if job.metadata.deletion_timestamp is not None:
            return RunState(Phase.VANISHED, f"the Job {run.handle} is being deleted")
        for condition in (job.status and job.status.conditions) or []:
            if condition.status != "True":
                continue
            if condition.type == "Complete":
                return RunState(Phase.SUCCEEDED)
            if condition.type == "Failed" and condition.reason == "DeadlineExceeded":
                return RunState(Phase.TIMED_OUT, _line(condition.message or "DeadlineExceeded"))
            if condition.type == "Failed":
                detail = self._failure(run.handle) or _line(
                    f"{condition.reason}: {condition.message}"
                )
                return RunState(Phase.FAILED, detail)
        phase = Phase.RUNNING if (job.status and job.status.active) else Phase.QUEUED
        return RunState(phase, self._stuck(run.handle))

    def collect(self, run: RemoteRun) -> Parcel:
        pod = self._pod(run.handle)
        if pod is None:
            return Parcel(problems=(f"the Job {run.handle} has no pod whose agent ended",))
        answer = self._ask(
            "read the agent's log",
            self._core.read_namespaced_pod_log,
            pod.metadata.name,
            container=AGENT_CONTAINER,
            limit_bytes=2 * PARCEL_LIMIT,
            _preload_content=False,
        )
        if answer is None:
            return Parcel(problems=(f"the pod {pod.metadata.name} is gone",))
        log = bytes(answer.data).decode("utf-8", "replace")
        text = between_marks(log)
        if text is None:
            return Parcel(problems=("the agent's log holds no parcel between the marks",))
        try:
            data = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError) as error:
            return Parcel(problems=(f"the parcel on the agent's log is not base64: {error}",))
        return read_tar(data)

    def stop(self, run: RemoteRun) -> None:
        self._delete(run.handle)

    def release(self, run: RemoteRun) -> None:
        self._delete(run.handle)

    # -- `agentos check --live` -------------------------------------------------------------
    def probe(self) -> list[tuple[bool, str]]:
        """Return one verdict a line: the API, the namespace, the Secrets, a dry run of a Job."""
        ns, settings = self._settings.namespace, self._settings
        try:
            version = self._client.VersionApi(self._api).get_code(_request_timeout=TIMEOUT_S)
        except (self._refused, *self._unreachable) as error:
            return [(False, f"kubernetes: the API does not answer: {_why(error)}")]
        found = [(True, f"kubernetes: the API answers ({version.git_version})")]
        self._probe_read(found, f"namespace {ns}", self._core.read_namespace, ns)
        if not found[-1][0]:
            return found
        secrets: list[tuple[str, tuple[str, ...]]] = [(settings.git_secret, ("token",))]
        if settings.agent_secret is not None:
            secrets.append((settings.agent_secret, settings.agent_env))
        for name, keys in secrets:
            secret = self._probe_read(
                found, f"secret {ns}/{name}", self._core.read_namespaced_secret, name, ns
            )
            if secret is not None:
                missing = [k for k in keys if k not in (secret.data or {})]
                if missing:
                    found[-1] = (
                        False,
                        f"kubernetes: secret {ns}/{name} lacks {', '.join(missing)}",
                    )
        found.append(self._dry_run())
        return found

    def _probe_read(
        self, found: list[tuple[bool, str]], what: str, read: Callable[..., Any], *args: Any
    ) -> Any:
        """Read an object for the probe; an account that may not read it is not a failure (the
        executor itself never reads namespaces or Secrets)."""
        try:
            obj = read(*args, _request_timeout=TIMEOUT_S)
        except (self._refused, *self._unreachable) as error:
            if getattr(error, "status", None) == 403:
                found.append(
                    (True, f"kubernetes: {what}: not checked, this account may not read it")
                )
            else:
                found.append((False, f"kubernetes: {what}: {_why(error)}"))
            return None
        found.append((True, f"kubernetes: {what} exists"))
        return obj

    def _dry_run(self) -> tuple[bool, str]:
        task = RemoteTask("agentos-probe", "owner/repo", "main", "0" * 40, "refs/x", 60.0)
        manifest: Any = job_manifest(self._executor, task, self._clone_url)
        try:
            self._batch.create_namespaced_job(
                self._settings.namespace, manifest, dry_run="All", _request_timeout=TIMEOUT_S
            )
        except (self._refused, *self._unreachable) as error:
            return (False, f"kubernetes: a Job would be refused: {_why(error)}")
        return (True, "kubernetes: a Job would be accepted (server-side dry run)")

    # -- helpers ------------------------------------------------------------------------------
    def _ask(self, what: str, call: Callable[..., Any], name: str, **options: Any) -> Any:
        """Call the API on `name` in the namespace; None when it is not found (404)."""
        try:
            return call(name, self._settings.namespace, _request_timeout=TIMEOUT_S, **options)
        except self._refused as error:
            if getattr(error, "status", None) == 404:
                return None
            raise ExecutorError(f"kubernetes: could not {what}: {_said(error)}") from None
        except self._unreachable as error:
            raise ExecutorError(f"kubernetes could not be reached: {_why(error)}") from None

    def _delete(self, name: str) -> None:
        self._ask(
            "delete the Job",
            self._batch.delete_namespaced_job,
            name,
            propagation_policy="Background",
        )

    def _run(self, job: Any, task_id: str, start: str) -> RemoteRun | None:
        notes = job.metadata.annotations or {}
        if notes.get(TASK_ID_ANNOTATION) != task_id or notes.get(START_ANNOTATION) != start:
            return None
        created = job.metadata.creation_timestamp
        return RemoteRun(
            executor=self.name,
            handle=job.metadata.name,
            start=start,
            started_at=created if isinstance(created, datetime) else datetime.now(UTC),
        )

    def _pods(self, name: str) -> list[Any]:
        try:
            found = self._core.list_namespaced_pod(
                self._settings.namespace,
                label_selector=f"job-name={name}",
                _request_timeout=TIMEOUT_S,
            )
        except self._refused as error:
            raise ExecutorError(f"kubernetes: could not list pods: {_said(error)}") from None
        except self._unreachable as error:
            raise ExecutorError(f"kubernetes could not be reached: {_why(error)}") from None
        return sorted(found.items, key=lambda p: p.metadata.creation_timestamp or datetime.min)

    def _pod(self, name: str) -> Any:
        """Return the Job's pod whose agent container ended (the latest), or None."""
        ended = [
            pod
            for pod in self._pods(name)
            if any(
                s.name == AGENT_CONTAINER and s.state and s.state.terminated
                for s in (pod.status and pod.status.container_statuses) or []
            )
        ]
        return ended[-1] if ended else None

    def _failure(self, name: str) -> str:
        """Return which container of the Job's last pod failed, and how, in one line."""
        pods = self._pods(name)
        if not pods:
            return ""
        pod = pods[-1]
        status = pod.status
        entries = [*(status.init_container_statuses or []), *(status.container_statuses or [])]
        for entry in entries:
            ended = entry.state and entry.state.terminated
            if not ended or ended.exit_code == 0:
                continue
            detail = f"{entry.name} exited {ended.exit_code} ({ended.reason or 'Error'})"
            if entry.name == AGENT_CONTAINER:  # its message and log are the agent's words
                return detail
            tail = ended.message or self._tail(pod.metadata.name, entry.name)
            return _line(f"{detail}: {tail}" if tail else detail)
        return _line(f"{status.reason}: {status.message}") if status.reason else ""

    def _tail(self, pod: str, container: str) -> str:
        """Return the last line of a container's log (the checkout's: never the agent's words)."""
        try:
            text = self._core.read_namespaced_pod_log(
                pod, self._settings.namespace, container=container, tail_lines=1,
                _request_timeout=TIMEOUT_S,
            )  # fmt: skip
        except (self._refused, *self._unreachable):
            return ""
        return str(text).strip()

    def _stuck(self, name: str) -> str:
        """Return why a container of the Job's pod cannot start by itself, or ""."""
        for pod in self._pods(name)[-1:]:
            status = pod.status
            entries = [*(status.init_container_statuses or []), *(status.container_statuses or [])]
            for entry in entries:
                waiting = entry.state and entry.state.waiting
                if waiting and waiting.reason in STUCK:
                    return _line(f"{entry.name}: {waiting.reason}: {waiting.message or ''}")
        return ""


def job_name_of(manifest: dict[str, Any]) -> str:
    return str(manifest["metadata"]["name"])


def _line(text: str) -> str:
    return " ".join(text.split())[:300]


def _said(error: Any) -> str:
    """Return the message of a Kubernetes Status answer, or the HTTP status and reason."""
    try:
        message = json.loads(error.body).get("message", "")
    except (TypeError, ValueError, AttributeError):
        message = ""
    return _line(f"{error.status} {message or error.reason}")


def _why(error: Exception) -> str:
    if hasattr(error, "status") and hasattr(error, "body"):
        return _said(error)
    return _line(f"{type(error).__name__}: {error}")

"""The Kubernetes stand-in through the official client: Jobs run, fail, time out and go."""

from __future__ import annotations

import base64
import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from orchestrator.sandbox.kubernetes import KubernetesSandbox
from orchestrator.sandbox.kubernetes.schemas import problems

NS = "default"


@pytest.fixture
def sandbox() -> Iterator[KubernetesSandbox]:
    with KubernetesSandbox() as running:
        yield running


@pytest.fixture
def api(sandbox: KubernetesSandbox) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(sandbox.kubeconfig_path()))


def job(name: str, command: list[str], **spec: Any) -> dict[str, Any]:
    pod: dict[str, Any] = {
        "restartPolicy": "Never",
        "containers": [{"name": "main", "image": "busybox:1.36", "command": command}],
    }
    pod.update(spec.pop("pod", {}))
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {"template": {"spec": pod}} | spec,
    }


def finished(sandbox: KubernetesSandbox, name: str, timeout: float = 15) -> dict[str, Any]:
    def done() -> bool:
        found = [j for j in sandbox.jobs() if j["metadata"]["name"] == name]
        return bool(found and found[0]["status"].get("conditions"))

    assert sandbox.wait_for(done, timeout), sandbox.jobs()
    return next(j for j in sandbox.jobs() if j["metadata"]["name"] == name)


def send(
    sandbox: KubernetesSandbox, method: str, path: str, body: Any = None, token: str = ""
) -> tuple[int, Any]:
    request = urllib.request.Request(
        sandbox.url + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token or sandbox.token}"},
    )
    try:
        with urllib.request.urlopen(request) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def assert_valid(obj: dict[str, Any]) -> None:
    assert problems(obj) == [], obj


def test_a_job_with_an_init_container_a_secret_and_an_empty_dir_completes(
    sandbox: KubernetesSandbox, api: client.ApiClient
) -> None:
    core, batch = client.CoreV1Api(api), client.BatchV1Api(api)
    core.create_namespaced_secret(
        NS, {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "cred"},
             "stringData": {"token": "s3cret"}},
    )  # fmt: skip
    manifest = job(
        "agent",
        ["sh", "-c", 'echo "<<<$(cat /work/task.txt) $TOKEN $PLAIN>>>"; pwd'],
        pod={
            "initContainers": [
                {"name": "fetch", "image": "busybox:1.36",
                 "command": ["sh", "-c", "echo hello-from-init > /work/task.txt"],
                 "volumeMounts": [{"name": "work", "mountPath": "/work"}]}
            ],
            "volumes": [{"name": "work", "emptyDir": {}}],
        },
    )  # fmt: skip
    main = manifest["spec"]["template"]["spec"]["containers"][0]
    main["volumeMounts"] = [{"name": "work", "mountPath": "/work"}]
    main["workingDir"] = "/work"
    main["env"] = [
        {"name": "PLAIN", "value": "plain-value"},
        {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "cred", "key": "token"}}},
    ]
    created = batch.create_namespaced_job(NS, manifest)
    assert created.metadata.uid and created.metadata.labels["job-name"] == "agent"
    done = finished(sandbox, "agent")
    assert [c["type"] for c in done["status"]["conditions"]] == ["Complete"]
    assert done["status"]["succeeded"] == 1 and done["status"]["completionTime"]
    read = batch.read_namespaced_job("agent", NS)
    assert read.status.succeeded == 1
    pods = core.list_namespaced_pod(NS, label_selector="batch.kubernetes.io/job-name=agent")
    assert len(pods.items) == 1
    pod = pods.items[0]
    assert pod.status.phase == "Succeeded"
    assert pod.status.container_statuses[0].state.terminated.exit_code == 0
    assert pod.metadata.labels["controller-uid"] == created.metadata.uid
    log = core.read_namespaced_pod_log(pod.metadata.name, NS, container="main")
    assert "<<<hello-from-init s3cret plain-value>>>" in log
    assert core.read_namespaced_pod_log(pod.metadata.name, NS, tail_lines=1).endswith("/work\n")
    assert core.read_namespaced_pod_log(pod.metadata.name, NS, limit_bytes=3) == "<<<"
    assert core.list_namespaced_pod(NS, label_selector="job-name=other").items == []
    for obj in [done, *sandbox.pods()]:
        assert_valid(obj)
    listed = send(sandbox, "GET", f"/apis/batch/v1/namespaces/{NS}/jobs")[1]
    assert_valid(listed)


def test_a_failing_command_with_backoff_limit_1_fails_after_two_pods(
    sandbox: KubernetesSandbox, api: client.ApiClient
) -> None:
    batch = client.BatchV1Api(api)
    batch.create_namespaced_job(NS, job("fails", ["sh", "-c", "echo boom; exit 3"], backoffLimit=1))
    done = finished(sandbox, "fails")
    condition = done["status"]["conditions"][0]
    assert (condition["type"], condition["reason"]) == ("Failed", "BackoffLimitExceeded")
    assert done["status"]["failed"] == 2
    pods = client.CoreV1Api(api).list_namespaced_pod(NS, label_selector="job-name=fails").items
    assert len(pods) == 2
    assert {p.status.container_statuses[0].state.terminated.exit_code for p in pods} == {3}
    assert_valid(done)


def test_fail_next_pod_fails_one_attempt_then_the_job_completes(
    sandbox: KubernetesSandbox, api: client.ApiClient
) -> None:
    sandbox.fail_next_pod()
    client.BatchV1Api(api).create_namespaced_job(NS, job("flaky", ["true"], backoffLimit=2))
    done = finished(sandbox, "flaky")
    assert done["status"]["conditions"][0]["type"] == "Complete"
    assert (done["status"]["failed"], done["status"]["succeeded"]) == (1, 1)


def test_active_deadline_kills_the_process_and_fails_the_job(
    sandbox: KubernetesSandbox, api: client.ApiClient
) -> None:
    batch = client.BatchV1Api(api)
    started = time.monotonic()
    batch.create_namespaced_job(NS, job("slow", ["sleep", "30"], activeDeadlineSeconds=1))
    assert sandbox.wait_for(lambda: sandbox.pids(), 5)
    pid = sandbox.pids()[0]
    done = finished(sandbox, "slow", timeout=10)
    assert time.monotonic() - started < 8
    condition = done["status"]["conditions"][0]
    assert (condition["type"], condition["reason"]) == ("Failed", "DeadlineExceeded")
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert sandbox.wait_for(lambda: not sandbox.pods(), 5)


def test_an_unknown_field_is_422_invalid_naming_it(sandbox: KubernetesSandbox) -> None:
    """The client of today refuses the field itself, so the manifest goes over plain HTTP."""
    manifest = job("strict", ["true"])
    manifest["spec"]["template"]["spec"]["containers"][0]["comand"] = ["true"]
    code, answer = send(sandbox, "POST", f"/apis/batch/v1/namespaces/{NS}/jobs", manifest)
    assert (code, answer["reason"], answer["kind"]) == (422, "Invalid", "Status")
    assert answer["details"]["causes"][0]["field"] == "spec.template.spec.containers.0.comand"
    assert "comand" in answer["message"]
    assert_valid(answer)
    assert sandbox.jobs() == []


def test_a_duplicate_name_is_409_and_a_missing_job_404(api: client.ApiClient) -> None:
    batch = client.BatchV1Api(api)
    batch.create_namespaced_job(NS, job("twice", ["true"]))
    with pytest.raises(ApiException) as caught:
        batch.create_namespaced_job(NS, job("twice", ["true"]))
    assert caught.value.status == 409 and "AlreadyExists" in caught.value.body
    with pytest.raises(ApiException) as missing:
        batch.read_namespaced_job("nobody", NS)
    assert missing.value.status == 404 and "NotFound" in missing.value.body


@pytest.mark.parametrize("policy", ["Foreground", "Background"])
def test_deleting_a_job_with_propagation_removes_its_pods(
    sandbox: KubernetesSandbox, api: client.ApiClient, policy: str
) -> None:
    batch = client.BatchV1Api(api)
    batch.create_namespaced_job(NS, job("long", ["sleep", "30"]))
    assert sandbox.wait_for(lambda: sandbox.pids(), 5)
    pid = sandbox.pids()[0]
    batch.delete_namespaced_job("long", NS, propagation_policy=policy)
    assert sandbox.wait_for(lambda: not sandbox.pods() and not sandbox.jobs(), 10)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(ApiException):
        batch.read_namespaced_job("long", NS)


def test_a_wrong_token_is_401(sandbox: KubernetesSandbox) -> None:
    configuration = client.Configuration()
    configuration.host = sandbox.url
    configuration.api_key = {"authorization": "Bearer wrong"}
    with pytest.raises(ApiException) as caught:
        client.BatchV1Api(client.ApiClient(configuration)).list_namespaced_job(NS)
    assert caught.value.status == 401
    code, answer = send(sandbox, "GET", "/api/v1/namespaces", token="nope")
    assert (code, answer["reason"]) == (401, "Unauthorized")
    assert_valid(answer)


def test_ttl_zero_deletes_the_finished_job(
    sandbox: KubernetesSandbox, api: client.ApiClient
) -> None:
    client.BatchV1Api(api).create_namespaced_job(
        NS, job("brief", ["true"], ttlSecondsAfterFinished=0)
    )
    assert sandbox.wait_idle(10)
    assert sandbox.jobs() == [] and sandbox.pods() == []


def test_version_and_namespaces(api: client.ApiClient) -> None:
    assert client.VersionApi(api).get_code().git_version == "v1.30.0"
    names = [n.metadata.name for n in client.CoreV1Api(api).list_namespace().items]
    assert "default" in names
    secret = client.CoreV1Api(api).read_namespaced_secret
    with pytest.raises(ApiException) as caught:
        secret("absent", NS)
    assert caught.value.status == 404
    assert base64  # the secret test above encodes through stringData


def test_a_dry_run_validates_and_defaults_but_stores_nothing(
    sandbox: KubernetesSandbox, api: client.ApiClient
) -> None:
    batch, core = client.BatchV1Api(api), client.CoreV1Api(api)
    answer = batch.create_namespaced_job(NS, job("dry", ["true"]), dry_run="All")
    assert answer.metadata.name == "dry" and answer.spec.backoff_limit == 6
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
              "stringData": {"k": "v"}}  # fmt: skip
    assert core.create_namespaced_secret(NS, secret, dry_run="All").data == {"k": "dg=="}
    assert sandbox.jobs() == [] and sandbox.pods() == []
    with pytest.raises(ApiException):
        core.read_namespaced_secret("s", NS)
    path = f"/apis/batch/v1/namespaces/{NS}/jobs"
    code, refused = send(sandbox, "POST", path + "?dryRun=Some", job("dry", ["true"]))
    assert (code, refused["reason"]) == (400, "BadRequest")
    batch.create_namespaced_job(NS, job("kept", ["true"]))
    code, refused = send(sandbox, "DELETE", path + "/kept?dryRun=All")
    assert (code, refused["reason"]) == (501, "NotImplemented")
    assert [j["metadata"]["name"] for j in sandbox.jobs()] == ["kept"]

"""A pod's life on this host: init containers in order, then the main containers together."""

from __future__ import annotations

import copy
import shutil
import threading

from orchestrator.sandbox.kubernetes.cluster import Cluster, PodRun
from orchestrator.sandbox.kubernetes.containers import Process, prepare, start_error
from orchestrator.sandbox.kubernetes.objects import Obj, now, random_suffix

_CONTAINER_DEFAULTS = {
    "terminationMessagePath": "/dev/termination-log",
    "terminationMessagePolicy": "File",
}


def pod_for(cluster: Cluster, job: Obj) -> PodRun:
    """Create (Pending) the pod of one attempt of a Job, as the Job controller would."""
    meta, template = job["metadata"], job["spec"]["template"]
    name = f"{meta['name']}-{random_suffix()}"
    spec = copy.deepcopy(template["spec"])
    for c in spec.get("initContainers", []) + spec["containers"]:
        c.update({k: v for k, v in _CONTAINER_DEFAULTS.items() if k not in c})
        latest = ":" not in c.get("image", "").rsplit("/", 1)[-1] or c["image"].endswith(":latest")
        c.setdefault("imagePullPolicy", "Always" if latest else "IfNotPresent")
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("securityContext", {})
    spec["nodeName"] = "sandbox"
    pod: Obj = {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {
            "name": name,
            "generateName": f"{meta['name']}-",
            "labels": dict(template.get("metadata", {}).get("labels", {})),
            "annotations": dict(template.get("metadata", {}).get("annotations", {})),
            "ownerReferences": [
                {
                    "apiVersion": "batch/v1",
                    "kind": "Job",
                    "name": meta["name"],
                    "uid": meta["uid"],
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
            "finalizers": ["batch.kubernetes.io/job-tracking"],
        },
        "spec": spec,
        "status": {"phase": "Pending", "qosClass": "BestEffort"},
    }
    if not pod["metadata"]["annotations"]:
        del pod["metadata"]["annotations"]
    with cluster.lock:
        cluster.stamp(pod, meta["namespace"])
        scratch = cluster.scratch / "pods" / pod["metadata"]["uid"]
        (scratch / "logs").mkdir(parents=True)
        run = PodRun(pod, scratch)
        cluster.pods[run.key] = run
    return run


def _state(cluster: Cluster, run: PodRun, field: str, name: str, state: Obj) -> None:
    """Set one container's state in the pod's status (with the lock held)."""
    spec_field = "initContainers" if field == "initContainerStatuses" else "containers"
    containers = run.obj["spec"].get(spec_field, [])
    status = run.obj["status"]
    if field not in status:
        status[field] = [
            {
                "name": c["name"],
                "image": c.get("image", ""),
                "imageID": "",
                "ready": False,
                "restartCount": 0,
                "started": False,
                "state": {"waiting": {"reason": "PodInitializing"}},
            }
            for c in containers
        ]
    for entry in status[field]:
        if entry["name"] == name:
            entry["state"] = state
            entry["started"] = "running" in state
            entry["ready"] = "running" in state and field == "containerStatuses"
            if "terminated" in state or "running" in state:
                entry["containerID"] = f"sandbox://{run.obj['metadata']['uid']}/{name}"
                entry["imageID"] = f"sandbox/{entry['image']}"
    cluster.touch(run.obj)


def _run_container(cluster: Cluster, run: PodRun, container: Obj, field: str) -> int:
    """Run one container to its end; return its exit code (non-zero when it could not start)."""
    name = container["name"]
    while True:
        with cluster.lock:
            failing = (
                cluster.failing.pop(0) if cluster.failing and field == "containerStatuses" else 0
            )
        if failing:
            launch = prepare(
                run.obj,
                {"name": name, "command": ["sh", "-c", f"exit {failing}"]},
                run.scratch,
                cluster.images,
                cluster.secret,
            )
        else:
            launch = prepare(run.obj, container, run.scratch, cluster.images, cluster.secret)
        if not launch.wait or run.stopping:
            break
        with cluster.lock:
            waiting = {"reason": "CreateContainerConfigError", "message": launch.wait}
            _state(cluster, run, field, name, {"waiting": waiting})
        if cluster.stop.wait(0.2):
            break
    started = now()
    process = start_error(launch, run.log(name)) if launch.argv and not run.stopping else None
    if not isinstance(process, Process):
        why = launch.refuse or launch.wait or process or "the pod is being deleted"
        end = {"exitCode": 128, "reason": "StartError", "message": why}
        with cluster.lock:
            _state(
                cluster,
                run,
                field,
                name,
                {"terminated": end | {"startedAt": started, "finishedAt": now()}},
            )
        return 128
    with cluster.lock:
        run.processes[name] = process
        _state(cluster, run, field, name, {"running": {"startedAt": started}})
        if run.stopping:
            threading.Thread(target=process.kill, args=(run.stopping, 0), daemon=True).start()
    code = process.wait()
    reason = "Completed" if code == 0 else "Error"
    code = 137 if code < 0 else code
    terminated = {"exitCode": code, "reason": reason, "startedAt": started, "finishedAt": now()}
    with cluster.lock:
        run.processes.pop(name, None)
        _state(cluster, run, field, name, {"terminated": terminated})
    return code


def run_pod(cluster: Cluster, run: PodRun) -> None:
    """Run the pod: Succeeded when every main container exits 0, Failed otherwise."""
    spec = run.obj["spec"]
    with cluster.lock:
        run.obj["status"].update({"hostIP": "127.0.0.1", "podIP": "127.0.0.1", "startTime": now()})
        run.obj["status"]["conditions"] = [
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": now()}
        ]
        cluster.touch(run.obj)
    failed = False
    for container in spec.get("initContainers", []):
        if _run_container(cluster, run, container, "initContainerStatuses") != 0:
            failed = True
            break
    if not failed:
        codes: list[int] = []
        threads = [
            threading.Thread(
                target=lambda c=c: codes.append(
                    _run_container(cluster, run, c, "containerStatuses")
                ),
                daemon=True,
            )
            for c in spec["containers"]
        ]
        with cluster.lock:
            run.obj["status"]["phase"] = "Running"
            cluster.touch(run.obj)
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        failed = any(codes)
    with cluster.lock:
        status = run.obj["status"]
        status["phase"] = "Failed" if failed or run.stopping else "Succeeded"
        if run.stopping == "DeadlineExceeded":
            status["reason"] = "DeadlineExceeded"
            status["message"] = "Pod was active on the node longer than the specified deadline"
        status["conditions"].append(
            {
                "type": "Ready",
                "status": "False",
                "reason": "PodCompleted",
                "lastTransitionTime": now(),
            }
        )
        run.obj["metadata"].pop("finalizers", None)
        cluster.touch(run.obj)
    run.done.set()


def end_pod(cluster: Cluster, run: PodRun, reason: str, remove: bool) -> None:
    """Kill the pod's processes (their groups), wait for it to end, optionally delete it."""
    with cluster.lock:
        run.stopping = run.stopping or reason
        grace = float(run.obj["spec"].get("terminationGracePeriodSeconds", 30))
        if remove:
            run.obj["metadata"]["deletionTimestamp"] = now()
            run.obj["metadata"]["deletionGracePeriodSeconds"] = int(grace)
            cluster.touch(run.obj)
        processes = list(run.processes.values())
    for process in processes:
        process.kill(reason, grace)
    run.done.wait()
    if remove:
        with cluster.lock:
            if cluster.pods.get(run.key) is run:
                del cluster.pods[run.key]
                cluster.changed.notify_all()
        shutil.rmtree(run.scratch, ignore_errors=True)

"""The Job controller: one pod per attempt, backoffLimit, activeDeadlineSeconds, TTL."""

from __future__ import annotations

import copy

from orchestrator.sandbox.kubernetes.cluster import Cluster, Key
from orchestrator.sandbox.kubernetes.objects import Obj, monotonic, now
from orchestrator.sandbox.kubernetes.pods import end_pod, pod_for, run_pod

UID_LABELS = ("batch.kubernetes.io/controller-uid", "controller-uid")
NAME_LABELS = ("batch.kubernetes.io/job-name", "job-name")


def admit(cluster: Cluster, namespace: str, manifest: Obj, *, store: bool = True) -> Obj:
    """Default a validated Job manifest as the API server does and store it (lock held); with
    `store` False (a dry run) only default it."""
    job = copy.deepcopy(manifest)
    job.pop("status", None)
    cluster.stamp(job, namespace)
    meta, spec = job["metadata"], job["spec"]
    labels = {k: meta["uid"] for k in UID_LABELS} | {k: meta["name"] for k in NAME_LABELS}
    template_meta = spec["template"].setdefault("metadata", {})
    template_meta["labels"] = labels | dict(template_meta.get("labels") or {})
    if "labels" not in meta:
        meta["labels"] = dict(template_meta["labels"])
    spec.setdefault("selector", {"matchLabels": {UID_LABELS[0]: meta["uid"]}})
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completions", 1)
    spec.setdefault("parallelism", 1)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    spec.setdefault("manualSelector", False)
    spec.setdefault("podReplacementPolicy", "TerminatingOrFailed")
    job["status"] = {}
    if not store:
        return job
    cluster.jobs[(namespace, meta["name"])] = job
    cluster.spawn(_control, f"k8s-job-{meta['name']}", cluster, (namespace, meta["name"]))
    return job


def _current(cluster: Cluster, key: Key, uid: str) -> Obj | None:
    job = cluster.jobs.get(key)
    if job is None or job["metadata"]["uid"] != uid or "deletionTimestamp" in job["metadata"]:
        return None
    return job


def _condition(kind: str, reason: str = "", message: str = "") -> Obj:
    stamp = now()
    found: Obj = {"type": kind, "status": "True", "lastProbeTime": stamp}
    found["lastTransitionTime"] = stamp
    if reason:
        found |= {"reason": reason, "message": message}
    return found


def _control(cluster: Cluster, key: Key) -> None:
    with cluster.lock:
        job = cluster.jobs[key]
        uid, spec = job["metadata"]["uid"], job["spec"]
        job["status"] = {
            "startTime": now(),
            "ready": 0,
            "terminating": 0,
            "uncountedTerminatedPods": {},
        }
        cluster.touch(job)
    limit = spec.get("activeDeadlineSeconds")
    deadline = monotonic() + limit if limit is not None else None
    succeeded = failed = 0
    outcome: Obj | None = None
    while outcome is None:
        with cluster.lock:
            if _current(cluster, key, uid) is None or cluster.stop.is_set():
                return
        run = pod_for(cluster, job)
        cluster.spawn(run_pod, f"k8s-pod-{run.key[1]}", cluster, run)
        with cluster.lock:
            job["status"]["active"] = 1
            cluster.touch(job)
        left = None if deadline is None else max(0.0, deadline - monotonic())
        if not run.done.wait(left):
            end_pod(cluster, run, "DeadlineExceeded", remove=True)
            failed += 1
            outcome = _condition(
                "Failed", "DeadlineExceeded", "Job was active longer than specified deadline"
            )
        elif run.stopping:
            return  # the Job was deleted or the sandbox stopped
        elif run.obj["status"]["phase"] == "Succeeded":
            succeeded += 1
            if succeeded >= spec["completions"]:
                outcome = _condition("Complete")
        else:
            failed += 1
            if failed > spec["backoffLimit"]:
                outcome = _condition(
                    "Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit"
                )
        with cluster.lock:
            if _current(cluster, key, uid) is None:
                return
            status = job["status"]
            status.pop("active", None)
            status.update({"succeeded": succeeded, "failed": failed})
            for count in ("succeeded", "failed"):
                if not status[count]:
                    del status[count]
            if outcome is not None:
                status["conditions"] = [outcome]
                if outcome["type"] == "Complete":
                    status["completionTime"] = now()
            cluster.touch(job)
    ttl = spec.get("ttlSecondsAfterFinished")
    if ttl is not None and not cluster.stop.wait(ttl):
        with cluster.lock:
            if _current(cluster, key, uid) is None:
                return
        delete(cluster, key, "Foreground")


def delete(cluster: Cluster, key: Key, policy: str) -> Obj:
    """Delete a Job; its pods go too unless the policy is Orphan. Return the Job as it was."""
    with cluster.lock:
        job = cluster.jobs[key]
        uid = job["metadata"]["uid"]
        pods = [
            run
            for run in cluster.pods.values()
            if any(o.get("uid") == uid for o in run.obj["metadata"].get("ownerReferences", []))
        ]
        if policy == "Foreground":
            job["metadata"]["deletionTimestamp"] = now()
            job["metadata"]["deletionGracePeriodSeconds"] = 0
            job["metadata"]["finalizers"] = ["foregroundDeletion"]
            cluster.touch(job)
        else:
            del cluster.jobs[key]
            cluster.changed.notify_all()
        answer = copy.deepcopy(job)
    if policy != "Orphan":
        cluster.spawn(_collect, f"k8s-gc-{key[1]}", cluster, key, uid, pods, policy)
    else:
        with cluster.lock:
            for run in pods:
                run.obj["metadata"]["ownerReferences"] = []
                cluster.touch(run.obj)
    return answer


def _collect(cluster: Cluster, key: Key, uid: str, pods: list[object], policy: str) -> None:
    for run in pods:
        end_pod(cluster, run, "Killing", remove=True)  # type: ignore[arg-type]
    if policy == "Foreground":
        with cluster.lock:
            job = cluster.jobs.get(key)
            if job is not None and job["metadata"]["uid"] == uid:
                del cluster.jobs[key]
                cluster.changed.notify_all()

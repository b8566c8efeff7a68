"""The REST operations served: what `BatchV1Api` and `CoreV1Api` send for Jobs, Pods, their
logs, Secrets, Namespaces and `/version`. Anything else answers 501 naming the operation."""

from __future__ import annotations

import base64
import copy
import re
from typing import Any
from urllib.parse import parse_qs

from orchestrator.sandbox.kubernetes import jobs
from orchestrator.sandbox.kubernetes.cluster import Cluster
from orchestrator.sandbox.kubernetes.containers import log_text
from orchestrator.sandbox.kubernetes.objects import (
    DNS_LABEL,
    DNS_SUBDOMAIN,
    Obj,
    already_exists,
    invalid,
    listing,
    not_found,
    parse_selector,
    random_suffix,
    selects,
    status,
)
from orchestrator.sandbox.kubernetes.schemas import KUBERNETES_VERSION, problems

Answer = tuple[int, Obj | bytes]
_ROUTE = re.compile(
    r"^/(?:api/v1|apis/(?P<group>batch)/v1)(?:/namespaces/(?P<ns>[^/]+))?"
    r"/(?P<resource>[a-z]+)(?:/(?P<name>[^/]+))?(?:/(?P<sub>log))?$"
)
_KINDS = {"jobs": ("Job", "batch"), "pods": ("Pod", ""), "secrets": ("Secret", "")}


def handle(cluster: Cluster, method: str, path: str, query: str, body: Any) -> Answer:
    """Answer one authenticated request."""
    params = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    if path in ("/version", "/version/") and method == "GET":
        major, minor = KUBERNETES_VERSION.split(".")
        return 200, {
            "major": major,
            "minor": minor,
            "gitVersion": f"v{KUBERNETES_VERSION}.0",
            "gitCommit": "0" * 40,
            "gitTreeState": "clean",
            "buildDate": "2024-04-17T00:00:00Z",
            "goVersion": "go1.22.2",
            "compiler": "gc",
            "platform": "linux/amd64",
        }
    route = _ROUTE.match(path)
    if route is None:
        return _unserved(method, path)
    ns, resource, name = route["ns"], route["resource"], route["name"]
    group = route["group"] or ""
    if params.get("watch") in ("true", "1"):
        return _unserved(method, path + "?watch")
    if resource == "namespaces" and ns is None:
        return _namespaces(cluster, method, name, body)
    if ns is None and resource == "namespaces" or (ns is not None and resource == "namespaces"):
        return _unserved(method, path)
    if ns is None or _KINDS.get(resource, ("", "?"))[1] != group:
        return _unserved(method, path)
    with cluster.lock:
        if ns not in cluster.namespaces:
            return 404, not_found("namespaces", "", ns)
    if route["sub"]:
        return (
            _log(cluster, ns, name, params)
            if method == "GET" and resource == "pods"
            else (_unserved(method, path))
        )
    if name is None and method == "GET":
        return _list(cluster, ns, resource, params)
    if params.get("dryRun") and not (name is None and method == "POST"):
        return _unserved(method, path + "?dryRun")
    if name is None and method == "POST":
        return _create(cluster, ns, resource, body, params.get("dryRun", ""))
    if name is not None and method == "GET":
        return _read(cluster, ns, resource, name)
    if name is not None and method == "DELETE" and resource == "jobs":
        return _delete_job(cluster, ns, name, params, body)
    return _unserved(method, path)


def _unserved(method: str, path: str) -> Answer:
    return 501, status(501, "NotImplemented", f"sandbox: {method} {path} is not implemented")


def _store(cluster: Cluster, resource: str) -> dict[tuple[str, str], Any]:
    stores: dict[str, dict[tuple[str, str], Any]] = {
        "jobs": cluster.jobs,
        "pods": cluster.pods,
        "secrets": cluster.secrets,
    }
    return stores[resource]


def _render(resource: str, found: Any) -> Obj:
    obj = found.obj if resource == "pods" else found
    return copy.deepcopy(obj)


def _list(cluster: Cluster, ns: str, resource: str, params: dict[str, str]) -> Answer:
    requirements = parse_selector(params.get("labelSelector", ""))
    if requirements is None:
        message = f"unable to parse requirement: {params['labelSelector']!r}"
        return 400, status(400, "BadRequest", message)
    if params.get("fieldSelector"):
        fields = dict(p.split("=", 1) for p in params["fieldSelector"].split(",") if "=" in p)
        if set(fields) - {"metadata.name"}:
            return _unserved("GET", f"{resource}?fieldSelector={params['fieldSelector']}")
    else:
        fields = {}
    kind, group = _KINDS[resource]
    with cluster.lock:
        items = [
            _render(resource, found)
            for (space, name), found in sorted(_store(cluster, resource).items())
            if space == ns
            and selects(requirements, _render(resource, found)["metadata"].get("labels", {}))
            and fields.get("metadata.name", name) == name
        ]
        version = cluster.revision
    for item in items:
        del item["kind"], item["apiVersion"]
    return 200, listing(kind, f"{group}/v1" if group else "v1", items, version)


def _read(cluster: Cluster, ns: str, resource: str, name: str) -> Answer:
    with cluster.lock:
        found = _store(cluster, resource).get((ns, name))
        if found is None:
            return 404, not_found(resource, _KINDS[resource][1], name)
        return 200, _render(resource, found)


def _create(cluster: Cluster, ns: str, resource: str, body: Any, dry_run: str = "") -> Answer:
    """Create a Job or a Secret; `dryRun=All` validates and defaults it, storing nothing."""
    kind, group = _KINDS[resource]
    if resource == "pods":
        return _unserved("POST", f"/api/v1/namespaces/{ns}/pods")
    if dry_run not in ("", "All"):
        return 400, status(400, "BadRequest", f'Invalid dry run value: "{dry_run}"')
    if not isinstance(body, dict):
        return 400, status(400, "BadRequest", "the body of the request was not a JSON object")
    meta: dict[str, Any] = body["metadata"] if isinstance(body.get("metadata"), dict) else {}
    name = meta.get("name") or ""
    if body.get("kind") != kind or body.get("apiVersion") != (f"{group}/v1" if group else "v1"):
        message = f"the API version in the data ({body.get('apiVersion')}) or kind does not match"
        return 400, status(400, "BadRequest", message)
    if meta.get("namespace") not in (None, ns):
        message = (
            "the namespace of the provided object does not match the namespace sent on the request"  # noqa: E501
        )
        return 400, status(400, "BadRequest", message)
    causes = problems(body)
    if not name and not meta.get("generateName"):
        causes.append(("metadata.name", "Required value: name or generateName is required"))
    elif name and not (DNS_SUBDOMAIN.match(name) and len(name) <= 253):
        causes.append(("metadata.name", f'Invalid value: "{name}": a lowercase RFC 1123 subdomain'))
    if resource == "jobs" and not causes:
        causes += _job_problems(body)
    if causes:
        return 422, invalid(kind, group, name or meta.get("generateName", ""), causes)
    manifest = copy.deepcopy(body)
    with cluster.lock:
        if not name:
            name = manifest["metadata"]["name"] = meta["generateName"] + random_suffix()
        if (ns, name) in _store(cluster, resource):
            return 409, already_exists(resource, group, name)
        if resource == "jobs":
            return 201, copy.deepcopy(jobs.admit(cluster, ns, manifest, store=not dry_run))
        for key, value in (manifest.pop("stringData", None) or {}).items():
            encoded = base64.b64encode(value.encode()).decode()
            manifest.setdefault("data", {})[key] = encoded
        manifest.setdefault("type", "Opaque")
        cluster.stamp(manifest, ns)
        if not dry_run:
            cluster.secrets[(ns, name)] = manifest
        return 201, copy.deepcopy(manifest)


def _job_problems(job: Obj) -> list[tuple[str, str]]:
    """The checks the API server makes beyond the schema that a Job here needs."""
    causes = []
    name = job["metadata"].get("name", "")
    if name and (len(name) > 63 or not DNS_LABEL.match(name)):
        causes.append(
            (
                "metadata.name",
                f'Invalid value: "{name}": must be no more than 63 '
                "characters and a lowercase RFC 1123 label",
            )
        )
    spec = job.get("spec") or {}
    pod = (spec.get("template") or {}).get("spec") or {}
    if pod.get("restartPolicy") not in ("Never", "OnFailure"):
        causes.append(
            (
                "spec.template.spec.restartPolicy",
                'Required value: valid values: "OnFailure", "Never"',
            )
        )
    elif pod["restartPolicy"] == "OnFailure":
        causes.append(
            ("spec.template.spec.restartPolicy", "sandbox: OnFailure is not implemented, use Never")
        )
    for number in ("backoffLimit", "activeDeadlineSeconds", "ttlSecondsAfterFinished"):
        if spec.get(number) is not None and spec[number] < (1 if "Deadline" in number else 0):
            causes.append((f"spec.{number}", f"Invalid value: {spec[number]}"))
    if spec.get("completionMode") == "Indexed" or (spec.get("parallelism") or 1) > 1:
        causes.append(("spec", "sandbox: Indexed jobs and parallelism > 1 are not implemented"))
    seen: set[str] = set()
    for c in pod.get("initContainers", []) + pod.get("containers", []):
        if c.get("name") in seen:
            causes.append(("spec.template.spec.containers.name", f'Duplicate value: "{c["name"]}"'))
        seen.add(c.get("name", ""))
    return causes


def _delete_job(cluster: Cluster, ns: str, name: str, params: dict[str, str], body: Any) -> Answer:
    policy = params.get("propagationPolicy") or (body or {}).get("propagationPolicy") or "Orphan"
    if policy not in ("Orphan", "Background", "Foreground"):
        cause = ("propagationPolicy", f'Unsupported value: "{policy}"')
        return 422, invalid("DeleteOptions", "", "", [cause])
    with cluster.lock:
        if (ns, name) not in cluster.jobs:
            return 404, not_found("jobs", "batch", name)
        job = jobs.delete(cluster, (ns, name), policy)
    if policy == "Foreground":
        return 200, job
    details = {"name": name, "group": "batch", "kind": "jobs", "uid": job["metadata"]["uid"]}
    return 200, status(200, "", "", details)


def _log(cluster: Cluster, ns: str, name: str, params: dict[str, str]) -> Answer:
    for flag in ("follow", "previous", "timestamps"):
        if params.get(flag) in ("true", "1"):
            return _unserved("GET", f"pods/{name}/log?{flag}=true")
    with cluster.lock:
        run = cluster.pods.get((ns, name))
        if run is None:
            return 404, not_found("pods", "", name)
        spec, pod_status = run.obj["spec"], run.obj["status"]
        mains = [c["name"] for c in spec["containers"]]
        inits = [c["name"] for c in spec.get("initContainers", [])]
        container = params.get("container") or (mains[0] if len(mains) == 1 else "")
        if not container:
            message = (
                f"a container name must be specified for pod {name}, choose one of: "
                f"[{' '.join(mains)}] or one of the init containers: [{' '.join(inits)}]"
            )
            return 400, status(400, "BadRequest", message)
        if container not in mains + inits:
            return 400, status(
                400, "BadRequest", f"container {container} is not valid for pod {name}"
            )
        entries = pod_status.get("initContainerStatuses", []) + pod_status.get(
            "containerStatuses", []
        )
        state: Obj = next((e["state"] for e in entries if e["name"] == container), {"waiting": {}})
        if "waiting" in state:
            why = state["waiting"].get("reason", "ContainerCreating")
            message = f'container "{container}" in pod "{name}" is waiting to start: {why}'
            return 400, status(400, "BadRequest", message)
        text = log_text(run.log(container))
    if params.get("tailLines"):
        lines = text.splitlines(keepends=True)
        text = b"".join(lines[-int(params["tailLines"]) :]) if int(params["tailLines"]) else b""
    if params.get("limitBytes"):
        text = text[: int(params["limitBytes"])]
    return 200, text


def _namespaces(cluster: Cluster, method: str, name: str | None, body: Any) -> Answer:
    with cluster.lock:
        if method == "GET" and name is None:
            items = [copy.deepcopy(n) for _, n in sorted(cluster.namespaces.items())]
            for item in items:
                del item["kind"], item["apiVersion"]
            return 200, listing("Namespace", "v1", items, cluster.revision)
        if method == "GET" and name is not None:
            if name not in cluster.namespaces:
                return 404, not_found("namespaces", "", name)
            return 200, copy.deepcopy(cluster.namespaces[name])
        if method == "POST" and name is None and isinstance(body, dict):
            meta = body.get("metadata") or {}
            causes = problems(body)
            if not causes and not DNS_LABEL.match(meta.get("name") or ""):
                causes = [("metadata.name", f'Invalid value: "{meta.get("name")}"')]
            if causes:
                return 422, invalid("Namespace", "", meta.get("name") or "", causes)
            if meta["name"] in cluster.namespaces:
                return 409, already_exists("namespaces", "", meta["name"])
            return 201, copy.deepcopy(cluster.add_namespace(meta["name"], meta.get("labels")))
    return _unserved(method, "/api/v1/namespaces" + (f"/{name}" if name else ""))

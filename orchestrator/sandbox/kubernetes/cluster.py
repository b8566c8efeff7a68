"""The stand-in's state: namespaces, Jobs, Pods and Secrets in memory, behind one lock."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.sandbox.kubernetes.containers import Process
from orchestrator.sandbox.kubernetes.objects import Obj, new_uid, now

Key = tuple[str, str]  # (namespace, name)
SYSTEM_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")


@dataclass
class PodRun:
    """A pod's object and what runs it: its scratch directory, logs and live processes."""

    obj: Obj
    scratch: Path
    processes: dict[str, Process] = field(default_factory=dict)
    done: threading.Event = field(default_factory=threading.Event)
    stopping: str = ""  # why the pod is being ended (DeadlineExceeded, deleted, stopped)

    @property
    def key(self) -> Key:
        return (self.obj["metadata"]["namespace"], self.obj["metadata"]["name"])

    def log(self, container: str) -> Path:
        return self.scratch / "logs" / f"{container}.log"


@dataclass
class Cluster:
    """Everything the API serves; `lock` guards it and `changed` wakes those who wait on it."""

    scratch: Path
    images: Mapping[str, Sequence[str]] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    jobs: dict[Key, Obj] = field(default_factory=dict)
    pods: dict[Key, PodRun] = field(default_factory=dict)
    secrets: dict[Key, Obj] = field(default_factory=dict)
    namespaces: dict[str, Obj] = field(default_factory=dict)
    workers: set[threading.Thread] = field(default_factory=set)
    failing: list[int] = field(default_factory=list)  # exit codes of the next pods to fail
    stop: threading.Event = field(default_factory=threading.Event)
    revision: int = 1

    def __post_init__(self) -> None:
        self.changed = threading.Condition(self.lock)
        for name in SYSTEM_NAMESPACES:
            self.add_namespace(name)

    def touch(self, obj: Obj) -> Obj:
        """Give an object a new resourceVersion and wake waiters (call with the lock held)."""
        self.revision += 1
        obj["metadata"]["resourceVersion"] = str(self.revision)
        self.changed.notify_all()
        return obj

    def stamp(self, obj: Obj, namespace: str | None) -> Obj:
        """Fill the server-set metadata of a new object."""
        meta = obj["metadata"]
        if namespace is not None:
            meta["namespace"] = namespace
        meta["uid"] = new_uid()
        meta["creationTimestamp"] = now()
        meta.setdefault("generation", 1) if obj["kind"] == "Job" else None
        return self.touch(obj)

    def add_namespace(self, name: str, labels: Mapping[str, str] | None = None) -> Obj:
        with self.lock:
            ns: Obj = {
                "kind": "Namespace",
                "apiVersion": "v1",
                "metadata": {
                    "name": name,
                    "labels": {"kubernetes.io/metadata.name": name} | dict(labels or {}),
                },
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"},
            }
            self.namespaces[name] = self.stamp(ns, None)
            return ns

    def secret(self, namespace: str, name: str) -> Obj | None:
        with self.lock:
            return self.secrets.get((namespace, name))

    def spawn(self, target: object, name: str, *args: object) -> None:
        """Start a worker thread that `wait_idle` waits for."""

        def run() -> None:
            try:
                target(*args)  # type: ignore[operator]
            finally:
                with self.lock:
                    self.workers.discard(threading.current_thread())
                    self.changed.notify_all()

        thread = threading.Thread(target=run, name=name, daemon=True)
        with self.lock:
            self.workers.add(thread)
        thread.start()

    def idle(self, timeout: float) -> bool:
        """Wait until no Job or pod is being worked on; False on timeout."""
        with self.lock:
            return self.changed.wait_for(lambda: not self.workers, timeout)

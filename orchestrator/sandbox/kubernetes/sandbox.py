"""`KubernetesSandbox`: the API stand-in on 127.0.0.1, its kubeconfig and helpers for tests."""

from __future__ import annotations

import json
import secrets
import tempfile
import threading
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from types import TracebackType
from typing import Any

from orchestrator.sandbox.kubernetes.api import handle
from orchestrator.sandbox.kubernetes.cluster import Cluster
from orchestrator.sandbox.kubernetes.objects import Obj, status
from orchestrator.sandbox.kubernetes.pods import end_pod
from orchestrator.sandbox.loopback import TrackingServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    sandbox: KubernetesSandbox

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Stay quiet: the request log is `sandbox.requests`."""

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        code, answer = self.sandbox.answer(
            self.command, path, query, self.headers.get("Authorization", ""), raw
        )
        data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
        self.send_response(code)
        kind = "text/plain" if isinstance(answer, bytes) else "application/json"
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _serve


class KubernetesSandbox:
    """A Kubernetes API for Jobs, Pods, logs, Secrets and Namespaces; Jobs run on this host.

    `images` maps an image to the argv of its entrypoint, used when a container sets no
    `command`. State is in memory and survives `stop()` + `start()` on the same object.
    """

    def __init__(
        self,
        data_dir: Path | str | None = None,
        *,
        token: str | None = None,
        images: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self._temp = (
            tempfile.TemporaryDirectory(prefix="k8s-sandbox-") if data_dir is None else None
        )
        self.data_dir = Path(self._temp.name if self._temp else data_dir)  # type: ignore[arg-type]
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.token = token or secrets.token_hex(16)
        self.cluster = Cluster(self.data_dir, dict(images or {}))
        self.requests: list[tuple[str, str, int]] = []
        self._requests_lock = threading.Lock()
        self._server: TrackingServer | None = None
        self._port = 0

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> KubernetesSandbox:
        handler = type("BoundHandler", (_Handler,), {"sandbox": self})
        self._server = TrackingServer(("127.0.0.1", self._port), handler)
        self._port = self._server.port
        self.cluster.stop.clear()
        self._server.serve_in_background("k8s-sandbox")
        return self

    def stop(self) -> None:
        """Stop serving and end every running pod (killing its process group)."""
        if self._server is not None:
            self._server.stop()
            self._server = None
        self.cluster.stop.set()
        with self.cluster.lock:
            runs = list(self.cluster.pods.values())
        for run in runs:
            if not run.done.is_set():
                end_pod(self.cluster, run, "SandboxStopped", remove=False)
        self.cluster.idle(10)

    def close(self) -> None:
        self.stop()
        if self._temp is not None:
            self._temp.cleanup()

    def __enter__(self) -> KubernetesSandbox:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def kubeconfig_path(self) -> Path:
        """Write a kubeconfig pointing at the stand-in, with its bearer token."""
        path = self.data_dir / "kubeconfig"
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "sandbox", "cluster": {"server": self.url}}],
            "users": [{"name": "sandbox", "user": {"token": self.token}}],
            "contexts": [
                {
                    "name": "sandbox",
                    "context": {"cluster": "sandbox", "user": "sandbox", "namespace": "default"},
                }
            ],
            "current-context": "sandbox",
        }
        path.write_text(json.dumps(config, indent=2), encoding="utf-8")  # JSON is YAML
        return path

    # -- serving --------------------------------------------------------------------------
    def answer(
        self, method: str, path: str, query: str, authorization: str, raw: bytes
    ) -> tuple[int, Obj | bytes]:
        """Authenticate, parse and answer one request."""
        if authorization != f"Bearer {self.token}":
            answer: Obj | bytes = status(401, "Unauthorized", "Unauthorized")
            code = 401
        else:
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
                code, answer = 400, status(400, "BadRequest", "the body is not valid JSON")
            else:
                code, answer = handle(self.cluster, method, path, query, body)
        with self._requests_lock:
            self.requests.append((method, path, code))
        return code, answer

    # -- helpers for tests ----------------------------------------------------------------
    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until no Job, pod or deletion is being worked on (a TTL wait counts)."""
        return self.cluster.idle(timeout)

    def fail_next_pod(self, exit_code: int = 1, times: int = 1) -> None:
        """Make the next pods' main containers exit with `exit_code` instead of running."""
        with self.cluster.lock:
            self.cluster.failing.extend([exit_code] * times)

    def pods(self, namespace: str = "default") -> list[Obj]:
        with self.cluster.lock:
            return [
                json.loads(json.dumps(run.obj))
                for (ns, _), run in sorted(self.cluster.pods.items())
                if ns == namespace
            ]

    def jobs(self, namespace: str = "default") -> list[Obj]:
        with self.cluster.lock:
            return [
                json.loads(json.dumps(job))
                for (ns, _), job in sorted(self.cluster.jobs.items())
                if ns == namespace
            ]

    def pids(self, namespace: str = "default") -> list[int]:
        """The process ids of the containers running now."""
        with self.cluster.lock:
            return [
                p.pid
                for (ns, _), run in self.cluster.pods.items()
                if ns == namespace
                for p in run.processes.values()
            ]

    def wait_for(self, predicate: Any, timeout: float = 10.0) -> bool:
        """Wait until `predicate()` is true (re-checked on every change of state)."""
        with self.cluster.lock:
            return bool(self.cluster.changed.wait_for(predicate, timeout))

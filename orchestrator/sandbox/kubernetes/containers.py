"""Run a pod's containers on this host: no image is pulled, each `command` + `args` runs with
`subprocess` in the pod's scratch directory, in its own process group.

A container's paths under a volume's `mountPath` (in command, args, env values, workingDir) are
rewritten to the volume's host directory, so an init container and the main container share
an `emptyDir` as they would in a pod.
"""

from __future__ import annotations

import base64
import os
import re
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.sandbox.kubernetes.objects import Obj

SecretLookup = Callable[[str, str], Obj | None]


@dataclass
class Launch:
    """What one container runs: argv, cwd and env, or why it cannot start."""

    argv: list[str] = field(default_factory=list)
    cwd: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    wait: str = ""  # the secret it waits for (CreateContainerConfigError)
    refuse: str = ""  # why it cannot start at all (StartError)


def mounts(pod_spec: Obj, container: Obj, scratch: Path) -> list[tuple[str, Path]] | str:
    """Return (mountPath, host dir) for each of the container's volume mounts, or a refusal."""
    volumes = {v["name"]: v for v in pod_spec.get("volumes") or []}
    found = []
    for mount in container.get("volumeMounts") or []:
        volume = volumes.get(mount["name"])
        if volume is None:
            return f'volume "{mount["name"]}" is not declared by the pod'
        if "emptyDir" not in volume:
            kinds = sorted(set(volume) - {"name"})
            return f"sandbox: volume {mount['name']} ({', '.join(kinds)}) is not implemented"
        host = scratch / "volumes" / mount["name"]
        if mount.get("subPath"):
            host = host / mount["subPath"]
        host.mkdir(parents=True, exist_ok=True)
        found.append((mount["mountPath"].rstrip("/") or "/", host))
    return sorted(found, key=lambda m: -len(m[0]))


def rewrite(text: str, mounted: Sequence[tuple[str, Path]]) -> str:
    """Rewrite paths under each mountPath to its host directory."""
    for path, host in mounted:
        pattern = r"(?<![\w./-])" + re.escape(path) + r"(?=/|$|[^\w.-])"
        text = re.sub(pattern, str(host).replace("\\", "\\\\"), text)
    return text


def _expand(text: str, env: Mapping[str, str]) -> str:
    """Expand $(VAR) from the container's env, $$ escapes a dollar (Kubernetes' rules)."""

    def one(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        return env.get(m.group(1), m.group(0))

    return re.sub(r"\$\$|\$\(([A-Za-z_][\w.-]*)\)", one, text)


def _env(container: Obj, namespace: str, secret: SecretLookup) -> dict[str, str] | str:
    """Return the container's env, or `wait:NAME` / `refuse:WHY`."""
    env: dict[str, str] = {}
    if container.get("envFrom"):
        return "refuse:sandbox: envFrom is not implemented"
    for var in container.get("env") or []:
        if "valueFrom" not in var:
            env[var["name"]] = _expand(var.get("value", ""), env)
            continue
        ref = var["valueFrom"].get("secretKeyRef")
        if ref is None:
            kinds = ", ".join(sorted(var["valueFrom"]))
            return f"refuse:sandbox: env {var['name']} valueFrom {kinds} is not implemented"
        found = secret(namespace, ref.get("name", ""))
        data = (found or {}).get("data") or {}
        if ref["key"] in data:
            env[var["name"]] = base64.b64decode(data[ref["key"]]).decode("utf-8", "replace")
        elif not ref.get("optional"):
            missing = f'secret "{ref.get("name", "")}" not found'
            if found is not None:
                missing = f"couldn't find key {ref['key']} in Secret {namespace}/{ref['name']}"
            return f"wait:{missing}"
    return env


def prepare(
    pod: Obj,
    container: Obj,
    scratch: Path,
    images: Mapping[str, Sequence[str]],
    secret: SecretLookup,
) -> Launch:
    """Work out how a container runs on this host."""
    spec, meta = pod["spec"], pod["metadata"]
    mounted = mounts(spec, container, scratch)
    if isinstance(mounted, str):
        return Launch(refuse=mounted)
    env = _env(container, meta["namespace"], secret)
    if isinstance(env, str):
        kind, _, why = env.partition(":")
        return Launch(wait=why) if kind == "wait" else Launch(refuse=why)
    env = {k: rewrite(v, mounted) for k, v in env.items()}
    command = list(container.get("command") or [])
    if not command:
        entrypoint = images.get(container.get("image", ""))
        if entrypoint is None:
            return Launch(refuse=f"sandbox: image {container.get('image')} has no entrypoint")
        command = list(entrypoint)
    argv = [rewrite(_expand(a, env), mounted) for a in command + list(container.get("args") or [])]
    root = scratch / "containers" / container["name"]
    cwd = root
    if container.get("workingDir"):
        moved = rewrite(container["workingDir"], mounted)
        cwd = Path(moved) if moved != container["workingDir"] else root / moved.lstrip("/")
    cwd.mkdir(parents=True, exist_ok=True)
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOSTNAME": meta["name"]}
    return Launch(argv=argv, cwd=cwd, env=base | {"HOME": str(root)} | env)


class Process:
    """One running container: a process group whose output goes to the container's log."""

    def __init__(self, launch: Launch, log: Path) -> None:
        self._lock = threading.Lock()
        self.killed = ""
        with log.open("ab") as out:
            self._popen = subprocess.Popen(
                launch.argv,
                cwd=launch.cwd,
                env=launch.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait(self) -> int:
        """Wait for the main process, then end what it left in its group (as a container does)."""
        code = self._popen.wait()
        self._signal(signal.SIGKILL)
        return code

    def kill(self, reason: str, grace: float) -> None:
        """SIGTERM the group, SIGKILL it after `grace` seconds if the process is still there."""
        with self._lock:
            self.killed = self.killed or reason
        self._signal(signal.SIGTERM)
        try:
            self._popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
        self._signal(signal.SIGKILL)
        self._popen.wait()

    @property
    def pid(self) -> int:
        return int(self._popen.pid)

    def _signal(self, sig: int) -> None:
        try:
            os.killpg(self._popen.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def start_error(launch: Launch, log: Path) -> Process | str:
    """Start the process, or return why it could not start (a StartError's message)."""
    try:
        return Process(launch, log)
    except OSError as error:
        return f"failed to create containerd task: exec: {launch.argv[0]!r}: {error.strerror}"


def log_text(log: Path) -> bytes:
    try:
        return log.read_bytes()
    except FileNotFoundError:
        return b""

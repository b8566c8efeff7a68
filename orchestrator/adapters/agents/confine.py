"""Confine an agent process with bubblewrap: the wall between the agent and Agent OS.

Each confined process (an agent CLI, a command backend, the anthropic tool loop's commands, the
repo's test command) runs under `bwrap` in its own user, pid, ipc, uts and cgroup namespaces, with
`--die-with-parent` and `--new-session`, a new /proc (no other process is visible, the worker
included) and the network left open (agents call their model). The host's root is mounted
read-only; a tmpfs hides the installation's private places (`runtime/`, the worktrees folder, the
config file's folder, the real HOME, /tmp) and /dev/null covers the config file, the env file,
the chat overrides and the audit key (wherever a bind would show them). Bound back over that, in
path-depth order (a mount point below a read-only path can only be made in a tmpfs over its
parent): the task's worktree read-write, its private home read-write, what the run may read (the
prompt file, the clone's objects its repository borrows) read-only, and the program being run
(its resolved file and each link on the way, the `node_modules` tree an npm CLI lives in, its
venv, the `lib/` of the prefix its `bin/` is in, its `#!` interpreter) read-only.

The private home is `<runtime>/homes/<name>` (0700, made fresh, removed afterwards): HOME and
TMPDIR point into it, host XDG_* variables that point at hidden places are dropped, and only what
the backend needs is bound or copied into it (the CLI's login directory). A process the agent
starts, even with `setsid` or a double fork, dies with it: when the namespace's first process
ends, the kernel kills the rest.

`agents.isolation: none` runs everything as plain children, as before (only the canary is
planted). `probe()` tells whether bwrap can start here; where user namespaces are blocked it
cannot, and runs refuse with one line saying why (docs/security.md).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from orchestrator.adapters.agents import process
from orchestrator.adapters.agents.environment import rehomed
from orchestrator.adapters.agents.programs import program_paths
from orchestrator.config.model import Config, Isolation
from orchestrator.errors import IsolationError
from orchestrator.store.audit import key_file

NAMESPACES = (
    "--unshare-user",
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    "--unshare-cgroup-try",
    "--die-with-parent",
    "--new-session",
)
OPT_OUT = "set agents.isolation: none to run agents unconfined; see docs/security.md"
CANARY_VARS = ("GH_TOKEN", "GITHUB_TOKEN")
# Folders a tmpfs may never cover: the system would stop working inside (no libraries, no DNS).
SYSTEM_DIRS = frozenset(
    Path(p)
    for p in (
        "/ /bin /boot /dev /etc /home /lib /lib32 /lib64 /libx32 /nix /opt /proc /run /sbin /snap "
        "/sys /usr /usr/bin /usr/lib /usr/local /usr/local/bin /usr/local/lib /usr/share /var "
        "/var/lib"
    ).split()
)
_TMPFS, _RO, _RW = "tmpfs", "ro", "rw"


@dataclass(frozen=True, slots=True)
class Walls:
    """What every confined process is kept from, from the config."""

    isolation: Isolation
    hidden_dirs: tuple[Path, ...]  # a tmpfs over each
    hidden_files: tuple[Path, ...]  # /dev/null over each
    homes_dir: Path  # where the private homes are made

    @classmethod
    def from_config(cls, config: Config, environ: Mapping[str, str]) -> Walls:
        """Return the walls of this installation; `environ` is the orchestrator's (its HOME)."""
        paths = config.paths
        dirs = [paths.runtime_dir, paths.worktrees_dir, config.source.parent, Path("/tmp")]
        home = environ.get("HOME", "")
        if home and Path(home).is_absolute() and Path(home) != Path("/"):
            dirs.append(Path(home))  # a HOME of / (some service users) holds nothing of ours
        files = [config.source, paths.state_dir / "overrides.yaml", key_file(config.source)]
        if config.env_file is not None:
            files.append(config.env_file)
        return cls(
            isolation=config.agents.isolation,
            hidden_dirs=tuple(dict.fromkeys(_real(d) for d in dirs)),
            hidden_files=tuple(dict.fromkeys(_real(f) for f in files)),
            homes_dir=_real(paths.runtime_dir) / "homes",
        )

    def refusal(self) -> str | None:
        """Return why no confined process can start here, in one line, or None when one can."""
        if self.isolation is Isolation.NONE:
            return None
        for folder in self.hidden_dirs:
            if folder in SYSTEM_DIRS:
                return (
                    f"cannot hide {folder} from agents: it is a system folder (move Agent OS's "
                    f"config, runtime and worktrees into folders of their own, or {OPT_OUT})"
                )
        why = probe()
        return None if why is None else f"agents cannot be confined here: {why}; {OPT_OUT}"


@dataclass(frozen=True, slots=True)
class Box:
    """One confined run: the walls, the worktree it may write, its name (the task id)."""

    walls: Walls
    worktree: Path
    name: str  # names the private home: <homes_dir>/<name>
    readable: tuple[Path, ...] = ()  # bound read-only at the same path
    home_binds: tuple[tuple[str, Path], ...] = ()  # (path inside the home, host path), read-write
    home_copies: tuple[tuple[str, Path], ...] = ()  # (path inside the home, host file), copied in
    canary: str = ""  # planted as a GitHub token (env, and under bwrap the home's credentials)

    @property
    def home(self) -> Path:
        """Return the private home's path (the same inside the box as outside)."""
        return self.walls.homes_dir / self.name


class Confined:
    """Wraps a process.Spec to run in its box; `home`: the private home (None: not boxed)."""

    def __init__(self, box: Box, home: Path | None) -> None:
        self.box, self.home = box, home

    def __call__(self, spec: process.Spec) -> process.Spec:
        env = dict(spec.env)
        if self.box.canary:
            env.update(dict.fromkeys(CANARY_VARS, self.box.canary))
        if self.home is None:
            return replace(spec, env=env)
        layout = _layout(self.box, self.home, spec, env)
        env = rehomed(env, self.home, lambda value: layout.hidden(Path(value)))
        argv = (_bwrap(), *layout.options(), "--chdir", str(spec.cwd), "--", *spec.argv)
        return replace(spec, argv=argv, env=env)


@contextmanager
def session(box: Box) -> Iterator[Confined]:
    """Make the box's private home, yield what wraps a Spec into it, then remove the home.

    Under isolation none nothing is made and the wrapper only plants the canary. Raises
    IsolationError (one line) when the walls cannot be built here.
    """
    if box.walls.isolation is Isolation.NONE:
        yield Confined(box, None)
        return
    why = box.walls.refusal()
    if why is not None:
        raise IsolationError(why)
    home = _make_home(box)
    try:
        yield Confined(box, home)
    finally:
        shutil.rmtree(home, ignore_errors=True)


@functools.cache
def probe() -> str | None:
    """Return None when bwrap can start a confined process here, else one line saying why."""
    binary = shutil.which("bwrap")
    if binary is None:
        return "bwrap (bubblewrap) is not installed (apt-get install bubblewrap)"
    argv = [binary, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", *NAMESPACES]
    try:
        done = subprocess.run(
            [*argv, "--", "/bin/true"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap cannot start: {exc}"
    if done.returncode == 0:
        return None
    said = [line for line in done.stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    why = said[-1].strip() if said else f"exit code {done.returncode}"
    return f"bwrap cannot start a confined process ({why}): are user namespaces blocked?"


def _bwrap() -> str:
    binary = shutil.which("bwrap")
    if binary is None:
        raise IsolationError(f"bwrap is not installed; {OPT_OUT}")
    return binary


def _make_home(box: Box) -> Path:
    """Make the private home afresh (0700), its mount points, copies and the canary's files."""
    if not box.name or "/" in box.name or box.name in (".", ".."):
        raise IsolationError(f"cannot name a private home {box.name!r}")
    box.walls.homes_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    home = box.home
    shutil.rmtree(home, ignore_errors=True)  # a killed run's leftovers
    home.mkdir(mode=0o700)
    (home / "tmp").mkdir(mode=0o700)
    for inside, host in box.home_binds:
        target = _inside(home, inside)
        if host.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        elif host.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.touch()
    for inside, host in box.home_copies:
        if host.is_file():
            target = _inside(home, inside)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(host, target)
            target.chmod(0o600)
    if box.canary:
        _write(home / ".git-credentials", f"https://x-access-token:{box.canary}@github.com\n")
        hosts = f"github.com:\n    oauth_token: {box.canary}\n    user: x-access-token\n"
        _write(home / ".config" / "gh" / "hosts.yml", hosts + "    git_protocol: https\n")
    return home


def _inside(home: Path, inside: str) -> Path:
    target = (home / inside).resolve()
    if not target.is_relative_to(home.resolve()) or target == home.resolve():
        raise IsolationError(f"{inside!r} is not a path inside the private home")
    return target


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)


@dataclass(frozen=True, slots=True)
class _Mount:
    kind: str  # tmpfs, ro or rw
    dest: Path
    source: Path | None = None


class _Layout:
    """The box's mounts in the order bwrap must make them, and what ends up hidden."""

    def __init__(self) -> None:
        self.mounts: list[_Mount] = []
        self.links: list[tuple[Path, Path]] = []  # (target, link) made in a tmpfs
        self.masked: list[Path] = []

    def cover(self, path: Path) -> str:
        """Return what `path` is seen through: tmpfs (hidden), ro or rw."""
        kind = _RO  # the host's root, read-only
        for mount in self.mounts:
            if path.is_relative_to(mount.dest):
                kind = mount.kind
        return kind

    def hidden(self, path: Path) -> bool:
        """Tell whether `path` (absolute) is behind a wall."""
        return path.is_absolute() and self.cover(_real(path)) == _TMPFS

    def add(self, mount: _Mount) -> None:
        """Add a mount after every shallower one, unless it is a read-only path in sight already.

        A tmpfs is always added, even inside another: a bind between the two would show it.
        """
        depth = len(mount.dest.parts)
        at = next((i for i, m in enumerate(self.mounts) if len(m.dest.parts) > depth), None)
        before = self.mounts if at is None else self.mounts[:at]
        seen = _RO
        for other in before:
            if mount.dest.is_relative_to(other.dest):
                seen = other.kind
        if mount.kind == _RO and mount.source in (None, mount.dest) and seen != _TMPFS:
            return  # in sight already (and a read-only path inside the worktree stays writable)
        self.mounts.insert(len(self.mounts) if at is None else at, mount)

    def options(self) -> list[str]:
        """Return bwrap's options for this layout."""
        argv = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", *NAMESPACES]
        for mount in self.mounts:
            if mount.kind == _TMPFS:
                argv += ["--tmpfs", str(mount.dest)]
            else:
                flag = "--bind" if mount.kind == _RW else "--ro-bind"
                argv += [flag, str(mount.source or mount.dest), str(mount.dest)]
        for target, link in self.links:
            argv += ["--symlink", str(target), str(link)]
        for file in self.masked:
            argv += ["--ro-bind", "/dev/null", str(file)]
        return argv


def _layout(box: Box, home: Path, spec: process.Spec, env: Mapping[str, str]) -> _Layout:
    layout = _Layout()
    for folder in sorted(box.walls.hidden_dirs, key=lambda p: len(p.parts)):
        if folder.is_dir():
            layout.add(_Mount(_TMPFS, folder))
    binds: dict[Path, _Mount] = {}  # by where it is seen
    named: list[Path] = []  # paths as named, to link to their real place when that moved
    for path in (box.worktree, home):
        binds[_real(path)] = _Mount(_RW, _real(path), _real(path))
        named.append(Path(os.path.abspath(path)))
    for inside, host in box.home_binds:
        if host.exists():
            dest = _inside(home, inside)
            binds[dest] = _Mount(_RW, dest, _real(host))
    for path in (*box.readable, *program_paths(spec.argv[0], env.get("PATH", ""))):
        if path.exists():
            binds.setdefault(_real(path), _Mount(_RO, _real(path), _real(path)))
            named.append(Path(os.path.abspath(path)))
    for mount in sorted(binds.values(), key=lambda m: len(m.dest.parts)):
        layout.add(mount)
    for path in dict.fromkeys(named):
        if _real(path) != path and layout.cover(path) == _TMPFS:
            layout.links.append((_real(path), path))
    layout.masked = [f for f in box.walls.hidden_files if f.is_file() and layout.cover(f) != _TMPFS]
    return layout


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))

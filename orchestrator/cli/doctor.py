"""`agentos check --live` and `agentos doctor`: the offline check, the live one, a support bundle.

Exit codes: 0 when everything works (warnings allowed), 1 when a live check failed, 2 for a
config problem (what `check` alone finds). `--bundle FILE` writes a .tar.gz (or a .zip) for
someone helping you: this report, the config with its secrets replaced, tool versions, the
last lines of each log and the `status` text, every byte of it redacted. It never holds a
token or the env file.
"""

from __future__ import annotations

import io
import re
import sys
import tarfile
import time
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from orchestrator.cli.live import FAIL, WARN, run_tool, tool_version, verdicts
from orchestrator.config.load import load_config, read_env_file
from orchestrator.config.model import AgentType, Config
from orchestrator.core.redact import MIN_SECRET, redact, register_values
from orchestrator.errors import ConfigError
from orchestrator.jobs import JobSpec
from orchestrator.store.files import atomic_write

LOG_LINES = 200  # the tail of each log that goes into a bundle
_TAIL_BYTES = 512 * 1024  # read no more than this of a log to find its tail
# A secret written into the YAML as a literal (not a `$VAR`): its value is replaced.
_LITERAL = re.compile(
    r"^(?P<key>\s*-?\s*[\w-]*(?:token|key|secret|password)[\w-]*\s*:\s*)(?P<value>[^\s$#].*)$",
    re.IGNORECASE | re.MULTILINE,
)


def report(
    path: Path,
    env: Mapping[str, str],
    jobs: Mapping[str, JobSpec],
    problems: Sequence[str],
    *,
    live: bool,
    bundle: Path | None,
    tabfile: Path | None,
) -> int:
    """Print the offline `problems`, then (with `live`) every verdict; write the bundle if asked."""
    config, complete = _load(path, env)
    _register_secrets(config, path)
    said: list[str] = []

    def say(line: str) -> None:
        said.append(redact(line))
        print(said[-1], flush=True)

    for problem in problems:
        say(f"FAIL {problem}")
    if not problems:
        say(f"ok config: {path} is valid")
    failed = warned = 0
    if live and complete and config is not None:
        for verdict in verdicts(config, env, jobs, tabfile):
            say(str(verdict))
            failed += verdict.level == FAIL
            warned += verdict.level == WARN
    elif live:
        say("FAIL live checks skipped: the config must load, secrets and all, first")
        failed += 1
    code = 2 if problems else 1 if failed else 0
    say(_summary(len(problems) + failed, warned, live))
    if bundle is not None:
        write_bundle(bundle, path, env, jobs, config, "\n".join(said) + "\n")
        print(f"bundle written to {bundle} (redacted: no token, no env file)")
    return code


def _summary(failures: int, warnings: int, live: bool) -> str:
    checked = "live check" if live else "check"
    if failures:
        return f"{failures} problem(s) to fix, {warnings} warning(s); see docs/operations.md."
    return f"{checked}: everything works" + (f", {warnings} warning(s)" if warnings else "") + "."


def _load(path: Path, env: Mapping[str, str]) -> tuple[Config | None, bool]:
    """Return the config and whether its secrets are all there (None if it cannot be read)."""
    try:
        return load_config(path, env), True
    except ConfigError:
        pass
    try:
        return load_config(path, env, need_secrets=False), False
    except ConfigError:
        return None, False


def _register_secrets(config: Config | None, path: Path) -> None:
    """Make `redact` hide the config's secrets and every value of its env file, in any encoding."""
    from orchestrator.config.backend_keys import secret_values

    values = list(secret_values(config)) if config is not None else []
    env_file = (config.env_file if config is not None else None) or path.parent / ".env"
    try:
        values += [v for v in read_env_file(env_file).values() if len(v) >= MIN_SECRET]
    except (OSError, ValueError):
        pass  # no env file, or one the config check already reports
    register_values(values)


# -- the bundle ------------------------------------------------------------------------------------
def write_bundle(
    target: Path,
    path: Path,
    env: Mapping[str, str],
    jobs: Mapping[str, JobSpec],
    config: Config | None,
    report: str,
) -> None:
    """Write the support bundle: a .zip when `target` says so, else a .tar.gz; all redacted.

    The secrets must be registered with `redact` first (`report` does it).
    """
    members = {
        "check.txt": report,
        "config.yaml": _config_text(path),
        "versions.txt": versions(config, env),
        "status.txt": _status(config, jobs),
    }
    if config is not None:
        for log in sorted(config.paths.logs_dir.glob("*")):
            if log.is_file() and log.suffix in (".jsonl", ".log"):
                members[f"logs/{log.name}"] = tail(log, LOG_LINES)
    data = {name: redact(text).encode("utf-8") for name, text in members.items()}
    atomic_write(target, _archive(data, zip_it=target.suffix.lower() == ".zip"))


def _archive(members: Mapping[str, bytes], *, zip_it: bool) -> bytes:
    buffer = io.BytesIO()
    stamp = time.time()
    if zip_it:
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in members.items():
                archive.writestr(f"agentos-bundle/{name}", data)
        return buffer.getvalue()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(f"agentos-bundle/{name}")
            info.size, info.mtime, info.mode = len(data), int(stamp), 0o600
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _config_text(path: Path) -> str:
    """Return the config as written, with any literal secret replaced (`$VAR`s say only a name)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return f"# {path} could not be read: {exc}\n"
    return _LITERAL.sub(lambda m: f"{m['key']}<redacted>", text)


def _status(config: Config | None, jobs: Mapping[str, JobSpec]) -> str:
    if config is None:
        return "unavailable: the config could not be read\n"
    from orchestrator.cli.status import render

    try:
        return render(config, jobs) + "\n"
    except Exception as exc:  # a bundle is what you send when things are broken
        return f"unavailable: {type(exc).__name__}: {exc}\n"


def versions(config: Config | None, env: Mapping[str, str]) -> str:
    """Return one line per tool: Python, Agent OS's commit, git, bwrap and each agent CLI."""
    import platform

    lines = [f"python: {sys.version.split()[0]} ({platform.platform()})"]
    root = config.paths.root if config is not None else Path.cwd()
    commit = run_tool(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], env)
    ok = commit is not None and commit.returncode == 0
    lines.append(f"agentos: {commit.stdout.strip() if commit and ok else 'unknown commit'}")
    tools = ["git", "bwrap"]
    if config is not None:
        tools += [
            b.binary or b.type.value
            for b in config.agents.backends.values()
            if b.type in (AgentType.CLAUDE, AgentType.CODEX)
        ]
    for tool in dict.fromkeys(tools):
        lines.append(f"{tool}: {_version_of(tool, env)}")
    return "\n".join(lines) + "\n"


def _version_of(tool: str, env: Mapping[str, str]) -> str:
    import shutil

    binary = shutil.which(tool, path=env.get("PATH"))
    if binary is None:
        return "not found"
    return tool_version(binary, env) or f"{binary}: --version failed"


def tail(path: Path, count: int) -> str:
    """Return the last `count` lines of a file (reading at most its last 512 KiB)."""
    try:
        with path.open("rb") as f:
            size = f.seek(0, 2)
            f.seek(max(0, size - _TAIL_BYTES))
            data = f.read()
    except OSError as exc:
        return f"unreadable: {exc}\n"
    lines = data.decode("utf-8", "replace").splitlines()
    return "\n".join(lines[-count:]) + "\n"

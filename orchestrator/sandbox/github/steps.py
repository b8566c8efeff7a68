"""Run one job's steps for runner.py: `run:` with bash, and the two emulated `uses:` actions.

Expressions: only `${{ inputs.X }}`, `${{ github.event.inputs.X }}`, `${{ secrets.X }}`,
`${{ env.X }}` and `${{ github.X }}` (a few names) are substituted, in `run:`, `env:` and
`with:`; any other expression fails its step with "expression not emulated: …".
"""

from __future__ import annotations

import base64
import os
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orchestrator.sandbox.github import artifacts, stepsyntax
from orchestrator.sandbox.github.api import Call
from orchestrator.sandbox.github.artifacts import StepFailure
from orchestrator.sandbox.github.state import Json, now_iso

_EXPR = re.compile(r"\$\{\{(.*?)\}\}", re.S)
_NAME = re.compile(r"[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)+")
CHECKOUT, UPLOAD = "actions/checkout@v4", "actions/upload-artifact@v4"
UNSUPPORTED_JOB_KEYS = ("strategy", "container", "services", "if", "uses", "environment")
UNSUPPORTED_STEP_KEYS = ("continue-on-error", "id")


def stamp(line: str) -> str:
    """Return a log line as Actions writes it: a timestamp first."""
    return f"{datetime.now(UTC).strftime('%Y-%m-%dT%H:%M:%S.%f0Z')} {line}\n"


class Running:
    """The process a job is running, which cancelling kills (with its whole process group)."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def start(self, command: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        """Start a process in a session of its own, remembered until the next one."""
        with self._lock:
            process: subprocess.Popen[bytes] = subprocess.Popen(
                command, start_new_session=True, **kwargs
            )
            self.process = process
            return process

    def kill(self) -> None:
        """Kill the running process group, if any."""
        with self._lock:
            process = self.process
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@dataclass
class Context:
    """What a job's steps see: the run, its token, workspace, secrets, env and log."""

    call: Call
    repo: Json
    run: Json
    token: str
    workspace: Path
    temp: Path
    secrets: dict[str, str]
    env: dict[str, str]  # GITHUB_ENV accumulated over the job's steps
    lines: list[str]
    running: Running
    cancelled: threading.Event
    login: str

    @property
    def full_name(self) -> str:
        """Return owner/name."""
        return f"{self.repo['owner']}/{self.repo['name']}"

    def github(self) -> dict[str, str]:
        """Return the `github` context's plain names the sandbox knows."""
        run = self.run
        return {
            "repository": self.full_name,
            "repository_owner": str(self.repo["owner"]),
            "ref": str(run["ref"]),
            "ref_name": str(run["head_branch"]),
            "sha": str(run["head_sha"]),
            "run_id": str(run["id"]),
            "run_number": str(run["run_number"]),
            "run_attempt": "1",
            "event_name": "workflow_dispatch",
            "workspace": str(self.workspace),
            "token": self.token,
            "actor": str(run["actor"]),
            "triggering_actor": str(run["actor"]),
            "workflow": str(run["name"]),
            "server_url": self.call.base,
            "api_url": self.call.api,
            "graphql_url": f"{self.call.base}/api/graphql",
        }


def substitute(text: str, context: Context, env: dict[str, str]) -> str:
    """Replace the simple `${{ ctx.name }}` forms; anything richer raises StepFailure."""
    inputs = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in _inputs(context)}

    def one(found: re.Match[str]) -> str:
        expr = found.group(1).strip()
        parts = expr.split(".")
        if _NAME.fullmatch(expr):
            head, rest = parts[0], parts[1:]
            if head == "github" and rest[:2] == ["event", "inputs"] and len(rest) == 3:
                return inputs.get(rest[2], "")
            if len(rest) == 1 and head in ("inputs", "secrets", "env"):
                table = {"inputs": inputs, "secrets": context.secrets, "env": env}[head]
                return table.get(rest[0], "")
            if head == "github" and len(rest) == 1 and rest[0] in context.github():
                return context.github()[rest[0]]
            if expr == "runner.temp":
                return str(context.temp)
        raise StepFailure(f"expression not emulated: ${{{{ {expr} }}}}")

    return _EXPR.sub(one, text)


def _inputs(context: Context) -> list[tuple[str, Any]]:
    return list(context.run.get("inputs", {}).items())


def _env_of(node: Any, context: Context, env: dict[str, str]) -> dict[str, str]:
    found = dict(env)
    if isinstance(node, dict):
        for key, value in node.items():
            text = str(value).lower() if isinstance(value, bool) else str(value)
            found[str(key)] = substitute(text, context, found)
    return found


def run_all(context: Context, doc: Json, spec: Json, records: list[Json], deadline: float) -> str:
    """Run a job's steps in order; return the job's conclusion (`timed_out` past `deadline`)."""
    refused = [key for key in UNSUPPORTED_JOB_KEYS if key in spec]
    if refused:
        context.lines.append(stamp(f"##[error]not emulated: jobs.<job>.{refused[0]}"))
        return "failure"
    items: list[Any] = spec["steps"] if isinstance(spec.get("steps"), list) else []
    outcome = "success"
    for number, step in enumerate(items, start=1):
        step = step if isinstance(step, dict) else {}
        record: Json = {
            "name": str(step.get("name") or f"Run {step.get('uses') or step.get('run', '')}"),
            "status": "in_progress",
            "conclusion": None,
            "number": number,
            "started_at": now_iso(),
            "completed_at": None,
        }
        record["name"] = record["name"].split("\n", 1)[0][:100]
        records.append(record)
        state = "cancelled" if context.cancelled.is_set() and outcome == "success" else outcome
        condition = stepsyntax.condition(step.get("if"))
        if condition is None:
            context.lines.append(stamp(f"##[error]not emulated: if: {step['if']}"))
            record.update(status="completed", conclusion="failure", completed_at=now_iso())
            outcome = "failure" if outcome == "success" else outcome
            continue
        if state not in condition:
            record.update(status="completed", conclusion="skipped", completed_at=now_iso())
            continue
        result = _step(context, doc, spec, step, deadline)
        record.update(status="completed", conclusion=result, completed_at=now_iso())
        if context.cancelled.is_set():
            record["conclusion"] = "cancelled"
            outcome = "cancelled"
        elif result == "timed_out":
            record["conclusion"] = "failure"
            outcome = "timed_out"
        elif result != "success":
            outcome = "failure"
    return outcome


def _step(context: Context, doc: Json, spec: Json, step: Json, deadline: float) -> str:
    lines = context.lines
    try:
        refused = [key for key in UNSUPPORTED_STEP_KEYS if key in step]
        if refused:
            raise StepFailure(f"not emulated: steps[*].{refused[0]}")
        env = _env_of(doc.get("env"), context, {})
        env = _env_of(spec.get("env"), context, env)
        env = _env_of(step.get("env"), context, {**env, **context.env})
        if "uses" in step:
            return _uses(context, step, env)
        command = substitute(str(step.get("run", "")), context, env)
        shell = step.get("shell") or (spec.get("defaults") or {}).get("run", {}).get("shell")
        flags = stepsyntax.shell(shell)
        lines.append(stamp(f"##[group]Run {command.splitlines()[0] if command else ''}"))
        lines += [stamp(line) for line in command.splitlines()]
        lines += [stamp(f"shell: /usr/bin/bash {' '.join(flags)} {{0}}"), stamp("##[endgroup]")]
        limit = float(step.get("timeout-minutes", 0) or 0) * 60
        seconds = max(0.0, deadline - time.monotonic())
        seconds = min(seconds, limit) if limit else seconds
        where = step.get("working-directory") or spec.get("defaults", {}).get("run", {}).get(
            "working-directory"
        )
        return _bash(context, command, env, seconds, where, bool(limit) and limit < seconds, flags)
    except StepFailure as failure:
        lines.append(stamp(f"##[error]{failure}"))
        return "failure"


def base_env(context: Context) -> dict[str, str]:
    """Return GitHub's default environment variables for a step."""
    github = context.github()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(context.temp.parent),
        "LANG": "C.UTF-8",
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "RUNNER_OS": "Linux",
        "RUNNER_TEMP": str(context.temp),
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    for name in ("repository", "repository_owner", "ref", "ref_name", "sha", "run_id"):
        env[f"GITHUB_{name.upper()}"] = github[name]
    for name in ("run_number", "run_attempt", "event_name", "workspace", "actor", "workflow"):
        env[f"GITHUB_{name.upper()}"] = github[name]
    for name in ("server_url", "api_url", "graphql_url", "triggering_actor"):
        env[f"GITHUB_{name.upper()}"] = github[name]
    ca = context.call.store.data_dir / "tls" / "ca.pem"
    if ca.is_file():
        env["GIT_SSL_CAINFO"] = str(ca)
    return env


def _bash(
    context: Context,
    command: str,
    env: dict[str, str],
    seconds: float,
    where: str | None,
    step_limit: bool,
    flags: list[str],
) -> str:
    context.temp.mkdir(parents=True, exist_ok=True)
    script = context.temp / f"step-{time.monotonic_ns()}.sh"
    script.write_text(command + "\n", encoding="utf-8")
    output, github_env = context.temp / "output", context.temp / f"env-{script.stem}"
    output.touch()
    github_env.touch()
    full = {**base_env(context), **context.env, **env}
    full.update(GITHUB_OUTPUT=str(output), GITHUB_ENV=str(github_env))
    cwd = context.workspace / where if where else context.workspace
    with context.running.start(
        ["bash", *flags, str(script)],
        cwd=cwd,
        env=full,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    ) as process:
        if context.cancelled.is_set():
            context.running.kill()
        try:
            out, _ = process.communicate(timeout=seconds)
            timed_out = False
        except subprocess.TimeoutExpired:
            context.running.kill()
            out, timed_out = process.communicate()[0], True
    context.lines.extend(stamp(line) for line in out.decode(errors="replace").splitlines())
    context.env.update(stepsyntax.env_file(github_env.read_text(encoding="utf-8")))
    if context.cancelled.is_set():
        context.lines.append(stamp("##[error]The operation was canceled."))
        return "cancelled"
    if timed_out:
        if step_limit:
            context.lines.append(stamp("##[error]The action has timed out."))
            return "failure"
        return "timed_out"
    if process.returncode:
        context.lines.append(
            stamp(f"##[error]Process completed with exit code {process.returncode}.")
        )
        return "failure"
    return "success"


def _uses(context: Context, step: Json, env: dict[str, str]) -> str:
    action = str(step["uses"])
    given = step.get("with") if isinstance(step.get("with"), dict) else {}
    with_ = {str(k): substitute(str(v), context, env) for k, v in (given or {}).items()}
    context.lines.append(stamp(f"##[group]Run {action}"))
    context.lines.append(stamp("with:"))
    context.lines += [stamp(f"  {k}: {v}") for k, v in with_.items() if k != "token"]
    context.lines.append(stamp("##[endgroup]"))
    if action == CHECKOUT:
        return _checkout(context, with_)
    if action == UPLOAD:
        made = artifacts.upload(context.call, context.repo, context.run, context.workspace, with_)
        name = with_.get("name", "artifact")
        if made is None:
            said = "No files were found with the provided path. No artifacts will be uploaded."
            context.lines.append(
                stamp(said if with_.get("if-no-files-found") == "ignore" else f"##[warning]{said}")
            )
        else:
            context.lines.append(stamp(f"Artifact {name} uploaded."))
        return "success"
    raise StepFailure(f"not emulated: {action}")


def _checkout(context: Context, with_: dict[str, str]) -> str:
    """Clone the repository over loopback with the run's token, as actions/checkout does."""
    dest = context.workspace / with_["path"] if with_.get("path") else context.workspace
    dest.mkdir(parents=True, exist_ok=True)
    url = f"{context.call.base}/{with_.get('repository') or context.full_name}.git"
    secret = base64.b64encode(f"x-access-token:{with_.get('token') or context.token}".encode())
    header = f"http.{context.call.base}/.extraheader=AUTHORIZATION: basic {secret.decode()}"
    ref = with_.get("ref") or str(context.run["head_sha"])
    commands = [
        ["git", "init", "-q", str(dest)],
        ["git", "-C", str(dest), "remote", "add", "origin", url],
        ["git", "-C", str(dest), "config", "--local", *header.split("=", 1)],
        ["git", "-C", str(dest), "fetch", "-q", "--no-tags", *_depth(with_), "origin", ref],
        ["git", "-C", str(dest), "checkout", "-q", "--detach", "FETCH_HEAD"],
    ]
    if with_.get("persist-credentials", "true").lower() == "false":
        commands.append(
            ["git", "-C", str(dest), "config", "--local", "--unset-all", header.split("=")[0]]
        )
    env = base_env(context)
    for command in commands:
        done = subprocess.run(command, capture_output=True, env=env, check=False)
        if done.returncode:
            text = done.stderr.decode(errors="replace").replace(context.token, "***")
            context.lines += [stamp(line) for line in text.splitlines()]
            raise StepFailure(f"The process '/usr/bin/git' failed with exit code {done.returncode}")
    return "success"


def _depth(with_: dict[str, str]) -> list[str]:
    """Return the fetch's depth as checkout's `fetch-depth` (default 1; 0: all history)."""
    given = with_.get("fetch-depth", "1").strip() or "1"
    if not given.isdigit():
        raise StepFailure(f"The input 'fetch-depth' must be a number: {given}")
    return [] if int(given) == 0 else [f"--depth={int(given)}"]

"""Serve git's smart HTTP protocol for the sandbox's repos through `git http-backend` (CGI).

A push that updates a protected branch runs prereceive.py as the pre-receive hook (through
`core.hooksPath`, given what pushrules.policy computed), so a refusal leaves every ref as it was.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from orchestrator.sandbox.github import gitrepo, prereceive, pushrules
from orchestrator.sandbox.github.access import can
from orchestrator.sandbox.github.server import Incoming, Outgoing
from orchestrator.sandbox.github.state import Json, Store

GIT_PATH = re.compile(
    r"^/(?P<owner>[\w.-]+)/(?P<name>[\w.-]+?)(?:\.git)?(?P<rest>/(?:info/refs|git-upload-pack|"
    r"git-receive-pack|HEAD|objects/.+))$"
)
PushedRef = tuple[str, str, str]  # (old sha, new sha, refname)


def is_git_path(path: str) -> bool:
    """Return whether a request path is a smart-HTTP git path."""
    return GIT_PATH.match(path) is not None


def _text(status: int, message: str, headers: dict[str, str] | None = None) -> Outgoing:
    return Outgoing(
        status, {"Content-Type": "text/plain; charset=utf-8", **(headers or {})}, message.encode()
    )


def unauthorized() -> Outgoing:
    """Return the 401 that makes git ask for (or report bad) credentials."""
    return _text(
        401,
        "Invalid username or token. Password authentication is not supported for Git operations.\n",
        {"WWW-Authenticate": 'Basic realm="GitHub"'},
    )


def serve(
    store: Store, request: Incoming, login: str
) -> tuple[Outgoing, Json | None, list[PushedRef]]:
    """Answer a git request as `login`; return the response, the repo and refs a push changed."""
    found = GIT_PATH.match(request.path)
    assert found is not None
    repo = store.repo(found["owner"], found["name"])
    if repo is None or not can(store, repo, login, "pull"):
        return _text(404, "Repository not found.\n"), None, []
    pushing = (
        found["rest"] == "/git-receive-pack" or "service=git-receive-pack" in request.query_string
    )
    if pushing and not can(store, repo, login, "push"):
        return (
            _text(403, f"Permission to {repo['owner']}/{repo['name']}.git denied to {login}.\n"),
            repo,
            [],
        )
    commands = parse_commands(request.body) if pushing and request.method == "POST" else []
    with store.lock:
        rules = pushrules.policies(store, repo, login, commands)
    env = {
        **(_hook_env(store, rules) if rules else {}),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GIT_PROJECT_ROOT": str(store.git_root),
        "GIT_HTTP_EXPORT_ALL": "1",
        "GIT_CONFIG_NOSYSTEM": "1",
        "REMOTE_USER": login,
        "REMOTE_ADDR": "127.0.0.1",
        "PATH_INFO": f"/{repo['owner']}/{repo['name']}.git{found['rest']}",
        "REQUEST_METHOD": request.method,
        "QUERY_STRING": request.query_string,
        "CONTENT_TYPE": request.header("content-type"),
        "CONTENT_LENGTH": str(len(request.body)),
        "GIT_PROTOCOL": request.header("git-protocol"),
        "HOME": str(store.data_dir),
    }
    done = subprocess.run(
        ["git", "http-backend"], input=request.body, env=env, capture_output=True, check=False
    )
    response = _parse_cgi(done.stdout)
    if rules:
        response.body = _declined_as_github(response.body)
    now = dict(gitrepo.refs(store.git_dir(repo))) if commands else {}
    pushed = [(old, new, ref) for old, new, ref in commands if now.get(ref, gitrepo.ZERO) == new]
    return response, repo, pushed


def _hook_env(store: Store, rules: dict[str, Json]) -> dict[str, str]:
    """Return the environment that makes receive-pack run prereceive.py with `rules`."""
    hooks = store.data_dir / "hooks"
    hooks.mkdir(parents=True, exist_ok=True)
    script = (
        f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -I {shlex.quote(prereceive.__file__)}\n"
    )
    hook = hooks / "pre-receive"
    if not hook.exists() or hook.read_text() != script:
        hook.write_text(script)
        hook.chmod(0o755)
    return {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "core.hooksPath",
        "GIT_CONFIG_VALUE_0": str(Path(hooks).resolve()),
        prereceive.POLICY: json.dumps(rules),
    }


def _pkt_lines(data: bytes) -> list[bytes | None]:
    """Split pkt-lines into payloads (None: a flush)."""
    found: list[bytes | None] = []
    at = 0
    while at + 4 <= len(data):
        size = int(data[at : at + 4], 16)
        found.append(data[at + 4 : at + size] if size > 4 else None)
        at += max(size, 4)
    return found


def _pkt(payload: bytes | None) -> bytes:
    return b"0000" if payload is None else f"{len(payload) + 4:04x}".encode() + payload


def _declined_as_github(body: bytes) -> bytes:
    """Report a refused ref as GitHub does, "protected branch hook declined", where git reports
    "pre-receive hook declined"; the status report may ride side band 1."""
    if b"pre-receive hook declined" not in body:
        return body

    def fix(report: bytes) -> bytes:
        return b"".join(
            _pkt(p.replace(b"pre-receive", b"protected branch") if p else p)
            for p in _pkt_lines(report)
        )

    packets = _pkt_lines(body)
    if not any(p and p[:1] == b"\x01" for p in packets):
        return fix(body)
    report = fix(b"".join(p[1:] for p in packets if p and p[:1] == b"\x01"))
    out, placed = [], False
    for p in packets:
        if p and p[:1] == b"\x01":
            if not placed:
                out += [_pkt(b"\x01" + report[i : i + 65515]) for i in range(0, len(report), 65515)]
                placed = True
        else:
            out.append(_pkt(p))
    return b"".join(out)


def _parse_cgi(output: bytes) -> Outgoing:
    head, _, body = (
        output.partition(b"\r\n\r\n") if b"\r\n\r\n" in output else output.partition(b"\n\n")
    )
    status, headers = 200, {}
    for line in head.decode("latin-1").splitlines():
        name, _, value = line.partition(":")
        if name.lower() == "status":
            status = int(value.strip().split(" ", 1)[0])
        elif name:
            headers[name.strip()] = value.strip()
    return Outgoing(status, headers, body)


def parse_commands(body: bytes) -> list[PushedRef]:
    """Return the (old, new, ref) update commands at the start of a receive-pack request.

    A push from a shallow clone sends `shallow <sha>` lines first; they name no update.
    """
    commands, at = [], 0
    while at + 4 <= len(body):
        size = int(body[at : at + 4], 16)
        if size == 0:
            break
        line = body[at + 4 : at + size].split(b"\x00", 1)[0].strip().decode()
        at += size
        if line.startswith("shallow "):
            continue
        old, new, ref = line.split(" ", 2)
        commands.append((old, new, ref))
    return commands

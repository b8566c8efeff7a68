"""`agentos audit verify | show [--last N] | repair`: the audit log from the command line.

verify exits 0 with `ok: N acts, chain intact, head <hash>`, or prints one line per problem and
exits 1; a missing key or log is a usage error (exit 2). The config only has to be readable:
the log is checked even while config.yaml is invalid.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path

from orchestrator.config.files import read_yaml
from orchestrator.config.load import runtime_paths
from orchestrator.core.audit import AuditEntry
from orchestrator.errors import UsageError
from orchestrator.store import audit

MAX_PROBLEMS = 100  # printed; the rest are counted


def audit_folder(path: Path) -> Path:
    """Return runtime/audit/ for the config at `path`."""
    return audit.audit_dir(runtime_paths(read_yaml(path), path).runtime_dir)


def audit_file(path: Path) -> audit.AuditFile:
    """Return the audit log of the config at `path`, its key beside that file."""
    return audit.AuditFile(audit_folder(path), audit.key_file(path))


def local_user(env: Mapping[str, str]) -> str:
    """Return who runs the command: the sudoer behind sudo, else the login name."""
    import getpass

    try:
        return env.get("SUDO_USER") or getpass.getuser()
    except (OSError, KeyError):  # no name for this uid (a bare container)
        return "unknown"


def run(args: argparse.Namespace, path: Path, env: Mapping[str, str]) -> int:
    """Carry out `audit ACTION`."""
    folder = audit_folder(path)
    if not (folder / audit.LOG_FILE).exists():
        raise UsageError(f"no audit log at {folder / audit.LOG_FILE} (nothing recorded yet)")
    if args.action == "show":
        for entry in audit.entries(folder)[-args.last :] if args.last > 0 else []:
            print(describe(entry))
        return 0
    key_path = audit.key_file(path)
    if not key_path.exists():
        raise UsageError(f"no audit key at {key_path} (the log cannot be checked without it)")
    key = audit.load_key(key_path)
    if args.action == "repair":
        torn = audit.repair(folder, key, f"cli:{local_user(env)}")
        lines = ", ".join(map(str, torn))
        print(
            f"removed torn line(s) {lines}; recorded as audit.repaired" if torn else "no torn line"
        )
        return 0
    return _verify(folder, key)


def _verify(folder: Path, key: bytes) -> int:
    report = audit.verify(folder, key)
    if report.intact:
        head = report.last.hash[:12] if report.last else "none"
        print(f"ok: {report.acts} acts, chain intact, head {head}")
        return 0
    for problem in report.problems[:MAX_PROBLEMS]:
        print(problem)
    if len(report.problems) > MAX_PROBLEMS:
        print(f"... and {len(report.problems) - MAX_PROBLEMS} more problems")
    return 1


def describe(entry: AuditEntry) -> str:
    """Return one act as a line: seq, time, actor, act, then its fields as key=value."""
    fields = " ".join(f"{k}={v}" for k, v in entry.fields.items())
    return f"{entry.seq:>6} {entry.time} {entry.actor} {entry.act} {fields}".rstrip()

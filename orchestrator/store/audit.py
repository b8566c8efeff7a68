"""The audit log: runtime/audit/audit.jsonl, hash-chained and MAC'd, with its head beside it.

Every authority-bearing act (a push, a PR opened, merged or closed, a label, a switch, an approval
honoured, a gate's refusal) is one line (`core.audit` draws it). The MAC key is 32 random bytes in
`audit.key` beside the config, outside runtime/, created 0600 on first use and never logged; the
agents' sandbox hides it. A line is appended under an exclusive lock on runtime/audit/.lock, so
workers, jobs and the bot chain correctly at once: read the tail, compare it with the head,
append, fsync, then replace `audit.head` atomically. A writer killed mid-line leaves a torn line
that the next one steps over (as `files.append_line` does) and `verify` reports until `repair`
removes it; a tail cut off since the last append is recorded as `audit.broken` before the act.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import os
import secrets
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from orchestrator.core import audit
from orchestrator.core.audit import AuditEntry, AuditHead, ChainReport, FieldValue, Mac
from orchestrator.core.redact import redact, redact_all
from orchestrator.errors import AuditError
from orchestrator.store.files import atomic_write

LOG_FILE, HEAD_FILE, LOCK_FILE, KEY_FILE = "audit.jsonl", "audit.head", ".lock", "audit.key"
KEY_BYTES = 32
_TAIL = 65536  # bytes read back from the end to find the last whole lines
_MAX_FIELD = 500


def audit_dir(runtime_dir: Path) -> Path:
    """Return the folder of the log and its head: runtime/audit/."""
    return runtime_dir / "audit"


def key_file(config_file: Path) -> Path:
    """Return where the MAC key lives: `audit.key` beside the config file, outside runtime/."""
    return config_file.parent / KEY_FILE


def load_key(path: Path, *, create: bool = False) -> bytes:
    """Return the key; `create` makes it (0600, atomically, once however many race) when absent."""
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        if not create:
            raise AuditError(f"no audit key at {path}") from None
        key = _create_key(path)
    except OSError as exc:
        raise AuditError(f"audit key {path} cannot be read: {exc.strerror}") from None
    if len(key) != KEY_BYTES:
        raise AuditError(f"audit key {path} holds {len(key)} bytes, not {KEY_BYTES}")
    return key


def _create_key(path: Path) -> bytes:
    """Write a fresh key beside `path` and link it in: the first linker wins, the others read."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise AuditError(f"audit key {path} cannot be created: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(KEY_BYTES))
            f.flush()
            os.fsync(f.fileno())
        os.link(tmp, path)  # fails when another process made it first
    except FileExistsError:
        pass
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path.read_bytes()


def mac_with(key: bytes) -> Mac:
    """Return the MAC function `core.audit` is handed: HMAC-SHA256 under `key`, hex."""
    return lambda text: hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def _utcnow() -> datetime:
    return datetime.now(UTC)


def stamp(moment: datetime) -> str:
    """Return a line's time: UTC, milliseconds, with a Z."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class AuditFile:
    """The AuditLog port over runtime/audit/; the key is read (or made) on the first record."""

    def __init__(
        self, folder: Path, key_path: Path, *, clock: Callable[[], datetime] = _utcnow
    ) -> None:
        self.folder, self._key_path, self.clock = folder, key_path, clock
        self._mac: Mac | None = None

    @property
    def key_path(self) -> Path:
        """Where the MAC key lives: what the agents' sandbox must hide."""
        return self._key_path

    @property
    def log_path(self) -> Path:
        return self.folder / LOG_FILE

    def record(self, act: str, *, actor: str, **fields: FieldValue | None) -> None:
        """Append one act (None fields left out, every string redacted); AuditError on failure."""
        if self._mac is None:
            self._mac = mac_with(load_key(self._key_path, create=True))
        clean = {k: redact_all(v, _MAX_FIELD) for k, v in fields.items() if v is not None}
        try:
            with _locked(self.folder):
                _append(self.folder, self._mac, (act, actor, clean), stamp(self.clock()))
        except OSError as exc:
            raise AuditError(f"audit log {self.log_path} cannot be written: {exc}") from None


Act = tuple[str, str, dict[str, FieldValue]]  # (act, actor, fields)


def _append(folder: Path, mac: Mac, act: Act, when: str) -> None:
    """Append `act` (after an `audit.broken` when the tail does not match the head), then move
    the head. Called with the lock held."""
    fd = os.open(folder / LOG_FILE, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        size = os.fstat(fd).st_size
        if size == 0 and not (folder / HEAD_FILE).exists():  # a new log: its head says so
            atomic_write(folder / HEAD_FILE, audit.head_of(None, mac).text())
        tail = _tail(fd, size)
        why = audit.mismatch(read_head(folder), tail, mac)
        last = tail[-1] if tail else None
        data = b"" if not size or os.pread(fd, 1, size - 1) == b"\n" else b"\n"  # step over torn
        name, actor, fields = act
        if why is not None:
            last = _seal(last, (audit.BROKEN, redact(actor), {"reason": why}), when, mac)
            data += last.line().encode() + b"\n"
        last = _seal(last, (redact(name), redact(actor), fields), when, mac)
        os.write(fd, data + last.line().encode() + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    atomic_write(folder / HEAD_FILE, audit.head_of(last, mac).text())


def _seal(last: AuditEntry | None, act: Act, when: str, mac: Mac) -> AuditEntry:
    seq, prev = (last.seq + 1, last.hash) if last else (1, audit.GENESIS)
    name, actor, fields = act
    return audit.seal(seq=seq, time=when, act=name, actor=actor, fields=fields, prev=prev, mac=mac)


@contextmanager
def _locked(folder: Path, *, shared: bool = False) -> Iterator[None]:
    """Hold the log's lock: exclusive to write, shared to read (a killed holder frees it)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        flags = (os.O_RDONLY if shared else os.O_RDWR) | os.O_CREAT
        fd = os.open(folder / LOCK_FILE, flags, 0o600)
    except OSError as exc:
        raise AuditError(f"audit lock {folder / LOCK_FILE} cannot be opened: {exc}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _tail(fd: int, size: int) -> list[AuditEntry]:
    """Return the readable whole lines at the end of the log (at least one when there is one)."""
    start = size
    while start > 0:
        start = max(0, start - _TAIL)
        lines = os.pread(fd, size - start, start).split(b"\n")[1 if start else 0 :]
        entries = [e for e in map(audit.parse, lines) if e is not None]
        if entries:
            return entries
    return []


def read_head(folder: Path) -> AuditHead | None:
    """Return the head as the last writer left it; None when there is no head file."""
    path = folder / HEAD_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise AuditError(f"audit head {path} cannot be read: {exc.strerror}") from None
    return audit.parse_head(raw) or AuditHead(-1, "", "")  # unreadable: fails its MAC


def read_lines(folder: Path) -> list[bytes]:
    """Return the log's lines without newlines; a last line cut off mid-way is kept as it is."""
    path = folder / LOG_FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise AuditError(f"no audit log at {path}") from None
    except OSError as exc:
        raise AuditError(f"audit log {path} cannot be read: {exc.strerror}") from None
    lines = data.split(b"\n")
    return lines[:-1] if lines[-1] == b"" else lines


def verify(folder: Path, key: bytes) -> ChainReport:
    """Check the whole log and its head under `key`: every problem, in line order."""
    if not (folder / LOG_FILE).exists():
        raise AuditError(f"no audit log at {folder / LOG_FILE}")
    with _locked(folder, shared=True):
        lines, head = read_lines(folder), read_head(folder)
    return audit.check(lines, mac_with(key), head)


def repair(
    folder: Path, key: bytes, actor: str, *, clock: Callable[[], datetime] = _utcnow
) -> tuple[int, ...]:
    """Remove the torn lines (not JSON at all) and record that as `audit.repaired`.

    Return the removed lines' numbers (none: nothing done, nothing recorded). Lines that parse
    stay, even when they fail their hash or MAC: those are evidence, not a writer's death.
    """
    if not (folder / LOG_FILE).exists():
        raise AuditError(f"no audit log at {folder / LOG_FILE}")
    with _locked(folder):
        lines = read_lines(folder)
        torn = tuple(n for n, raw in enumerate(lines, start=1) if not audit.is_json(raw))
        if not torn:
            return ()
        removed = hashlib.sha256(b"\n".join(lines[n - 1] for n in torn)).hexdigest()
        fields: dict[str, FieldValue] = {
            "lines": ",".join(map(str, torn)),
            "removed_sha256": removed,
        }
        try:
            kept = b"".join(raw + b"\n" for raw in lines if audit.is_json(raw))
            atomic_write(folder / LOG_FILE, kept)
            _append(folder, mac_with(key), (audit.REPAIRED, actor, fields), stamp(clock()))
        except OSError as exc:
            raise AuditError(f"audit log {folder / LOG_FILE} cannot be repaired: {exc}") from None
    return torn


def entries(folder: Path) -> list[AuditEntry]:
    """Return the log's readable lines, oldest first (what `agentos audit show` prints)."""
    if not (folder / LOG_FILE).exists():
        raise AuditError(f"no audit log at {folder / LOG_FILE}")
    with _locked(folder, shared=True):
        lines = read_lines(folder)
    return [e for e in map(audit.parse, lines) if e is not None]

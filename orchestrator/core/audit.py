"""The audit chain: one JSON line per authority-bearing act, each naming its predecessor's hash.

A line holds seq, time, act, actor, fields, prev (the previous line's hash), hash (sha256 of the
canonical JSON of the line without hash and mac) and mac (an HMAC of the hash, made with a key the
log's writer keeps outside runtime/). The head (the last line's seq and hash, MAC'd apart) is kept
beside the log, so a tail cut off whole shows as a head ahead of the log. Nothing here knows the
key: the MAC is a function handed in (`store.audit` makes it), so the chain is checked without
disk. An edited line fails its hash, a line rewritten whole fails its MAC, a removed, inserted or
swapped line breaks the chain, and a chain recomputed from scratch without the key fails every MAC.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Mac = Callable[[str], str]  # text -> its HMAC-SHA256, hex
FieldValue = str | int
GENESIS = "0" * 64  # the `prev` of the first line
BROKEN = "audit.broken"  # the act a writer records when the log does not match its head
REPAIRED = "audit.repaired"  # the act recorded when torn lines were removed on purpose
_BODY = ("seq", "time", "act", "actor", "fields", "prev")


def canonical(body: Mapping[str, Any]) -> bytes:
    """Return the one byte form a line's body hashes to: sorted keys, no spaces, UTF-8."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest(body: Mapping[str, Any]) -> str:
    """Return the sha256 (hex) of the body's canonical JSON."""
    return hashlib.sha256(canonical(body)).hexdigest()


def head_message(seq: int, hash_: str) -> str:
    """Return what the head's MAC covers: never what a line's covers, so neither passes for the
    other."""
    return f"head:{seq}:{hash_}"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the log, as written or as read back."""

    seq: int
    time: str  # UTC, ISO 8601 with a Z
    act: str  # noun.past_tense: pr.opened, branch.pushed, switch.changed ...
    # whose authority: agentos:<job>, cli:<user>, chat:<name (id)>, github:<login>
    actor: str
    fields: Mapping[str, FieldValue]
    prev: str
    hash: str
    mac: str

    def body(self) -> dict[str, Any]:
        """Return what the hash covers: the line without its hash and MAC."""
        return {
            "seq": self.seq,
            "time": self.time,
            "act": self.act,
            "actor": self.actor,
            "fields": dict(self.fields),
            "prev": self.prev,
        }

    def line(self) -> str:
        """Return the JSON line (no newline), fields in reading order."""
        return json.dumps(
            {**self.body(), "hash": self.hash, "mac": self.mac},
            separators=(",", ":"),
            ensure_ascii=False,
        )


@dataclass(frozen=True, slots=True)
class AuditHead:
    """The last line's seq and hash as the writer left them, MAC'd apart from the log."""

    seq: int
    hash: str
    mac: str

    def text(self) -> str:
        return json.dumps({"seq": self.seq, "hash": self.hash, "mac": self.mac})


def seal(
    *,
    seq: int,
    time: str,
    act: str,
    actor: str,
    fields: Mapping[str, FieldValue],
    prev: str,
    mac: Mac,
) -> AuditEntry:
    """Return the entry with its hash and MAC computed."""
    body = {"seq": seq, "time": time, "act": act, "actor": actor, "fields": dict(fields)}
    hash_ = digest({**body, "prev": prev})
    return AuditEntry(
        seq=seq,
        time=time,
        act=act,
        actor=actor,
        fields=dict(fields),
        prev=prev,
        hash=hash_,
        mac=mac(hash_),
    )


def head_of(entry: AuditEntry | None, mac: Mac) -> AuditHead:
    """Return the head naming `entry` (seq 0 and GENESIS before the first line)."""
    seq, hash_ = (entry.seq, entry.hash) if entry else (0, GENESIS)
    return AuditHead(seq, hash_, mac(head_message(seq, hash_)))


def is_json(raw: bytes) -> bool:
    """Return whether a line parses as JSON at all (a torn line never does)."""
    try:
        json.loads(raw)
    except ValueError:
        return False
    return True


def parse(raw: bytes | str) -> AuditEntry | None:
    """Return the entry a line holds, or None when it is torn or not shaped like one."""
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict) or set(data) != {*_BODY, "hash", "mac"}:
        return None
    texts = ("time", "act", "actor", "prev", "hash", "mac")
    fields = data["fields"]
    if (
        type(data["seq"]) is not int
        or not all(isinstance(data[k], str) for k in texts)
        or not isinstance(fields, dict)
        or not all(type(v) in (str, int) for v in fields.values())
    ):
        return None
    return AuditEntry(**data)


def parse_head(raw: bytes | str) -> AuditHead | None:
    """Return the head a head file holds, or None when it is not shaped like one."""
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict) or set(data) != {"seq", "hash", "mac"}:
        return None
    if type(data["seq"]) is not int or not all(isinstance(data[k], str) for k in ("hash", "mac")):
        return None
    return AuditHead(data["seq"], data["hash"], data["mac"])


@dataclass(frozen=True, slots=True)
class AuditProblem:
    """Something wrong with the log: the line it is on (1-based; None: the log as a whole)."""

    line: int | None
    what: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.what}" if self.line is not None else self.what


@dataclass(frozen=True, slots=True)
class ChainReport:
    """What checking a log found: how many acts, the last one, and every problem in line order."""

    acts: int
    last: AuditEntry | None
    problems: tuple[AuditProblem, ...] = field(default=())

    @property
    def intact(self) -> bool:
        return not self.problems


def check(lines: Sequence[bytes], mac: Mac, head: AuditHead | None) -> ChainReport:
    """Check every line and the head against the chain and the MAC.

    `lines` are the file's lines without their newlines; a last one that had none (cut off
    mid-line) is passed like the others and reported as torn. `head` None: no head file.
    """
    problems: list[AuditProblem] = []
    last: AuditEntry | None = None
    seen: dict[int, str] = {}
    acts = 0
    for number, raw in enumerate(lines, start=1):
        entry = parse(raw)
        if entry is None:
            problems.append(AuditProblem(number, _unreadable(raw)))
            continue
        acts += 1
        problems += [AuditProblem(number, what) for what in _line_problems(entry, last, mac)]
        seen.setdefault(entry.seq, entry.hash)
        last = entry
    problems += [AuditProblem(None, what) for what in _head_problems(head, last, seen, mac)]
    return ChainReport(acts, last, tuple(problems))


def _unreadable(raw: bytes) -> str:
    if not is_json(raw):
        return "torn: not a whole JSON line (a writer died mid-line?); `agentos audit repair`"
    return "not an audit record: a line was edited or inserted"


def _line_problems(entry: AuditEntry, before: AuditEntry | None, mac: Mac) -> list[str]:
    found: list[str] = []
    if digest(entry.body()) != entry.hash:
        found.append(f"act {entry.seq} was edited: its content does not match its hash")
    elif mac(entry.hash) != entry.mac:
        found.append(f"act {entry.seq} has a bad MAC: written or rewritten without the key")
    seq, prev = (before.seq + 1, before.hash) if before else (1, GENESIS)
    if entry.seq != seq or entry.prev != prev:
        after = f"act {before.seq}" if before else "the start"
        found.append(
            f"act {entry.seq} does not follow {after}: lines removed, inserted or reordered"
        )
    if entry.act == BROKEN:
        found.append(
            f"act {entry.seq}: a writer found the log cut off or rewritten ({_why(entry)})"
        )
    return found


def _why(entry: AuditEntry) -> str:
    return str(entry.fields.get("reason", "no reason given"))


def _head_problems(
    head: AuditHead | None, last: AuditEntry | None, seen: Mapping[int, str], mac: Mac
) -> list[str]:
    if head is None:
        return ["the head file is missing: a cut-off tail cannot be told"] if last else []
    if mac(head_message(head.seq, head.hash)) != head.mac:
        return ["the head has a bad MAC: written or rewritten without the key"]
    end = last.seq if last else 0
    if head.seq > end:
        return [f"cut off: the head names act {head.seq}, the log ends at act {end}"]
    if head.seq and seen.get(head.seq) != head.hash:
        return [f"act {head.seq} is not the one the head names: lines cut off and rewritten"]
    return []


def mismatch(head: AuditHead | None, tail: Sequence[AuditEntry], mac: Mac) -> str | None:
    """Return why the log's tail does not match its head, or None when it does.

    What a writer checks before appending, so a cut made since the last append is recorded in
    the chain (as `audit.broken`) instead of being papered over by the next line. `tail` is the
    last whole lines read, oldest first. A head behind the tail by lines that are there is a
    writer that died between its line and its head: not a mismatch.
    """
    end = tail[-1] if tail else None
    if head is None:
        return "the head file is missing" if end else None
    if mac(head_message(head.seq, head.hash)) != head.mac:
        return "the head has a bad MAC"
    if head.seq > (end.seq if end else 0):
        return f"the head names act {head.seq}, the log ends at act {end.seq if end else 0}"
    if end is None or any(
        (e.seq, e.hash) == (head.seq, head.hash) or (e.seq, e.prev) == (head.seq + 1, head.hash)
        for e in tail
    ):
        return None
    return f"act {head.seq} is not the one the head names"

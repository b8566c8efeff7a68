"""The audit chain without disk: each kind of tampering is named, an honest chain passes."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from orchestrator.core import audit
from orchestrator.core.audit import AuditEntry, AuditHead

KEY, OTHER = b"k" * 32, b"o" * 32


def mac_under(key: bytes) -> audit.Mac:
    return lambda text: hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


MAC = mac_under(KEY)


def chain(n: int, mac: audit.Mac = MAC, actor: str = "agentos:queue") -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    for seq in range(1, n + 1):
        entries.append(
            audit.seal(
                seq=seq,
                time=f"2026-05-01T10:00:{seq:02}.000Z",
                act="pr.opened",
                actor=actor,
                fields={"repo": "acme/app", "pr": seq},
                prev=entries[-1].hash if entries else audit.GENESIS,
                mac=mac,
            )
        )
    return entries


def lines(entries: list[AuditEntry]) -> list[bytes]:
    return [e.line().encode() for e in entries]


def problems(raw: list[bytes], head: AuditHead | None, mac: audit.Mac = MAC) -> list[str]:
    return [str(p) for p in audit.check(raw, mac, head).problems]


def test_an_honest_chain_is_intact_and_its_head_names_the_last_act() -> None:
    entries = chain(5)
    report = audit.check(lines(entries), MAC, audit.head_of(entries[-1], MAC))
    assert report.intact and report.acts == 5 and report.last == entries[-1]
    assert audit.check([], MAC, audit.head_of(None, MAC)).intact
    assert audit.check([], MAC, None).intact  # nothing written yet


def test_the_hash_covers_content_not_layout() -> None:
    entry = chain(1)[0]
    shuffled = json.dumps(dict(reversed(json.loads(entry.line()).items())), indent=1)
    assert audit.parse(shuffled) == entry
    assert audit.check([shuffled.encode()], MAC, audit.head_of(entry, MAC)).intact


def test_an_edited_field_is_found_on_its_line() -> None:
    entries = chain(4)
    raw = lines(entries)
    raw[1] = raw[1].replace(b'"pr":2', b'"pr":99')
    assert problems(raw, audit.head_of(entries[-1], MAC)) == [
        "line 2: act 2 was edited: its content does not match its hash"
    ]


def test_a_line_rewritten_with_a_fresh_hash_fails_its_mac() -> None:
    entries = chain(3)
    forged = audit.seal(
        seq=2,
        time=entries[1].time,
        act="pr.opened",
        actor="someone",
        fields={},
        prev=entries[0].hash,
        mac=lambda text: "0" * 64,
    )
    raw = lines(entries)
    raw[1] = forged.line().encode()
    found = problems(raw, audit.head_of(entries[-1], MAC))
    assert found[0] == "line 2: act 2 has a bad MAC: written or rewritten without the key"
    assert found[1] == "line 3: act 3 does not follow act 2: lines removed, inserted or reordered"


def test_a_removed_line_breaks_the_chain_where_it_was() -> None:
    entries = chain(5)
    raw = lines(entries)
    del raw[2]
    assert problems(raw, audit.head_of(entries[-1], MAC)) == [
        "line 3: act 4 does not follow act 2: lines removed, inserted or reordered"
    ]


def test_swapped_lines_are_found() -> None:
    entries = chain(5)
    raw = lines(entries)
    raw[1], raw[2] = raw[2], raw[1]
    found = problems(raw, audit.head_of(entries[-1], MAC))
    assert [p.split(":")[0] for p in found] == ["line 2", "line 3", "line 4"]
    assert all("does not follow" in p for p in found)


@pytest.mark.parametrize("cut", [1, 3])
def test_a_tail_cut_off_whole_shows_as_a_head_ahead_of_the_log(cut: int) -> None:
    entries = chain(5)
    assert problems(lines(entries)[:-cut], audit.head_of(entries[-1], MAC)) == [
        f"cut off: the head names act 5, the log ends at act {5 - cut}"
    ]


def test_a_cut_tail_written_over_is_not_the_act_the_head_names() -> None:
    entries = chain(5)
    again = chain(5, mac_under(OTHER), actor="mallory")  # other content under the same seqs
    raw = lines(entries)[:3] + lines(again)[3:]
    found = problems(raw, audit.head_of(entries[-1], MAC))
    assert found[-1] == "act 5 is not the one the head names: lines cut off and rewritten"


@pytest.mark.parametrize("mac", [mac_under(OTHER), lambda text: ""], ids=["another key", "no key"])
def test_a_chain_recomputed_from_scratch_fails_every_mac(mac: audit.Mac) -> None:
    forged = chain(4, mac)
    found = problems(lines(forged), audit.head_of(forged[-1], mac))
    assert len(found) == 5 and all("bad MAC" in p for p in found)
    assert found[-1] == "the head has a bad MAC: written or rewritten without the key"


def test_a_torn_line_is_reported_and_the_chain_steps_over_it() -> None:
    entries = chain(3)
    raw = lines(entries)
    raw.insert(2, raw[2][:40])  # a writer died mid-line; the next one chained to line 2
    assert problems(raw, audit.head_of(entries[-1], MAC)) == [
        "line 3: torn: not a whole JSON line (a writer died mid-line?); `agentos audit repair`"
    ]
    assert problems(lines(entries) + [b'{"seq": 4'], audit.head_of(entries[-1], MAC)) == [
        "line 4: torn: not a whole JSON line (a writer died mid-line?); `agentos audit repair`"
    ]


def test_a_json_line_that_is_no_record_is_not_called_torn() -> None:
    entries = chain(2)
    raw = lines(entries)
    raw.insert(1, b'{"seq": 2, "act": "pr.merged"}')
    assert problems(raw, audit.head_of(entries[-1], MAC)) == [
        "line 2: not an audit record: a line was edited or inserted"
    ]


def test_a_missing_head_is_reported_once_there_are_lines() -> None:
    assert problems(lines(chain(2)), None) == [
        "the head file is missing: a cut-off tail cannot be told"
    ]


def test_a_head_one_behind_is_a_writer_that_died_before_moving_it() -> None:
    entries = chain(3)
    assert problems(lines(entries), audit.head_of(entries[1], MAC)) == []


def test_a_recorded_break_stays_a_problem() -> None:
    entries = chain(2)
    broken = audit.seal(
        seq=3,
        time="t",
        act=audit.BROKEN,
        actor="agentos",
        fields={"reason": "the head names act 9, the log ends at act 2"},
        prev=entries[-1].hash,
        mac=MAC,
    )
    found = problems(lines([*entries, broken]), audit.head_of(broken, MAC))
    assert found == [
        "line 3: act 3: a writer found the log cut off or rewritten "
        "(the head names act 9, the log ends at act 2)"
    ]


def test_a_writer_sees_whether_the_tail_matches_the_head() -> None:
    entries = chain(4)
    assert audit.mismatch(audit.head_of(entries[-1], MAC), entries[-2:], MAC) is None
    assert audit.mismatch(audit.head_of(entries[-2], MAC), entries[-1:], MAC) is None  # died
    assert audit.mismatch(audit.head_of(None, MAC), entries[:1], MAC) is None  # died at the first
    assert audit.mismatch(None, [], MAC) is None and audit.mismatch(None, entries, MAC)
    assert audit.mismatch(audit.head_of(entries[-1], MAC), entries[:2], MAC) == (
        "the head names act 4, the log ends at act 2"
    )
    assert audit.mismatch(audit.head_of(entries[-1], MAC), [], MAC) == (
        "the head names act 4, the log ends at act 0"
    )
    other = chain(4, actor="mallory")
    assert audit.mismatch(audit.head_of(entries[-1], MAC), other, MAC) == (
        "act 4 is not the one the head names"
    )
    assert audit.mismatch(AuditHead(4, entries[-1].hash, "0" * 64), entries, MAC) == (
        "the head has a bad MAC"
    )


def test_the_head_mac_is_not_a_line_mac() -> None:
    entry = chain(1)[0]
    assert audit.head_of(entry, MAC).mac != entry.mac
    assert audit.parse_head(audit.head_of(entry, MAC).text()) == audit.head_of(entry, MAC)
    assert audit.parse_head(b"{") is None and audit.parse_head('{"seq": "1"}') is None

"""The notification path in a storm: outbox appends, reading what is pending, batching, splitting.

Targets: an append (fsynced) <= 5 ms; reading and batching 10,000 pending notes <= 0.5 s of CPU,
into a single message under 4,096 units. Run: `.venv/bin/python bench/notify.py [NOTES]`.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from orchestrator.core import notify  # noqa: E402
from orchestrator.core.batching import batch, split, units  # noqa: E402
from orchestrator.core.model import IssueRef  # noqa: E402
from orchestrator.store.outbox import Outbox  # noqa: E402


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        box = Outbox(Path(tmp))
        start = time.perf_counter()
        for i in range(count):
            ref = IssueRef("acme/app", i % 50)
            box.append(
                notify.task_failed(
                    ref, f"app-{i % 50}-g1-a{i % 3 + 1}", f"Issue {i % 50}", f"exit {i}"
                ),
                now,
            )
        append_ms = (time.perf_counter() - start) * 1000 / count
        cpu = time.process_time()
        wall = time.perf_counter()
        pending = box.pending()
        messages = batch(pending.notes)
        cpu_s, wall_s = time.process_time() - cpu, time.perf_counter() - wall
        size = box.path.stat().st_size
    text = "\n".join(f"line {i} " + "word " * (i % 40) for i in range(20_000))
    start = time.perf_counter()
    chunks = split(text)
    split_s = time.perf_counter() - start
    print(
        f"append: {append_ms:.2f} ms per note (fsynced), "
        f"outbox {size / 1024:.0f} KiB for {count} notes"
    )
    print(
        f"pending + batch of {len(pending.notes)} notes: {cpu_s:.3f} s CPU, {wall_s:.3f} s wall "
        f"-> {len(messages)} message(s), longest {max(units(m.text) for m in messages)} units"
    )
    print(
        f"split {len(text) / 1e6:.1f} MB of text: {split_s:.3f} s -> {len(chunks)} chunks, "
        f"longest {max(units(c) for c in chunks)} units"
    )


if __name__ == "__main__":
    main()

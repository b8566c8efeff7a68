"""The store: everything Agent OS keeps under runtime/ (atomic files, switches, overrides, the
mailbox, war-room records, the outbox, memos, cooldowns, button records, locks, the event log)."""

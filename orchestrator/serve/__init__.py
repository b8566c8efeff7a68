"""`agentos serve`: every job on its schedule in one long-running process, woken by webhooks."""

"""The offline demo (`agentos demo`): a sample project, a board and issues on the sandboxes, the real jobs."""

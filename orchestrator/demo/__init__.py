"""The offline demo (`agentos demo`): a sample project, board and issues on sandboxes, real jobs."""

"""Remote executors: an attempt's agent run on a GitHub Actions runner or as a Kubernetes Job."""

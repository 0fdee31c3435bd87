"""Entry points: HTTP API and pages, worker, CLI."""

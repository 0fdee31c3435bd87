"""Pure domain model: order lifecycle, stages and their rules (stdlib only)."""

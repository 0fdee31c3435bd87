"""Returns and exchanges as a durable workflow: eligibility, pickup, inspection, refund or reshipment."""

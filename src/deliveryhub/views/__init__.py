"""Read side: queries that build what the API and pages show (no writes)."""

"""Canonical inbound event contract (EVENTS.md), versioned."""

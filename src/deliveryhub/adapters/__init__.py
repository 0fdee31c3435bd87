"""Adapters: concrete implementations of the service-layer ports (storage, bus, connectors, channels)."""

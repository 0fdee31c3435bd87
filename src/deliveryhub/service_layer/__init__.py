"""Use cases: ingest, messaging, relay; they talk to ports, never to drivers directly."""

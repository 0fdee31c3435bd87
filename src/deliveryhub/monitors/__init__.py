"""Automation: lifecycle orchestration, durable SLA timers, exception monitors, ETA and compensation."""

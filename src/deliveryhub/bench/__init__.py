"""Benchmarks: each measures the hub and the raw limit in the same run and reports the ratio."""

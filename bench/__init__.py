"""Benchmarks: each script prints a table and a ratio against a raw client measured in the same run."""

"""Delivery: the worker loop, the HTTP transport with its SSRF guard, and the pure retry policy."""

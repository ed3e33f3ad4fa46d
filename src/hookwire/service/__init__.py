"""The service: the ``Webhooks`` facade every adapter (Python API, CLI, HTTP, dashboard) goes through."""

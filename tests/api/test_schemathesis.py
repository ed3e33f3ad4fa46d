"""Property-based testing of the whole API from its own OpenAPI document (schemathesis):
no 5xx, and every response matches the schema. Bounded in examples so it fits CI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.api.server import Server

EXAMPLES = "25" if os.environ.get("CI") else "10"


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_no_server_errors_and_responses_match_the_schema(server: Server, tmp_path: Path) -> None:
    admin = {"authorization": f"Bearer {server.admin_key}"}
    # Some data to find: an application with an endpoint and a message, under a known uid.
    httpx.post(
        f"{server.url}/api/v1/app", json={"name": "acme", "uid": "acme"}, headers=admin
    ).raise_for_status()
    schemathesis = Path(sys.executable).parent / "schemathesis"
    result = subprocess.run(
        [
            str(schemathesis),
            "run",
            f"{server.url}/openapi.json",
            "--checks",
            "not_a_server_error,response_schema_conformance,content_type_conformance",
            "--header",
            f"Authorization: Bearer {server.admin_key}",
            "--max-examples",
            EXAMPLES,
            "--seed",
            "20261129",
            "--request-timeout",
            "20",
            "--report-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=840,
        check=False,
        env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_TELEMETRY": "false"},
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]

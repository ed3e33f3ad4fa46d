"""While PostgreSQL is unreachable, creating answers 503 (never 2xx) and health says so; once it
is back, the same server works again without a restart."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest

from tests.api.server import running_server


def set_reachable(admin_url: str, database_url: str, reachable: bool) -> None:
    name = urlsplit(database_url).path.lstrip("/")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS {'true' if reachable else 'false'}")
        if not reachable:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_creates_answer_503_while_the_database_is_down(
    postgres_server: str, postgres_url: str, tmp_path: Path
) -> None:
    with running_server(postgres_url, tmp_path / "serve.log") as server:
        admin = {"authorization": f"Bearer {server.admin_key}"}
        with httpx.Client(base_url=server.url, timeout=30, headers=admin) as client:
            assert client.post("/api/v1/app", json={"name": "acme", "uid": "acme"}).status_code == 201
            body = {"eventType": "a.b", "payload": {"n": 1}}
            assert client.post("/api/v1/app/acme/msg", json=body).status_code == 202

            set_reachable(postgres_server, postgres_url, reachable=False)
            try:
                down = client.post("/api/v1/app/acme/msg", json=body)
                assert down.status_code == 503, down.text
                assert down.json()["code"] == "database_unavailable"
                assert client.get("/api/v1/health").status_code == 503
            finally:
                set_reachable(postgres_server, postgres_url, reachable=True)

            back = client.post("/api/v1/app/acme/msg", json=body)
            assert back.status_code == 202, back.text
            listed = client.get("/api/v1/app/acme/msg").json()
            assert len(listed["data"]) == 2  # the refused one was not half-written

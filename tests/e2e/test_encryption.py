"""Endpoint secrets encrypted at rest: a raw dump of the database holds no secret."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from hookwire import Settings, StoreError, Webhooks
from hookwire.core.secretbox import generate_key
from hookwire.store.sqlite import sqlite_path
from hookwire.testing import Receiver

LOOPBACK = ["127.0.0.0/8"]


@pytest.fixture
def database_url(each_database_url: str) -> str:
    return each_database_url


def raw_dump(database_url: str) -> bytes:
    """Every byte the database holds: the files for SQLite, every row of every table for PostgreSQL."""
    if database_url.startswith("sqlite"):
        path = Path(sqlite_path(database_url))
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    with psycopg.connect(database_url) as connection:
        tables = [
            r[0] for r in connection.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ]
        dump = bytearray()
        for table in tables:
            with connection.cursor().copy(f"COPY {table} TO STDOUT") as copy:
                for chunk in copy:
                    dump += chunk
        return bytes(dump)


async def test_secrets_are_encrypted_at_rest_and_still_sign(database_url: str) -> None:
    key = generate_key()
    settings = Settings(allow_networks=LOOPBACK, encryption_key=key)
    async with Receiver() as receiver, Webhooks(database_url, settings=settings) as hooks:
        endpoint = await hooks.add("a.b", receiver.url)
        rotated = await hooks.endpoints.rotate_secret("default", endpoint.id)
        receiver.secret = rotated
        await hooks.trigger("a.b", {"n": 1})
        [request] = await receiver.wait_for(1)
        assert request.verified
        assert await hooks.endpoints.get_secret("default", endpoint.id) == rotated

    dump = raw_dump(database_url)
    for secret in (endpoint.secret, rotated):
        assert secret.encode() not in dump
        assert secret.removeprefix("whsec_").encode() not in dump
    assert b"enc:v1:" in dump

    async with Webhooks(database_url, worker=False) as without_key:
        with pytest.raises(StoreError, match="HOOKWIRE_ENCRYPTION_KEY"):
            await without_key.endpoints.get_secret("default", endpoint.id)
    wrong = Settings(encryption_key=generate_key())
    async with Webhooks(database_url, settings=wrong, worker=False) as wrong_key:
        with pytest.raises(StoreError, match="cannot be decrypted"):
            await wrong_key.endpoints.get_secret("default", endpoint.id)


def test_the_key_never_appears_in_a_repr() -> None:
    assert repr(Settings(encryption_key=generate_key())).count("encryption_key") == 0

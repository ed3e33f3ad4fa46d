"""Pick the store for a database URL."""

from __future__ import annotations

from hookwire.core.errors import ValidationError
from hookwire.core.secretbox import SecretBox
from hookwire.store.base import Store
from hookwire.store.sqlite import SQLiteStore

DEFAULT_DATABASE_URL = "sqlite:///hookwire.db"


def open_store(database_url: str, *, encryption_key: str | None = None) -> Store:
    """``sqlite:///path.db`` (the default) or ``postgresql://user:pass@host/db``.

    With ``encryption_key``, endpoint secrets are encrypted at rest.
    """
    box = None if encryption_key is None else SecretBox(encryption_key)
    if database_url.startswith("sqlite:"):
        return SQLiteStore.from_url(database_url, secret_box=box)
    if database_url.startswith(("postgresql://", "postgres://")):
        try:
            from hookwire.store.postgres import PostgresStore
        except ImportError as exc:
            raise ValidationError(
                "PostgreSQL support needs psycopg: pip install 'hookwire[postgres]'"
            ) from exc
        return PostgresStore(database_url, secret_box=box)
    scheme = database_url.split(":", 1)[0]
    raise ValidationError(
        f"unsupported database URL scheme {scheme!r}: use sqlite:///path/to/file.db or postgresql://..."
    )

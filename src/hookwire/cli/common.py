"""What every command shares: options (each naming its ``HOOKWIRE_*`` variable), running
coroutines, printing tables or JSON, and turning errors into messages and exit codes.

Exit codes: 0 success, 1 failure, 2 bad input (also typer's usage errors), 3 not found,
4 database unavailable, 130 interrupted.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import enum
import os
import sys
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Annotated, Any, NoReturn, TypeVar
from urllib.parse import urlsplit, urlunsplit

import orjson
import typer
from rich.console import Console
from rich.table import Table

from hookwire.core.errors import HookwireError, NotFound, StoreError, ValidationError
from hookwire.core.settings import Settings
from hookwire.service.webhooks import Webhooks
from hookwire.store.factory import DEFAULT_DATABASE_URL

T = TypeVar("T")

console = Console()
errors = Console(stderr=True)

DatabaseUrl = Annotated[
    str,
    typer.Option(
        "--database-url",
        envvar="HOOKWIRE_DATABASE_URL",
        help="Database URL.",
    ),
]
DEFAULT_DB = DEFAULT_DATABASE_URL
AppOption = Annotated[
    str,
    typer.Option("--app", envvar="HOOKWIRE_APP", help="Application id or uid."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of tables.")]
AllowNetwork = Annotated[
    list[str] | None,
    typer.Option(
        "--allow-network",
        envvar="HOOKWIRE_ALLOW_NETWORKS",
        help="Let deliveries reach this non-public network (CIDR, repeatable), e.g. 127.0.0.0/8 for "
        "local development.",
    ),
]


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine (on uvloop when installed), mapping errors to exit codes."""
    with reported_errors():
        return _event_loop_runner(coroutine)


@contextlib.contextmanager
def reported_errors() -> Iterator[None]:
    """Print hookwire's errors as one line without a traceback and exit with their code."""
    try:
        yield
    except ValidationError as exc:
        fail(exc, 2)
    except NotFound as exc:
        fail(exc, 3)
    except StoreError as exc:
        fail(exc, 4)
    except HookwireError as exc:
        fail(exc, 1)
    except KeyboardInterrupt:
        errors.print("[yellow]interrupted[/]")
        raise typer.Exit(130) from None


def _event_loop_runner(coroutine: Coroutine[Any, Any, T]) -> T:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def fail(exc: HookwireError, code: int) -> NoReturn:
    errors.print(f"[bold red]error[/] [dim]({exc.code})[/]: {exc.message}", highlight=False)
    raise typer.Exit(code)


def redacted(database_url: str) -> str:
    """The URL with any password replaced, fit to print or log."""
    parts = urlsplit(database_url)
    if parts.password is None:
        return database_url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def environment_settings() -> Settings:
    """Settings every command shares, from the environment: the encryption key for secrets
    (``HOOKWIRE_ENCRYPTION_KEY``), needed to read or write endpoints when it is in use."""
    return Settings(encryption_key=os.environ.get("HOOKWIRE_ENCRYPTION_KEY") or None)


async def with_hooks(
    database_url: str, action: Callable[[Webhooks], Awaitable[T]], *, settings: Settings | None = None
) -> T:
    """Open the facade without a worker (commands that only read or write), run ``action``."""
    async with Webhooks(database_url, settings=settings or environment_settings(), worker=False) as hooks:
        return await action(hooks)


def to_jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            field.name: to_jsonable(getattr(value, field.name))
            for field in dataclasses.fields(value)
            if field.name not in ("secret", "previous_secret")
        }
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


def print_json(value: Any) -> None:
    sys.stdout.write(orjson.dumps(to_jsonable(value), option=orjson.OPT_INDENT_2).decode() + "\n")


def table(title: str, columns: Iterable[str], rows: Iterable[Iterable[Any]]) -> Table:
    grid = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        grid.add_column(column)
    for row in rows:
        grid.add_row(*("" if cell is None else str(cell) for cell in row))
    return grid


def when(value: datetime | None) -> str:
    return "" if value is None else value.astimezone().strftime("%Y-%m-%d %H:%M:%S")

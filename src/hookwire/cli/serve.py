"""``hookwire serve``: the HTTP API and the delivery worker in one process; ``hookwire key``."""

from __future__ import annotations

import os
import signal
from typing import Annotated

import typer

from hookwire.cli.common import (
    DEFAULT_DB,
    AllowNetwork,
    DatabaseUrl,
    JsonOption,
    console,
    errors,
    print_json,
    redacted,
    reported_errors,
    run,
    table,
    when,
    with_hooks,
)
from hookwire.cli.worker import settings_from_options
from hookwire.core.secretbox import generate_key
from hookwire.service.webhooks import Webhooks

key_app = typer.Typer(help="Create, list and delete API keys.", no_args_is_help=True)


def serve(
    host: Annotated[str, typer.Option(envvar="HOOKWIRE_HOST", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="HOOKWIRE_PORT", help="Port to listen on.")] = 8640,
    database_url: DatabaseUrl = DEFAULT_DB,
    no_worker: Annotated[
        bool,
        typer.Option(
            "--no-worker",
            envvar="HOOKWIRE_NO_WORKER",
            help="Serve the API only; separate `hookwire worker` processes deliver.",
        ),
    ] = False,
    allow_network: AllowNetwork = None,
    concurrency: Annotated[
        int, typer.Option(envvar="HOOKWIRE_CONCURRENCY", help="Requests in flight at once (worker).")
    ] = 128,
    log_level: Annotated[
        str, typer.Option(envvar="HOOKWIRE_LOG_LEVEL", help="debug, info, warning, error.")
    ] = "info",
    session_secret: Annotated[
        str | None,
        typer.Option(
            envvar="HOOKWIRE_SESSION_SECRET",
            help="Signs dashboard sessions; give every server behind one address the same. "
            "Random per process when unset. Prefer the variable: a flag shows in process lists.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve the HTTP API (Svix v1 compatible), the worker and the dashboard.

    HOOKWIRE_ADMIN_KEY, when set, is accepted as an admin API key.
    """
    import uvicorn

    from hookwire.api import create_app
    from hookwire.api.context import ServerOptions
    from hookwire.api.logs import configure

    with reported_errors():
        settings = settings_from_options(allow_network, concurrency=concurrency)
        hooks = Webhooks(database_url, settings=settings, worker=not no_worker)
    admin_keys = tuple(k for k in [os.environ.get("HOOKWIRE_ADMIN_KEY", "")] if k)
    run(_first_admin_key(database_url, announce=not admin_keys))
    configure(log_level)
    app = create_app(hooks, ServerOptions(admin_keys=admin_keys, session_secret=session_secret))
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        lifespan="on",
        # RequestLog writes the access log, with the request id; uvicorn's own is off (see
        # api.logs), and saying so here spares it formatting the line for every request.
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=15,
    )
    errors.print(f"hookwire serving http://{host}:{port} (API docs at /docs) from {redacted(database_url)}")
    # uvicorn drains and shuts down on SIGTERM/SIGINT, then raises the signal again for the
    # handler that was in place before it: make that one a clean exit, so that a graceful
    # shutdown ends with status 0, as it does for `hookwire worker`.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _exit_cleanly)
    uvicorn.Server(config).run()


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


async def _first_admin_key(database_url: str, *, announce: bool) -> None:
    """On first start with an empty database, make an admin key and print it, once."""

    async def ensure(hooks: Webhooks) -> None:
        if await hooks.keys.list() or not announce:
            return
        _, token = await hooks.keys.create(name="first admin key")
        errors.print("[bold]No API key existed, so an admin key was created. It is shown only this once:[/]")
        console.print(token, highlight=False)

    await with_hooks(database_url, ensure)


@key_app.command("create")
def create_key(
    app: Annotated[
        str | None, typer.Option("--app", help="Application id or uid: a key that sees only it.")
    ] = None,
    name: Annotated[str, typer.Option(help="What the key is for.")] = "",
    database_url: DatabaseUrl = DEFAULT_DB,
    json: JsonOption = False,
) -> None:
    """Create an API key and print its token (shown only this once)."""
    key, token = run(with_hooks(database_url, lambda hooks: hooks.keys.create(app=app, name=name)))
    if json:
        print_json({"id": key.id, "app_id": key.app_id, "token": token})
        return
    scope = f"application {key.app_id}" if key.app_id else "admin"
    console.print(f"[green]{scope} key {key.id} created[/]; its token (shown only now):")
    console.print(token, highlight=False)


@key_app.command("encryption-key")
def encryption_key() -> None:
    """Print a new random key for HOOKWIRE_ENCRYPTION_KEY (encrypts endpoint secrets at rest)."""
    console.print(generate_key(), highlight=False)


@key_app.command("list")
def list_keys(database_url: DatabaseUrl = DEFAULT_DB, json: JsonOption = False) -> None:
    """List API keys (their prefixes, never the tokens)."""
    keys = run(with_hooks(database_url, lambda hooks: hooks.keys.list()))
    if json:
        print_json(keys)
        return
    rows = ((k.id, k.prefix + "...", k.app_id or "(admin)", k.name, when(k.created_at)) for k in keys)
    console.print(table("API keys", ("id", "token starts", "application", "name", "created"), rows))


@key_app.command("delete")
def delete_key(
    key_id: Annotated[str, typer.Argument(help="The key's id (key_...).")],
    database_url: DatabaseUrl = DEFAULT_DB,
) -> None:
    """Delete an API key: requests with it are refused from now on."""
    run(with_hooks(database_url, lambda hooks: hooks.keys.delete(key_id)))
    console.print(f"[green]key deleted[/] {key_id}")

"""``hookwire listen``: a local receiver that verifies each webhook and pretty-prints it."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from typing import Annotated

import orjson
import typer
from aiohttp import web
from rich.panel import Panel
from rich.syntax import Syntax

from hookwire.cli.common import console, run
from hookwire.core.errors import WebhookVerificationError
from hookwire.receiver import verify


def listen(
    secret: Annotated[
        str | None,
        typer.Option(
            envvar="HOOKWIRE_LISTEN_SECRET",
            help="The endpoint's whsec_ secret; without it nothing is verified.",
        ),
    ] = None,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8641,
    path: Annotated[str, typer.Option(help="Path to receive on.")] = "/",
    status: Annotated[int, typer.Option(help="Status code to answer verified deliveries with.")] = 204,
) -> None:
    """Receive webhooks on 127.0.0.1, verify their signatures and print them."""
    run(_serve(secret, port, path, status))


def make_handler(secret: str | None, status: int) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def receive(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        webhook_id = request.headers.get("webhook-id", "?")
        if secret is None:
            verdict = "[yellow]not verified (no --secret)[/]"
        else:
            try:
                verify(body, request.headers, secret)
            except WebhookVerificationError as exc:
                console.print(f"[bold red]rejected[/] {webhook_id}: {exc.message}")
                return web.json_response({"error": exc.code}, status=401)
            verdict = "[green]signature verified[/]"
        _show(webhook_id, request, body, verdict)
        return web.Response(status=status)

    return receive


def _show(webhook_id: str, request: web.Request, body: bytes, verdict: str) -> None:
    try:
        pretty = orjson.dumps(orjson.loads(body), option=orjson.OPT_INDENT_2).decode()
    except orjson.JSONDecodeError:
        pretty = body.decode("utf-8", "replace")
    title = f"{webhook_id}  {verdict}  [dim]{request.headers.get('webhook-timestamp', '')}[/]"
    console.print(Panel(Syntax(pretty, "json", word_wrap=True), title=title, title_align="left"))


async def _serve(secret: str | None, port: int, path: str, status: int) -> None:
    app = web.Application(client_max_size=2 * 1024 * 1024)
    app.router.add_post(path, make_handler(secret, status))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    console.print(f"listening on [bold]http://127.0.0.1:{port}{path}[/] (Ctrl-C to stop)")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()

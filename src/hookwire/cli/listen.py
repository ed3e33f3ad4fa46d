"""``hookwire listen``: a local receiver that verifies each webhook and pretty-prints it.

With ``--secret`` it runs the receiver kit's pipeline (:class:`~hookwire.receiver.Receiver`):
the same verification, answers and de-duplication a real receiver gets, so a retried message
shows as a duplicate rather than printed again. Without a secret nothing can be verified and
every request is printed as it comes.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any

import orjson
import typer
from aiohttp import web
from rich.panel import Panel
from rich.syntax import Syntax

from hookwire.cli.common import console, run
from hookwire.receiver import Outcome, Receiver, Webhook

AiohttpHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Results whose answer --status replaces: the ones a receiver reports as success.
_SUCCESS = frozenset({"handled", "duplicate", "ignored"})


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


def make_handler(secret: str | None, status: int) -> AiohttpHandler:
    """The aiohttp handler of ``hookwire listen``.

    Raises:
        InvalidSecret: ``secret`` is not a valid ``whsec_`` secret.
    """
    if secret is None:
        return _unverified_handler(status)
    receiver = Receiver(secret)

    @receiver.on("*")
    async def show(webhook: Webhook) -> None:
        _show(webhook.id or "?", webhook.headers, _pretty(webhook.payload), "[green]signature verified[/]")

    async def receive(request: web.Request) -> web.StreamResponse:
        outcome = await receiver.handle(await request.read(), request.headers)
        _report(outcome, request.headers.get("webhook-id", "?"))
        if outcome.result in _SUCCESS:
            return web.Response(status=status)
        return web.Response(
            status=outcome.status,
            body=outcome.body,
            headers=dict(outcome.headers),
            content_type="application/json",
        )

    return receive


def _unverified_handler(status: int) -> AiohttpHandler:
    async def receive(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        try:
            pretty = _pretty(orjson.loads(body))
        except orjson.JSONDecodeError:
            pretty = body.decode("utf-8", "replace")
        verdict = "[yellow]not verified (no --secret)[/]"
        _show(request.headers.get("webhook-id", "?"), request.headers, pretty, verdict)
        return web.Response(status=status)

    return receive


def _report(outcome: Outcome, webhook_id: str) -> None:
    """One line for what the printing handler did not show."""
    if outcome.result == "duplicate":
        console.print(f"[dim]duplicate {webhook_id}: already shown, answered as handled[/]")
    elif outcome.result == "rejected":
        console.print(f"[bold red]rejected[/] {webhook_id}: {outcome.detail}")
    elif outcome.result not in _SUCCESS:
        console.print(f"[bold red]{outcome.result}[/] {webhook_id}: {outcome.detail}")


def _pretty(payload: Any) -> str:
    return orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode()


def _show(webhook_id: str, headers: Mapping[str, str], pretty: str, verdict: str) -> None:
    title = f"{webhook_id}  {verdict}  [dim]{headers.get('webhook-timestamp', '')}[/]"
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

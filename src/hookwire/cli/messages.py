"""``hookwire send``, ``hookwire messages`` and ``hookwire attempts``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hookwire.cli.common import (
    DEFAULT_DB,
    AppOption,
    DatabaseUrl,
    JsonOption,
    console,
    print_json,
    run,
    table,
    when,
    with_hooks,
)
from hookwire.core.errors import InvalidPayload
from hookwire.core.types import Attempt, Message, Page
from hookwire.service.webhooks import Webhooks


def _read_data(data: str) -> bytes:
    """``--data '{"a": 1}'`` or ``--data @file.json`` (``@-`` reads standard input)."""
    if not data.startswith("@"):
        return data.encode()
    source = data[1:]
    if source == "-":
        return typer.get_binary_stream("stdin").read()
    try:
        return Path(source).read_bytes()
    except OSError as exc:
        raise InvalidPayload(f"cannot read {source!r}: {exc.strerror}") from exc


def send(
    event_type: Annotated[str, typer.Argument(help="Event type, e.g. order.created.")],
    data: Annotated[str, typer.Option("--data", "-d", help="JSON payload, or @file.json, or @- for stdin.")],
    app: AppOption = "default",
    event_id: Annotated[
        str | None, typer.Option(help="Idempotency key: sending it again creates nothing.")
    ] = None,
    database_url: DatabaseUrl = DEFAULT_DB,
    json: JsonOption = False,
) -> None:
    """Accept a message for delivery (a running `hookwire worker` delivers it)."""

    async def action(hooks: Webhooks) -> tuple[Message, int]:
        payload = _read_data(data)
        message = await hooks.messages.create(app, event_type, payload, event_id=event_id)
        return message, len(await hooks.messages.deliveries(app, message.id))

    message, deliveries = run(with_hooks(database_url, action))
    if json:
        print_json({"id": message.id, "eventType": message.event_type, "deliveries": deliveries})
        return
    console.print(f"[green]accepted[/] {message.id} ({message.event_type}) for {deliveries} endpoint(s)")


def messages(
    app: AppOption = "default",
    event_type: Annotated[
        list[str] | None, typer.Option("--event-type", "-e", help="Only these types.")
    ] = None,
    limit: Annotated[int, typer.Option(help="How many (1-250).")] = 20,
    database_url: DatabaseUrl = DEFAULT_DB,
    json: JsonOption = False,
) -> None:
    """List recent messages, newest first, with where each delivery stands."""

    async def action(hooks: Webhooks) -> list[tuple[Message, str]]:
        page: Page[Message] = await hooks.messages.list(app, limit=limit, event_types=event_type)
        rows = []
        for message in page.items:
            deliveries = await hooks.messages.deliveries(app, message.id)
            states: dict[str, int] = {}
            for delivery in deliveries:
                states[delivery.status.value] = states.get(delivery.status.value, 0) + 1
            rows.append((message, ", ".join(f"{n} {s}" for s, n in sorted(states.items())) or "no endpoints"))
        return rows

    rows = run(with_hooks(database_url, action))
    if json:
        print_json([{"message": m, "payload": m.data(), "deliveries": s} for m, s in rows])
        return
    console.print(
        table(
            f"messages of {app}",
            ("id", "event type", "created", "deliveries"),
            ((m.id, m.event_type, when(m.created_at), s) for m, s in rows),
        )
    )


def attempts(
    message: Annotated[str | None, typer.Argument(help="Message id; or use --endpoint.")] = None,
    endpoint: Annotated[str | None, typer.Option(help="Endpoint id or uid instead of a message.")] = None,
    app: AppOption = "default",
    limit: Annotated[int, typer.Option(help="How many (1-250).")] = 20,
    database_url: DatabaseUrl = DEFAULT_DB,
    json: JsonOption = False,
) -> None:
    """List the attempts made for a message or an endpoint, newest first."""
    if (message is None) == (endpoint is None):
        raise typer.BadParameter("give a message id or --endpoint, not both")

    async def action(hooks: Webhooks) -> Page[Attempt]:
        if message is not None:
            return await hooks.attempts.by_message(app, message, limit=limit)
        assert endpoint is not None
        return await hooks.attempts.by_endpoint(app, endpoint, limit=limit)

    page = run(with_hooks(database_url, action))
    if json:
        print_json(list(page.items))
        return
    rows = (
        (
            a.id,
            a.message_id,
            a.number,
            when(a.started_at),
            a.status_code if a.status_code is not None else (a.error.value if a.error else ""),
            f"{a.duration_ms} ms",
            a.response_body[:60].decode("utf-8", "replace"),
        )
        for a in page.items
    )
    console.print(table("attempts", ("id", "message", "#", "at", "result", "took", "response"), rows))

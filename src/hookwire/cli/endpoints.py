"""``hookwire endpoint ...``: register, list, remove endpoints and rotate their secrets."""

from __future__ import annotations

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
    to_jsonable,
    with_hooks,
)
from hookwire.core.types import Endpoint
from hookwire.service.webhooks import Webhooks

endpoint_app = typer.Typer(
    help="Register, list and remove endpoints; rotate their secrets.", no_args_is_help=True
)


def _parse_headers(values: list[str] | None) -> dict[str, str]:
    headers = {}
    for value in values or ():
        name, sep, content = value.partition(":")
        if not sep:
            raise typer.BadParameter(f"{value!r} is not NAME:VALUE", param_hint="--header")
        headers[name.strip()] = content.strip()
    return headers


@endpoint_app.command("add")
def add(
    url: Annotated[str, typer.Argument(help="The http(s) URL that receives the webhooks.")],
    event_type: Annotated[
        list[str] | None,
        typer.Option("--event-type", "-e", help="Event type or prefix.* (repeatable); all if none."),
    ] = None,
    header: Annotated[
        list[str] | None, typer.Option("--header", "-H", help="NAME:VALUE sent with every request.")
    ] = None,
    description: Annotated[str, typer.Option(help="What the endpoint is for.")] = "",
    uid: Annotated[str | None, typer.Option(help="Your own identifier for the endpoint.")] = None,
    app: AppOption = "default",
    database_url: DatabaseUrl = DEFAULT_DB,
    json: JsonOption = False,
) -> None:
    """Register an endpoint and print it with its signing secret."""
    headers = _parse_headers(header)

    async def action(hooks: Webhooks) -> Endpoint:
        return await hooks.endpoints.create(
            app, url, uid=uid, description=description, filter_types=event_type, headers=headers
        )

    endpoint = run(with_hooks(database_url, action))
    if json:
        print_json({**_endpoint_json(endpoint), "secret": endpoint.secret})
        return
    console.print(f"[green]endpoint added[/] {endpoint.id} -> {endpoint.url}")
    console.print(f"event types: {', '.join(endpoint.filter_types or ('(all)',))}")
    console.print(f"signing secret: [bold]{endpoint.secret}[/]")


@endpoint_app.command("list")
def list_(
    app: AppOption = "default",
    limit: Annotated[int, typer.Option(help="How many (1-250).")] = 50,
    database_url: DatabaseUrl = DEFAULT_DB,
    json: JsonOption = False,
) -> None:
    """List an application's endpoints."""
    page = run(with_hooks(database_url, lambda hooks: hooks.endpoints.list(app, limit=limit)))
    if json:
        print_json([_endpoint_json(e) for e in page.items])
        return
    rows = [
        (
            e.id,
            e.url,
            ", ".join(e.filter_types or ("(all)",)),
            f"disabled: {e.disabled_reason}" if e.disabled else ("failing" if e.failing_since else "ok"),
        )
        for e in page.items
    ]
    console.print(table(f"endpoints of {app}", ("id", "url", "event types", "state"), rows))


@endpoint_app.command("remove")
def remove(
    endpoint: Annotated[str, typer.Argument(help="Endpoint id or uid.")],
    app: AppOption = "default",
    database_url: DatabaseUrl = DEFAULT_DB,
) -> None:
    """Delete an endpoint with its pending deliveries and attempts."""
    run(with_hooks(database_url, lambda hooks: hooks.endpoints.delete(app, endpoint)))
    console.print(f"[green]endpoint removed[/] {endpoint}")


@endpoint_app.command("rotate-secret")
def rotate_secret(
    endpoint: Annotated[str, typer.Argument(help="Endpoint id or uid.")],
    app: AppOption = "default",
    database_url: DatabaseUrl = DEFAULT_DB,
    json: JsonOption = False,
) -> None:
    """Replace the signing secret; the old one keeps signing beside it for 24 hours."""
    secret = run(with_hooks(database_url, lambda hooks: hooks.endpoints.rotate_secret(app, endpoint)))
    if json:
        print_json({"endpoint": endpoint, "secret": secret})
        return
    console.print(f"new signing secret: [bold]{secret}[/] (the old one keeps signing for 24 h)")


@endpoint_app.command("enable")
def enable(
    endpoint: Annotated[str, typer.Argument(help="Endpoint id or uid.")],
    app: AppOption = "default",
    database_url: DatabaseUrl = DEFAULT_DB,
) -> None:
    """Enable a disabled endpoint (then `recover` resends what failed meanwhile)."""
    run(with_hooks(database_url, lambda hooks: hooks.endpoints.enable(app, endpoint)))
    console.print(f"[green]endpoint enabled[/] {endpoint}")


@endpoint_app.command("disable")
def disable(
    endpoint: Annotated[str, typer.Argument(help="Endpoint id or uid.")],
    reason: Annotated[str | None, typer.Option(help="Why; shown with the endpoint.")] = None,
    app: AppOption = "default",
    database_url: DatabaseUrl = DEFAULT_DB,
) -> None:
    """Stop sending to an endpoint."""
    run(with_hooks(database_url, lambda hooks: hooks.endpoints.disable(app, endpoint, reason)))
    console.print(f"[yellow]endpoint disabled[/] {endpoint}")


def _endpoint_json(endpoint: Endpoint) -> dict[str, object]:
    data: dict[str, object] = to_jsonable(endpoint)
    return data

"""The ``hookwire`` command line: typer commands that parse, call the service and print."""

from __future__ import annotations

import typer

from hookwire._version import __version__
from hookwire.cli.bench import bench
from hookwire.cli.demo import demo
from hookwire.cli.endpoints import endpoint_app
from hookwire.cli.listen import listen
from hookwire.cli.messages import attempts, messages, send
from hookwire.cli.serve import key_app, serve
from hookwire.cli.worker import migrate, worker

app = typer.Typer(
    name="hookwire",
    help="Reliable, signed, retried webhooks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(endpoint_app, name="endpoint")
app.add_typer(key_app, name="key")
app.command()(serve)
app.command()(send)
app.command()(messages)
app.command()(attempts)
app.command()(worker)
app.command()(migrate)
app.command()(listen)
app.command()(demo)
app.command()(bench)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hookwire {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Reliable, signed, retried webhooks."""


def main() -> None:
    app()

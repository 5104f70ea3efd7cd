"""The ``mercato`` command: serve, migrate and load demo data (keys and licenses join as they are built)."""

from __future__ import annotations

import os
import socket
from typing import Annotated, Any

import typer
from rich.console import Console
from typer import _click as click
from typer.core import TyperGroup

from mercato.accounts import cli as accounts_cli
from mercato.accounts.demo import DEMO_PASSWORD
from mercato.billing.cli import app as billing_app
from mercato.catalog import vendors_cli
from mercato.catalog.cli import app as catalog_app
from mercato.catalog.demo import load_demo_catalog
from mercato.catalog.repository import CatalogRepository
from mercato.cli_support import database_engine, require_secret
from mercato.commerce.migration_cli import migrate as migrate_licenses
from mercato.database import make_session_factory, transaction
from mercato.keys.cli import app as keys_app
from mercato.ledger import cli as ledger_cli
from mercato.licenses.cli import app as license_app
from mercato.operations import cli as operations_cli
from mercato.outbox.cli import outbox_app, worker
from mercato.settings import get_settings
from mercato.testclock.cli import app as clock_app
from mercato.transitions.cli import app as transitions_app


class _Commands(TyperGroup):
    """The ``mercato`` group. Typer's help shows a flag as ``--demo <bool>``, which invites ``--demo true`` (an
    error: a flag takes no value). Every flag of every command is shown bare, here, as the commands are
    looked up, so a new command's flags are too."""

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        params = super().get_params(ctx)
        for param in params:
            _bare_flag(param)
        return params

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _bare_flags(command, ctx)
        return command


def _bare_flag(param: Any) -> None:
    if getattr(param, "is_flag", False) and param.metavar is None:
        param.metavar = ""


def _bare_flags(command: Any, ctx: click.Context) -> None:
    for param in [*command.params, command.get_help_option(ctx)]:
        _bare_flag(param)
    for subcommand in getattr(command, "commands", {}).values():
        _bare_flags(subcommand, ctx)


app = typer.Typer(
    cls=_Commands, help="Mercato: an add-on marketplace and license server.", no_args_is_help=True
)
console = Console(stderr=True)
app.add_typer(keys_app, name="keys")
license_app.command("migrate")(migrate_licenses)
app.add_typer(license_app, name="license")
app.add_typer(license_app, name="licenses", help="The same as 'mercato license'.")
app.add_typer(billing_app, name="billing")
app.add_typer(catalog_app, name="catalog")
app.add_typer(clock_app, name="clock")
app.add_typer(outbox_app, name="outbox")
app.add_typer(transitions_app, name="transitions")
accounts_cli.register(app)
vendors_cli.register(app)
ledger_cli.register(app)
operations_cli.register(app)
app.command()(worker)


def _migrate() -> None:
    database_engine(get_settings(), create=True).dispose()


@app.command()
def migrate() -> None:
    """Apply the database migrations (safe to run again: it only applies what is missing)."""
    _migrate()
    console.print(f"Database is up to date: {get_settings().database_url}")


@app.command()
def demo() -> None:
    """Load the demo catalog into an empty database (does nothing if the catalog has listings)."""
    engine = database_engine(get_settings(), create=True)
    with transaction(make_session_factory(engine)) as session:
        repository = CatalogRepository(session)
        loaded = repository.is_empty()
        load_demo_catalog(repository)
        accounts_cli.load_and_print_demo_accounts(session)
    engine.dispose()
    console.print("Demo catalog loaded." if loaded else "The catalog already has listings; nothing loaded.")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default MERCATO_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default MERCATO_PORT).")] = None,
    workers: Annotated[int, typer.Option(help="Server processes (use PostgreSQL for more than one).")] = 1,
    with_demo: Annotated[
        bool, typer.Option("--demo", help="Load demo data when the catalog is empty.")
    ] = False,
) -> None:
    """Migrate the database, then serve the marketplace and its API."""
    import uvicorn

    if with_demo:
        # A demo on this machine: the test clock may be moved, and without a secret of its own the demo uses
        # the public one, said loudly, because keys sealed with it are anyone's.
        os.environ.setdefault("MERCATO_TEST_CLOCK", "true")
        os.environ["MERCATO_DEMO"] = "true"
        get_settings.cache_clear()
        require_secret(get_settings())
        demo()
    else:
        require_secret(get_settings())
        _migrate()
    settings = get_settings()
    bind_host = host or settings.host
    bind_port = port if port is not None else settings.port  # 0: any free port
    _refuse_a_taken_port(bind_host, bind_port)
    base = f"http://{bind_host}:{bind_port}"
    console.print(f"Mercato on {base}  (API reference: {base}/api/docs)")
    if with_demo:
        console.print(
            f"Try:  curl -s {base}/api/v1/apps\n"
            f"      curl -s {base}/api/v1/me -H 'Authorization: Bearer mct_demo_acme_admin'\n"
            "A walkthrough of buying, step by step: docs/buying.md\n"
            f"Pages: open {base}/ and sign in as admin@acme.example (a buyer), dev@mockups.example (a vendor) "
            f"or ops@northwind.example (the operator), password {DEMO_PASSWORD}"
        )
    uvicorn.run(
        "mercato.app:create_app",
        factory=True,
        host=bind_host,
        port=bind_port,
        workers=workers,
        # A worker answers its supervisor's pings once it has imported the application, which on a busy
        # machine takes longer than uvicorn's 5 seconds: it would be killed and restarted again and again.
        timeout_worker_healthcheck=60,
        log_level="info",
        # Client addresses (sign-in throttling) and the https scheme (Secure cookies, HSTS) are taken from
        # X-Forwarded-* headers only when the request comes from a proxy the operator named.
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
    )


def _refuse_a_taken_port(host: str, port: int) -> None:
    """A sentence, not a traceback, when another program already listens on the port."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            console.print(
                f"[red]Cannot serve on {host}:{port}:[/red] {error.strerror or error}. Another program (another "
                f"Mercato?) may be using it: stop it, or serve on another port: mercato serve --port {port + 1} "
                f"(make run PORT={port + 1})."
            )
            raise typer.Exit(1) from None

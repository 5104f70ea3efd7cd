"""The ``mercato`` command: serve, migrate and load demo data here; every other command in its feature's module.

A command's module, and what it needs (the ORM, the services, the web application), is imported only when
that command runs: ``mercato --help`` and the offline key check start in a fraction of the time.
"""

from __future__ import annotations

import os
import socket
from typing import Annotated, Any

import typer
from rich.console import Console
from typer import _click as click

from mercato.lazy_commands import LazyCommand, LazyGroup

_COMMANDS = {
    "doctor": LazyCommand(
        "mercato.operations.cli",
        "doctor",
        "Check the deployment: settings, the database and its migration level, the secret, the signing keys of\n"
        "every issuer, the outbox and the SMTP server. Each finding says what to do. Exit status 1 when something\n"
        "is wrong (warnings alone leave it 0). Changes nothing.",
    ),
    "backup": LazyCommand(
        "mercato.operations.cli",
        "backup",
        "Copy the SQLite database into FILE while Mercato keeps running (SQLite's online backup API), check the\n"
        "copy, and say what it holds. FILE must not exist. For PostgreSQL it prints the pg_dump command to use.",
    ),
    "restore": LazyCommand(
        "mercato.operations.cli",
        "restore",
        "Replace the SQLite database's content with a backup that 'mercato backup' made, then migrate it to this\n"
        "version's schema. Stop the servers and workers first. For PostgreSQL it prints the pg_restore command.",
    ),
    "export": LazyCommand(
        "mercato.operations.cli",
        "export",
        "Write the whole deployment to FILE (JSON lines, table by table, every table of the schema), to move it\n"
        "to another database with 'mercato import'. Reads one consistent snapshot (on SQLite other writers wait).",
    ),
    "import": LazyCommand(
        "mercato.operations.cli",
        "import_",
        "Load a 'mercato export' file into this deployment's database, which must be empty: migrated here first\n"
        "if it has no tables, refused if it has any rows. All or nothing.",
    ),
    "worker": LazyCommand(
        "mercato.outbox.cli",
        "worker",
        "Deliver outbox messages (e-mail) until stopped with Ctrl-C. On PostgreSQL run as many as you like.",
    ),
    "migrate": LazyCommand(
        __name__,
        "migrate",
        "Apply the database migrations (safe to run again: it only applies what is missing).",
    ),
    "demo": LazyCommand(
        __name__,
        "demo",
        "Load the demo catalog into an empty database (does nothing if the catalog has listings).",
    ),
    "serve": LazyCommand(__name__, "serve", "Migrate the database, then serve the marketplace and its API."),
    "keys": LazyCommand(
        "mercato.keys.cli", "app", "Signing keys: one ring per issuer ('operator', or a vendor's slug)."
    ),
    "license": LazyCommand("mercato.licenses.cli", "app", "License keys: issue, check, re-issue and revoke."),
    "licenses": LazyCommand(
        "mercato.licenses.cli",
        "app",
        "The same as 'mercato license'.",
        help="The same as 'mercato license'.",
    ),
    "billing": LazyCommand(
        "mercato.billing.cli", "app", "Billing: cloud renewals, dunning and license lifecycle."
    ),
    "catalog": LazyCommand(
        "mercato.catalog.cli",
        "app",
        "The catalog as a file (YAML or JSON): export it, apply it, print its schema.",
    ),
    "clock": LazyCommand(
        "mercato.testclock.cli",
        "app",
        "The test clock: move the whole deployment's time (demos and tests only).",
    ),
    "outbox": LazyCommand(
        "mercato.outbox.cli",
        "outbox_app",
        "Outbox messages (e-mail): where each stands, and sending dead ones again.",
    ),
    "transitions": LazyCommand(
        "mercato.transitions.cli", "app", "Transition campaigns: direct licenses moving to the marketplace."
    ),
    "users": LazyCommand(
        "mercato.accounts.cli",
        "users",
        "People who sign in: operator staff, customer admins and billing contacts, vendors.",
    ),
    "customers": LazyCommand("mercato.accounts.cli", "customers", "Customer organisations."),
    "tokens": LazyCommand(
        "mercato.accounts.cli", "tokens", "API tokens: create (shown once), list and revoke."
    ),
    "vendors": LazyCommand(
        "mercato.catalog.vendors_cli",
        "app",
        "Vendors: create or approve them, their teams, revenue share and direct store.",
    ),
    "payouts": LazyCommand(
        "mercato.ledger.cli", "payouts_app", "Vendor payouts: run a month's, statements, remittances."
    ),
    "ledger": LazyCommand(
        "mercato.ledger.cli", "ledger_app", "The revenue ledger: backfill and adjustments."
    ),
}
"""Every command of ``mercato``, in the order its help lists them, with the module that defines it."""


class _Commands(LazyGroup):
    """The ``mercato`` group. Typer's help shows a flag as ``--demo <bool>``, which invites ``--demo true`` (an
    error: a flag takes no value). Every flag of every command is shown bare, here, as the commands are
    looked up, so a new command's flags are too."""

    lazy_commands = _COMMANDS

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


@app.callback()
def _root() -> None:
    # Typer makes a group of an app with a callback or commands; every command here is in _COMMANDS.
    pass


def _migrate() -> None:
    from mercato.cli_support import database_engine
    from mercato.settings import get_settings

    database_engine(get_settings(), create=True).dispose()


def migrate() -> None:
    """Apply the database migrations (safe to run again: it only applies what is missing)."""
    from mercato.settings import get_settings

    _migrate()
    console.print(f"Database is up to date: {get_settings().database_url}")


def demo() -> None:
    """Load the demo catalog into an empty database (does nothing if the catalog has listings)."""
    from mercato.accounts.cli import load_and_print_demo_accounts
    from mercato.catalog.demo import load_demo_catalog
    from mercato.catalog.repository import CatalogRepository
    from mercato.cli_support import database_engine
    from mercato.database import make_session_factory, transaction
    from mercato.settings import get_settings

    engine = database_engine(get_settings(), create=True)
    with transaction(make_session_factory(engine)) as session:
        repository = CatalogRepository(session)
        loaded = repository.is_empty()
        load_demo_catalog(repository)
        load_and_print_demo_accounts(session)
    engine.dispose()
    console.print("Demo catalog loaded." if loaded else "The catalog already has listings; nothing loaded.")


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

    from mercato.accounts.demo import DEMO_PASSWORD
    from mercato.cli_support import require_secret
    from mercato.settings import get_settings

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

"""What every ``mercato`` sub-command shares: one unit of work per command, the services it hands to the rules
(with the clock a ``--today`` option sets), and problems printed for people."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console

from mercato.clock import Clock, FixedClock, SystemClock, noon_of
from mercato.pricing import PricingError
from mercato.problems import NotFound, Problem
from mercato.settings import Settings, get_settings

if TYPE_CHECKING:
    from rich.table import Table
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session

    from mercato.services import Services

# The database's modules (SQLAlchemy, the migrations, the services) are imported by the functions that use
# them: a command that needs no database, like the offline key check, starts without them.

err_console = Console(stderr=True)
USAGE_ERROR = 2

DEMO_SECRET = "mercato-public-demo-secret-do-not-use-in-production-0123456789"
"""The secret `mercato serve --demo` uses when none is set. It is public: keys sealed with it are anyone's."""
MIN_SECRET_LENGTH = 32
_MAKE_ONE = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"


def secret_problem(secret: str) -> str | None:
    """Why a secret cannot protect the signing keys, or None when it can."""
    if not secret:
        return "MERCATO_SECRET_KEY is not set"
    if secret == DEMO_SECRET:
        return "MERCATO_SECRET_KEY is the public demo secret"
    if len(secret) < MIN_SECRET_LENGTH:
        return f"MERCATO_SECRET_KEY has {len(secret)} characters; it needs at least {MIN_SECRET_LENGTH}"
    if len(set(secret)) < 10:
        return "MERCATO_SECRET_KEY repeats a few characters; it must be random"
    return None


def require_secret(settings: Settings) -> None:
    """Refuse to start a command that seals or opens signing keys without a strong secret: with a weak or
    default one, whoever copies the database has every signing key."""
    problem = secret_problem(settings.secret_key)
    if problem is not None and settings.demo and settings.secret_key in ("", DEMO_SECRET):
        use_demo_secret()
        return
    if problem is not None:
        err_console.print(
            f"[red]{problem}.[/red] It seals the private signing keys: make one with\n  {_MAKE_ONE}\n"
            "and set it in the environment (or .env) of every Mercato process. Keep it out of the database "
            "and its backups. For a demo on this machine only: mercato serve --demo."
        )
        raise typer.Exit(USAGE_ERROR)


def parse_date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date: use YYYY-MM-DD") from None


def command_services(settings: Settings, as_of: date | None = None) -> Services:
    """The services of one command: a clock stopped at noon of ``--today``'s date if given; else the
    deployment's test clock where it is enabled; else the system clock."""
    from mercato.database import autocommit_connections, make_engine
    from mercato.services import Services
    from mercato.testclock.clock import SharedTestClock

    clock: Clock
    if as_of is not None:
        clock = FixedClock(noon_of(as_of))
    elif settings.test_clock:
        clock = SharedTestClock(autocommit_connections(make_engine(settings.database_url)))
    else:
        clock = SystemClock()
    return Services.from_settings(settings, clock)


def _where(settings: Settings) -> str:
    """The database, as an operator recognises it (no password)."""
    from sqlalchemy import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(settings.database_url)
    except ArgumentError:
        return repr(settings.database_url)
    if url.get_backend_name() == "sqlite":
        return f"the SQLite file {url.database}"
    return url.render_as_string(hide_password=True)


def database_in_use(settings: Settings | None = None) -> str:
    """The database a command uses, as an operator recognises it (no password)."""
    return _where(settings or get_settings())


def nothing_found(what: str) -> None:
    """Say that a command found nothing, and where it looked: an empty answer from the wrong database (the
    default SQLite file of another working directory) is the common surprise."""
    err_console.print(f"{what} in {database_in_use()}.")


def print_json(document: Any) -> None:
    """A document for scripts, alone on standard output."""
    typer.echo(json.dumps(document, indent=2, ensure_ascii=False, default=str))


def id_column(table: Table, heading: str = "id") -> None:
    """A column of whole ids: later commands take them, so they are never cut or wrapped."""
    table.add_column(heading, no_wrap=True, min_width=36)


def _fail(sentence: str) -> NoReturn:
    err_console.print(sentence)
    raise typer.Exit(1)


def database_engine(settings: Settings, *, create: bool = False) -> Engine:
    """An engine on the deployment's database, migrated to the current schema, or a sentence and exit 1: a URL
    that is not one, a server that does not answer, or (unless ``create``) no Mercato database there at all,
    rather than silently making an empty one."""
    from sqlalchemy import inspect
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

    from mercato.database import make_engine
    from mercato.migrations import upgrade_to_head

    where = _where(settings)
    unset = (
        ""
        if "MERCATO_DATABASE_URL" in os.environ
        else " (MERCATO_DATABASE_URL is not set: that is the default)"
    )
    try:
        engine = make_engine(settings.database_url)
    except (ArgumentError, NoSuchModuleError, ValueError) as error:
        _fail(
            f"[red]MERCATO_DATABASE_URL is not a database URL Mercato can use:[/red] {where} ({error}). Use "
            "sqlite:///path/to/mercato.db, or postgresql://user:password@host:5432/database."
        )
    if not create and engine.url.get_backend_name() == "sqlite":
        path = engine.url.database
        if not path or path == ":memory:" or not Path(path).exists():
            _fail(
                f"[red]There is no Mercato database at {where}[/red]{unset}. Run `mercato migrate` to create it "
                "there, or point MERCATO_DATABASE_URL at your database."
            )
    try:
        with engine.connect() as connection:
            migrated = inspect(connection).has_table("alembic_version")
    except OperationalError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        _fail(
            f"[red]Cannot reach the database at {where}:[/red] {reason}. Check that the server runs and "
            "that MERCATO_DATABASE_URL names it (host, port, user, password, database)."
        )
    if not migrated and not create:
        _fail(
            f"[red]{where} has no Mercato tables.[/red] Run `mercato migrate` to create them (it is safe to "
            "run again)."
        )
    upgrade_to_head(engine)
    return engine


@contextmanager
def unit_of_work(services: Services | None = None) -> Iterator[tuple[Session, Services]]:
    """A migrated database and one transaction, committed once when the command succeeds, with the services
    the command's rules use (by default: the settings' and the system clock).

    A rule violation is printed as its sentence and exits with status 1; nothing is written.
    """
    from mercato.database import make_session_factory, transaction

    settings = get_settings()
    services = services or command_services(settings)
    engine = database_engine(settings)
    try:
        with transaction(make_session_factory(engine)) as session:
            yield session, services
    except (Problem, PricingError) as problem:
        # Something not found may be in another database than the one used: say which was.
        where = f" (looked in {database_in_use(settings)})" if isinstance(problem, NotFound) else ""
        err_console.print(f"[red]{problem.title}:[/red] {problem.detail}{where}")
        raise typer.Exit(1) from problem
    finally:
        engine.dispose()


def use_demo_secret() -> None:
    """Demo mode without a secret of its own: the public demo secret, said loudly."""
    os.environ["MERCATO_SECRET_KEY"] = DEMO_SECRET
    get_settings.cache_clear()
    err_console.print(
        "[bold yellow]Demo mode: signing keys are sealed with the public demo secret.[/bold yellow] "
        "Never use this database for real licenses; set MERCATO_SECRET_KEY for a real deployment."
    )

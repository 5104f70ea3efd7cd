"""What every ``mercato`` sub-command shares: one unit of work per command, the services it hands to the rules
(with the clock a ``--today`` option sets), and problems printed for people."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from mercato.clock import FixedClock, SystemClock, noon_of
from mercato.database import make_engine, make_session_factory, transaction
from mercato.migrations import upgrade_to_head
from mercato.pricing import PricingError
from mercato.problems import Problem
from mercato.services import Services
from mercato.settings import Settings, get_settings

err_console = Console(stderr=True)
USAGE_ERROR = 2


def parse_date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date: use YYYY-MM-DD") from None


def command_services(settings: Settings, as_of: date | None = None) -> Services:
    """The services of one command: the system clock, or a clock stopped at noon of ``--today``'s date."""
    clock = FixedClock(noon_of(as_of)) if as_of else SystemClock()
    return Services.from_settings(settings, clock)


@contextmanager
def unit_of_work(services: Services | None = None) -> Iterator[tuple[Session, Services]]:
    """A migrated database and one transaction, committed once when the command succeeds, with the services
    the command's rules use (by default: the settings' and the system clock).

    A rule violation is printed as its sentence and exits with status 1; nothing is written.
    """
    settings = get_settings()
    services = services or command_services(settings)
    engine = make_engine(settings.database_url)
    try:
        upgrade_to_head(engine)
        with transaction(make_session_factory(engine)) as session:
            yield session, services
    except (Problem, PricingError) as problem:
        err_console.print(f"[red]{problem.title}:[/red] {problem.detail}")
        raise typer.Exit(1) from problem
    finally:
        engine.dispose()

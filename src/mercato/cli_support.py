"""What every ``mercato`` sub-command shares: one unit of work per command, and problems printed for people."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from mercato.database import make_engine, make_session_factory, transaction
from mercato.migrations import upgrade_to_head
from mercato.pricing import PricingError
from mercato.problems import Problem
from mercato.settings import Settings, get_settings

err_console = Console(stderr=True)
USAGE_ERROR = 2


@contextmanager
def unit_of_work() -> Iterator[tuple[Session, Settings]]:
    """A migrated database and one transaction, committed once when the command succeeds.

    A rule violation is printed as its sentence and exits with status 1; nothing is written.
    """
    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        upgrade_to_head(engine)
        with transaction(make_session_factory(engine)) as session:
            yield session, settings
    except (Problem, PricingError) as problem:
        err_console.print(f"[red]{problem.title}:[/red] {problem.detail}")
        raise typer.Exit(1) from problem
    finally:
        engine.dispose()

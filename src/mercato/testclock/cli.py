"""``mercato clock``: see, set and reset the deployment's test clock (where ``MERCATO_TEST_CLOCK`` enables it)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated

import typer

from mercato.cli_support import USAGE_ERROR, err_console, unit_of_work
from mercato.clock import SystemClock
from mercato.settings import get_settings
from mercato.testclock.clock import clear_frozen_moment, frozen_moment, set_frozen_moment

app = typer.Typer(
    help="The test clock: move the whole deployment's time (demos and tests only).", no_args_is_help=True
)


def _require_enabled() -> None:
    if not get_settings().test_clock:
        err_console.print(
            "[red]The test clock is off in this deployment.[/red] Enable it only for demos and tests: "
            "MERCATO_TEST_CLOCK=true (mercato serve --demo turns it on)."
        )
        raise typer.Exit(USAGE_ERROR)


def _moment(text: str) -> datetime:
    try:
        if "T" in text or " " in text.strip():
            value = datetime.fromisoformat(text.strip())
            return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        return datetime.combine(date.fromisoformat(text.strip()), time(12), tzinfo=UTC)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a date (YYYY-MM-DD) or a time (YYYY-MM-DDTHH:MM)"
        ) from None


@app.command("show")
def show() -> None:
    """Print the time every rule of this deployment reads, and whether the test clock is set."""
    with unit_of_work() as (session, _):
        frozen = frozen_moment(session.connection()) if get_settings().test_clock else None
    if frozen is None:
        typer.echo(f"{SystemClock().now():%Y-%m-%dT%H:%M:%S}Z (the system clock)")
    else:
        typer.echo(f"{frozen:%Y-%m-%dT%H:%M:%S}Z (the test clock, set)")


@app.command("set")
def set_clock(
    moment: Annotated[str, typer.Argument(help="YYYY-MM-DD (noon UTC) or YYYY-MM-DDTHH:MM[:SS][+00:00]")],
) -> None:
    """Freeze the deployment's clock: the server, workers and billing runs take this moment as now."""
    _require_enabled()
    frozen_at = _moment(moment)
    with unit_of_work() as (session, _):
        set_frozen_moment(session, frozen_at)
    err_console.print(f"The test clock now reads {frozen_at:%Y-%m-%d %H:%M:%S} UTC.")


@app.command("reset")
def reset() -> None:
    """Let the system clock count again."""
    _require_enabled()
    with unit_of_work() as (session, _):
        clear_frozen_moment(session)
    err_console.print("The test clock is reset: the system clock counts again.")

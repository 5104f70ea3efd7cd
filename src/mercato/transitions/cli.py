"""``mercato transitions run``: the e-mails of transition campaigns due today, without the rest of the billing
run (which sends them too, as one of its steps)."""

from __future__ import annotations

from typing import Annotated

import typer

from mercato.cli_support import command_services, database_engine, err_console, parse_date, print_json
from mercato.database import make_session_factory
from mercato.settings import get_settings
from mercato.transitions.mailing import send_due_transition_emails

app = typer.Typer(
    help="Transition campaigns: direct licenses moving to the marketplace.", no_args_is_help=True
)


@app.command("run")
def run(
    today: Annotated[str | None, typer.Option("--today", help="Run as of this date (YYYY-MM-DD).")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the e-mails sent as JSON for scripts.")
    ] = False,
) -> None:
    """Send the announcements and reminders of transition campaigns that are due: each once per campaign,
    license and kind, with the license's migration quote. Safe to run again and at the same time as a billing
    run."""
    settings = get_settings()
    services = command_services(settings, parse_date(today))
    engine = database_engine(settings)
    try:
        sent = send_due_transition_emails(make_session_factory(engine), services)
    finally:
        engine.dispose()
    if as_json:
        print_json(
            {
                "date": services.clock.today().isoformat(),
                "sent": [{"license": s.entitlement_number, "kind": s.kind.value} for s in sent],
            }
        )
        return
    err_console.print(f"Transition campaigns: {len(sent)} e-mail(s) sent.")
    if sent:
        err_console.print(f"  Sent: {', '.join(s.describe() for s in sent)}")

"""``mercato billing run``: renewals, dunning and lifecycle changes for a day, with a progress bar."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import track
from sqlalchemy.orm import Session, sessionmaker

from mercato.billing.run_lock import billing_run_lock
from mercato.billing.service import BillingReport, BillingRun
from mercato.catalog.price_notices import Announcement, PriceNotices
from mercato.cli_support import command_services, database_engine, err_console, parse_date, require_secret
from mercato.database import make_session_factory, transaction
from mercato.services import Services
from mercato.settings import get_settings

app = typer.Typer(help="Billing: cloud renewals, dunning and license lifecycle.", no_args_is_help=True)

# A site more than this many cycles behind is caught up over several runs rather than in one.
MAX_CYCLES_PER_RUN = 24


@app.command("run")
def run(
    today: Annotated[str | None, typer.Option("--today", help="Run as of this date (YYYY-MM-DD).")] = None,
) -> None:
    """Create the renewal invoices of cloud sites whose billing date has come, apply dunning (15 days of
    grace, suspended, 15 more days, expired), expire evaluations and Data Center terms, and record lapsed
    maintenance; tell customers with renewals due around a scheduled price change. Safe to run again: a second
    run on the same day changes nothing."""
    require_secret(get_settings())  # a renewal with nothing to pay is settled at once and signs keys
    settings = get_settings()
    services = command_services(settings, parse_date(today))
    day = services.clock.today()
    report = BillingReport()
    engine = database_engine(settings)
    factory = make_session_factory(engine)
    try:
        with billing_run_lock(
            engine, lambda: err_console.print("Another billing run is in progress; waiting.")
        ):
            with transaction(factory) as session:
                due = [site.id for site in BillingRun(session, services).cloud_sites_due()]
            # One transaction per site and cycle: a failure on one site leaves the others invoiced.
            for site_id in track(due, description="Renewing cloud sites", console=err_console):
                for _ in range(MAX_CYCLES_PER_RUN):
                    with transaction(factory) as session:
                        renewed = BillingRun(session, services).renew_due_site(site_id)
                    if renewed is None:
                        break
                    report.merge(renewed)
            with transaction(factory) as session:
                report.merge(BillingRun(session, services).sweep_licenses())
            announcements = announce_price_changes(factory, services)
    finally:
        engine.dispose()
    err_console.print(
        f"Billing run for {day}: {len(report.renewal_invoices)} renewal invoice(s), "
        f"{len(report.suspended)} suspended, {len(report.unlicensed)} unlicensed, {len(report.expired)} expired, "
        f"{len(report.maintenance_lapsed)} with lapsed maintenance."
    )
    emails = sum(announcement.emails for announcement in announcements)
    err_console.print(
        f"Price changes: {len(announcements)} announced, {emails} e-mail(s) to customers with renewals due."
    )
    for title, items in (
        ("Price changes announced", [announcement.describe() for announcement in announcements]),
        ("Renewal invoices", report.renewal_invoices),
        ("Suspended", report.suspended),
        ("Unlicensed", report.unlicensed),
        ("Expired", report.expired),
        ("Maintenance lapsed", report.maintenance_lapsed),
    ):
        if items:
            err_console.print(f"  {title}: {', '.join(items)}")


def announce_price_changes(factory: sessionmaker[Session], services: Services) -> list[Announcement]:
    """The run's last step: each price change not announced yet, in a transaction of its own."""
    with transaction(factory) as session:
        due = PriceNotices(session, services).due()
    announcements = []
    for table_id in due:
        with transaction(factory) as session:
            announcement = PriceNotices(session, services).announce(table_id)
        if announcement is not None:
            announcements.append(announcement)
    return announcements

"""``mercato billing run``: renewals, dunning and lifecycle changes for a day, with a progress bar."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated

import typer
from rich.progress import MofNCompleteColumn, Progress
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from mercato.billing.parallel import BillingJobs, JobStopped
from mercato.billing.run_lock import billing_run_lock
from mercato.billing.service import BillingReport, BillingRun, RenewalBatch, renew_next_batch, renewal_batches
from mercato.catalog.price_notices import Announcement, PriceNotices
from mercato.cli_support import (
    USAGE_ERROR,
    command_services,
    database_engine,
    err_console,
    parse_date,
    print_json,
    require_secret,
)
from mercato.database import make_session_factory, transaction
from mercato.reminders.service import send_due_reminders
from mercato.services import Services
from mercato.settings import get_settings, public_base_url
from mercato.transitions.mailing import send_due_transition_emails

app = typer.Typer(help="Billing: cloud renewals, dunning and license lifecycle.", no_args_is_help=True)

# A site more than this many cycles behind is caught up over several runs rather than in one.
MAX_CYCLES_PER_RUN = 24
MAX_JOBS = 16


@app.command("run")
def run(
    today: Annotated[str | None, typer.Option("--today", help="Run as of this date (YYYY-MM-DD).")] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Say what a run would do on that day, and change nothing (every step is undone).",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON for scripts.")] = False,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs",
            min=1,
            max=MAX_JOBS,
            help="Processes that bill at once, each taking batches of its own (PostgreSQL; about one per core "
            "of the machine running the command).",
        ),
    ] = 1,
) -> None:
    """Create the renewal invoices of cloud sites whose billing date has come, apply dunning (15 days of
    grace, suspended, 15 more days, expired), expire evaluations and Data Center terms, and record lapsed
    maintenance; then tell customers with renewals due around a scheduled price change. Safe to run again: a
    second run on the same day changes nothing.

    With --dry-run it does all of that in one transaction and rolls it back: the report shows exactly what
    a run would do (the same invoices, numbers and amounts), and nothing is written, nothing e-mailed."""
    require_secret(get_settings())  # a renewal with nothing to pay is settled at once and signs keys
    settings = get_settings()
    as_of = parse_date(today)
    services = command_services(settings, as_of)
    day = services.clock.today()
    engine = database_engine(settings)
    if jobs > 1 and dry_run:
        err_console.print("A dry run is one transaction, rolled back: --jobs does not apply to it.")
    elif jobs > 1 and engine.dialect.name != "postgresql":
        engine.dispose()
        err_console.print(
            "--jobs needs PostgreSQL: SQLite lets one process write at a time. Run without --jobs."
        )
        raise typer.Exit(USAGE_ERROR)
    factory = make_session_factory(engine)
    try:
        with billing_run_lock(
            engine, lambda: err_console.print("Another billing run is in progress; waiting.")
        ):
            if dry_run:
                report, announcements = _rehearse(factory, services)
            else:
                with _jobs(jobs, as_of, day) as parallel:
                    report, announcements = _run(factory, services, parallel)
    finally:
        engine.dispose()
    if as_json:
        document = {"date": day.isoformat(), "dry_run": dry_run} | dataclasses.asdict(report)
        document["price_changes_announced"] = [dataclasses.asdict(a) for a in announcements]
        print_json(document)
        return
    _print_report(report, day, dry_run)
    _print_announcements(announcements, dry_run)


@contextmanager
def _jobs(jobs: int, as_of: date | None, day: date) -> Iterator[BillingJobs | None]:
    if jobs == 1:
        yield None
        return
    try:
        with BillingJobs(jobs, as_of, day) as parallel:
            yield parallel
    except JobStopped as stopped:
        err_console.print("[red]The billing run stopped:[/red]")
        err_console.print(str(stopped), markup=False, highlight=False)
        err_console.print(
            "Every batch is a transaction of its own: those the jobs finished are kept, and the same command "
            "run again does the rest."
        )
        raise typer.Exit(1) from None


def _run(
    factory: sessionmaker[Session], services: Services, parallel: BillingJobs | None
) -> tuple[BillingReport, list[Announcement]]:
    report = BillingReport()
    with transaction(factory) as session:
        billing = BillingRun(session, services)
        sites_due = billing.count_cloud_sites_due()
    # One transaction per batch of sites: a failure leaves the batches before it invoiced.
    with _progress() as progress:
        task = progress.add_task("Renewing cloud sites", total=sites_due)
        renewals: Iterator[RenewalBatch] = (
            parallel.renewals(MAX_CYCLES_PER_RUN)
            if parallel is not None
            else renewal_batches(lambda skip: renew_next_batch(factory, services, skip), MAX_CYCLES_PER_RUN)
        )
        for renewed in renewals:
            report.merge(renewed.report)
            progress.advance(task, len(renewed.sites))
    with transaction(factory) as session:
        batches = BillingRun(session, services).license_batches_due_for_change()
    with _progress() as progress:
        task = progress.add_task("Dunning, expiries, lapses", total=sum(len(batch) for batch in batches))
        changes = parallel.changes(batches) if parallel is not None else _changes(factory, services, batches)
        for changed, size in changes:
            report.merge(changed)
            progress.advance(task, size)
    # Renewal reminders, one license per transaction: an interrupted run sends nothing twice when run again.
    report.renewal_reminders.extend(
        send_due_reminders(factory, services.clock, services.secret_key, public_base_url(get_settings()))
    )
    # Transition campaigns' announcements and reminders, one license per transaction, each once.
    report.transition_emails.extend(sent.describe() for sent in send_due_transition_emails(factory, services))
    return report, _announce_price_changes(factory, services)


def _changes(
    factory: sessionmaker[Session], services: Services, batches: list[list[uuid.UUID]]
) -> Iterator[tuple[BillingReport, int]]:
    for batch in batches:
        with transaction(factory) as session:
            yield BillingRun(session, services).change_licenses(batch), len(batch)


def _progress() -> Progress:
    return Progress(*Progress.get_default_columns(), MofNCompleteColumn(), console=err_console)


def _announce_price_changes(factory: sessionmaker[Session], services: Services) -> list[Announcement]:
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


def _rehearse(factory: sessionmaker[Session], services: Services) -> tuple[BillingReport, list[Announcement]]:
    """The run's own steps in one transaction that is always rolled back. Rehearsing the real code, rather than
    a planning function beside it, means the dry run cannot drift from the run: the invoices it reports are
    priced, numbered and split exactly as a run would make them. The outbox rows (e-mail) are rolled back with
    everything else. While it lasts it holds what a run holds (the billing lock, row locks; on SQLite the
    write lock), so run it when a short pause of other writers is acceptable."""
    with factory() as session:
        session.begin()
        try:
            report = BillingRun(session, services).whole_day(MAX_CYCLES_PER_RUN)
            return report, PriceNotices(session, services).announce_all()
        finally:
            session.rollback()


def _print_report(report: BillingReport, day: date, dry_run: bool) -> None:
    would = "would make" if dry_run else "made"
    heading = f"Dry run for {day} (nothing was changed)" if dry_run else f"Billing run for {day}"
    err_console.print(
        f"{heading}: {len(report.renewal_invoices)} renewal invoice(s), "
        f"{len(report.suspended)} suspended, {len(report.unlicensed)} unlicensed, {len(report.expired)} expired, "
        f"{len(report.maintenance_lapsed)} with lapsed maintenance."
    )
    if dry_run and report.renewals:
        table = Table(title=f"Renewal invoices a run {would}")
        table.add_column("invoice", no_wrap=True)
        table.add_column("cloud site", overflow="fold")
        table.add_column("billing date", no_wrap=True)
        table.add_column("total", no_wrap=True, justify="right")
        for renewal in report.renewals:
            table.add_row(renewal.number, renewal.site, renewal.billing_date.isoformat(), renewal.total)
        err_console.print(table)
    for title, items in (
        ("Renewal invoices", report.renewal_invoices),
        ("Suspended", report.suspended),
        ("Unlicensed", report.unlicensed),
        ("Expired", report.expired),
        ("Maintenance lapsed", report.maintenance_lapsed),
        ("Renewal reminders", report.renewal_reminders),
        ("Transition e-mails", report.transition_emails),
    ):
        if items:
            err_console.print(f"  {title}: {', '.join(items)}")


def _print_announcements(announcements: list[Announcement], dry_run: bool) -> None:
    emails = sum(announcement.emails for announcement in announcements)
    verb = "would be announced" if dry_run else "announced"
    err_console.print(
        f"Price changes: {len(announcements)} {verb}, {emails} e-mail(s) to customers with renewals due."
    )
    if announcements:
        err_console.print(f"  Price changes {verb}: {', '.join(a.describe() for a in announcements)}")

"""``mercato payouts`` (run a month's payouts, show statements and remittances) and ``mercato ledger`` (backfill,
adjust). Commands run as the operator. Sentences and tables go to standard error; ``--json`` prints the answer
alone on standard output."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Annotated

import typer
from rich.progress import track
from rich.table import Table
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from mercato.catalog.vendors import VendorService
from mercato.cli_support import (
    command_services,
    database_engine,
    err_console,
    parse_date,
    print_json,
    unit_of_work,
)
from mercato.database import make_session_factory, transaction
from mercato.ledger.api import PayoutDecisionOut, decision_out, remittance_out, statement_out
from mercato.ledger.domain import Month
from mercato.ledger.errors import PayoutNotFound
from mercato.ledger.recording import backfill as backfill_ledger
from mercato.ledger.service import DEFAULT_REFERENCE_PREFIX, Ledger, PayoutDecision, PayoutRun, parse_month
from mercato.pricing import from_minor_units, to_minor_units
from mercato.problems import Problem
from mercato.services import Services
from mercato.settings import get_settings

payouts_app = typer.Typer(
    help="Vendor payouts: run a month's, statements, remittances.", no_args_is_help=True
)
ledger_app = typer.Typer(help="The revenue ledger: backfill and adjustments.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON on standard output.")]
TodayOption = Annotated[str | None, typer.Option("--today", help="Run as of this date (YYYY-MM-DD).")]


def _threshold(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise typer.BadParameter(f"{text!r} is not an amount, e.g. 50 or 50.00") from None
    if not value.is_finite() or value < 0:
        raise typer.BadParameter(f"{text!r}: the threshold is an amount of 0 or more")
    return value


@payouts_app.command("run")
def run(
    month: Annotated[str, typer.Option("--month", help="The month whose balances to pay, YYYY-MM.")],
    threshold: Annotated[
        str, typer.Option("--threshold", help="Pay only balances of at least this amount (per currency).")
    ] = "0",
    reference_prefix: Annotated[
        str, typer.Option("--reference-prefix", help="Each payout's reference starts with this.")
    ] = DEFAULT_REFERENCE_PREFIX,
    today: TodayOption = None,
    as_json: JsonOption = False,
) -> None:
    """Pay every vendor, per currency, its ledger entries up to the month's end that no payout has paid, when
    they reach the threshold; record each payout with its reference. One transaction per vendor: a run that
    is stopped (or killed) has paid the vendors it finished, and running it again pays the others. Safe to
    run twice at once: each vendor is paid at most once per currency and month, each entry at most once."""
    minimum = _threshold(threshold)
    settings = get_settings()
    services = command_services(settings, parse_date(today))
    engine = database_engine(settings)
    factory = make_session_factory(engine)
    decisions: list[PayoutDecision] = []
    try:
        try:
            with transaction(factory) as session:
                payouts = PayoutRun(session, services)
                checked = payouts.checked_month(month)
                due = payouts.vendors_due(checked)
        except Problem as problem:
            err_console.print(f"[red]{problem.title}:[/red] {problem.detail}")
            raise typer.Exit(1) from problem
        for vendor_id in track(due, description=f"Paying vendors for {checked}", console=err_console):
            decisions.extend(_pay(factory, services, vendor_id, checked, minimum, reference_prefix))
    finally:
        engine.dispose()
    shown = [decision_out(d) for d in decisions]
    if as_json:
        print_json(
            {"month": str(checked), "paid": sum(d.outcome == "paid" for d in decisions)}
            | {"decisions": [d.model_dump(mode="json") for d in shown]}
        )
        return
    _print_decisions(str(checked), shown)


def _pay(
    factory: sessionmaker[Session],
    services: Services,
    vendor_id: uuid.UUID,
    month: Month,
    minimum: Decimal,
    prefix: str,
) -> list[PayoutDecision]:
    try:
        with transaction(factory) as session:
            return PayoutRun(session, services).pay_vendor(vendor_id, month, minimum, prefix)
    except IntegrityError:
        # Another run paid this vendor between our reads and our commit (the lock makes this rare): nothing
        # of ours was written, and the vendor is paid once.
        return []


def _print_decisions(month: str, decisions: list[PayoutDecisionOut]) -> None:
    paid = [d for d in decisions if d.outcome == "paid"]
    err_console.print(f"Payouts for {month}: {len(paid)} paid, {len(decisions) - len(paid)} not paid now.")
    if not decisions:
        return
    table = Table(title=f"Payouts for {month}")
    for heading in ("vendor", "currency", "outcome", "balance", "reference"):
        table.add_column(heading, no_wrap=heading != "vendor")
    for d in decisions:
        table.add_row(d.vendor, d.currency, d.outcome, str(d.balance), d.payout.reference if d.payout else "")
    err_console.print(table)


@payouts_app.command("statement")
def statement(
    vendor: Annotated[str, typer.Option("--vendor", help="The vendor's slug.")],
    month: Annotated[str, typer.Option("--month", help="The month, YYYY-MM.")],
    as_json: JsonOption = False,
) -> None:
    """A vendor's statement of a month, per currency: opening balance, entries, payouts, closing balance."""
    with unit_of_work() as (session, services):
        ledger = Ledger(session, services)
        found = VendorService(session, services.secret_key, services.clock).vendor(vendor)
        shown = [statement_out(ledger, s) for s in ledger.statements(found, parse_month(month))]
    if as_json:
        print_json([s.model_dump(mode="json") for s in shown])
        return
    if not shown:
        err_console.print(f"{vendor} has no ledger entries up to the end of {month}.")
    for s in shown:
        err_console.print(
            f"{s.vendor} {s.month} {s.currency}: opening {s.opening_balance} + entries {s.entries_total} "
            f"− payouts {s.payouts_total} = closing {s.closing_balance} (direct sales {s.direct_sales}, "
            f"{len(s.entries)} entries)"
        )


@payouts_app.command("remittance")
def remittance(
    payout_id: Annotated[str, typer.Argument(help="The payout's id.")],
    as_json: JsonOption = False,
) -> None:
    """What a payout paid: every ledger entry it covers, and their total (its amount, to the cent)."""
    with unit_of_work() as (session, services):
        ledger = Ledger(session, services)
        try:
            found = ledger.repo.payout(uuid.UUID(payout_id))
        except ValueError:
            found = None
        if found is None:
            raise PayoutNotFound(f"There is no payout {payout_id}.")
        shown = remittance_out(ledger.remittance(found))
    if as_json:
        print_json(shown.model_dump(mode="json"))
        return
    table = Table(title=f"Payout {shown.payout.reference}: {shown.payout.amount} {shown.payout.currency}")
    for heading in ("entry", "occurred", "kind", "license", "invoice", "amount", "vendor amount"):
        table.add_column(heading, no_wrap=True)
    for e in shown.entries:
        table.add_row(
            str(e.id),
            f"{e.occurred_at:%Y-%m-%d}",
            e.kind,
            e.entitlement_number or "",
            e.invoice or "",
            str(e.amount),
            str(e.vendor_amount),
        )
    err_console.print(table)
    verdict = "reconciles" if shown.reconciled else "DOES NOT reconcile"
    err_console.print(
        f"Entries total {shown.entries_total}: {verdict} with the payout's {shown.payout.amount}."
    )


@ledger_app.command("backfill")
def backfill() -> None:
    """Write the ledger entries of sales, renewals, upgrades, co-terms and refunds recorded before the ledger
    existed (from the licenses' history). Safe to run again: an event that has its entry is skipped."""
    with unit_of_work() as (session, _services):
        written = backfill_ledger(session)
    err_console.print(f"Ledger backfill: {written} entr{'y' if written == 1 else 'ies'} written.")


@ledger_app.command("adjust")
def adjust(
    entry: Annotated[int, typer.Option("--entry", help="The id of the ledger entry to correct.")],
    amount: Annotated[str, typer.Option("--amount", help="The correction, e.g. -10.00 (negative: back).")],
    reason: Annotated[str, typer.Option("--reason", help="Why; the vendor sees it.")],
    key: Annotated[str, typer.Option("--key", help="Names the adjustment: the same key again does nothing.")],
    as_json: JsonOption = False,
) -> None:
    """Correct a ledger entry with a new entry (entries are never changed), split at the original sale's
    rate."""
    with unit_of_work() as (session, services):
        ledger = Ledger(session, services)
        original = ledger.repo.entry(entry)
        currency = original.currency if original else "EUR"
        try:
            minor = to_minor_units(Decimal(amount), currency)
        except (InvalidOperation, ValueError):
            raise typer.BadParameter(f"{amount!r} is not an amount in whole cents of {currency}") from None
        made = ledger.adjust(entry, minor, reason, key)
        document = {
            "id": made.id,
            "corrects": made.corrects_entry_id,
            "currency": made.currency,
            "amount": str(from_minor_units(made.amount_minor, made.currency)),
            "vendor_amount": str(from_minor_units(made.vendor_amount_minor, made.currency)),
            "operator_amount": str(from_minor_units(made.operator_amount_minor, made.currency)),
        }
    if as_json:
        print_json(document)
        return
    err_console.print(
        f"Ledger entry {document['id']} corrects entry {document['corrects']}: {document['amount']} "
        f"{document['currency']} (vendor {document['vendor_amount']}, operator {document['operator_amount']})."
    )

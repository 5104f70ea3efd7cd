"""``mercato licenses cloud-transition``: a vendor's direct cloud customers move to its marketplace listing, one
license per transaction, with a progress bar."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import track
from rich.table import Table

from mercato import pricing
from mercato.cli_support import (
    command_services,
    database_engine,
    err_console,
    parse_date,
    print_json,
    require_secret,
)
from mercato.problems import Problem
from mercato.settings import get_settings

if TYPE_CHECKING:
    from mercato.cloud_transitions.service import TransitionReport

# The command's rules and the database are imported when it runs: ``mercato license`` is imported by the
# offline key check too, which needs neither.


def cloud_transition(
    vendor: Annotated[str, typer.Option("--vendor", help="The vendor's slug, e.g. example-mockups.")],
    from_app: Annotated[
        str, typer.Option("--from", help="The vendor's app whose direct cloud licenses move.")
    ],
    to_app: Annotated[
        str,
        typer.Option("--to", help="The app whose marketplace cloud listing they move to (may be the same)."),
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Price every move and change nothing.")] = False,
    today: Annotated[str | None, typer.Option("--today", help="Run as of this date (YYYY-MM-DD).")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")
    ] = False,
) -> None:
    """Move a vendor's direct cloud customers to its marketplace cloud listing: each active direct cloud license
    of --from gets one marketplace invoice for the rest of its term, the unused prepayment credited; paying it
    moves the license (an invoice of nothing to pay moves it at once). One transaction per license: a run that
    is stopped has invoiced the licenses it finished, and running it again invoices the others, never one twice."""
    from mercato.catalog.repository import CatalogRepository
    from mercato.cloud_transitions.service import CloudTransitions, LicenseMove
    from mercato.database import make_session_factory, transaction

    settings = get_settings()
    require_secret(settings)  # an invoice of nothing to pay is settled at once and signs keys
    services = command_services(settings, parse_date(today))
    engine = database_engine(settings)
    factory = make_session_factory(engine)
    try:
        with transaction(factory) as session:
            found = CatalogRepository(session).vendor_by_slug(vendor.strip().lower())
            if found is None:
                err_console.print(
                    f"[red]No vendor {vendor!r}.[/red] `mercato vendors list` shows the vendors."
                )
                raise typer.Exit(1)
            try:
                plan = CloudTransitions(session, services).plan(found, from_app, to_app, dry_run=dry_run)
            except Problem as problem:
                err_console.print(f"[red]{problem.title}:[/red] {problem.detail}")
                raise typer.Exit(1) from problem
        moves: list[LicenseMove] = []
        for license_id in track(plan.license_ids, description="Moving cloud customers", console=err_console):
            with transaction(factory) as session:
                moves.append(CloudTransitions(session, services).move(plan, license_id))
        with transaction(factory) as session:
            report = CloudTransitions(session, services).finish(plan, moves)
    finally:
        engine.dispose()
    if as_json:
        print_json(
            {"vendor": report.vendor, "from_app": report.from_app, "to_app": report.to_app}
            | {"dry_run": report.dry_run, "counts": dict(report.counts)}
            | {"licenses": [dataclasses.asdict(move) for move in report.licenses]}
        )
        return
    _print_report(report)


def _print_report(report: TransitionReport) -> None:
    heading = "Dry run (nothing was changed)" if report.dry_run else "Cloud transition"
    counts = ", ".join(f"{count} {state}" for state, count in report.counts.items() if count)
    err_console.print(
        f"{heading}: {report.vendor} {report.from_app} → {report.to_app}: {counts or 'no direct cloud licenses'}."
    )
    if not report.licenses:
        return
    table = Table()
    for heading_, justify in (
        ("license", "left"),
        ("site", "left"),
        ("users", "right"),
        ("billing date", "left"),
        ("charge", "right"),
        ("credit", "right"),
        ("net", "right"),
        ("invoice", "left"),
        ("state", "left"),
    ):
        table.add_column(heading_, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for move in report.licenses:
        table.add_row(
            move.entitlement_number,
            move.site,
            str(move.users or ""),
            move.billing_date.isoformat() if move.billing_date else "",
            *(_money(amount, move.currency) for amount in (move.charge, move.credit, move.net)),
            move.invoice or "",
            move.state.value if move.reason is None else f"{move.state.value}: {move.reason}",
        )
    err_console.print(table)


def _money(amount: Decimal | None, currency: str | None) -> str:
    if amount is None or currency is None:
        return ""
    return pricing.format_money(amount, currency)

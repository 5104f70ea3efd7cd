"""``mercato licenses migrate``: move a vendor's direct licenses that match their hosts to the marketplace."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import track
from rich.table import Table

from mercato.cli_support import (
    command_services,
    database_engine,
    err_console,
    nothing_found,
    print_json,
)
from mercato.settings import get_settings

if TYPE_CHECKING:
    from mercato.commerce.migrating import MigrationOutcome

# The command's rules and the database are imported when it runs: ``mercato license`` is imported by the
# offline key check too, which needs neither.

console = Console()


def migrate(
    vendor: Annotated[str, typer.Option("--vendor", help="The vendor's slug: its direct licenses move.")],
    app_key: Annotated[str | None, typer.Option("--app", help="Only this app's licenses.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would move; change nothing.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")
    ] = False,
) -> None:
    """Move every direct server and Data Center license of the vendor's apps whose tier covers its host to the
    marketplace, for nothing: the same license, entitlement number and maintenance end, a marketplace key (its
    customer is e-mailed it), the direct key working through its grace period. Licenses that must be upgraded
    to match their host are listed with the price their customer's migration quote asks. One transaction per
    license: a run that is stopped (or killed) has moved what it finished, and running it again moves the rest."""
    from mercato.catalog.repository import CatalogRepository
    from mercato.commerce.migrating import BatchMigration, RolledBack
    from mercato.database import make_session_factory, transaction

    settings = get_settings()
    services = command_services(settings)
    engine = database_engine(settings)
    factory = make_session_factory(engine)
    outcomes: list[MigrationOutcome] = []
    try:
        with transaction(factory) as session:
            found = CatalogRepository(session).vendor_by_slug(vendor.strip().lower())
            if found is None:
                nothing_found(f"There is no vendor {vendor!r}")
                raise typer.Exit(1)
            candidates = BatchMigration(session, services).candidates(found, app_key)
        verb = "Checking" if dry_run else "Migrating"
        # A script reading --json wants the answer alone: no progress bar on its terminal either.
        progress = track(candidates, description=f"{verb} licenses", console=err_console, disable=as_json)
        for license_id in progress:
            try:
                with transaction(factory) as session:
                    outcomes.append(BatchMigration(session, services).migrate(license_id, dry_run=dry_run))
            except RolledBack as rolled_back:
                outcomes.append(rolled_back.outcome)
    finally:
        engine.dispose()
    if as_json:
        print_json({"dry_run": dry_run, "licenses": [outcome.__dict__ for outcome in outcomes]})
        return
    _print(outcomes, dry_run)


def _print(outcomes: list[MigrationOutcome], dry_run: bool) -> None:
    if not outcomes:
        console.print("No direct server or Data Center licenses to migrate.")
        return
    table = Table("License", "Outcome", "Tier", "Invoice", "Detail")
    for outcome in outcomes:
        table.add_row(
            outcome.entitlement_number,
            outcome.outcome,
            outcome.tier or "",
            outcome.invoice or "",
            outcome.detail,
        )
    console.print(table)
    moved = sum(outcome.outcome == "migrated" for outcome in outcomes)
    upgrades = sum(outcome.outcome == "needs_upgrade" for outcome in outcomes)
    verb = "would move" if dry_run else "moved"
    console.print(
        f"{moved} license(s) {verb} to the marketplace; {upgrades} need an upgrade to match their host "
        "(their customers pay it on their migration quote)."
    )

"""``mercato licenses import``: a vendor's licenses sold elsewhere, from a CSV file, into its direct channel.

The command is added to ``mercato licenses`` by ``mercato.licenses.cli``; the rules are
``mercato.imports.service``'s. Sentences, the progress bar and the summary go to standard error; ``--json``
prints the summary alone on standard output. A file with problems lists each on a line of its own and exits
with status 1, writing nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from mercato.cli_support import (
    command_services,
    database_engine,
    err_console,
    parse_date,
    print_json,
    require_secret,
)
from mercato.pricing import PricingError
from mercato.problems import Problem
from mercato.settings import get_settings

if TYPE_CHECKING:
    from mercato.imports.service import ImportSummary

# The command's rules and the database are imported when it runs: ``mercato license`` is imported by the
# offline key check too, which needs neither.


def import_licenses(
    file: Annotated[Path, typer.Argument(help="The CSV file (docs/importing.md describes its columns).")],
    vendor: Annotated[str, typer.Option("--vendor", help="The vendor's slug.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check the file and say what it would make; write nothing.")
    ] = False,
    today: Annotated[str | None, typer.Option("--today", help="Run as of this date (YYYY-MM-DD).")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as JSON on standard output.")
    ] = False,
) -> None:
    """Import licenses a vendor sold elsewhere into its direct channel: every row of the file, or none. Each
    row makes (or finds) the customer organisation and its host instance, invites the contact as its admin and
    issues a direct license signed with the vendor's keys. Safe to run again: the same file changes nothing,
    and references imported before with the same terms are skipped."""
    from mercato.catalog.vendors import VendorService
    from mercato.database import make_session_factory, transaction
    from mercato.imports.api import import_out
    from mercato.imports.errors import ImportRefused
    from mercato.imports.service import ImportService

    settings = get_settings()
    require_secret(settings)
    data = _read(file)
    services = command_services(settings, parse_date(today))
    engine = database_engine(settings)
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
    )
    task: list[TaskID] = []

    def advance(done: int, total: int) -> None:
        if not task:
            err_console.print(f"Writing {total:,} licenses in one transaction…")
            progress.start()
            task.append(progress.add_task("Importing", total=total))
        progress.update(task[0], completed=done)

    try:
        err_console.print(f"Checking {file.name} for {vendor}…")
        with transaction(make_session_factory(engine)) as session:
            found = VendorService(session, services.secret_key, services.clock).vendor(vendor)
            summary = ImportService(session, services).run(found, data, dry_run=dry_run, progress=advance)
            progress.stop()
            if task:
                err_console.print("Committing…")
    except ImportRefused as refused:
        progress.stop()
        err_console.print(f"[red]{refused.title}:[/red] {len(refused.problems)} found; nothing was imported.")
        for problem in refused.problems:
            err_console.print(f"  {problem}", markup=False, highlight=False)
        raise typer.Exit(1) from refused
    except (Problem, PricingError) as problem:
        progress.stop()
        err_console.print(f"[red]{problem.title}:[/red] {problem.detail}")
        raise typer.Exit(1) from problem
    finally:
        progress.stop()
        engine.dispose()
    if as_json:
        print_json(import_out(summary).model_dump(mode="json"))
        return
    _print_summary(summary)


def _read(file: Path) -> bytes:
    from mercato.imports.rows import MAX_FILE_BYTES

    try:
        size = file.stat().st_size
        if size > MAX_FILE_BYTES:
            err_console.print(
                f"{file} has {size:,} bytes; an import file may have at most {MAX_FILE_BYTES:,}. Split it: "
                "references imported already are skipped."
            )
            raise typer.Exit(1)
        return file.read_bytes()
    except OSError as error:
        err_console.print(f"Cannot read {file}: {error.strerror}.")
        raise typer.Exit(1) from None


def _print_summary(summary: ImportSummary) -> None:
    made = (
        f"{summary.licenses_created:,} licenses, {summary.organisations_created:,} organisations, "
        f"{summary.host_instances_created:,} host instances, {summary.invitations_sent:,} invitations"
    )
    skipped = f"{summary.rows_skipped:,} rows imported before were skipped"
    if summary.dry_run:
        err_console.print(
            f"Dry run: the file's {summary.rows:,} rows are clean. Importing it would create {made}"
        )
        err_console.print(f"({skipped}). Nothing was written.")
        return
    if summary.repeated:
        when = f"{summary.created_at:%Y-%m-%d %H:%M} UTC" if summary.created_at else "before"
        err_console.print(
            f"This file was imported already ({when}, import {summary.import_id}); nothing changed."
        )
    else:
        err_console.print(f"Imported {summary.rows:,} rows (import {summary.import_id}).")
    err_console.print(f"Created {made}; {skipped}.")

"""``mercato doctor``, ``mercato backup`` / ``restore`` and ``mercato export`` / ``import``: the operator's
commands for a whole deployment."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from sqlalchemy import make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError

from mercato.cli_support import database_engine, database_in_use, err_console, print_json
from mercato.clock import SystemClock
from mercato.operations.backup import (
    BackupError,
    backup_sqlite,
    pg_dump_command,
    pg_restore_command,
    restore_sqlite,
    sqlite_file,
)
from mercato.operations.doctor import Verdict, diagnose, worst
from mercato.operations.transfer import TransferError, export_file, import_file
from mercato.settings import Settings, get_settings

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")]
_STYLES = {Verdict.OK: "green", Verdict.WARNING: "yellow", Verdict.PROBLEM: "red"}


def doctor(as_json: JsonOption = False) -> None:
    """Check the deployment: settings, the database and its migration level, the secret, the signing keys of
    every issuer, the outbox and the SMTP server. Each finding says what to do. Exit status 1 when something
    is wrong (warnings alone leave it 0). Changes nothing."""
    findings = diagnose(Settings, SystemClock())
    verdict = worst(findings)
    if as_json:
        print_json(
            {"verdict": verdict.value, "findings": [dataclasses.asdict(finding) for finding in findings]}
        )
    else:
        for finding in findings:
            style = _STYLES[finding.verdict]
            err_console.print(
                f"[{style}]{finding.verdict:>7}[/{style}]  [bold]{escape(finding.check)}[/bold]: "
                f"{escape(finding.sentence)}"
            )
            if finding.fix:
                err_console.print(f"         Fix: {escape(finding.fix)}")
        summary = {
            Verdict.OK: "[green]All is well.[/green]",
            Verdict.WARNING: "[yellow]Nothing is wrong; the warnings are worth a look.[/yellow]",
            Verdict.PROBLEM: "[red]Something is wrong:[/red] the problems above say what to do.",
        }
        err_console.print(summary[verdict])
    raise typer.Exit(1 if verdict is Verdict.PROBLEM else 0)


def _url() -> URL:
    settings = get_settings()
    try:
        return make_url(settings.database_url)
    except ArgumentError:
        err_console.print(f"[red]MERCATO_DATABASE_URL is not a database URL:[/red] {settings.database_url!r}")
        raise typer.Exit(1) from None


def _not_on_postgresql(url: URL, command: str, how: str) -> None:
    """PostgreSQL's own tools do this better: say which command to run, and that nothing was done."""
    err_console.print(
        f"[yellow]mercato {command} works on SQLite only; {database_in_use()} is PostgreSQL.[/yellow] "
        f"Nothing was done. {how}",
        soft_wrap=True,
    )
    raise typer.Exit(1)


FileArgument = Annotated[Path, typer.Argument(metavar="FILE", dir_okay=False)]


def backup(file: FileArgument) -> None:
    """Copy the SQLite database into FILE while Mercato keeps running (SQLite's online backup API), check the
    copy, and say what it holds. FILE must not exist. For PostgreSQL it prints the pg_dump command to use."""
    url = _url()
    database = sqlite_file(url)
    if database is None:
        _not_on_postgresql(
            url,
            "backup",
            "Back up PostgreSQL with pg_dump (custom format, restorable table by table; the password comes from "
            f"PGPASSWORD or ~/.pgpass):\n  {pg_dump_command(url, str(file))}\nKeep MERCATO_SECRET_KEY apart "
            "from the backups.",
        )
        return
    try:
        report = backup_sqlite(database, file)
    except BackupError as error:
        err_console.print(f"[red]No backup made:[/red] {error}")
        raise typer.Exit(1) from None
    err_console.print(
        f"Backed up {database_in_use()} to {report.path} ({report.size_bytes:,} bytes, migration "
        f"{report.revision}). Keep MERCATO_SECRET_KEY apart from it: together they give every signing key.",
        soft_wrap=True,
    )


def restore(
    file: FileArgument,
    yes: Annotated[
        bool, typer.Option("--yes", help="Do not ask: replace the database's content with the backup's.")
    ] = False,
) -> None:
    """Replace the SQLite database's content with a backup that 'mercato backup' made, then migrate it to this
    version's schema. Stop the servers and workers first. For PostgreSQL it prints the pg_restore command."""
    url = _url()
    database = sqlite_file(url)
    if database is None:
        _not_on_postgresql(
            url,
            "restore",
            "Restore a pg_dump backup into a new, empty database with pg_restore, then point "
            "MERCATO_DATABASE_URL at it and run `mercato migrate`:\n"
            f"  createdb NEW_DATABASE && {pg_restore_command(url.set(database='NEW_DATABASE'), str(file))}",
        )
        return
    if not yes and not typer.confirm(
        f"Replace everything in {database_in_use()} with the backup {file}? Stop the servers first.",
        err=True,
    ):
        err_console.print("Nothing restored.")
        raise typer.Exit(1)
    try:
        report = restore_sqlite(file, database)
    except BackupError as error:
        err_console.print(f"[red]Nothing restored:[/red] {error}")
        raise typer.Exit(1) from None
    database_engine(get_settings()).dispose()  # migrates a backup of an older version to this one's schema
    err_console.print(
        f"Restored {database_in_use()} from {file} (taken at migration {report.revision}; now up to date). "
        "Start the servers again.",
        soft_wrap=True,
    )


def export(file: FileArgument) -> None:
    """Write the whole deployment to FILE (JSON lines, table by table, every table of the schema), to move it
    to another database with 'mercato import'. Reads one consistent snapshot (on SQLite other writers wait)."""
    if file.exists():
        err_console.print(f"[red]Nothing exported:[/red] {file} exists already; choose a new file name.")
        raise typer.Exit(1)
    engine = database_engine(get_settings())
    try:
        report = export_file(engine, file)
    except TransferError as error:
        err_console.print(f"[red]Nothing exported:[/red] {error}")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    err_console.print(
        f"Exported {report.total:,} rows of {len(report.rows)} tables from {database_in_use()} to {file}. "
        "It holds the sealed signing keys: keep it as safe as a backup.",
        soft_wrap=True,
    )


def import_(file: FileArgument) -> None:
    """Load a 'mercato export' file into this deployment's database, which must be empty: migrated here first
    if it has no tables, refused if it has any rows. All or nothing."""
    if not file.is_file():
        err_console.print(f"[red]Nothing imported:[/red] there is no file {file}.")
        raise typer.Exit(1)
    engine = database_engine(get_settings(), create=True)
    try:
        report = import_file(engine, file)
    except TransferError as error:
        err_console.print(f"[red]Nothing imported:[/red] {error}")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    err_console.print(
        f"Imported {report.total:,} rows of {len(report.rows)} tables into {database_in_use()}. "
        "Use the same MERCATO_SECRET_KEY as the old deployment: it opens the signing keys.",
        soft_wrap=True,
    )

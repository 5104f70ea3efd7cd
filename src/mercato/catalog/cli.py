"""``mercato catalog``: the whole catalog as a file. ``export`` writes it, ``apply`` makes the database say what a
file says (after checking all of it), ``schema`` prints the file's JSON Schema."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from sqlalchemy.exc import IntegrityError

from mercato.cli_support import USAGE_ERROR, err_console, unit_of_work
from mercato.problems import InvalidInput

if TYPE_CHECKING:
    from mercato.catalog.file import CatalogPlan, ObjectChange

# The catalog file's models are imported by each command, not here: every `mercato` command (and `serve`, on
# each start) loads this module, and only these commands need them.

app = typer.Typer(
    help="The catalog as a file (YAML or JSON): export it, apply it, print its schema.", no_args_is_help=True
)

INVALID = 1


class FileFormat(StrEnum):
    YAML = "yaml"
    JSON = "json"


def _format_of(path: Path | None, chosen: FileFormat | None) -> FileFormat:
    if chosen is not None:
        return chosen
    return FileFormat.JSON if path is not None and path.suffix.lower() == ".json" else FileFormat.YAML


@app.command()
def schema() -> None:
    """Print the JSON Schema of catalog files (also served at GET /api/v1/catalog/schema)."""
    from mercato.catalog.file import catalog_schema_text

    typer.echo(catalog_schema_text(), nl=False)


@app.command()
def export(
    file: Annotated[
        Path | None,
        typer.Argument(help="Where to write it (.json for JSON, else YAML); omitted: standard output."),
    ] = None,
    file_format: Annotated[
        FileFormat | None, typer.Option("--format", help="yaml or json (default: from the file's name).")
    ] = None,
) -> None:
    """Write the whole catalog: operator, revenue share, host products, vendors, apps, listings with their price
    tables, and releases. Two exports of the same catalog are identical, byte for byte."""
    from mercato.catalog.file import export_catalog, write_catalog
    from mercato.catalog.file_repository import CatalogFileRepository

    with unit_of_work() as (session, _):
        text = write_catalog(export_catalog(CatalogFileRepository(session)), _format_of(file, file_format))
    if file is None:
        typer.echo(text, nl=False)
        return
    try:
        file.write_text(text, encoding="utf-8")
    except OSError as error:
        err_console.print(f"[red]Cannot write {file}:[/red] {error.strerror or error}.")
        raise typer.Exit(USAGE_ERROR) from None
    err_console.print(f"Wrote the catalog to {file}.")


def _value(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return repr(value) if isinstance(value, str) else str(value)


_MARK = {"created": "+", "updated": "~", "unchanged": "="}


def _diff_lines(change: ObjectChange, *, details: bool) -> list[str]:
    lines = [f"{_MARK[change.action.value]} {change.kind} {change.key}"]
    if details:
        lines += [f"    {f.name}: {_value(f.old)} → {_value(f.new)}" for f in change.fields]
    return lines


def _summary(plan: CatalogPlan, *, dry_run: bool) -> str:
    from mercato.catalog.file import Action

    counts = (
        f"{plan.count(Action.CREATED)} created, {plan.count(Action.CHANGED)} updated, "
        f"{plan.count(Action.UNCHANGED)} unchanged"
    )
    if dry_run:
        return f"Dry run: applying would make {counts}. Nothing was written."
    return f"Applied: {counts}. Nothing the file omits was deleted."


def _refused(file: Path, problem: InvalidInput) -> NoReturn:
    errors = problem.extensions.get("errors", [])
    err_console.print(f"[red]{file.name} has {len(errors)} problem(s); nothing was written.[/red]")
    for error in errors:
        err_console.print(
            f"  {error['field']}: {error['message']}", soft_wrap=True, markup=False, highlight=False
        )
    raise typer.Exit(INVALID)


@app.command()
def apply(
    file: Annotated[
        Path,
        typer.Argument(
            help="A catalog file, YAML or JSON.",
            exists=True,
            dir_okay=False,
            readable=True,
            resolve_path=True,
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change, object by object; write nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print what changed as JSON.")] = False,
) -> None:
    """Create or update everything the file names, in one transaction; never delete what it omits. The whole
    file is checked first: with any problem, each is printed with its place in the file and nothing is written
    (exit status 1). Listings are published at once: the operator's file needs no review."""
    from mercato.catalog.file import Action, apply_catalog, read_catalog
    from mercato.catalog.file_repository import CatalogFileRepository

    try:
        catalog = read_catalog(file.read_text(encoding="utf-8"))
    except InvalidInput as problem:
        _refused(file, problem)
    except UnicodeDecodeError:
        err_console.print(f"[red]{file.name} is not UTF-8 text;[/red] nothing was written.")
        raise typer.Exit(INVALID) from None
    try:
        with unit_of_work() as (session, services):
            try:
                plan = apply_catalog(
                    CatalogFileRepository(session), catalog, now=services.clock.now(), dry_run=dry_run
                )
            except InvalidInput as problem:
                _refused(file, problem)  # leaves the unit of work by an exit: it rolls back
    except IntegrityError:
        # Another apply (or a vendor's change) created one of the same objects first; the unique keys kept
        # the catalog whole. Applying again finds it and changes only what still differs.
        err_console.print(
            "[red]The catalog changed while the file was being applied;[/red] nothing of the file was written. "
            "Apply it again: what is already as the file says is left as it is."
        )
        raise typer.Exit(INVALID) from None
    if as_json:
        typer.echo(json.dumps({"dry_run": dry_run, **plan.as_dict()}, indent=2, ensure_ascii=False))
        return
    for change in plan.changes:
        if dry_run or change.action is not Action.UNCHANGED:
            for line in _diff_lines(change, details=dry_run):
                typer.echo(line)
    err_console.print(_summary(plan, dry_run=dry_run))

"""``mercato license``: issue, check, re-issue and revoke license keys from the command line."""

from __future__ import annotations

import json
import uuid
from contextlib import nullcontext
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from mercato import pricing
from mercato.cli_support import (
    USAGE_ERROR,
    command_services,
    database_in_use,
    err_console,
    nothing_found,
    parse_date,
    print_json,
    require_secret,
    unit_of_work,
)
from mercato.clock import SystemClock
from mercato.cloud_transitions.cli import cloud_transition
from mercato.commerce.migration_cli import migrate as migrate_licenses
from mercato.imports.cli import import_licenses
from mercato.keys.trusted import load_trusted_keys
from mercato.licenses.states import LicenseState
from mercato.licensing import (
    Channel,
    FixAction,
    HostContext,
    Hosting,
    LicenseStatus,
    LicenseType,
    TrustedKey,
    Verdict,
    check,
)
from mercato.settings import get_settings

if TYPE_CHECKING:
    from mercato.licenses.models import License
    from mercato.licenses.repository import OwnedLicense

# The services, repositories and models are imported by the commands that use them: the offline check
# (``check --trusted``) runs where there is no database, in an app vendor's CI, and starts faster without them.

app = typer.Typer(help="License keys: issue, check, re-issue and revoke.", no_args_is_help=True)
app.command("cloud-transition")(cloud_transition)
app.command("import")(import_licenses)


def parse_tier(text: str) -> int | None:
    """'unlimited' → None, '25' → 25; anything else is a usage error (exit status 2)."""
    value = text.strip().lower()
    if value == "unlimited":
        return None
    if value.isdigit() and int(value) > 0:
        return int(value)
    raise typer.BadParameter(f'{text!r} is not a tier: give a number of users or "unlimited"')


AppOption = Annotated[str, typer.Option("--app", help="App key, e.g. com.example.mockups.wiki")]
HostingOption = Annotated[Hosting, typer.Option("--hosting")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")]


def _parse_id(text: str, option: str) -> uuid.UUID:
    try:
        return uuid.UUID(text.strip())
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not an id ({option})") from None


ServerIdOption = Annotated[str, typer.Option("--server-id", help="The host's server id (or cloud site).")]


@app.command()
def issue(
    app_key: AppOption,
    channel: Annotated[Channel, typer.Option("--channel")],
    tier: Annotated[str, typer.Option("--tier", help='Users, or "unlimited".')],
    license_type: Annotated[LicenseType, typer.Option("--type")],
    hosting: Annotated[
        Hosting | None, typer.Option("--hosting", help="Default: the host instance's hosting.")
    ] = None,
    server_id: Annotated[
        str | None,
        typer.Option(
            "--server-id", help="The host's server id (or cloud site). Default: the host instance's."
        ),
    ] = None,
    organisation: Annotated[
        str | None,
        typer.Option(
            "--organisation",
            metavar="SLUG_OR_ID",
            help="The customer the license belongs to: its admins see it and receive its key. "
            "Default: the host instance's customer; without either, the license belongs to nobody.",
        ),
    ] = None,
    host_instance: Annotated[
        str | None,
        typer.Option(
            "--host-instance",
            metavar="ID",
            help="The customer's host instance it is for ('mercato customers show SLUG' lists their ids).",
        ),
    ] = None,
    maintenance_end: Annotated[str | None, typer.Option("--maintenance-end", help="YYYY-MM-DD")] = None,
    term_end: Annotated[str | None, typer.Option("--term-end", help="YYYY-MM-DD")] = None,
    evaluation: Annotated[bool, typer.Option("--evaluation", help="A free 30-day evaluation key.")] = False,
    today: Annotated[str | None, typer.Option("--today", help="Issue as of this date (YYYY-MM-DD).")] = None,
) -> None:
    """Issue a license and print its key (support staff: replacement, community and evaluation keys).

    The key goes to standard output alone, so scripts can capture it; the license's details go to standard
    error. The seller of record signs: the operator for the marketplace, the app's vendor for direct. With
    --organisation and --host-instance the license is the customer's, as if bought: its admins see it and are
    e-mailed its key."""
    from mercato.licenses.service import IssueRequest, LicenseService

    if hosting is None and host_instance is None:
        raise typer.BadParameter("give --hosting (or --host-instance, whose hosting is taken)")
    if server_id is None and host_instance is None:
        raise typer.BadParameter("give --server-id (or --host-instance, whose server id is taken)")
    request = IssueRequest(
        app_key=app_key,
        hosting=hosting.value if hosting else None,
        channel=channel.value,
        tier=parse_tier(tier),
        license_type=license_type.value,
        host_binding=server_id,
        maintenance_end=parse_date(maintenance_end),
        term_end=parse_date(term_end),
        evaluation=evaluation,
        organisation=organisation,
        host_instance_id=_parse_id(host_instance, "--host-instance") if host_instance else None,
    )
    require_secret(get_settings())
    services = command_services(get_settings(), parse_date(today))
    with unit_of_work(services) as (session, services):
        issued = LicenseService(session, services).issue(request)
        license = issued.license
        customer = organisation or "the host instance's customer"
        owner = f" for {customer}" if license.organisation_id else ""
        err_console.print(
            f"Issued {license.entitlement_number}{owner}: {license.product_key} ({license.hosting}, "
            f"{license.channel}, {license.license_type}), signed by {license.issuer} with {issued.key.kid}"
        )
        typer.echo(issued.token)


def _print_verdict(verdict: Verdict, as_json: bool, server: dict[str, object] | None) -> None:
    if as_json:
        document = verdict.to_dict()
        if server is not None:
            document["server"] = server
        typer.echo(json.dumps(document, indent=2, default=str))
        return
    colour = "green" if verdict.status is LicenseStatus.VALID else "red"
    err_console.print(f"[bold {colour}]{verdict.status.value}[/bold {colour}]  {verdict.message}")
    if verdict.action is not FixAction.NONE:
        err_console.print(f"Fix: {verdict.action.value.replace('_', ' ').lower()}")
    if verdict.payload is not None:
        p = verdict.payload
        tier = "unlimited" if p.tier is None else f"{p.tier} users"
        err_console.print(
            f"License {p.entitlement_number}: {p.app_key}, {p.hosting}, {p.channel} ({p.issuer}), "
            f"{p.license_type}, {tier}, maintenance end {p.maintenance_end or '—'}, term end {p.term_end or '—'}"
        )


@app.command("check")
def check_key(
    key: Annotated[str, typer.Argument(help="The license key, as pasted.")],
    app_key: AppOption,
    hosting: HostingOption,
    server_id: ServerIdOption,
    host_tier: Annotated[str, typer.Option("--host-tier", help='The host\'s users, or "unlimited".')],
    host_license_type: Annotated[LicenseType, typer.Option("--host-license-type")],
    app_users: Annotated[int | None, typer.Option("--app-users", min=0)] = None,
    build_date: Annotated[str | None, typer.Option("--build-date", help="YYYY-MM-DD")] = None,
    today: Annotated[str | None, typer.Option("--today", help="YYYY-MM-DD")] = None,
    trusted: Annotated[
        Path | None,
        typer.Option(
            "--trusted",
            help="JWKS or PEM file of trusted public keys, each naming its issuer, as 'mercato keys export' "
            "writes them (default: this deployment's keys).",
        ),
    ] = None,
    app_vendor: Annotated[
        str | None,
        typer.Option(
            "--app-vendor",
            help="With --trusted: the slug of the vendor that sells the app directly, as the app knows it "
            "(default: the one vendor among the trusted keys; none if there is none).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as JSON.")] = False,
) -> None:
    """Check a key as the app would inside the host. Exit status: 0 VALID, 1 any other verdict, 2 usage error.

    With --trusted it checks offline against those public keys only, each bound to its issuer: marketplace
    keys must be signed by the operator, direct keys by the app's vendor. Without, it trusts this deployment's
    keys, takes the app's vendor from its catalog, and also knows what only the server knows (keys it never
    issued, revoked, superseded, suspended)."""
    keys: dict[str, TrustedKey] | None = None
    if trusted is not None:
        try:
            keys = load_trusted_keys(trusted.read_text(encoding="utf-8-sig"))
        except (OSError, ValueError) as error:
            err_console.print(f"[red]Cannot read trusted keys from {trusted}:[/red] {error}")
            raise typer.Exit(USAGE_ERROR) from error
        if app_vendor is None:
            app_vendor = _only_vendor(keys)
    elif app_vendor is not None:
        raise typer.BadParameter(
            "--app-vendor goes with --trusted: without it, the app's vendor comes from this deployment's catalog"
        )
    try:
        host = HostContext(
            app_key=app_key,
            hosting=hosting,
            server_id=server_id,
            host_tier=parse_tier(host_tier),
            host_license_type=host_license_type,
            app_users=app_users,
            build_date=parse_date(build_date),
            today=parse_date(today) or SystemClock().today(),
            app_vendor=app_vendor,
        )
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    server: dict[str, object] | None = None
    if keys is not None:
        verdict = check(key, keys, host)
    else:
        from mercato.keys.service import KeyService
        from mercato.licenses.validation import StaticTrustedKeys, ValidationService

        with unit_of_work() as (session, services):
            service = KeyService(session, services.secret_key, services.clock)
            trusted_keys = StaticTrustedKeys(service.trusted_keys(), service.app_vendor)
            if today is None:  # online, the deployment's clock decides (its test clock, where enabled)
                host = replace(host, today=services.clock.today())
            result = ValidationService(lambda: nullcontext(session.connection()), trusted_keys).validate(
                key, host, services.clock.now()
            )
            verdict = result.verdict
            server = result.server.to_dict() if result.server is not None else None
    _print_verdict(verdict, as_json, server)
    raise typer.Exit(0 if verdict.status is LicenseStatus.VALID else 1)


def _only_vendor(keys: dict[str, TrustedKey]) -> str | None:
    """The app's vendor when the trusted keys name one vendor (an app trusts the operator and its vendor)."""
    vendors = sorted(
        {key.issuer.removeprefix("vendor:") for key in keys.values() if key.issuer != "operator"}
    )
    if len(vendors) > 1:
        raise typer.BadParameter(
            f"the trusted keys belong to several vendors ({', '.join(vendors)}): say which one sells the app "
            "directly with --app-vendor"
        )
    return vendors[0] if vendors else None


@app.command()
def reissue(entitlement: Annotated[str, typer.Argument(help="SEN-… of the license.")]) -> None:
    """Print a new key for the license's current terms; its earlier keys are superseded (with grace)."""
    from mercato.licenses.service import LicenseService

    with unit_of_work() as (session, services):
        issued = LicenseService(session, services).reissue(entitlement)
        typer.echo(issued.token)


@app.command()
def revoke(
    serial: Annotated[
        str | None, typer.Option("--serial", help="Revoke one key by its serial (jti).")
    ] = None,
    entitlement: Annotated[
        str | None, typer.Option("--entitlement", help="Revoke every key; cancel it.")
    ] = None,
    reason: Annotated[
        str, typer.Option("--reason", help="Shown to the admin who checks the key.")
    ] = "revoked",
) -> None:
    """Revoke one key, or a whole license (operator or vendor action)."""
    from mercato.licenses.service import LicenseService

    if (serial is None) == (entitlement is None):
        raise typer.BadParameter("give exactly one of --serial or --entitlement")
    with unit_of_work() as (session, services):
        service = LicenseService(session, services)
        if serial is not None:
            service.revoke_key(serial, reason)
            err_console.print(f"Revoked key {serial}.")
        else:
            assert entitlement is not None
            service.revoke_license(entitlement, reason)
            err_console.print(f"Cancelled {entitlement} and revoked its keys.")


# -- looking licenses up -----------------------------------------------------------------------------------


def _tier_text(tier_users: int) -> str:
    from mercato.catalog.models import UNLIMITED_USERS

    return "unlimited" if tier_users == UNLIMITED_USERS else str(tier_users)


def _license_json(owned: OwnedLicense) -> dict[str, object]:
    license = owned.license
    return {
        "entitlement_number": license.entitlement_number,
        "id": str(license.id),
        "product_key": license.product_key,
        "hosting": license.hosting.value,
        "channel": license.channel.value,
        "issuer": license.issuer,
        "customer": owned.organisation_slug,
        "host_instance_id": str(license.host_instance_id) if license.host_instance_id else None,
        "host_binding": license.host_binding,
        "license_type": license.license_type.value,
        "tier": _tier_text(license.tier_users),
        "evaluation": license.evaluation,
        "status": license.status.value,
        "maintenance_end": license.maintenance_end.isoformat() if license.maintenance_end else None,
        "term_end": license.term_end.isoformat() if license.term_end else None,
        "created_at": license.created_at.isoformat(),
    }


def _end(license: License) -> str:
    paid = license.paid_until
    return "—" if paid == date.min else paid.isoformat()


@app.command("list")
def list_licenses(
    customer: Annotated[
        str | None, typer.Option("--customer", metavar="SLUG_OR_ID", help="Only this customer's licenses.")
    ] = None,
    app_key: Annotated[str | None, typer.Option("--app", help="Only this app (or host product) key.")] = None,
    channel: Annotated[Channel | None, typer.Option("--channel")] = None,
    status: Annotated[LicenseState | None, typer.Option("--status")] = None,
    expiring_before: Annotated[
        str | None,
        typer.Option(
            "--expiring-before",
            metavar="YYYY-MM-DD",
            help="Only licenses paid up to a day before this (maintenance of server licenses, else the term).",
        ),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="At most this many.")] = 100,
    offset: Annotated[int, typer.Option("--offset", min=0, help="Skip this many first.")] = 0,
    as_json: JsonOption = False,
) -> None:
    """List licenses, newest first, with filters; every license of every customer (operator's view)."""
    from mercato.accounts.service import AccountService
    from mercato.licenses.repository import LicenseQuery, LicenseRepository

    before = parse_date(expiring_before)
    with unit_of_work() as (session, _):
        organisation_id = AccountService(session).organisation(customer).id if customer else None
        sold_in = pricing.Channel(channel.value) if channel else None
        query = LicenseQuery(organisation_id, app_key, sold_in, status, before)
        found, total = LicenseRepository(session).search(query, limit, offset)
    if as_json:
        items = [_license_json(owned) for owned in found]
        print_json({"items": items, "total": total, "limit": limit, "offset": offset})
        return
    if not found:
        filtered = any(value is not None for value in (customer, app_key, channel, status, before))
        nothing_found("No licenses" + (" match" if filtered else ""))
        return
    table = Table()
    table.add_column("entitlement", no_wrap=True)
    table.add_column("app", overflow="fold", ratio=3)
    table.add_column("sold as", overflow="fold", ratio=2)
    table.add_column("customer", overflow="fold", ratio=1)
    table.add_column("status", overflow="fold", ratio=1)
    table.add_column("paid until", no_wrap=True, min_width=10)
    for owned in found:
        license = owned.license
        table.add_row(
            license.entitlement_number,
            license.product_key,
            f"{license.hosting.value}, {license.channel.value}, {_tier_text(license.tier_users)} users",
            owned.organisation_slug or "—",
            license.status.value + (" (evaluation)" if license.evaluation else ""),
            _end(license),
        )
    err_console.print(table)
    shown = f"{offset + 1}–{offset + len(found)} of {total}" if len(found) < total else str(total)
    err_console.print(f"{shown} license(s). `mercato license show SEN-…` tells more.")


@app.command("show")
def show_license(
    entitlement: Annotated[str, typer.Argument(help="SEN-… of the license.")],
    as_json: JsonOption = False,
) -> None:
    """Show one license: its terms, owner, every key it was issued (by serial) and its history."""
    from mercato.licenses.repository import LicenseRepository

    with unit_of_work() as (session, _):
        repository = LicenseRepository(session)
        owned = repository.owned(entitlement.strip())
        if owned is None:
            err_console.print(f"[red]No license {entitlement}[/red] in {database_in_use()}.")
            raise typer.Exit(1)
        keys = repository.keys_of(owned.license.id)
        history = repository.history(owned.license.id)
    license = owned.license
    key_rows = [
        {
            "serial": key.serial,
            "kid": key.kid,
            "issued_at": key.issued_at.isoformat(),
            "state": "revoked" if key.revoked_at else "superseded" if key.superseded_at else "current",
        }
        for key in sorted(keys, key=lambda key: key.issued_at)
    ]
    entries = [
        {
            "occurred_at": entry.occurred_at.isoformat(),
            "kind": entry.kind.value,
            "description": entry.description,
            "amount_minor": entry.amount_minor,
            "currency": entry.currency,
        }
        for entry in history
    ]
    if as_json:
        print_json(_license_json(owned) | {"keys": key_rows, "history": entries})
        return
    for label, value in (
        ("entitlement", license.entitlement_number),
        ("app", license.product_key),
        ("hosting", f"{license.hosting.value}, bound to {license.host_binding}"),
        ("channel", f"{license.channel.value}, signed by {license.issuer}"),
        ("customer", owned.organisation_slug or "nobody (a support key)"),
        ("host instance", str(license.host_instance_id) if license.host_instance_id else "—"),
        ("terms", f"{license.license_type.value}, {_tier_text(license.tier_users)} users"),
        ("status", license.status.value + (" (evaluation)" if license.evaluation else "")),
        ("maintenance end", license.maintenance_end.isoformat() if license.maintenance_end else "—"),
        ("term end", license.term_end.isoformat() if license.term_end else "—"),
    ):
        err_console.print(f"[bold]{label:>15}[/bold]  {value}", soft_wrap=True)
    keys_table = Table(title="Keys")
    keys_table.add_column("serial", no_wrap=True, min_width=32)  # what 'license revoke --serial' takes
    keys_table.add_column("state", no_wrap=True)
    keys_table.add_column("issued", no_wrap=True)
    keys_table.add_column("signing key", overflow="fold")
    for row in key_rows:
        keys_table.add_row(row["serial"], row["state"], row["issued_at"][:10], row["kid"])
    err_console.print(keys_table)
    history_table = Table(title="History")
    history_table.add_column("when (UTC)", no_wrap=True)
    history_table.add_column("what", no_wrap=True)
    history_table.add_column("description", overflow="fold")
    for entry in history:
        history_table.add_row(f"{entry.occurred_at:%Y-%m-%d %H:%M}", entry.kind.value, entry.description)
    err_console.print(history_table)


app.command("migrate")(migrate_licenses)

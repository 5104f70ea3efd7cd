"""``mercato license``: issue, check, re-issue and revoke license keys from the command line."""

from __future__ import annotations

import json
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from mercato.cli_support import (
    USAGE_ERROR,
    command_services,
    err_console,
    parse_date,
    require_secret,
    unit_of_work,
)
from mercato.clock import SystemClock
from mercato.keys.service import KeyService, load_trusted_keys
from mercato.licenses.service import IssueRequest, LicenseService
from mercato.licenses.validation import StaticTrustedKeys, ValidationService
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

app = typer.Typer(help="License keys: issue, check, re-issue and revoke.", no_args_is_help=True)


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
ServerIdOption = Annotated[str, typer.Option("--server-id", help="The host's server id (or cloud site).")]


@app.command()
def issue(
    app_key: AppOption,
    hosting: HostingOption,
    channel: Annotated[Channel, typer.Option("--channel")],
    tier: Annotated[str, typer.Option("--tier", help='Users, or "unlimited".')],
    license_type: Annotated[LicenseType, typer.Option("--type")],
    server_id: ServerIdOption,
    maintenance_end: Annotated[str | None, typer.Option("--maintenance-end", help="YYYY-MM-DD")] = None,
    term_end: Annotated[str | None, typer.Option("--term-end", help="YYYY-MM-DD")] = None,
    evaluation: Annotated[bool, typer.Option("--evaluation", help="A free 30-day evaluation key.")] = False,
    today: Annotated[str | None, typer.Option("--today", help="Issue as of this date (YYYY-MM-DD).")] = None,
) -> None:
    """Issue a license and print its key (support staff: replacement, community and evaluation keys).

    The key goes to standard output alone, so scripts can capture it; the license's details go to standard
    error. The seller of record signs: the operator for the marketplace, the app's vendor for direct."""
    request = IssueRequest(
        app_key=app_key,
        hosting=hosting.value,
        channel=channel.value,
        tier=parse_tier(tier),
        license_type=license_type.value,
        host_binding=server_id,
        maintenance_end=parse_date(maintenance_end),
        term_end=parse_date(term_end),
        evaluation=evaluation,
    )
    require_secret(get_settings())
    services = command_services(get_settings(), parse_date(today))
    with unit_of_work(services) as (session, services):
        issued = LicenseService(session, services).issue(request)
        license = issued.license
        err_console.print(
            f"Issued {license.entitlement_number}: {license.product_key} ({license.hosting}, {license.channel}, "
            f"{license.license_type}), signed by {license.issuer} with {issued.key.kid}"
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

"""``mercato vendors``: the operator's console for vendors: create, approve, suspend, reactivate, list, show,
their members and their direct store.

Commands run as the operator: no principal, only the business rules. Tables and sentences go to standard error;
``--json`` prints the answer alone on standard output, as the API would give it.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from mercato.catalog.models import Vendor
from mercato.catalog.vendors import ShareRate, VendorProfile, VendorService, sells_direct
from mercato.catalog.vendors_api import VendorOut, vendor_out
from mercato.cli_support import USAGE_ERROR, err_console, require_secret, unit_of_work
from mercato.settings import get_settings

app = typer.Typer(
    help="Vendors: create or approve them, their teams, revenue share and direct store.", no_args_is_help=True
)
members_app = typer.Typer(help="A vendor's team: list, add and remove members.", no_args_is_help=True)
direct_store_app = typer.Typer(help="Open or close a vendor's direct store.", no_args_is_help=True)
app.add_typer(members_app, name="members")
app.add_typer(direct_store_app, name="direct-store")

SlugArgument = Annotated[str, typer.Argument(help="The vendor's slug, e.g. example-mockups.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON on standard output.")]
NoteOption = Annotated[str, typer.Option("--note", help="Why; the vendor's members see it.")]


def _service(session: Any, services: Any) -> VendorService:
    return VendorService(session, services.secret_key, services.clock)


def _out(service: VendorService, vendor: Vendor) -> VendorOut:
    return vendor_out(vendor, list(service.agreement(vendor)))


def _echo_json(document: Any) -> None:
    typer.echo(json.dumps(document, indent=2, default=str))


def _share(text: str) -> ShareRate:
    """``server:2026-01-01:0.80`` → a rate of the agreement."""
    parts = text.split(":")
    if len(parts) != 3:
        raise typer.BadParameter(f"{text!r}: write HOSTING:YYYY-MM-DD:SHARE, like server:2026-01-01:0.80")
    hosting, day, share = parts
    try:
        effective_from = date.fromisoformat(day)
    except ValueError:
        raise typer.BadParameter(f"{day!r} is not a date: use YYYY-MM-DD") from None
    return ShareRate(hosting.strip(), effective_from, share.strip())


def _print_vendor(out: VendorOut) -> None:
    table = Table(show_header=False, title=f"Vendor {out.slug}")
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    rows = [
        ("id", str(out.id)),
        ("slug", out.slug),
        ("name", out.name),
        ("legal name", out.legal_name),
        ("e-mail", out.email),
        ("website", out.website or "—"),
        ("status", out.status + (f" ({out.status_note})" if out.status_note else "")),
        ("direct store", "on" if out.direct_store else "off"),
        (
            "payout",
            ", ".join(f"{k}: {v}" for k, v in out.payout_details.model_dump(exclude_none=True).items())
            if out.payout_details
            else "—",
        ),
        (
            "revenue share",
            "; ".join(f"{r.hosting} from {r.effective_from}: {r.vendor_share}" for r in out.revenue_share)
            or "the marketplace's standard rates",
        ),
    ]
    for name, value in rows:
        table.add_row(name, value)
    err_console.print(table)


@app.command("create")
def create(
    slug: Annotated[str, typer.Option("--slug", help="Short name for URLs and commands; never changes.")],
    name: Annotated[str, typer.Option("--name", help="The vendor's name.")],
    email: Annotated[str, typer.Option("--email", help="Where the marketplace writes to the vendor.")],
    legal_name: Annotated[
        str, typer.Option("--legal-name", help="Name on contracts (default: --name).")
    ] = "",
    website: Annotated[str | None, typer.Option("--website", help="https://…")] = None,
    member: Annotated[
        list[str] | None, typer.Option("--member", help="A member's e-mail; repeat for several.")
    ] = None,
    share: Annotated[
        list[str] | None,
        typer.Option("--share", help="HOSTING:YYYY-MM-DD:SHARE, e.g. server:2026-01-01:0.80; repeat."),
    ] = None,
    payout_method: Annotated[
        str | None, typer.Option("--payout-method", help="bank_transfer or paypal.")
    ] = None,
    account_holder: Annotated[str | None, typer.Option("--account-holder")] = None,
    iban: Annotated[str | None, typer.Option("--iban")] = None,
    bic: Annotated[str | None, typer.Option("--bic")] = None,
    account_email: Annotated[str | None, typer.Option("--account-email", help="For paypal.")] = None,
    payout_currency: Annotated[str | None, typer.Option("--payout-currency", help="e.g. EUR.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Create an active vendor with its first members, payout details and agreement. Prints its id (or the
    vendor as JSON)."""
    rates = [_share(s) for s in share or []]
    payout = {
        key: value
        for key, value in {
            "method": payout_method,
            "account_holder": account_holder,
            "iban": iban,
            "bic": bic,
            "account_email": account_email,
            "currency": payout_currency,
        }.items()
        if value is not None
    }
    with unit_of_work() as (session, services):
        service = _service(session, services)
        vendor = service.create(
            slug,
            VendorProfile(name, email, legal_name, website, payout or None),
            members=member or [],
            agreement=rates,
        )
        out = _out(service, vendor)
    err_console.print(f"Created vendor {out.name} ({out.slug}), active.")
    if as_json:
        _echo_json(out.model_dump(mode="json"))
    else:
        typer.echo(str(out.id))


def _status_command(action: str, done: str) -> None:
    def change(slug: SlugArgument, note: NoteOption = "", as_json: JsonOption = False) -> None:
        with unit_of_work() as (session, services):
            service = _service(session, services)
            vendor = service.vendor(slug)
            getattr(service, action)(vendor, note)
            out = _out(service, vendor)
        err_console.print(f"{out.name} ({out.slug}) is {out.status}{done}.")
        if as_json:
            _echo_json(out.model_dump(mode="json"))

    change.__doc__ = {
        "approve": "Approve a pending vendor: its apps may then be listed and sold.",
        "suspend": "Stop a vendor's new sales (or turn down its application); sold licenses keep working.",
        "reactivate": "Let a suspended vendor sell again.",
    }[action]
    app.command(action)(change)


_status_command("approve", ": its apps may be sold")
_status_command("suspend", ": nothing new of it is sold; its licenses keep working")
_status_command("reactivate", ": its apps may be sold again")


@app.command("list")
def list_vendors(
    status: Annotated[
        str | None, typer.Option("--status", help="Only pending, active or suspended vendors.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Every vendor by slug, with its id, status and direct store."""
    if status is not None and status not in ("pending", "active", "suspended"):
        err_console.print(f"{status!r} is not a status: use pending, active or suspended.")
        raise typer.Exit(USAGE_ERROR)
    with unit_of_work() as (session, services):
        service = _service(session, services)
        found = service.vendors(status=status)
        vendors, total = found.rows, found.total
        outs = [_out(service, v) for v in vendors]
    if as_json:
        _echo_json([o.model_dump(mode="json") for o in outs])
        return
    if not total:
        err_console.print("No vendors" + (f" are {status}." if status else " yet: mercato vendors create."))
        return
    table = Table(title=f"{total} vendor(s)", box=box.SIMPLE_HEAD, pad_edge=False)
    # The slug is what the other commands take, and the id what scripts keep: neither is ever cut short.
    table.add_column("slug", no_wrap=True, min_width=max(len(o.slug) for o in outs))
    table.add_column("id", no_wrap=True, min_width=36)
    table.add_column("status", no_wrap=True, min_width=9)
    table.add_column("direct", no_wrap=True, min_width=6)
    table.add_column("name", overflow="fold", min_width=10)
    for out in outs:
        table.add_row(
            out.slug,
            str(out.id),
            out.status,
            "on" if out.direct_store else "off",
            out.name,
        )
    err_console.print(table, soft_wrap=True)


@app.command("show")
def show(slug: SlugArgument, as_json: JsonOption = False) -> None:
    """One vendor: profile, status, payout details, agreement and direct store."""
    with unit_of_work() as (session, services):
        service = _service(session, services)
        out = _out(service, service.vendor(slug))
    if as_json:
        _echo_json(out.model_dump(mode="json"))
    else:
        _print_vendor(out)


@members_app.command("list")
def list_members(slug: SlugArgument, as_json: JsonOption = False) -> None:
    """The vendor's team by e-mail."""
    with unit_of_work() as (session, services):
        service = _service(session, services)
        members = service.members(service.vendor(slug))
        rows = [
            {"email": m.user.email, "name": m.user.name, "since": m.membership.created_at.isoformat()}
            for m in members
        ]
    if as_json:
        _echo_json(rows)
        return
    table = Table(title=f"Members of {slug}")
    table.add_column("e-mail", no_wrap=True)
    table.add_column("name")
    table.add_column("since")
    for row in rows:
        table.add_row(row["email"], row["name"], row["since"][:10])
    err_console.print(table if rows else f"{slug} has no members.")


@members_app.command("add")
def add_member(
    slug: SlugArgument,
    email: Annotated[str, typer.Argument(help="The person's e-mail.")],
    name: Annotated[str | None, typer.Option("--name", help="Used if the e-mail is new.")] = None,
) -> None:
    """Add someone to the vendor's team (a password-less account if the e-mail is new; again: no change)."""
    with unit_of_work() as (session, services):
        service = _service(session, services)
        vendor = service.vendor(slug)
        member, added = service.add_member(vendor, email, name)
        address = member.user.email
    err_console.print(
        f"{address} is now a member of {slug}." if added else f"{address} was a member of {slug} already."
    )


@members_app.command("remove")
def remove_member(
    slug: SlugArgument, email: Annotated[str, typer.Argument(help="The member's e-mail.")]
) -> None:
    """Take someone off the vendor's team (the last member stays)."""
    with unit_of_work() as (session, services):
        service = _service(session, services)
        removed = service.remove_member(service.vendor(slug), email)
    address = email.strip().lower()
    err_console.print(
        f"{address} is no longer a member of {slug}." if removed else f"{address} was not a member of {slug}."
    )


def _direct_store(slug: str, enabled: bool, as_json: bool) -> None:
    with unit_of_work() as (session, services):
        service = _service(session, services)
        store = service.set_direct_store(service.vendor(slug), enabled)
        vendor = store.vendor
        document = {
            "vendor": vendor.slug,
            "direct_store": vendor.direct_store,
            "selling_direct": sells_direct(vendor),
            "issuer": f"vendor:{vendor.slug}",
            "signing_kid": store.signing_kid,
            "invoice_prefix": store.invoice_prefix,
        }
    if enabled:
        err_console.print(
            f"The direct store of {slug} is open: keys signed by {document['signing_kid']}, "
            f"invoices numbered {document['invoice_prefix']}-YYYY-NNNNNN."
        )
    else:
        err_console.print(f"The direct store of {slug} is closed; licenses it sold keep working.")
    if as_json:
        _echo_json(document)


@direct_store_app.command("on")
def direct_store_on(slug: SlugArgument, as_json: JsonOption = False) -> None:
    """Open the direct store: the vendor's signing key ring and invoice series are made if missing."""
    require_secret(get_settings())
    _direct_store(slug, True, as_json)


@direct_store_app.command("off")
def direct_store_off(slug: SlugArgument, as_json: JsonOption = False) -> None:
    """Close the direct store: no new direct sales; licenses sold keep validating and renewing."""
    _direct_store(slug, False, as_json)

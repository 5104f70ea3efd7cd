"""``mercato users``, ``mercato customers`` and ``mercato tokens``: accounts from the operator's console.

Commands run as the operator: no principal, only the business rules. Sentences go to standard error; the one
thing a script wants (an id, a token) goes to standard output alone.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from mercato.accounts.api_tokens import TokenService, token_state
from mercato.accounts.demo import load_demo_accounts
from mercato.accounts.models import Organisation, Role, User
from mercato.accounts.repository import MembershipTarget
from mercato.accounts.service import AccountService
from mercato.cli_support import (
    err_console,
    id_column,
    nothing_found,
    print_json,
    unit_of_work,
)
from mercato.clock import SystemClock
from mercato.paging import PageRequest

users = typer.Typer(
    help="People who sign in: operator staff, customer admins and billing contacts, vendors.",
    no_args_is_help=True,
)
customers = typer.Typer(help="Customer organisations.", no_args_is_help=True)
tokens = typer.Typer(help="API tokens: create (shown once), list and revoke.", no_args_is_help=True)

EmailOption = Annotated[str, typer.Option("--email", help="The user's e-mail address.")]
EmailArgument = Annotated[str, typer.Argument(metavar="EMAIL", help="The user's e-mail address.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")]
LimitOption = Annotated[int, typer.Option("--limit", min=1, max=1000, help="At most this many.")]
OffsetOption = Annotated[int, typer.Option("--offset", min=0, help="Skip this many first.")]
OrganisationsOption = Annotated[
    list[str] | None, typer.Option(metavar="ORG_SLUG", help="Repeat for several organisations.")
]


def load_and_print_demo_accounts(session: Session) -> None:
    """Load the demo accounts and print their public demo tokens (for ``mercato demo``)."""
    demo_tokens = load_demo_accounts(session)
    table = Table(
        "demo token",
        "user",
        "role",
        title="Demo accounts",
        caption="These tokens are public: use them to try the API, never in a real deployment.",
    )
    for demo in demo_tokens:
        table.add_row(demo.token + (" (revoked)" if demo.revoked else ""), demo.email, demo.role)
    err_console.print(table)


def _grant_roles(
    service: AccountService,
    email: str,
    *,
    operator: bool,
    customer_admin: list[str] | None,
    billing_contact: list[str] | None,
    vendor: list[str] | None,
) -> list[str]:
    user = service.user_by_email(email)
    granted = []
    if operator:
        service.grant(user, Role.OPERATOR_ADMIN)
        granted.append("operator admin")
    for role, slugs in ((Role.CUSTOMER_ADMIN, customer_admin), (Role.BILLING_CONTACT, billing_contact)):
        for slug in slugs or []:
            organisation = service.organisation(slug)
            service.grant(user, role, organisation=organisation)
            granted.append(f"{role.value.replace('_', ' ')} of {organisation.name}")
    for slug in vendor or []:
        vendor_row = service.vendor(slug)
        service.grant(user, Role.VENDOR_MEMBER, vendor=vendor_row)
        granted.append(f"member of {vendor_row.name}")
    return granted


@users.command("create")
def create_user(
    email: EmailOption,
    name: Annotated[str, typer.Option("--name", help="The person's name.")],
    password_prompt: Annotated[
        bool, typer.Option("--password-prompt", help="Ask for a password (otherwise: API tokens only).")
    ] = False,
    operator: Annotated[bool, typer.Option("--operator", help="Make the user operator staff.")] = False,
    customer_admin: OrganisationsOption = None,
    billing_contact: OrganisationsOption = None,
    vendor: Annotated[
        list[str] | None,
        typer.Option(metavar="VENDOR_SLUG", help="Make the user a member of this vendor's team."),
    ] = None,
) -> None:
    """Create a user, optionally with a password and roles. Prints the user's id."""
    password = (
        typer.prompt("Password", hide_input=True, confirmation_prompt=True) if password_prompt else None
    )
    with unit_of_work() as (session, _):
        service = AccountService(session)
        user = service.create_user(email, name, password)
        granted = _grant_roles(
            service,
            user.email,
            operator=operator,
            customer_admin=customer_admin,
            billing_contact=billing_contact,
            vendor=vendor,
        )
        roles = f" as {', '.join(granted)}" if granted else " with no roles yet"
        sign_in = "a password" if password is not None else "API tokens only"
        err_console.print(f"Created {user.name} <{user.email}>{roles}; signs in with {sign_in}.")
        typer.echo(str(user.id))


@users.command("grant")
def grant_roles(
    email: EmailOption,
    operator: Annotated[bool, typer.Option("--operator", help="Make the user operator staff.")] = False,
    customer_admin: OrganisationsOption = None,
    billing_contact: OrganisationsOption = None,
    vendor: Annotated[
        list[str] | None,
        typer.Option(metavar="VENDOR_SLUG", help="Make the user a member of this vendor's team."),
    ] = None,
) -> None:
    """Give an existing user more roles."""
    with unit_of_work() as (session, _):
        granted = _grant_roles(
            AccountService(session),
            email,
            operator=operator,
            customer_admin=customer_admin,
            billing_contact=billing_contact,
            vendor=vendor,
        )
        if not granted:
            err_console.print(
                "No role given: use --operator, --customer-admin, --billing-contact or --vendor."
            )
            raise typer.Exit(2)
        err_console.print(f"{email.strip().lower()} is now {', '.join(granted)}.")


@customers.command("create")
def create_customer(
    slug: Annotated[str, typer.Option("--slug", help="Short name for URLs and commands, e.g. acme.")],
    name: Annotated[str, typer.Option("--name", help="The organisation's name.")],
    billing_email: Annotated[str, typer.Option("--billing-email", help="Where invoices go.")],
    country: Annotated[str | None, typer.Option("--country", help="ISO 3166 alpha-2 code, e.g. US.")] = None,
) -> None:
    """Create a customer organisation. Prints its id; add people with 'mercato users create --customer-admin'."""
    with unit_of_work() as (session, _):
        organisation = AccountService(session).create_organisation(slug, name, billing_email, country)
        err_console.print(f"Created customer {organisation.name} ({organisation.slug}).")
        typer.echo(str(organisation.id))


@tokens.command("create")
def create_token(
    email: EmailOption,
    scope: Annotated[
        list[str] | None, typer.Option("--scope", help="read or write; repeat for both. Default: read.")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="What the token is for.")] = None,
    expires_days: Annotated[
        int | None, typer.Option("--expires-days", help="Days until it stops working (default: never).")
    ] = None,
) -> None:
    """Create an API token and print it alone on standard output. It is shown this once: only its hash is kept."""
    with unit_of_work() as (session, services):
        service = TokenService(session, services.clock)
        user = service.accounts.user_by_email(email)
        created = service.create(user, scopes=scope or ["read"], name=name, expires_in_days=expires_days)
        record = created.record
        expiry = f"expires {record.expires_at:%Y-%m-%d}" if record.expires_at else "does not expire"
        err_console.print(
            f"Token {record.prefix}… for {user.email}: {', '.join(record.scopes)}; {expiry}. "
            "Store it now: it cannot be shown again."
        )
        typer.echo(created.token)


@tokens.command("list")
def list_tokens(
    email: EmailOption,
    include_revoked: Annotated[
        bool, typer.Option("--include-revoked", help="Also show revoked tokens.")
    ] = False,
) -> None:
    """Show a user's tokens by prefix (the tokens themselves are never stored)."""
    with unit_of_work() as (session, _):
        service = TokenService(session)
        user = service.accounts.user_by_email(email)
        found = service.tokens_of(user.id, include_revoked=include_revoked, page=PageRequest(1000))
        rows, total = found.rows, found.total or 0
        table = Table()
        # The prefix is what 'mercato tokens revoke' takes: it must never be cut short.
        table.add_column("prefix", no_wrap=True, min_width=16)
        for heading in ("name", "scopes", "state", "expires", "last used"):
            table.add_column(heading)
        for row in rows:
            table.add_row(
                row.prefix,
                row.name,
                ", ".join(row.scopes),
                token_state(row),
                f"{row.expires_at:%Y-%m-%d}" if row.expires_at else "never",
                f"{row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "never",
            )
        if total:
            err_console.print(table)
        else:
            nothing_found(f"{user.email} has no tokens")


@tokens.command("revoke")
def revoke_token(
    prefix: Annotated[
        str, typer.Argument(help="The prefix 'mercato tokens list' shows, or the whole token.")
    ],
) -> None:
    """Revoke a token for good: requests with it are refused from now on."""
    with unit_of_work() as (session, services):
        record = TokenService(session, services.clock).revoke(prefix)
        err_console.print(f"Revoked token {record.prefix} ({record.name}).")


# -- looking people and customers up -----------------------------------------------------------------------


def _role_text(target: MembershipTarget) -> str:
    role = target.membership.role
    if target.organisation is not None:
        return f"{role.value} of {target.organisation.slug}"
    if target.vendor is not None:
        return f"{role.value} of vendor {target.vendor.slug}"
    return role.value


def _user_json(user: User, roles: list[MembershipTarget]) -> dict[str, object]:
    return {
        "id": str(user.id),
        "email": user.email,
        "name": user.name,
        "active": user.active,
        "signs_in_with": "password" if user.password_hash else "tokens only",
        "roles": [
            {
                "role": target.membership.role.value,
                "organisation": target.organisation.slug if target.organisation else None,
                "vendor": target.vendor.slug if target.vendor else None,
            }
            for target in roles
        ],
        "created_at": user.created_at.isoformat(),
    }


@users.command("list")
def list_users(
    search: Annotated[
        str | None, typer.Option("--search", help="Only users whose e-mail or name holds this text.")
    ] = None,
    role: Annotated[Role | None, typer.Option("--role", help="Only users who hold this role.")] = None,
    limit: LimitOption = 100,
    offset: OffsetOption = 0,
    as_json: JsonOption = False,
) -> None:
    """List users by e-mail, with their roles and whether they may sign in."""
    with unit_of_work() as (session, _):
        service = AccountService(session)
        found, total = service.repository.list_users(
            text=search, role=role.value if role else None, limit=limit, offset=offset
        )
        roles = service.repository.memberships_of_users([user.id for user in found])
    if as_json:
        items = [_user_json(user, roles[user.id]) for user in found]
        print_json({"items": items, "total": total, "limit": limit, "offset": offset})
        return
    if not found:
        nothing_found("No users" + (" match" if search or role else ""))
        return
    table = Table()
    table.add_column("e-mail", no_wrap=True)
    table.add_column("name")
    table.add_column("state", no_wrap=True)
    table.add_column("roles", overflow="fold")
    for user in found:
        table.add_row(
            user.email,
            user.name,
            "active" if user.active else "[red]disabled[/red]",
            ", ".join(_role_text(target) for target in roles[user.id]) or "none",
        )
    err_console.print(table)
    shown = f"{offset + 1}–{offset + len(found)} of {total}" if len(found) < total else str(total)
    err_console.print(f"{shown} user(s). `mercato users show EMAIL` tells more.")


@users.command("show")
def show_user(email: EmailArgument, as_json: JsonOption = False) -> None:
    """Show one user: id, state, how they sign in, roles and API tokens."""
    with unit_of_work() as (session, _):
        service = AccountService(session)
        user = service.user_by_email(email)
        roles = list(service.memberships_of(user.id))
        listed = TokenService(session).tokens_of(user.id, include_revoked=False, page=PageRequest(1000))
        user_tokens, token_count = listed.rows, listed.total
        states = [token_state(token) for token in user_tokens]
    if as_json:
        document = _user_json(user, roles)
        document["active_tokens"] = states.count("active")
        print_json(document)
        return
    lines = [
        ("id", str(user.id)),
        ("e-mail", user.email),
        ("name", user.name),
        ("state", "active" if user.active else "disabled: cannot sign in"),
        ("signs in with", "a password" if user.password_hash else "API tokens only"),
        ("roles", ", ".join(_role_text(target) for target in roles) or "none"),
        ("API tokens", f"{states.count('active')} active of {token_count} not revoked"),
        ("created", f"{user.created_at:%Y-%m-%d %H:%M} UTC"),
    ]
    for label, value in lines:
        err_console.print(f"[bold]{label:>14}[/bold]  {value}", soft_wrap=True)


@users.command("set-password")
def set_password(email: EmailArgument) -> None:
    """Set a user's password (asked twice, never shown). The user's open browser sessions are ended."""
    with unit_of_work() as (session, _):
        AccountService(session).user_by_email(email)  # say so before asking, if there is no such user
    # Asked outside any transaction: on SQLite an open one would hold the write lock while the operator types.
    password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    with unit_of_work() as (session, _):
        service = AccountService(session)
        user = service.user_by_email(email)
        service.set_password(user, password)
        ended = service.repository.end_web_sessions(user.id, SystemClock().now())
        state = "" if user.active else " (the user is disabled: `mercato users enable` lets them sign in)"
        err_console.print(f"Password of {user.email} set; {ended} browser session(s) ended{state}.")


@users.command("disable")
def disable_user(email: EmailArgument) -> None:
    """Stop a user signing in: password, API tokens and browser sessions are refused from now on. Their
    history stays; `mercato users enable` undoes it."""
    with unit_of_work() as (session, _):
        service = AccountService(session)
        user = service.user_by_email(email)
        if not user.active:
            err_console.print(f"{user.email} is already disabled; nothing changed.")
            return
        ended = service.disable(user, SystemClock().now())
        err_console.print(
            f"Disabled {user.email}: {ended} browser session(s) ended; API tokens and sign-in are refused."
        )


@users.command("enable")
def enable_user(email: EmailArgument) -> None:
    """Let a disabled user sign in again (with the tokens they had)."""
    with unit_of_work() as (session, _):
        service = AccountService(session)
        user = service.user_by_email(email)
        was_active = user.active
        service.enable(user)
        err_console.print(f"{user.email} is {'already' if was_active else 'now'} active.")


def _customer_json(organisation: Organisation) -> dict[str, object]:
    return {
        "id": str(organisation.id),
        "slug": organisation.slug,
        "name": organisation.name,
        "billing_email": organisation.billing_email,
        "country": organisation.country,
        "created_at": organisation.created_at.isoformat(),
    }


@customers.command("list")
def list_customers(
    search: Annotated[
        str | None, typer.Option("--search", help="Only customers whose slug or name holds this text.")
    ] = None,
    limit: LimitOption = 100,
    offset: OffsetOption = 0,
    as_json: JsonOption = False,
) -> None:
    """List customer organisations by slug."""
    with unit_of_work() as (session, _):
        listed = AccountService(session).repository.list_organisations(
            only=None, text=search, page=PageRequest(limit, offset)
        )
        found, total = listed.rows, listed.total or 0
    if as_json:
        items = [_customer_json(organisation) for organisation in found]
        print_json({"items": items, "total": total, "limit": limit, "offset": offset})
        return
    if not found:
        nothing_found("No customers" + (" match" if search else ""))
        return
    table = Table()
    table.add_column("slug", no_wrap=True)
    table.add_column("name")
    table.add_column("billing e-mail", overflow="fold")
    table.add_column("country", no_wrap=True)
    id_column(table)
    for organisation in found:
        table.add_row(
            organisation.slug,
            organisation.name,
            organisation.billing_email,
            organisation.country or "",
            str(organisation.id),
        )
    err_console.print(table)
    shown = f"{offset + 1}–{offset + len(found)} of {total}" if len(found) < total else str(total)
    err_console.print(f"{shown} customer(s). `mercato customers show SLUG` tells more.")


@customers.command("show")
def show_customer(
    customer: Annotated[str, typer.Argument(metavar="SLUG_OR_ID", help="The customer's slug or id.")],
    as_json: JsonOption = False,
) -> None:
    """Show one customer: its details, people and host instances (with the ids licenses are issued for)."""
    with unit_of_work() as (session, _):
        service = AccountService(session)
        organisation = service.organisation(customer)
        members = service.repository.members_of(organisation.id, PageRequest(1000)).rows
        hosts = service.repository.host_instances_of(organisation.id, page=PageRequest(1000)).rows
    if as_json:
        document = _customer_json(organisation)
        document["members"] = [
            {"email": member.user.email, "role": member.membership.role.value} for member in members
        ]
        document["host_instances"] = [
            {
                "id": str(host.instance.id),
                "host_product": host.host_product_key,
                "hosting": host.instance.hosting.value,
                "server_id": host.instance.server_id,
            }
            for host in hosts
        ]
        print_json(document)
        return
    for label, value in (
        ("id", str(organisation.id)),
        ("slug", organisation.slug),
        ("name", organisation.name),
        ("billing e-mail", organisation.billing_email),
        ("country", organisation.country or "—"),
        ("created", f"{organisation.created_at:%Y-%m-%d %H:%M} UTC"),
    ):
        err_console.print(f"[bold]{label:>14}[/bold]  {value}", soft_wrap=True)
    people = Table(title="People")
    people.add_column("e-mail", no_wrap=True)
    people.add_column("role", no_wrap=True)
    for member in members:
        people.add_row(member.user.email, member.membership.role.value)
    err_console.print(people if members else "No people yet: mercato users create --customer-admin SLUG …")
    instances = Table(title="Host instances")
    id_column(instances)
    for heading in ("host product", "hosting"):
        instances.add_column(heading, overflow="fold")
    instances.add_column("server id", no_wrap=True)  # what --server-id takes
    for host in hosts:
        instances.add_row(
            str(host.instance.id), host.host_product_key, host.instance.hosting.value, host.instance.server_id
        )
    err_console.print(instances if hosts else "No host instances yet.")

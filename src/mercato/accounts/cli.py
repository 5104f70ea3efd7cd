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
from mercato.accounts.models import Role
from mercato.accounts.service import AccountService
from mercato.cli_support import err_console, unit_of_work

users = typer.Typer(
    help="People who sign in: operator staff, customer admins and billing contacts, vendors.",
    no_args_is_help=True,
)
customers = typer.Typer(help="Customer organisations.", no_args_is_help=True)
tokens = typer.Typer(help="API tokens: create (shown once), list and revoke.", no_args_is_help=True)

EmailOption = Annotated[str, typer.Option("--email", help="The user's e-mail address.")]
OrganisationsOption = Annotated[
    list[str] | None, typer.Option(metavar="ORG_SLUG", help="Repeat for several organisations.")
]


def register(app: typer.Typer) -> None:
    """Add the accounts commands to the ``mercato`` command."""
    app.add_typer(users, name="users")
    app.add_typer(customers, name="customers")
    app.add_typer(tokens, name="tokens")


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
    with unit_of_work() as (session, _):
        service = TokenService(session)
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
        rows, total = service.tokens_of(user.id, include_revoked=include_revoked, limit=1000)
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
        err_console.print(table if total else f"{user.email} has no tokens.")


@tokens.command("revoke")
def revoke_token(
    prefix: Annotated[
        str, typer.Argument(help="The prefix 'mercato tokens list' shows, or the whole token.")
    ],
) -> None:
    """Revoke a token for good: requests with it are refused from now on."""
    with unit_of_work() as (session, _):
        record = TokenService(session).revoke(prefix)
        err_console.print(f"Revoked token {record.prefix} ({record.name}).")

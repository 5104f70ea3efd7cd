"""Demo accounts for the demo catalog: Northwind's operator staff, two customers with their hosts, and a
member of the Example Mockups team, each with a fixed API token so the docs' curl examples work as written.

The fixed tokens are public (they are printed here and in docs/accounts.md). They exist only in demo data;
real tokens come from ``TokenService.create`` and are random. Never load demo data into a deployment that
others can reach.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache

from sqlalchemy.orm import Session

from mercato.accounts.host_instances import HostInstanceService, HostInstanceTerms
from mercato.accounts.models import ApiToken, Organisation, Role, User
from mercato.accounts.passwords import hash_password
from mercato.accounts.service import AccountService
from mercato.accounts.tokens import hash_token

DEMO_PASSWORD = "mercato-demo-password"
"""Every demo user signs in to the pages with this public password (demo data only, like the tokens)."""

# Longer than the usual display prefix (``mct_`` + 8) so that the demo tokens' prefixes stay unique.
_DEMO_PREFIX_LENGTH = 16


@dataclass(frozen=True)
class DemoToken:
    token: str
    email: str
    role: str
    revoked: bool  # someone revoked it; loading the demo again does not bring it back


@dataclass(frozen=True)
class _Person:
    email: str
    name: str
    role: Role
    token: str
    organisation: str | None = None
    vendor: str | None = None


CUSTOMERS = [
    ("acme", "Acme Corp", "billing@acme.example", "US"),
    ("globex", "Globex", "accounts@globex.example", "DE"),
]

PEOPLE = [
    _Person("ops@northwind.example", "Northwind Operations", Role.OPERATOR_ADMIN, "mct_demo_operator"),
    _Person(
        "admin@acme.example", "Ada Acme", Role.CUSTOMER_ADMIN, "mct_demo_acme_admin", organisation="acme"
    ),
    _Person(
        "billing@acme.example",
        "Bill Acme",
        Role.BILLING_CONTACT,
        "mct_demo_acme_billing",
        organisation="acme",
    ),
    _Person(
        "admin@globex.example",
        "Gloria Globex",
        Role.CUSTOMER_ADMIN,
        "mct_demo_globex_admin",
        organisation="globex",
    ),
    _Person(
        "dev@mockups.example",
        "Dev Mockups",
        Role.VENDOR_MEMBER,
        "mct_demo_mockups_vendor",
        vendor="example-mockups",
    ),
]

# (organisation, host product, hosting, server id or site, terms)
HOSTS: list[tuple[str, str, str, str, HostInstanceTerms]] = [
    (
        "acme",
        "wiki",
        "server",
        "BX7Q-2M9L-33KD-W1PA",
        HostInstanceTerms(name="Acme wiki", user_tier=100, host_maintenance_end=date(2027, 6, 30)),
    ),
    (
        "acme",
        "tracker",
        "server",
        "TR4K-8P2N-55ZX-Q9VE",
        HostInstanceTerms(name="Acme tracker", user_tier=50, host_maintenance_end=date(2027, 3, 31)),
    ),
    (
        "acme",
        "wiki",
        "cloud",
        "acme.wiki.example",
        HostInstanceTerms(
            name="Acme cloud wiki",
            cloud_users=40,
            billing_cycle="monthly",
            next_billing_date=date(2026, 12, 15),
        ),
    ),
    (
        "globex",
        "wiki",
        "server",
        "GX5M-7T3R-90QD-K2ZB",
        HostInstanceTerms(name="Globex wiki", user_tier=250, host_maintenance_end=date(2027, 9, 30)),
    ),
]


def load_demo_accounts(session: Session) -> list[DemoToken]:
    """Create whatever of the demo accounts is missing (safe to run again) and return the demo tokens.

    Needs the demo catalog: the wiki and tracker host products and the example-mockups vendor.
    """
    accounts = AccountService(session)
    hosts = HostInstanceService(session)
    organisations: dict[str, Organisation] = {}
    for slug, name, billing_email, country in CUSTOMERS:
        existing = accounts.repository.organisation_by_slug(slug)
        organisations[slug] = existing or accounts.create_organisation(slug, name, billing_email, country)

    tokens = []
    for person in PEOPLE:
        user, _ = accounts.find_or_create_user(person.email, person.name)
        if user.password_hash is None:
            user.password_hash = _demo_password_hash()
        organisation = organisations[person.organisation] if person.organisation else None
        vendor = accounts.vendor(person.vendor) if person.vendor else None
        if not accounts.holds(user, person.role, organisation=organisation, vendor=vendor):
            accounts.grant(user, person.role, organisation=organisation, vendor=vendor)
        record = _ensure_demo_token(accounts, user, person.token)
        tokens.append(DemoToken(person.token, person.email, person.role.value, record.revoked_at is not None))

    for slug, host_key, hosting, server_id, terms in HOSTS:
        host = accounts.catalog.host_product_by_key(host_key)
        assert host is not None, "the demo accounts need the demo catalog"
        if hosts.repository.host_instance_bound_to(host.id, hosting, server_id) is None:
            hosts.register(organisations[slug], host_key, hosting, server_id, terms)
    return tokens


@cache
def _demo_password_hash() -> str:
    # Hashed once per process: argon2 is slow on purpose, and the demo password is public anyway.
    return hash_password(DEMO_PASSWORD)


def _ensure_demo_token(accounts: AccountService, user: User, token: str) -> ApiToken:
    existing = accounts.repository.token_by_hash(hash_token(token))
    if existing is not None:
        return existing
    record = ApiToken(
        user_id=user.id,
        name="Demo token (public)",
        prefix=token[:_DEMO_PREFIX_LENGTH],
        token_hash=hash_token(token),
        scopes=["read", "write"],
    )
    accounts.repository.add(record)
    return record

"""A small customer world for commerce tests: organisations, host instances, people with roles, and tokens."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from mercato.accounts.models import ApiToken, HostInstance, Membership, Organisation, Role, User
from mercato.accounts.tokens import new_token
from mercato.catalog.models import HostProduct, Vendor

ROLES = ("operator", "acme_admin", "acme_billing", "globex_admin", "mockups_vendor", "acme_read_only")


@dataclass
class World:
    acme: Organisation
    globex: Organisation
    wiki_server: HostInstance
    wiki_cloud: HostInstance
    globex_wiki: HostInstance
    tokens: dict[str, str] = field(default_factory=dict)
    wiki_lab: HostInstance | None = None  # made on demand: add_second_wiki_server
    wiki_staging: HostInstance | None = None  # made on demand: add_wiki_server(..., "wiki_staging")

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def build_world(session: Session) -> World:
    """Acme (wiki server with 100 users and a wiki cloud site with 40 users), Globex (a wiki server), and one
    person per role, each with a read+write token (and one read-only token for Acme's admin)."""
    wiki = session.scalars(select(HostProduct).where(HostProduct.key == "wiki")).one()
    mockups = session.scalars(select(Vendor).where(Vendor.slug == "example-mockups")).one()
    acme = Organisation(
        slug="acme-test", name="Acme Corp", billing_email="billing@acme.example", country="DE"
    )
    globex = Organisation(slug="globex-test", name="Globex", billing_email="ap@globex.example", country="US")
    session.add_all([acme, globex])
    session.flush()
    wiki_server = HostInstance(
        organisation_id=acme.id,
        host_product_id=wiki.id,
        hosting="server",
        server_id="ACME-WIKI-0001",
        name="Acme wiki",
        host_license_type="commercial",
        user_tier=100,
        host_maintenance_end=date(2028, 3, 31),
    )
    wiki_cloud = HostInstance(
        organisation_id=acme.id,
        host_product_id=wiki.id,
        hosting="cloud",
        server_id="acme-test.wiki.example",
        name="Acme cloud wiki",
        host_license_type="commercial",
        cloud_users=40,
        billing_cycle="monthly",
        next_billing_date=date(2026, 12, 10),
    )
    globex_wiki = HostInstance(
        organisation_id=globex.id,
        host_product_id=wiki.id,
        hosting="server",
        server_id="GLOBEX-WIKI-1",
        name="Globex wiki",
        host_license_type="commercial",
        user_tier=250,
    )
    session.add_all([wiki_server, wiki_cloud, globex_wiki])
    world = World(acme, globex, wiki_server, wiki_cloud, globex_wiki)
    people = {
        "operator": (Role.OPERATOR_ADMIN, None, None),
        "acme_admin": (Role.CUSTOMER_ADMIN, acme.id, None),
        "acme_billing": (Role.BILLING_CONTACT, acme.id, None),
        "globex_admin": (Role.CUSTOMER_ADMIN, globex.id, None),
        "mockups_vendor": (Role.VENDOR_MEMBER, None, mockups.id),
    }
    for name, (role, organisation_id, vendor_id) in people.items():
        user = User(email=f"{name}@test.example", name=name)
        session.add(user)
        session.flush()
        session.add(
            Membership(user_id=user.id, role=role, organisation_id=organisation_id, vendor_id=vendor_id)
        )
        world.tokens[name] = _token(session, user, ["read", "write"])
        if name == "acme_admin":
            world.tokens["acme_read_only"] = _token(session, user, ["read"])
    session.flush()
    return world


def _token(session: Session, user: User, scopes: list[str]) -> str:
    token, prefix, token_hash = new_token()
    session.add(ApiToken(user_id=user.id, name="test", prefix=prefix, token_hash=token_hash, scopes=scopes))
    return token


def add_second_wiki_server(session: Session, world: World) -> HostInstance:
    """Acme's second wiki server (a lab), for a test that needs the same app on two hosts: an app is licensed
    once per host instance, so the second license of a test needs a host of its own."""
    return add_wiki_server(session, world, "wiki_lab")


def add_wiki_server(session: Session, world: World, attribute: str) -> HostInstance:
    """Another 100-user wiki server of Acme's, kept as ``world.<attribute>`` (``wiki_lab``, ``wiki_staging``)."""
    name = attribute.removeprefix("wiki_")
    instance = HostInstance(
        organisation_id=world.acme.id,
        host_product_id=world.wiki_server.host_product_id,
        hosting="server",
        server_id=f"ACME-WIKI-{name.upper()}",
        name=f"Acme {name} wiki",
        host_license_type="commercial",
        user_tier=100,
        host_maintenance_end=date(2028, 3, 31),
    )
    session.add(instance)
    session.flush()
    setattr(world, attribute, instance)
    return instance

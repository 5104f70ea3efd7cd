"""The demo accounts as the accounts tests' world: Northwind's operator, Acme (admin, billing contact, three
hosts), Globex (admin, one host) and a member of the Example Mockups team, each with their demo token."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mercato.accounts.access import Principal
from mercato.accounts.api_tokens import TokenService
from mercato.accounts.demo import load_demo_accounts
from mercato.accounts.host_instances import HostInstanceService
from mercato.accounts.models import Membership
from mercato.accounts.service import AccountService
from mercato.paging import PageRequest

TOKENS = {
    "operator": "mct_demo_operator",
    "acme_admin": "mct_demo_acme_admin",
    "acme_billing": "mct_demo_acme_billing",
    "globex_admin": "mct_demo_globex_admin",
    "mockups_vendor": "mct_demo_mockups_vendor",
}


def principal(session: Session, email: str, scopes: tuple[str, ...] = ("read", "write")) -> Principal:
    """The principal of a user as a token with ``scopes`` would make it."""
    user = AccountService(session).user_by_email(email)
    memberships = session.scalars(select(Membership).where(Membership.user_id == user.id)).all()
    return Principal.of(user, memberships, scopes)


@dataclass(frozen=True)
class Demo:
    tokens: dict[str, str]  # caller name → bearer token; "acme_read_only" is Acme's admin with a read token
    acme_id: str
    globex_id: str
    acme_wiki_server_id: str
    globex_wiki_server_id: str

    def auth(self, caller: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[caller]}"}


@pytest.fixture
def demo(session_factory: sessionmaker[Session]) -> Demo:
    with session_factory() as session:
        load_demo_accounts(session)
        accounts = AccountService(session)
        acme, globex = accounts.organisation("acme"), accounts.organisation("globex")
        read_only = TokenService(session).create(
            accounts.user_by_email("admin@acme.example"), scopes=["read"], name="read-only"
        )
        hosts = HostInstanceService(session)
        acme_wiki = hosts.repository.host_instances_of(
            acme.id, host_product_key="wiki", hosting="server", page=PageRequest(1)
        ).rows
        globex_wiki = hosts.repository.host_instances_of(globex.id, page=PageRequest(1)).rows
        session.commit()
        return Demo(
            tokens={**TOKENS, "acme_read_only": read_only.token},
            acme_id=str(acme.id),
            globex_id=str(globex.id),
            acme_wiki_server_id=str(acme_wiki[0].instance.id),
            globex_wiki_server_id=str(globex_wiki[0].instance.id),
        )

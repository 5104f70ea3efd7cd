"""The demo accounts load once, whatever the number of runs, and their tokens work as the docs say."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.conftest import TOKENS, Demo
from mercato.accounts.api_tokens import TokenService
from mercato.accounts.demo import load_demo_accounts
from mercato.accounts.models import ApiToken, HostInstance, Membership, Organisation, User

COUNTED = (User, Membership, Organisation, HostInstance, ApiToken)


def counts(session: Session) -> dict[str, int]:
    return {m.__name__: session.scalar(select(func.count()).select_from(m)) or 0 for m in COUNTED}


def test_loading_again_adds_nothing(session: Session, demo: Demo) -> None:
    before = counts(session)
    assert before["Organisation"] == 2 and before["HostInstance"] == 4
    tokens = load_demo_accounts(session)
    assert counts(session) == before
    assert {t.token for t in tokens} == set(TOKENS.values())


def test_a_revoked_demo_token_stays_revoked_and_says_so(session: Session, demo: Demo) -> None:
    TokenService(session).revoke("mct_demo_acme_billing")
    tokens = {t.token: t for t in load_demo_accounts(session)}
    assert tokens["mct_demo_acme_billing"].revoked
    assert not tokens["mct_demo_acme_admin"].revoked


def test_demo_tokens_have_distinct_prefixes_that_name_them(session: Session, demo: Demo) -> None:
    prefixes = session.scalars(select(ApiToken.prefix).where(ApiToken.name.like("Demo token%"))).all()
    assert len(set(prefixes)) == len(TOKENS)
    assert all(p.startswith("mct_demo_") for p in prefixes)

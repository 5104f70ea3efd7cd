"""Every accounts endpoint × every kind of caller: operator staff, Acme's customer admin and billing contact,
a vendor's team member, another organisation's admin, no token, and a read-only token of Acme's admin."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from accounts.conftest import Demo
from mercato.accounts.api_tokens import TokenService
from mercato.accounts.service import AccountService
from support.access import Endpoint, assert_access, check_access

EVERYONE = {"operator", "acme_admin", "acme_billing", "globex_admin", "mockups_vendor"}
ACME = {"operator", "acme_admin", "acme_billing"}
ACME_ADMINS = {"operator", "acme_admin"}
READ_ONLY = {"acme_read_only": "acme_admin"}


def _host_body(caller: str) -> dict[str, object]:
    return {"host_product": "tracker", "hosting": "server", "server_id": f"MATRIX-{caller}", "user_tier": 25}


ENDPOINTS = [
    Endpoint("GET", "/api/v1/me", allowed=EVERYONE),
    Endpoint("GET", "/api/v1/tokens", allowed=EVERYONE),
    Endpoint("POST", "/api/v1/tokens", allowed=EVERYONE, body={"name": "matrix", "scopes": ["read"]}),
    Endpoint("DELETE", "/api/v1/tokens/{spare_token}", allowed={"acme_admin"}),
    Endpoint("GET", "/api/v1/organisations", allowed=EVERYONE),
    Endpoint(
        "POST",
        "/api/v1/organisations",
        allowed={"operator"},
        forbidden=EVERYONE - {"operator"},
        body=lambda caller: {
            "slug": f"matrix-{caller.replace('_', '-')}",
            "name": "Matrix",
            "billing_email": "ap@matrix.example",
        },
    ),
    Endpoint("GET", "/api/v1/organisations/{acme}", allowed=ACME),
    Endpoint("GET", "/api/v1/organisations/acme", allowed=ACME),
    Endpoint("GET", "/api/v1/organisations/{globex}", allowed={"operator", "globex_admin"}),
    Endpoint("GET", "/api/v1/organisations/{acme}/members", allowed=ACME),
    Endpoint(
        "POST",
        "/api/v1/organisations/{acme}/members",
        allowed=ACME_ADMINS,
        forbidden={"acme_billing"},
        body=lambda caller: {"email": f"new-{caller}@acme.example", "role": "billing_contact"},
    ),
    Endpoint("GET", "/api/v1/organisations/{acme}/host-instances", allowed=ACME),
    Endpoint(
        "POST",
        "/api/v1/organisations/{acme}/host-instances",
        allowed=ACME_ADMINS,
        forbidden={"acme_billing"},
        body=_host_body,
    ),
    Endpoint("GET", "/api/v1/host-instances/{acme_wiki}", allowed=ACME),
    Endpoint("GET", "/api/v1/host-instances/{globex_wiki}", allowed={"operator", "globex_admin"}),
    Endpoint(
        "PATCH",
        "/api/v1/host-instances/{acme_wiki}",
        allowed=ACME_ADMINS,
        forbidden={"acme_billing"},
        body={"name": "Acme production wiki"},
    ),
]


def _spare_token(session_factory: sessionmaker[Session]) -> str:
    with session_factory() as session:
        admin = AccountService(session).user_by_email("admin@acme.example")
        token_id = str(TokenService(session).create(admin, name="spare").record.id)
        session.commit()
    return token_id


def test_accounts_endpoints_follow_the_access_rules(
    client: TestClient, demo: Demo, session_factory: sessionmaker[Session]
) -> None:
    assert_access(
        client,
        ENDPOINTS,
        demo.tokens,
        read_only=READ_ONLY,
        params={
            "acme": demo.acme_id,
            "globex": demo.globex_id,
            "acme_wiki": demo.acme_wiki_server_id,
            "globex_wiki": demo.globex_wiki_server_id,
            "spare_token": _spare_token(session_factory),
        },
    )


def test_a_hidden_organisation_answers_like_a_missing_one(client: TestClient, demo: Demo) -> None:
    missing = str(uuid.uuid4())
    hidden = client.get(f"/api/v1/organisations/{demo.globex_id}", headers=demo.auth("acme_admin"))
    absent = client.get(f"/api/v1/organisations/{missing}", headers=demo.auth("acme_admin"))
    assert hidden.status_code == absent.status_code == 404
    hidden_document, absent_document = hidden.json(), absent.json()
    assert hidden_document["detail"].replace(demo.globex_id, missing) == absent_document["detail"]
    assert {k: v for k, v in hidden_document.items() if k not in ("detail", "instance")} == {
        k: v for k, v in absent_document.items() if k not in ("detail", "instance")
    }


def test_the_matrix_reports_a_caller_that_gets_more_than_it_should(client: TestClient, demo: Demo) -> None:
    # The helper must fail when a rule is wrong, or the matrix above proves nothing.
    wrong = [Endpoint("GET", "/api/v1/organisations/{acme}", allowed={"operator", "acme_admin"})]
    failures = check_access(
        client,
        wrong,
        {"acme_billing": demo.tokens["acme_billing"], "globex_admin": demo.tokens["globex_admin"]},
        params={"acme": demo.acme_id},
    )
    assert len(failures) == 1
    assert "as acme_billing: expected 404, got 200" in failures[0]

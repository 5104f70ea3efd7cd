"""The vendor portal's money pages (statements, payouts and remittances, webhooks and their delivery log) and
the operator's payout run: each page and form, CSRF refusals, other vendors' objects by URL answer 404, the
webhook secret is shown once, and a resend makes one new attempt."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from mercato.accounts.access import Principal
from mercato.accounts.models import User
from mercato.catalog.models import Vendor
from mercato.clock import FixedClock, utcnow
from mercato.ledger.models import Payout
from mercato.mail import SmtpMailer
from mercato.outbox.worker import OutboxWorker, RetryPolicy, standard_handlers
from mercato.settings import Settings
from mercato.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from mercato.webhooks.sealing import open_secret
from mercato.webhooks.service import WebhookService
from support.pages import HTML, sign_in
from support.world import World, build_world
from webhooks.receiver import WebhookReceiver

VENDOR = "mockups_vendor@test.example"
OPERATOR = "operator@test.example"
BUYER = "acme_admin@test.example"
MOCKUPS = "com.example.mockups.wiki"
API = "/api/v1"
HOOK = "https://hooks.mockups.example/mercato"


@pytest.fixture
def world(session: Session) -> World:
    built = build_world(session)
    session.commit()
    return built


def _buy(client: TestClient, world: World) -> dict[str, Any]:
    """A paid marketplace purchase of the mockups app for Acme's wiki server, through the API."""
    quote = client.post(
        f"{API}/quotes",
        json={
            "host_instance_id": str(world.wiki_server.id),
            "channel": "marketplace",
            "items": [{"action": "new", "product_key": MOCKUPS, "tier": "100"}],
        },
        headers=world.auth("acme_admin"),
    )
    assert quote.status_code == 201, quote.text
    accepted = client.post(f"{API}/quotes/{quote.json()['id']}/accept", headers=world.auth("acme_admin"))
    assert accepted.status_code in (200, 201), accepted.text
    invoice = accepted.json()["invoice"]
    paid = client.post(
        f"{API}/invoices/{invoice['id']}/payments",
        json={"amount": invoice["total"], "provider": "bank_transfer", "reference": "REF-1"},
        headers=world.auth("operator"),
    )
    assert paid.status_code == 200, paid.text
    result: dict[str, Any] = paid.json()
    return result


def _paid_month(client: TestClient, world: World, server_clock: FixedClock) -> str:
    """A November sale, the clock moved into December, and November's payouts run through the API."""
    _buy(client, world)
    server_clock.advance(days=6)
    ran = client.post(f"{API}/payouts/runs", json={"month": "2026-11"}, headers=world.auth("operator"))
    assert ran.status_code == 200, ran.text
    payout: str = ran.json()["decisions"][0]["payout"]["id"]
    return payout


def _other_vendor(session: Session) -> Vendor:
    return session.scalars(select(Vendor).where(Vendor.slug != "example-mockups")).first()  # type: ignore[return-value]


def _operator(session: Session) -> Principal:
    """Operator staff, as the services see them (to set up endpoints the pages then have to refuse)."""
    user = session.scalars(select(User).where(User.email == OPERATOR)).one()
    return Principal(
        user_id=user.id,
        email=user.email,
        scopes=frozenset({"read", "write"}),
        customer_admin_of=frozenset(),
        billing_contact_of=frozenset(),
        vendor_member_of=frozenset(),
        operator=True,
    )


def _count(session: Session, model: type[Any]) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


# -- statements, payouts, remittances --------------------------------------------------------------------------


def test_the_statement_shows_balances_entries_and_the_payout(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    payout = _paid_month(client, world, server_clock)
    sign_in(client, session, VENDOR, server_clock.now())
    page = client.get("/vendor/example-mockups/statements", headers=HTML)  # last month by default
    assert page.status_code == 200, page.text
    html = page.text
    assert 'value="2026-11"' in html and "2026-11 in USD" in html
    assert "Opening balance" in html and "Closing balance" in html and "Direct sales" in html
    assert f"/vendor/example-mockups/payouts/{payout}" in html
    assert 'aria-current="page"' in html and 'href="/vendor/example-mockups/webhooks"' in html


def test_a_month_written_wrong_is_said_next_to_the_picker(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    sign_in(client, session, VENDOR, server_clock.now())
    page = client.get("/vendor/example-mockups/statements?month=2026-13", headers=HTML)
    assert page.status_code == 422
    assert 'aria-describedby="statement-month-error"' in page.text
    assert 'id="statement-month-error"' in page.text


def test_payouts_link_to_their_remittance_which_reconciles_and_downloads(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    payout_id = _paid_month(client, world, server_clock)
    sign_in(client, session, VENDOR, server_clock.now())
    listing = client.get("/vendor/example-mockups/payouts", headers=HTML)
    assert listing.status_code == 200
    assert "PAYOUT-2026-11-example-mockups-USD" in listing.text
    assert f'href="/vendor/example-mockups/payouts/{payout_id}"' in listing.text

    page = client.get(f"/vendor/example-mockups/payouts/{payout_id}", headers=HTML)
    assert page.status_code == 200
    assert "Reconciled" in page.text

    download = client.get(f"/vendor/example-mockups/payouts/{payout_id}/remittance.csv")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(download.text)))
    payout = session.get(Payout, uuid.UUID(payout_id))
    assert payout is not None and len(rows) == payout.entry_count
    total = sum(Decimal(row["vendor_amount"]) for row in rows)
    assert total == Decimal(payout.amount_minor) / 100


def test_another_vendors_statement_and_payouts_answer_404(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    payout_id = _paid_month(client, world, server_clock)
    other = _other_vendor(session)
    sign_in(client, session, VENDOR, server_clock.now())
    for url in (
        f"/vendor/{other.slug}/statements",
        f"/vendor/{other.slug}/payouts",
        f"/vendor/{other.slug}/payouts/{payout_id}",  # a real payout under another vendor's address
        f"/vendor/example-mockups/payouts/{uuid.uuid4()}",
        f"/vendor/{other.slug}/webhooks",
    ):
        assert client.get(url, headers=HTML).status_code == 404, url
    # The buyer sees none of the vendor's money.
    sign_in(client, session, BUYER, server_clock.now())
    for url in ("/vendor/example-mockups/statements", f"/vendor/example-mockups/payouts/{payout_id}"):
        assert client.get(url, headers=HTML).status_code == 404, url
    assert client.get(f"/vendor/example-mockups/payouts/{payout_id}/remittance.csv").status_code == 404


# -- webhooks --------------------------------------------------------------------------------------------------


def _register(client: TestClient, csrf: str, **fields: Any) -> Any:
    data = {"csrf_token": csrf, "url": HOOK, "description": "CRM", "events": ["license.created"]} | fields
    return client.post("/vendor/example-mockups/webhooks", data=data, headers=HTML, follow_redirects=False)


def test_registering_an_endpoint_shows_its_secret_once(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    csrf = sign_in(client, session, VENDOR, server_clock.now())
    answer = _register(client, csrf, events=["license.created", "transaction.created"])
    assert answer.status_code == 201, answer.text
    assert answer.headers["cache-control"] == "no-store"
    secret = re.search(r'id="webhook-secret">(whsec_[^<]+)<', answer.text)
    assert secret and 'data-copy-target="webhook-secret"' in answer.text
    endpoint = session.scalars(select(WebhookEndpoint)).one()
    assert endpoint.event_types == ["license.created", "transaction.created"]
    for url in ("/vendor/example-mockups/webhooks", f"/vendor/example-mockups/webhooks/{endpoint.id}"):
        page = client.get(url, headers=HTML)
        assert page.status_code == 200 and HOOK in page.text
        assert secret.group(1) not in page.text and "whsec_" not in page.text

    rotated = client.post(
        f"/vendor/example-mockups/webhooks/{endpoint.id}/rotate-secret",
        data={"csrf_token": csrf},
        headers=HTML,
    )
    assert rotated.status_code == 200
    new = re.search(r'id="webhook-secret">(whsec_[^<]+)<', rotated.text)
    assert new and new.group(1) != secret.group(1)
    assert "whsec_" not in client.get(f"/vendor/example-mockups/webhooks/{endpoint.id}", headers=HTML).text


def _form_key(html: str) -> str:
    found = re.search(r'name="form_key" value="([^"]+)"', html)
    assert found, "the form carries its key"
    return found.group(1)


def test_a_form_sent_twice_registers_one_endpoint_and_rotates_once(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    csrf = sign_in(client, session, VENDOR, server_clock.now())
    key = _form_key(client.get("/vendor/example-mockups/webhooks", headers=HTML).text)
    first = _register(client, csrf, form_key=key)
    again = _register(client, csrf, form_key=key)
    assert first.status_code == again.status_code == 201, again.text
    secret = re.search(r'id="webhook-secret">(whsec_[^<]+)<', first.text)
    assert secret and secret.group(1) in again.text
    assert _count(session, WebhookEndpoint) == 1

    changed = _register(client, csrf, form_key=key, url="https://other.mockups.example/in")
    assert changed.status_code == 422 and "already sent" in changed.text
    assert _count(session, WebhookEndpoint) == 1

    endpoint = session.scalars(select(WebhookEndpoint)).one()
    page = f"/vendor/example-mockups/webhooks/{endpoint.id}"
    rotation = {"csrf_token": csrf, "form_key": _form_key(client.get(page, headers=HTML).text)}
    rotated = client.post(f"{page}/rotate-secret", data=rotation, headers=HTML)
    resent = client.post(f"{page}/rotate-secret", data=rotation, headers=HTML)
    assert rotated.status_code == resent.status_code == 200
    new = re.search(r'id="webhook-secret">(whsec_[^<]+)<', rotated.text)
    assert new and new.group(1) != secret.group(1) and new.group(1) in resent.text
    session.expire_all()
    endpoint = session.scalars(select(WebhookEndpoint)).one()
    # Rotated once: the secret it replaced is the first one (twice, it would be the first new one).
    assert endpoint.previous_secret is not None
    assert open_secret(endpoint.previous_secret, "test-secret-key", endpoint.id) == secret.group(1)


def test_a_refused_endpoint_is_said_next_to_its_field_and_nothing_is_saved(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    csrf = sign_in(client, session, VENDOR, server_clock.now())
    answer = _register(client, csrf, url="http://127.0.0.1/hook")
    assert answer.status_code == 422
    assert 'aria-describedby="url-error"' in answer.text and 'id="url-error"' in answer.text
    none_chosen = _register(client, csrf, events=[])
    assert none_chosen.status_code == 422 and 'id="events-error"' in none_chosen.text
    assert _count(session, WebhookEndpoint) == 0


def test_an_endpoint_is_changed_switched_off_and_deleted(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    csrf = sign_in(client, session, VENDOR, server_clock.now())
    _register(client, csrf)
    endpoint = session.scalars(select(WebhookEndpoint)).one()
    base = f"/vendor/example-mockups/webhooks/{endpoint.id}"
    data = {"csrf_token": csrf, "url": HOOK, "description": "", "events": ["payout.paid", "license.refunded"]}
    changed = client.post(base, data=data, headers=HTML, follow_redirects=False)  # no "enabled": off
    assert changed.status_code == 303
    session.expire_all()
    assert sorted(endpoint.event_types) == ["license.refunded", "payout.paid"] and not endpoint.enabled
    again = client.post(base, data=data | {"enabled": "true"}, headers=HTML, follow_redirects=False)
    assert again.status_code == 303
    session.expire_all()
    assert endpoint.enabled
    deleted = client.post(f"{base}/delete", data={"csrf_token": csrf}, headers=HTML, follow_redirects=False)
    assert deleted.status_code == 303 and deleted.headers["location"].endswith("/webhooks?deleted=1")
    assert _count(session, WebhookEndpoint) == 0


def test_another_vendors_endpoint_answers_404_to_every_page_and_form(
    client: TestClient, session: Session, world: World, server_clock: FixedClock, settings: Settings
) -> None:
    other = _other_vendor(session)
    service = WebhookService(session, server_clock, settings.secret_key)
    endpoint, _ = service.create_for(_operator(session), HOOK, ["license.created"], "", other.slug)
    session.commit()
    csrf = sign_in(client, session, VENDOR, server_clock.now())
    for slug in ("example-mockups", other.slug):
        base = f"/vendor/{slug}/webhooks/{endpoint.id}"
        assert client.get(base, headers=HTML).status_code == 404
        for action in ("", "/rotate-secret", "/delete", f"/deliveries/{uuid.uuid4()}/resend"):
            data = {"csrf_token": csrf, "url": HOOK, "events": ["license.created"]}
            assert client.post(base + action, data=data, headers=HTML).status_code == 404, action
    session.expire_all()
    assert session.get(WebhookEndpoint, endpoint.id) is not None


def test_every_money_form_refuses_a_post_without_the_csrf_token(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    csrf = sign_in(client, session, VENDOR, server_clock.now())
    _register(client, csrf)
    endpoint = session.scalars(select(WebhookEndpoint)).one()
    secret_before = endpoint.secret
    base = f"/vendor/example-mockups/webhooks/{endpoint.id}"
    for url in (
        "/vendor/example-mockups/webhooks",
        base,
        f"{base}/rotate-secret",
        f"{base}/delete",
        f"{base}/deliveries/{uuid.uuid4()}/resend",
    ):
        answer = client.post(url, data={"url": HOOK, "events": ["payout.paid"]}, headers=HTML)
        assert answer.status_code == 403, url
    session.expire_all()
    assert _count(session, WebhookEndpoint) == 1
    assert endpoint.event_types == ["license.created"] and endpoint.secret == secret_before

    sign_in(client, session, OPERATOR, server_clock.now())
    refused = client.post("/admin/payouts", data={"month": "2026-10"}, headers=HTML)
    assert refused.status_code == 403


def test_a_resend_makes_one_new_attempt(
    client: TestClient,
    session: Session,
    session_factory: sessionmaker[Session],
    world: World,
    server_clock: FixedClock,
    settings: Settings,
) -> None:
    receiver = WebhookReceiver().start()
    try:
        vendor = session.scalars(select(Vendor).where(Vendor.slug == "example-mockups")).one()
        # A receiver on loopback is allowed only to the service in tests; the page works on the endpoint alike.
        loopback = WebhookService(session, server_clock, settings.secret_key, allow_loopback=True)
        endpoint, secret = loopback.create_for(
            _operator(session), receiver.url, ["license.created"], "", vendor.slug
        )
        session.commit()
        receiver.secrets.append(secret)
        _buy(client, world)
        worker_settings = settings.model_copy(update={"webhook_allow_loopback": True})
        mailer = SmtpMailer(host="127.0.0.1", port=1, sender="mercato@example.com", timeout=1)
        handlers = standard_handlers(worker_settings, mailer, session_factory, server_clock)
        # Messages are queued at the real time of the sale: the worker runs a minute after it.
        worker_clock = FixedClock(utcnow() + timedelta(minutes=1))
        worker = OutboxWorker(session_factory, handlers, RetryPolicy(), clock=worker_clock)
        worker.drain()
        delivery = session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
        ).one()
        assert _count(session, WebhookAttempt) == 1

        csrf = sign_in(client, session, VENDOR, server_clock.now())
        base = f"/vendor/example-mockups/webhooks/{endpoint.id}"
        log = client.get(base, headers=HTML)
        assert log.status_code == 200 and "license.created" in log.text and "HTTP 2" in log.text
        resent = client.post(
            f"{base}/deliveries/{delivery.id}/resend",
            data={"csrf_token": csrf},
            headers=HTML,
            follow_redirects=False,
        )
        assert resent.status_code == 303
        worker.drain()
        assert _count(session, WebhookAttempt) == 2
        assert client.get(base, headers=HTML).text.count("(accepted)") == 2
    finally:
        receiver.stop()


# -- the operator's payout run ---------------------------------------------------------------------------------


def test_the_operator_runs_a_months_payouts_once_even_when_posting_twice(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    _buy(client, world)
    server_clock.advance(days=6)
    csrf = sign_in(client, session, OPERATOR, server_clock.now())
    form = client.get("/admin/payouts", headers=HTML)
    assert form.status_code == 200 and 'value="2026-11"' in form.text and 'href="/admin/payouts"' in form.text
    data = {"csrf_token": csrf, "month": "2026-11", "threshold": "0", "reference_prefix": "NOV-"}
    first = client.post("/admin/payouts", data=data, headers=HTML)
    assert first.status_code == 200, first.text
    assert "1 payout made" in first.text and "NOV-2026-11-example-mockups-USD" in first.text
    second = client.post("/admin/payouts", data=data, headers=HTML)
    assert second.status_code == 200
    assert "0 payouts made" in second.text and "nothing to pay" in second.text
    assert _count(session, Payout) == 1


def test_the_payout_run_refuses_a_month_not_over_next_to_the_field(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    csrf = sign_in(client, session, OPERATOR, server_clock.now())
    data = {"csrf_token": csrf, "month": "2026-11", "threshold": "0", "reference_prefix": "P-"}
    answer = client.post("/admin/payouts", data=data, headers=HTML)
    assert answer.status_code == 409 or answer.status_code == 422, answer.status_code
    assert 'aria-describedby="month-error"' in answer.text and 'id="month-error"' in answer.text
    bad = client.post("/admin/payouts", data=data | {"threshold": "-5"}, headers=HTML)
    assert bad.status_code == 422 and 'id="threshold-error"' in bad.text
    assert _count(session, Payout) == 0


def test_a_vendor_or_buyer_gets_no_payout_run(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    for email in (VENDOR, BUYER):
        csrf = sign_in(client, session, email, server_clock.now())
        assert client.get("/admin/payouts", headers=HTML).status_code == 404
        data = {"csrf_token": csrf, "month": "2026-10"}
        assert client.post("/admin/payouts", data=data, headers=HTML).status_code == 404

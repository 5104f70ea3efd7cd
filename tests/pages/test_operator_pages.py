"""The operator admin at /admin: every page and form, errors next to their fields, CSRF on every form, and
nobody but operator staff (a buyer, a vendor) sees any of it."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mercato.catalog.models import Vendor, VendorRevenueShare, VendorStatus
from mercato.clock import FixedClock
from mercato.commerce.models import Payment
from mercato.licenses.models import LicenseKey
from mercato.outbox.models import OutboxMessage
from mercato.outbox.service import enqueue_email
from support.pages import HTML, sign_in
from support.world import World, build_world

MOCKUPS = "com.example.mockups.wiki"
OPERATOR, BUYER, VENDOR = "operator@test.example", "acme_admin@test.example", "mockups_vendor@test.example"
BOARD_KEY = "com.example.mockups.board.wiki"
SERVER_PRICES = {
    "10": "20.00", "25": "250.00", "50": "500.00", "100": "900.00", "250": "1800.00", "500": "2800.00",
    "2000": "4800.00", "10000": "7800.00", "unlimited": "9800.00",
}  # fmt: skip


@pytest.fixture
def world(session: Session) -> World:
    built = build_world(session)
    session.commit()
    return built


@pytest.fixture
def operator(client: TestClient, session: Session, world: World, server_clock: FixedClock) -> str:
    """The operator signed in on ``client``: the CSRF token of its forms."""
    return sign_in(client, session, OPERATOR, server_clock.now())


def api(client: TestClient, world: World, role: str, method: str, path: str, json: Any = None) -> Any:
    answer = client.request(method, f"/api/v1{path}", headers=world.auth(role), json=json)
    assert answer.status_code < 300, answer.text
    return answer.json()


def unpaid_invoice(client: TestClient, world: World, product: str = MOCKUPS) -> dict[str, Any]:
    """Acme's admin buys ``product`` (100 users) on the marketplace for its wiki server: the open invoice."""
    quote = api(
        client,
        world,
        "acme_admin",
        "POST",
        "/quotes",
        {
            "host_instance_id": str(world.wiki_server.id),
            "items": [{"action": "new", "product_key": product, "tier": "100"}],
        },
    )
    return dict(api(client, world, "acme_admin", "POST", f"/quotes/{quote['id']}/accept")["invoice"])


def paid_invoice(client: TestClient, world: World) -> dict[str, Any]:
    invoice = unpaid_invoice(client, world)
    return dict(
        api(
            client,
            world,
            "operator",
            "POST",
            f"/invoices/{invoice['id']}/payments",
            {"amount": invoice["total"], "reference": "TRF-1"},
        )
    )


def submitted_revision(client: TestClient, world: World) -> str:
    """The mockups vendor's new app with a server listing submitted for review: the revision's id."""
    api(
        client,
        world,
        "mockups_vendor",
        "POST",
        "/vendors/example-mockups/apps",
        {
            "key": BOARD_KEY,
            "name": "Mockup Boards",
            "host_product": "wiki",
            "summary": "Boards of mockups in any page.",
            "description": "## Boards\n\nPin **mockups** on a board.",
        },
    )
    listing = {"hosting": "server", "marketplace": {"sold": True}, "prices": SERVER_PRICES}
    api(
        client,
        world,
        "mockups_vendor",
        "PUT",
        f"/apps/{BOARD_KEY}/listings/server/draft",
        {"listing": listing},
    )
    return str(
        api(client, world, "mockups_vendor", "POST", f"/apps/{BOARD_KEY}/listings/server/draft/submit")["id"]
    )


def pending_vendor(session: Session) -> Vendor:
    vendor = Vendor(
        slug="fjord-apps",
        name="Fjord Apps",
        legal_name="Fjord Apps AS",
        email="sales@fjord.example",
        status=VendorStatus.PENDING,
        status_note="Applied; waiting for review.",
    )
    session.add(vendor)
    session.commit()
    return vendor


def field_error(html: str, field: str) -> str:
    """The sentence shown next to ``field``, which points at it with aria-describedby."""
    found = re.search(rf'<p class="field-error" id="{re.escape(field)}-error">([^<]*)</p>', html)
    assert found, f"no error next to {field}"
    assert re.search(rf'id="{re.escape(field)}"[^>]*aria-invalid="true"', html) or re.search(
        rf'aria-invalid="true"[^>]*id="{re.escape(field)}"', html
    ), f"{field} is not marked invalid"
    return found.group(1)


# -- who may look --------------------------------------------------------------------------------------------

ADMIN_PAGES = [
    "/admin",
    "/admin/vendors",
    "/admin/vendors/example-mockups",
    "/admin/review",
    "/admin/host-products",
    "/admin/invoices",
    "/admin/outbox",
]


@pytest.mark.parametrize("email", [BUYER, VENDOR])
def test_a_buyer_or_a_vendor_gets_404_on_every_admin_page(
    client: TestClient, session: Session, world: World, server_clock: FixedClock, email: str
) -> None:
    invoice = paid_invoice(client, world)
    revision = submitted_revision(client, world)
    message = session.scalars(select(OutboxMessage.id)).first()
    paths = [
        *ADMIN_PAGES,
        f"/admin/invoices/{invoice['id']}",
        f"/admin/licenses/{invoice['lines'][0]['license']}",
        f"/admin/review/{revision}",
        f"/admin/outbox/{message}",
    ]
    csrf = sign_in(client, session, email, server_clock.now())
    for path in paths:
        page = client.get(path, headers=HTML)
        assert page.status_code == 404, path
        assert "Page not found" in page.text
    refused = client.post(
        f"/admin/invoices/{invoice['id']}/lines/{invoice['lines'][0]['id']}/refund",
        data={"csrf_token": csrf, "reason": "a buyer tries"},
        headers=HTML,
    )
    assert refused.status_code == 404
    assert api(client, world, "acme_admin", "GET", f"/invoices/{invoice['id']}")["amount_refunded"] == "0.00"
    approve = client.post(f"/admin/review/{revision}/approve", data={"csrf_token": csrf}, headers=HTML)
    assert approve.status_code == 404
    assert client.get(f"/api/v1/apps/{BOARD_KEY}").status_code == 404  # still not published


def test_a_stranger_is_sent_to_sign_in(client: TestClient) -> None:
    answer = client.get("/admin/invoices", headers=HTML, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/sign-in?next=/admin/invoices"


def test_the_admin_link_is_in_the_operators_navigation_only(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    sign_in(client, session, BUYER, server_clock.now())
    assert 'href="/admin"' not in client.get("/no-such-page", headers=HTML).text
    sign_in(client, session, OPERATOR, server_clock.now())
    assert 'href="/admin"' in client.get("/admin", headers=HTML).text


# -- CSRF ----------------------------------------------------------------------------------------------------


def test_every_form_refuses_a_post_without_its_token_and_changes_nothing(
    client: TestClient, session: Session, world: World, operator: str
) -> None:
    invoice = unpaid_invoice(client, world)
    revision = submitted_revision(client, world)
    vendor = pending_vendor(session)
    message = enqueue_email(session, ["someone@example.com"], "Hello", "Text")
    session.flush()  # the message's row, with its creation time
    message.dead_at = message.created_at
    session.commit()
    forms = [
        (f"/admin/vendors/{vendor.slug}/status", {"action": "approve", "note": "ok"}),
        (
            f"/admin/vendors/{vendor.slug}/revenue-share",
            {"hosting": "server", "effective_from": "2027-01-01", "vendor_share": "0.8"},
        ),
        (
            f"/admin/vendors/{vendor.slug}/revenue-share/remove",
            {"hosting": "server", "effective_from": "2027-01-01"},
        ),
        (f"/admin/review/{revision}/approve", {"note": "fine"}),
        (f"/admin/review/{revision}/reject", {"note": "no"}),
        (f"/admin/invoices/{invoice['id']}/payments", {"amount": invoice["total"], "reference": "X-1"}),
        (f"/admin/invoices/{invoice['id']}/lines/{invoice['lines'][0]['id']}/refund", {"reason": "why"}),
        ("/admin/licenses/SEN-1/keys/abc/revoke", {"reason": "why"}),
        (f"/admin/outbox/{message.id}/retry", {}),
    ]
    for path, data in forms:
        for token in (None, "forged-token-of-another-site-xxxxx"):
            sent = dict(data) | ({"csrf_token": token} if token else {})
            answer = client.post(path, data=sent, headers=HTML, follow_redirects=False)
            assert answer.status_code == 403, path
            assert "This form has expired" in answer.text
    session.expire_all()
    assert session.get(Vendor, vendor.id).status == VendorStatus.PENDING  # type: ignore[union-attr]
    assert session.scalar(select(func.count()).select_from(VendorRevenueShare)) == 0
    assert session.scalar(select(func.count()).select_from(Payment)) == 0
    assert session.get(OutboxMessage, message.id).dead_at is not None  # type: ignore[union-attr]
    assert api(client, world, "operator", "GET", "/review-queue")["total"] == 1


# -- the dashboard and host products -------------------------------------------------------------------------


def test_the_dashboard_counts_what_waits_with_links(
    client: TestClient, session: Session, world: World, operator: str
) -> None:
    unpaid_invoice(client, world)
    submitted_revision(client, world)
    pending_vendor(session)
    page = client.get("/admin", headers=HTML)
    assert page.status_code == 200
    text = re.sub(r"\s+", " ", page.text)
    assert 'href="/admin/vendors?status=pending"' in text
    assert re.search(r'<span class="count">1</span> Vendor applications', text)
    assert re.search(r'<span class="count">1</span> Listings in review', text)
    assert re.search(r'<span class="count">[1-9]\d*</span> Unpaid invoices', text)
    assert re.search(r'<span class="count">0</span> Dead e-mail', text)


def test_host_products_are_listed_with_their_app_listings(client: TestClient, operator: str) -> None:
    page = client.get("/admin/host-products", headers=HTML)
    assert page.status_code == 200
    row = re.search(r"<td><code>wiki</code></td>.*?</tr>", page.text, re.S)
    assert row and "server" in row.group(0)
    count = re.search(r'<td class="number">(\d+)</td>', row.group(0))
    assert count and int(count.group(1)) >= 3  # the demo catalog's wiki apps


# -- vendors -------------------------------------------------------------------------------------------------


def test_vendors_are_filtered_by_status_and_an_application_is_approved_with_a_note(
    client: TestClient, session: Session, world: World, operator: str
) -> None:
    vendor = pending_vendor(session)
    pending = client.get("/admin/vendors?status=pending", headers=HTML)
    assert "Fjord Apps" in pending.text and "Example Mockups" not in pending.text
    page = client.get(f"/admin/vendors/{vendor.slug}", headers=HTML)
    assert page.status_code == 200 and ">Approve</button>" in page.text
    approved = client.post(
        f"/admin/vendors/{vendor.slug}/status",
        data={"csrf_token": operator, "action": "approve", "note": "Checked the company register."},
        headers=HTML,
        follow_redirects=False,
    )
    assert approved.status_code == 303
    shown = api(client, world, "operator", "GET", f"/vendors/{vendor.slug}")
    assert (shown["status"], shown["status_note"]) == ("active", "Checked the company register.")
    assert "Checked the company register." in client.get(approved.headers["location"], headers=HTML).text


def test_a_status_change_the_rules_refuse_is_told_next_to_the_note(
    client: TestClient, session: Session, world: World, operator: str
) -> None:
    vendor = pending_vendor(session)
    answer = client.post(
        f"/admin/vendors/{vendor.slug}/status",
        data={"csrf_token": operator, "action": "reactivate", "note": "Welcome back"},
        headers=HTML,
    )
    assert answer.status_code == 422
    assert "Approve it instead." in field_error(answer.text, "note")
    assert "Welcome back</textarea>" in answer.text  # what was typed stays
    assert api(client, world, "operator", "GET", f"/vendors/{vendor.slug}")["status"] == "pending"


def test_revenue_share_rates_are_added_once_refused_next_to_their_field_and_removed(
    client: TestClient, session: Session, world: World, operator: str
) -> None:
    path = "/admin/vendors/example-mockups/revenue-share"
    rate = {
        "csrf_token": operator,
        "hosting": "server",
        "effective_from": "2027-01-01",
        "vendor_share": "0.85",
    }
    for _ in range(2):  # sent twice: one rate
        answer = client.post(path, data=rate, headers=HTML, follow_redirects=False)
        assert answer.status_code == 303
    rates = api(client, world, "operator", "GET", "/vendors/example-mockups")["revenue_share"]
    assert rates == [{"hosting": "server", "effective_from": "2027-01-01", "vendor_share": "0.8500"}]
    assert "85.00%" in client.get("/admin/vendors/example-mockups", headers=HTML).text

    too_much = client.post(path, data=rate | {"vendor_share": "1.5"}, headers=HTML)
    assert too_much.status_code == 422
    assert "from 0 to 1" in field_error(too_much.text, "vendor_share")
    no_day = client.post(path, data=rate | {"effective_from": ""}, headers=HTML)
    assert "first sale day" in field_error(no_day.text, "effective_from")
    same_day = client.post(path, data=rate | {"vendor_share": "0.7"}, headers=HTML)
    assert "A second server rate from this date. Remove the rate" in field_error(
        same_day.text, "effective_from"
    )
    assert len(api(client, world, "operator", "GET", "/vendors/example-mockups")["revenue_share"]) == 1

    removed = client.post(
        f"{path}/remove",
        data={"csrf_token": operator, "hosting": "server", "effective_from": "2027-01-01"},
        headers=HTML,
        follow_redirects=False,
    )
    assert removed.status_code == 303
    assert api(client, world, "operator", "GET", "/vendors/example-mockups")["revenue_share"] == []


def test_an_unknown_vendor_is_a_404_page(client: TestClient, operator: str) -> None:
    assert client.get("/admin/vendors/no-such-vendor", headers=HTML).status_code == 404


# -- listing review ------------------------------------------------------------------------------------------


def test_a_submitted_listing_is_reviewed_and_published(
    client: TestClient, session: Session, world: World, operator: str
) -> None:
    revision = submitted_revision(client, world)
    queue = client.get("/admin/review", headers=HTML)
    assert f'href="/admin/review/{revision}"' in queue.text and "Mockup Boards" in queue.text
    page = client.get(f"/admin/review/{revision}", headers=HTML)
    assert page.status_code == 200
    assert "$900.00" in page.text and "Pin <strong>mockups</strong> on a board." in page.text
    assert "a new listing" in page.text

    empty = client.post(
        f"/admin/review/{revision}/reject", data={"csrf_token": operator, "note": " "}, headers=HTML
    )
    assert empty.status_code == 422
    assert "Say why the revision is sent back" in field_error(empty.text, "reject_note")

    for _ in range(2):  # approving again answers as the first time
        approved = client.post(
            f"/admin/review/{revision}/approve",
            data={"csrf_token": operator, "note": "Looks right."},
            headers=HTML,
            follow_redirects=False,
        )
        assert approved.status_code == 303
    assert client.get(f"/api/v1/apps/{BOARD_KEY}").status_code == 200
    decided = client.get(f"/admin/review/{revision}", headers=HTML).text
    assert "approved" in decided and "Looks right." in decided and ">Approve</button>" not in decided
    late = client.post(
        f"/admin/review/{revision}/reject", data={"csrf_token": operator, "note": "no"}, headers=HTML
    )
    assert late.status_code == 422 and "This revision is approved" in late.text


def test_a_rejected_revision_carries_the_note(client: TestClient, world: World, operator: str) -> None:
    revision = submitted_revision(client, world)
    rejected = client.post(
        f"/admin/review/{revision}/reject",
        data={"csrf_token": operator, "note": "The 10-user price is too low."},
        headers=HTML,
        follow_redirects=False,
    )
    assert rejected.status_code == 303
    revisions = api(client, world, "mockups_vendor", "GET", f"/apps/{BOARD_KEY}/listings/server/revisions")
    assert (revisions[0]["status"], revisions[0]["reviewer_note"]) == (
        "rejected",
        "The 10-user price is too low.",
    )


def test_an_unknown_revision_is_a_404_page(client: TestClient, operator: str) -> None:
    assert client.get("/admin/review/00000000-0000-0000-0000-000000000000", headers=HTML).status_code == 404


# -- invoices, payments and refunds --------------------------------------------------------------------------


def test_invoices_are_filtered_by_status_and_organisation(
    client: TestClient, world: World, operator: str
) -> None:
    invoice = unpaid_invoice(client, world)
    open_acme = client.get("/admin/invoices?status=open&organisation=acme-test", headers=HTML)
    assert open_acme.status_code == 200 and invoice["number"] in open_acme.text
    assert invoice["number"] not in client.get("/admin/invoices?status=paid", headers=HTML).text
    assert invoice["number"] not in client.get("/admin/invoices?organisation=globex-test", headers=HTML).text
    assert client.get("/admin/invoices?organisation=nobody", headers=HTML).status_code == 404


def test_a_payment_is_recorded_once_and_refused_next_to_its_field(
    client: TestClient, session: Session, world: World, operator: str
) -> None:
    invoice = unpaid_invoice(client, world)
    path = f"/admin/invoices/{invoice['id']}"
    page = client.get(path, headers=HTML)
    assert page.status_code == 200 and invoice["number"] in page.text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.text)
    assert key
    payment = {"csrf_token": operator, "provider": "bank_transfer", "received_on": "2026-11-26"}

    too_much = client.post(
        f"{path}/payments", data=payment | {"amount": "99999.00", "reference": "TRF-7"}, headers=HTML
    )
    assert too_much.status_code == 422
    assert "Record at most the amount due" in field_error(too_much.text, "amount")
    no_reference = client.post(
        f"{path}/payments", data=payment | {"amount": "1.00", "reference": ""}, headers=HTML
    )
    assert no_reference.status_code == 422
    field_error(no_reference.text, "reference")
    future = client.post(
        f"{path}/payments",
        data=payment | {"amount": "1.00", "reference": "TRF-8", "received_on": "2027-01-01"},
        headers=HTML,
    )
    assert "cannot be received in the future" in field_error(future.text, "received_on")

    full = payment | {"amount": invoice["total"], "reference": "TRF-7", "idempotency_key": key.group(1)}
    for _ in range(2):  # a double click: one payment
        answer = client.post(f"{path}/payments", data=full, headers=HTML, follow_redirects=False)
        assert answer.status_code == 303
    paid = api(client, world, "acme_admin", "GET", f"/invoices/{invoice['id']}")
    assert paid["status"] == "paid" and len(paid["payments"]) == 1
    assert session.scalar(select(func.count()).select_from(Payment)) == 1
    again = client.post(
        f"{path}/payments", data=full | {"idempotency_key": "another"}, headers=HTML, follow_redirects=False
    )
    assert again.status_code == 303  # the same reference and amount: known, nothing added
    assert len(api(client, world, "operator", "GET", f"/invoices/{invoice['id']}")["payments"]) == 1
    shown = client.get(path, headers=HTML).text
    assert "TRF-7" in shown and "Record a payment" not in shown


def test_a_refund_cancels_the_license_and_a_late_one_is_told_next_to_the_reason(
    client: TestClient, session: Session, world: World, operator: str, server_clock: FixedClock
) -> None:
    invoice = paid_invoice(client, world)
    line = invoice["lines"][0]
    path = f"/admin/invoices/{invoice['id']}/lines/{line['id']}/refund"
    empty = client.post(path, data={"csrf_token": operator, "reason": ""}, headers=HTML)
    assert empty.status_code == 422
    field_error(empty.text, f"reason-{line['id']}")

    server_clock.advance(days=31)
    late_token = sign_in(client, session, OPERATOR, server_clock.now())  # the first session has expired
    late = client.post(path, data={"csrf_token": late_token, "reason": "changed our mind"}, headers=HTML)
    assert late.status_code == 422
    assert "the window closed on" in field_error(late.text, f"reason-{line['id']}")
    server_clock.advance(days=-31)
    operator = sign_in(client, session, OPERATOR, server_clock.now())

    for _ in range(2):
        refunded = client.post(
            path,
            data={"csrf_token": operator, "reason": "bought for the wrong host"},
            headers=HTML,
            follow_redirects=False,
        )
        assert refunded.status_code == 303
    license = api(client, world, "acme_admin", "GET", f"/licenses/{line['license']}")
    assert license["status"] == "cancelled"
    assert {key["state"] for key in license["keys"]} == {"revoked"}
    assert [entry["kind"] for entry in license["history"]].count("refund") == 1
    assert "Refunded" in client.get(f"/admin/invoices/{invoice['id']}", headers=HTML).text


def test_a_vendors_direct_invoice_is_shown_but_its_payments_are_the_vendors(
    client: TestClient, session: Session, world: World, operator: str
) -> None:
    quote = api(
        client,
        world,
        "acme_admin",
        "POST",
        "/quotes",
        {
            "host_instance_id": str(world.wiki_server.id),
            "channel": "direct",
            "items": [{"action": "new", "product_key": MOCKUPS, "tier": "100"}],
        },
    )
    invoice = api(client, world, "acme_admin", "POST", f"/quotes/{quote['id']}/accept")["invoice"]
    page = client.get(f"/admin/invoices/{invoice['id']}", headers=HTML)
    assert page.status_code == 200 and invoice["number"] in page.text
    assert "Record a payment" not in page.text and "recorded by the vendor" in page.text
    forged = client.post(
        f"/admin/invoices/{invoice['id']}/payments",
        data={"csrf_token": operator, "amount": invoice["total"], "reference": "TRF-1"},
        headers=HTML,
    )
    assert forged.status_code == 422 and "Only the seller" in forged.text
    assert session.scalar(select(func.count()).select_from(Payment)) == 0


# -- licenses and key revocation -----------------------------------------------------------------------------


def test_a_key_is_revoked_with_a_reason(
    client: TestClient, session: Session, world: World, operator: str
) -> None:
    invoice = paid_invoice(client, world)
    entitlement = invoice["lines"][0]["license"]
    page = client.get(f"/admin/licenses/{entitlement}", headers=HTML)
    assert page.status_code == 200 and entitlement in page.text
    serial = api(client, world, "operator", "GET", f"/licenses/{entitlement}")["keys"][0]["serial"]
    path = f"/admin/licenses/{entitlement}/keys/{serial}/revoke"
    empty = client.post(path, data={"csrf_token": operator, "reason": " "}, headers=HTML)
    assert empty.status_code == 422
    field_error(empty.text, f"reason-{serial}")
    for _ in range(2):
        answer = client.post(
            path,
            data={"csrf_token": operator, "reason": "leaked on a forum"},
            headers=HTML,
            follow_redirects=False,
        )
        assert answer.status_code == 303
    key = session.scalars(select(LicenseKey).where(LicenseKey.serial == serial)).one()
    session.refresh(key)
    assert key.revoked_reason == "leaked on a forum"
    license = api(client, world, "operator", "GET", f"/licenses/{entitlement}")
    assert license["keys"][0]["state"] == "revoked"
    assert [entry["kind"] for entry in license["history"]].count("revocation") == 1
    other = client.post(
        f"/admin/licenses/{entitlement}/keys/not-its-key/revoke",
        data={"csrf_token": operator, "reason": "x"},
        headers=HTML,
    )
    assert other.status_code == 404
    assert client.get("/admin/licenses/SEN-0", headers=HTML).status_code == 404


# -- outbox --------------------------------------------------------------------------------------------------


def test_the_outbox_filters_by_status_shows_a_message_and_retries_a_dead_one(
    client: TestClient, session: Session, world: World, operator: str, server_clock: FixedClock
) -> None:
    dead = enqueue_email(session, ["lost@example.com"], "Your invoice", "Hello")
    dead.attempts, dead.last_error = 3, "550 mailbox unavailable"
    dead.first_attempt_at = dead.last_attempt_at = dead.dead_at = server_clock.now() - timedelta(hours=1)
    sent = enqueue_email(session, ["found@example.com"], "Your keys", "Hello")
    sent.attempts, sent.delivered_at = 1, server_clock.now()
    session.commit()

    dead_list = client.get("/admin/outbox?status=dead", headers=HTML).text
    assert "lost@example.com" in dead_list and "found@example.com" not in dead_list
    assert "found@example.com" in client.get("/admin/outbox?status=delivered", headers=HTML).text
    page = client.get(f"/admin/outbox/{dead.id}", headers=HTML)
    assert page.status_code == 200
    assert "550 mailbox unavailable" in page.text and "Your invoice" in page.text

    retried = client.post(
        f"/admin/outbox/{dead.id}/retry", data={"csrf_token": operator}, headers=HTML, follow_redirects=False
    )
    assert retried.status_code == 303
    session.refresh(dead)
    assert dead.dead_at is None and dead.delivered_at is None
    refused = client.post(f"/admin/outbox/{sent.id}/retry", data={"csrf_token": operator}, headers=HTML)
    assert refused.status_code == 422 and "nothing to send again" in refused.text
    assert client.get("/admin/outbox/ffffffffffff", headers=HTML).status_code == 404


def test_a_delivered_e_mail_is_sent_again_as_one_copy_however_often_it_is_asked(
    client: TestClient, session: Session, world: World, operator: str, server_clock: FixedClock
) -> None:
    sent = enqueue_email(session, ["found@example.com"], "Your keys", "Hello")
    sent.attempts, sent.delivered_at = 1, server_clock.now()
    session.commit()
    assert "Send a copy" in client.get(f"/admin/outbox/{sent.id}", headers=HTML).text

    first, second = (
        client.post(
            f"/admin/outbox/{sent.id}/copy",
            data={"csrf_token": operator},
            headers=HTML,
            follow_redirects=False,
        )
        for _ in range(2)
    )
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"] != f"/admin/outbox/{sent.id}"
    copies = session.scalars(
        select(OutboxMessage).where(OutboxMessage.id != sent.id, OutboxMessage.topic == sent.topic)
    ).all()
    assert [c.payload["copy_of"] for c in copies if "copy_of" in c.payload] == [str(sent.id)]
    copy = next(c for c in copies if c.payload.get("copy_of"))
    assert copy.payload["to"] == sent.payload["to"] and copy.delivered_at is None
    session.refresh(sent)
    assert sent.delivered_at is not None  # the original stays in the log as it was

    server_clock.advance(minutes=2)  # asked again later: another copy
    client.post(f"/admin/outbox/{sent.id}/copy", data={"csrf_token": operator}, headers=HTML)
    everything = session.scalars(select(OutboxMessage)).all()
    assert sum(m.payload.get("copy_of") == str(sent.id) for m in everything) == 2
    without_token = client.post(f"/admin/outbox/{sent.id}/copy", headers=HTML)
    assert without_token.status_code == 403

"""Buying pages without a browser: hosts, the cart becoming a quote, accepting, the invoice, payments, keys, the
PDF; every form refuses a post without its CSRF token, and another organisation's objects are 404."""

from __future__ import annotations

import io
import re
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from mercato.accounts.models import HostInstance
from mercato.clock import FixedClock
from mercato.commerce.cart_models import CartItem
from mercato.commerce.models import Order, Payment, Quote
from support.pages import HTML, csrf_of, sign_in
from support.world import World, build_world

MOCKUPS = "com.example.mockups.wiki"
_FORM_KEY = re.compile(r'name="form_key" value="([^"]+)"')
_GROUP = re.compile(r'name="group" value="([^"]+)"')
_ITEM = re.compile(r'action="/cart/items/(\d+)/remove"')


@pytest.fixture
def world(session: Session) -> World:
    built = build_world(session)
    session.commit()
    return built


def _as(client: TestClient, session: Session, clock: FixedClock, role: str) -> str:
    return sign_in(client, session, f"{role}@test.example", clock.now())


def _form_key(html: str) -> str:
    found = _FORM_KEY.search(html)
    assert found, "the page has no form key"
    return found.group(1)


def _add(
    client: TestClient,
    csrf: str,
    host: HostInstance,
    tier: str = "100",
    channel: str = "marketplace",
    years: str = "1",
) -> None:
    answer = client.post(
        "/cart/items",
        data={
            "csrf_token": csrf,
            "app_key": MOCKUPS,
            "hosting": "server",
            "channel": channel,
            "tier": tier,
            "years": years,
            "host_instance_id": str(host.id),
        },
        headers=HTML,
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def _create_quote(client: TestClient, csrf: str) -> tuple[int, str, str]:
    """Post the cart's first "Create quote" form: (status, location or page, the cart page's form key)."""
    cart = client.get("/cart", headers=HTML).text
    group = _GROUP.search(cart)
    assert group
    key = _form_key(cart)
    answer = client.post(
        "/cart/quotes",
        data={"csrf_token": csrf, "group": group.group(1), "form_key": key},
        headers=HTML,
        follow_redirects=False,
    )
    return answer.status_code, answer.headers.get("location", answer.text), key


def _quoted(client: TestClient, csrf: str, world: World) -> str:
    _add(client, csrf, world.wiki_server)
    status, location, _ = _create_quote(client, csrf)
    assert status == 303, location
    return location


def _accepted(client: TestClient, csrf: str, world: World) -> str:
    quote_page = client.get(_quoted(client, csrf, world), headers=HTML)
    quote_id = quote_page.url.path.rsplit("/", 1)[1]
    answer = client.post(
        f"/quotes/{quote_id}/accept",
        data={"csrf_token": csrf, "form_key": _form_key(quote_page.text)},
        headers=HTML,
        follow_redirects=False,
    )
    assert answer.status_code == 303
    return str(answer.headers["location"])


def test_the_hosts_page_lists_the_organisations_hosts_and_registers_one(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    csrf = _as(client, session, server_clock, "acme_admin")
    page = client.get("/hosts", headers=HTML)
    assert page.status_code == 200
    assert "ACME-WIKI-0001" in page.text and "GLOBEX-WIKI-1" not in page.text
    answer = client.post(
        "/hosts",
        data={
            "csrf_token": csrf,
            "organisation": str(world.acme.id),
            "host_product": "wiki",
            "hosting": "server",
            "server_id": "ACME-NEW-0002",
            "name": "New wiki",
            "user_tier": "250",
            "host_maintenance_end": "2027-12-31",
        },
        headers=HTML,
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert "ACME-NEW-0002" in client.get("/hosts", headers=HTML).text


def test_a_host_with_a_tier_the_host_product_lacks_shows_the_error_by_the_field(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    csrf = _as(client, session, server_clock, "acme_admin")
    answer = client.post(
        "/hosts",
        data={
            "csrf_token": csrf,
            "organisation": str(world.acme.id),
            "host_product": "wiki",
            "hosting": "server",
            "server_id": "ACME-BAD-TIER",
            "user_tier": "77",
        },
        headers=HTML,
    )
    assert answer.status_code == 422
    assert 'id="user_tier"' in answer.text
    field = re.search(r'<input id="user_tier"[^>]*>', answer.text)
    assert field and 'aria-invalid="true"' in field.group(0)
    assert 'aria-describedby="user_tier-error"' in field.group(0)
    error = re.search(r'<p class="field-error" id="user_tier-error">([^<]+)</p>', answer.text)
    assert error and "licensed in user tiers" in error.group(1)
    assert session.scalar(select(func.count()).where(HostInstance.server_id == "ACME-BAD-TIER")) == 0


def test_a_billing_contact_sees_the_hosts_but_gets_no_register_form(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    _as(client, session, server_clock, "acme_billing")
    page = client.get("/hosts", headers=HTML)
    assert "ACME-WIKI-0001" in page.text
    assert 'action="/hosts"' not in page.text


def test_the_cart_asks_which_host_when_the_app_page_did_not_say(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    csrf = _as(client, session, server_clock, "acme_admin")
    answer = client.post(
        "/cart/items",
        data={
            "csrf_token": csrf,
            "app_key": MOCKUPS,
            "hosting": "server",
            "channel": "marketplace",
            "tier": "100",
        },
        headers=HTML,
    )
    assert answer.status_code == 200
    assert "Which host is Mockups for Wiki for?" in answer.text
    assert str(world.wiki_server.id) in answer.text
    assert str(world.wiki_cloud.id) not in answer.text  # not a server


def test_a_tier_mismatch_shows_the_way_out_next_to_the_item(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    csrf = _as(client, session, server_clock, "acme_admin")
    _add(client, csrf, world.wiki_server, tier="10")
    status, page, _ = _create_quote(client, csrf)
    assert status == 422
    assert "must be licensed for at least 100 users" in page
    assert "Change to 100 users" in page
    assert session.scalar(select(func.count()).select_from(Quote)) == 0
    item = _ITEM.search(page)
    assert item
    changed = client.post(
        f"/cart/items/{item.group(1)}/change",
        data={"csrf_token": csrf, "tier": "100"},
        headers=HTML,
        follow_redirects=False,
    )
    assert changed.status_code == 303
    status, location, _ = _create_quote(client, csrf)
    assert status == 303 and location.startswith("/quotes/")
    quote = client.get(location, headers=HTML).text
    assert "Mockups" in quote or MOCKUPS in quote
    assert "$1,100.00" in quote
    assert client.get("/cart", headers=HTML).text.count("Create quote") == 0  # the items became the quote


def test_the_cart_quotes_the_years_of_maintenance_chosen(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    csrf = _as(client, session, server_clock, "acme_admin")
    _add(client, csrf, world.wiki_server, years="3")
    cart = client.get("/cart", headers=HTML).text
    assert '<option value="3" selected>3 years</option>' in cart
    assert "each further year at the renewal price" in cart
    status, location, _ = _create_quote(client, csrf)
    assert status == 303, location
    quote = client.get(location, headers=HTML).text
    assert "$2,200.00" in quote  # 1,100.00 + 2 × 550.00, maintenance until 2029
    assert "2 more years (renewal)" in quote


def test_too_many_years_on_a_direct_store_offer_the_years_it_sells(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    csrf = _as(client, session, server_clock, "acme_admin")
    _add(client, csrf, world.wiki_server, tier="10", channel="direct", years="2")
    status, page, _ = _create_quote(client, csrf)
    assert status == 422
    assert "at most 12 months ahead on the direct channel" in page
    assert "Change to 1 year<" in page
    item = _ITEM.search(page)
    assert item
    changed = client.post(
        f"/cart/items/{item.group(1)}/change",
        data={"csrf_token": csrf, "years": "1"},
        headers=HTML,
        follow_redirects=False,
    )
    assert changed.status_code == 303
    assert session.scalars(select(CartItem.years)).one() == 1
    status, location, _ = _create_quote(client, csrf)
    assert status == 303 and location.startswith("/quotes/")


def test_creating_the_same_quote_twice_makes_one(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    csrf = _as(client, session, server_clock, "acme_admin")
    _add(client, csrf, world.wiki_server)
    cart = client.get("/cart", headers=HTML).text
    group, key = _GROUP.search(cart), _form_key(cart)
    assert group
    data = {"csrf_token": csrf, "group": group.group(1), "form_key": key}
    first = client.post("/cart/quotes", data=data, headers=HTML, follow_redirects=False)
    second = client.post("/cart/quotes", data=data, headers=HTML, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert session.scalar(select(func.count()).select_from(Quote)) == 1


def test_accepting_twice_makes_one_order_and_shows_the_invoice(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    csrf = _as(client, session, server_clock, "acme_admin")
    quote_page = client.get(_quoted(client, csrf, world), headers=HTML)
    quote_id = quote_page.url.path.rsplit("/", 1)[1]
    data = {"csrf_token": csrf, "form_key": _form_key(quote_page.text)}
    first = client.post(f"/quotes/{quote_id}/accept", data=data, headers=HTML, follow_redirects=False)
    second = client.post(f"/quotes/{quote_id}/accept", data=data, headers=HTML, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert session.scalar(select(func.count()).select_from(Order)) == 1
    invoice = client.get(first.headers["location"], headers=HTML)
    assert invoice.status_code == 200
    assert "MKT-2026-" in invoice.text and "Balance due" in invoice.text
    assert "Record a payment" not in invoice.text  # the buyer does not record payments: the seller does
    assert "See invoice" in client.get(f"/quotes/{quote_id}", headers=HTML).text


def test_a_billing_contact_may_not_accept(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    csrf = _as(client, session, server_clock, "acme_admin")
    location = _quoted(client, csrf, world)
    client.cookies.clear()
    billing = _as(client, session, server_clock, "acme_billing")
    page = client.get(location, headers=HTML)
    assert page.status_code == 200 and "Accept quote" not in page.text
    answer = client.post(f"{location}/accept", data={"csrf_token": billing, "form_key": "k-1"}, headers=HTML)
    assert answer.status_code == 403
    assert session.scalar(select(func.count()).select_from(Order)) == 0


def test_a_payment_posted_twice_with_the_same_form_counts_once_and_the_keys_appear(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    csrf = _as(client, session, server_clock, "acme_admin")
    invoice_path = _accepted(client, csrf, world)
    client.cookies.clear()
    operator = _as(client, session, server_clock, "operator")
    page = client.get(invoice_path, headers=HTML)
    assert "Record a payment" in page.text
    data = {
        "csrf_token": operator,
        "form_key": _form_key(page.text),
        "amount": "1100.00",
        "provider": "bank_transfer",
        "reference": "BANK-42",
        "received_on": "",
    }
    first = client.post(f"{invoice_path}/payments", data=data, headers=HTML, follow_redirects=False)
    second = client.post(f"{invoice_path}/payments", data=data, headers=HTML, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert session.scalar(select(func.count()).select_from(Payment)) == 1
    client.cookies.clear()
    _as(client, session, server_clock, "acme_admin")
    paid = client.get(invoice_path, headers=HTML).text
    assert "Paid" in paid and "License keys" in paid
    assert 'data-copy-target="key-' in paid
    assert re.search(r'<pre class="key" id="key-[^"]+"><code>[^<]{40,}</code></pre>', paid)
    assert 'href="/licenses"' in paid


def test_a_payment_error_is_shown_by_its_field(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    csrf = _as(client, session, server_clock, "acme_admin")
    invoice_path = _accepted(client, csrf, world)
    client.cookies.clear()
    operator = _as(client, session, server_clock, "operator")
    page = client.get(invoice_path, headers=HTML)
    answer = client.post(
        f"{invoice_path}/payments",
        data={
            "csrf_token": operator,
            "form_key": _form_key(page.text),
            "amount": "5000",
            "reference": "BANK-1",
        },
        headers=HTML,
    )
    assert answer.status_code == 422
    assert re.search(
        r'<p class="field-error" id="amount-error">[^<]*has \$1,100.00 due', answer.text.replace("USD ", "$")
    )
    assert session.scalar(select(func.count()).select_from(Payment)) == 0


def test_the_invoice_pdf_carries_the_number_lines_and_total(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    csrf = _as(client, session, server_clock, "acme_admin")
    invoice_path = _accepted(client, csrf, world)
    answer = client.get(f"{invoice_path}.pdf")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(answer.content)).pages)
    number = re.search(r"MKT-2026-\d{6}", text)
    assert number and number.group(0) in answer.headers["content-disposition"]
    assert MOCKUPS in text
    assert "USD 1,100.00" in text
    assert "Acme Corp" in text and "Balance due" in text


def test_another_organisations_quote_and_invoice_are_not_found(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    csrf = _as(client, session, server_clock, "acme_admin")
    invoice_path = _accepted(client, csrf, world)
    quote_id = session.scalars(select(Quote.id)).one()
    client.cookies.clear()
    globex = _as(client, session, server_clock, "globex_admin")
    for path in (f"/quotes/{quote_id}", invoice_path, f"{invoice_path}.pdf", f"/quotes/{uuid.uuid4()}"):
        assert client.get(path, headers=HTML).status_code == 404, path
    accept = client.post(
        f"/quotes/{quote_id}/accept", data={"csrf_token": globex, "form_key": "x"}, headers=HTML
    )
    assert accept.status_code == 404
    pay = client.post(
        f"{invoice_path}/payments",
        data={"csrf_token": globex, "amount": "1100", "reference": "R"},
        headers=HTML,
    )
    assert pay.status_code == 404
    added = client.post(
        "/cart/items",
        data={
            "csrf_token": globex,
            "app_key": MOCKUPS,
            "host_instance_id": str(world.wiki_server.id),
            "tier": "100",
        },
        headers=HTML,
    )
    assert added.status_code == 422  # Acme's host is not one Globex can see
    assert session.scalar(select(func.count()).select_from(CartItem)) == 0


def test_a_stranger_is_sent_to_sign_in(client: TestClient, world: World, server_clock: FixedClock) -> None:
    for path in ("/hosts", "/cart", f"/quotes/{uuid.uuid4()}", f"/invoices/{uuid.uuid4()}"):
        answer = client.get(path, headers=HTML, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/sign-in"), path


def test_every_buying_form_refuses_a_post_without_its_token(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    csrf = _as(client, session, server_clock, "acme_admin")
    _add(client, csrf, world.wiki_server)
    item = session.scalars(select(CartItem)).one()
    invoice_path = _accepted(client, csrf, world)
    quote_id = session.scalars(select(Quote.id)).one()
    _add(client, csrf, world.wiki_server)
    before = (
        session.scalar(select(func.count()).select_from(CartItem)),
        session.scalar(select(func.count()).select_from(Quote)),
    )
    posts = {
        "/hosts": {"host_product": "wiki", "hosting": "server", "server_id": "NO-TOKEN", "user_tier": "100"},
        "/cart/items": {"app_key": MOCKUPS, "host_instance_id": str(world.wiki_server.id), "tier": "100"},
        f"/cart/items/{item.id}/remove": {},
        f"/cart/items/{item.id}/change": {"tier": "250"},
        "/cart/quotes": {"group": f"{world.wiki_server.id}:marketplace", "form_key": "no-token"},
        f"/quotes/{quote_id}/accept": {"form_key": "no-token"},
        f"{invoice_path}/payments": {"amount": "1100", "reference": "NO-TOKEN"},
    }
    for path, data in posts.items():
        answer = client.post(path, data=data, headers=HTML, follow_redirects=False)
        assert answer.status_code == 403, path
        assert "This form has expired" in answer.text
    session.expire_all()
    after = (
        session.scalar(select(func.count()).select_from(CartItem)),
        session.scalar(select(func.count()).select_from(Quote)),
    )
    assert after == before
    assert session.scalar(select(func.count()).where(HostInstance.server_id == "NO-TOKEN")) == 0
    assert session.scalar(select(func.count()).select_from(Payment)) == 0


def test_a_cloud_app_on_the_direct_store_offers_the_marketplace(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    csrf = _as(client, session, server_clock, "acme_admin")
    answer = client.post(
        "/cart/items",
        data={
            "csrf_token": csrf,
            "app_key": MOCKUPS,
            "hosting": "cloud",
            "channel": "direct",
            "tier": "",
            "host_instance_id": str(world.wiki_cloud.id),
        },
        headers=HTML,
        follow_redirects=False,
    )
    assert answer.status_code == 303
    status, page, _ = _create_quote(client, csrf)
    assert status == 422, page
    assert "Buy it on the marketplace instead" in page
    item = _ITEM.search(page)
    assert item
    client.post(
        f"/cart/items/{item.group(1)}/change",
        data={"csrf_token": csrf, "channel": "marketplace"},
        headers=HTML,
    )
    status, location, _ = _create_quote(client, csrf)
    assert status == 303 and location.startswith("/quotes/")


def test_the_direct_store_quotes_one_vendors_apps_on_their_own(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    csrf = _as(client, session, server_clock, "acme_admin")
    _add(client, csrf, world.wiki_server, tier="10", channel="direct")
    _add_key(client, csrf, world.wiki_server, "wiki", "100")
    cart = client.get("/cart", headers=HTML).text
    assert "Example Mockups Ltd direct quote for Acme wiki" in cart
    assert "Marketplace quote for Acme wiki" in cart
    assert len(_GROUP.findall(cart)) == 2
    status, location, _ = _create_quote(client, csrf)  # the first group: the direct one
    assert status == 303
    quote = client.get(location, headers=HTML).text
    assert "direct store" in quote and "$10.00" in quote


def test_an_item_for_a_host_of_another_hosting_is_refused_by_the_host_field(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    csrf = _as(client, session, server_clock, "acme_admin")
    answer = client.post(
        "/cart/items",
        data={
            "csrf_token": csrf,
            "app_key": MOCKUPS,
            "hosting": "server",
            "tier": "100",
            "host_instance_id": str(world.wiki_cloud.id),
        },
        headers=HTML,
    )
    assert answer.status_code == 422
    assert '<p class="field-error" id="host_instance_id-error">This host is a cloud site' in answer.text


def test_the_cart_says_when_the_host_already_holds_the_app(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    csrf = _as(client, session, server_clock, "acme_admin")
    invoice_path = _accepted(client, csrf, world)
    client.cookies.clear()
    operator = _as(client, session, server_clock, "operator")
    page = client.get(invoice_path, headers=HTML)
    client.post(
        f"{invoice_path}/payments",
        data={
            "csrf_token": operator,
            "form_key": _form_key(page.text),
            "amount": "1100.00",
            "reference": "B-1",
        },
        headers=HTML,
    )
    client.cookies.clear()
    csrf = _as(client, session, server_clock, "acme_admin")
    _add(client, csrf, world.wiki_server)
    cart = client.get("/cart", headers=HTML).text
    assert re.search(r"This host already holds license SEN-\S+ for it", cart)


def _add_key(client: TestClient, csrf: str, host: HostInstance, key: str, tier: str) -> None:
    answer = client.post(
        "/cart/items",
        data={
            "csrf_token": csrf,
            "app_key": key,
            "channel": "marketplace",
            "tier": tier,
            "host_instance_id": str(host.id),
        },
        headers=HTML,
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def test_an_expired_quote_is_not_accepted_and_says_what_to_do(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    csrf = _as(client, session, server_clock, "acme_admin")
    location = _quoted(client, csrf, world)
    assert "Quote Q-" in client.get("/cart", headers=HTML).text  # the way back to it
    server_clock.advance(days=31)
    csrf = _as(client, session, server_clock, "acme_admin")  # the first session has ended by now
    page = client.get(location, headers=HTML)
    assert "Expired" in page.text and "Accept quote" not in page.text
    answer = client.post(f"{location}/accept", data={"csrf_token": csrf, "form_key": "late"}, headers=HTML)
    assert answer.status_code == 422
    assert "Ask for a new quote" in answer.text
    assert session.scalar(select(func.count()).select_from(Order)) == 0


def test_a_visitor_adding_from_an_app_page_is_sent_to_sign_in_and_back_to_the_app(
    client: TestClient, world: World
) -> None:
    token = csrf_of(client.get("/sign-in", headers=HTML).text)  # the signed-out form token of any page
    answer = client.post(
        "/cart/items",
        data={"csrf_token": token, "app_key": MOCKUPS, "hosting": "server", "tier": "100"},
        headers=HTML,
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/sign-in?next=/apps/{MOCKUPS}"


def test_a_direct_invoice_is_paid_by_its_vendor_and_not_by_the_operator(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    csrf = _as(client, session, server_clock, "acme_admin")
    _add(client, csrf, world.wiki_server, tier="10", channel="direct")
    status, location, _ = _create_quote(client, csrf)
    assert status == 303
    quote_page = client.get(location, headers=HTML)
    accepted = client.post(
        f"{location}/accept",
        data={"csrf_token": csrf, "form_key": _form_key(quote_page.text)},
        headers=HTML,
        follow_redirects=False,
    )
    invoice_path = accepted.headers["location"]
    client.cookies.clear()
    _as(client, session, server_clock, "operator")
    assert "Record a payment" not in client.get(invoice_path, headers=HTML).text
    client.cookies.clear()
    vendor = _as(client, session, server_clock, "mockups_vendor")
    page = client.get(invoice_path, headers=HTML)
    assert "EXAMPLE-MOCKUPS-2026-" in page.text and "Record a payment" in page.text
    paid = client.post(
        f"{invoice_path}/payments",
        data={"csrf_token": vendor, "form_key": _form_key(page.text), "amount": "10.00", "reference": "D-1"},
        headers=HTML,
    )
    assert paid.status_code == 200
    assert "$0.00" in paid.text and "Record a payment" not in paid.text


def test_the_invoice_page_reads_the_keys_of_all_its_lines_in_one_query(
    client: TestClient, session: Session, world: World, server_clock: FixedClock, engine: Engine
) -> None:
    quote = client.post(
        "/api/v1/quotes",
        json={
            "host_instance_id": str(world.wiki_server.id),
            "channel": "marketplace",
            "items": [
                {"action": "new", "product_key": MOCKUPS, "tier": "100"},
                {"action": "new", "product_key": "com.diagramly.diagrams.wiki", "tier": "100"},
            ],
        },
        headers=world.auth("acme_admin"),
    )
    assert quote.status_code == 201, quote.text
    invoice = client.post(
        f"/api/v1/quotes/{quote.json()['id']}/accept", headers=world.auth("acme_admin")
    ).json()["invoice"]
    paid = client.post(
        f"/api/v1/invoices/{invoice['id']}/payments",
        json={"amount": invoice["total"], "provider": "bank_transfer", "reference": "KEYS-1"},
        headers=world.auth("operator"),
    )
    assert paid.status_code == 200, paid.text
    _as(client, session, server_clock, "acme_admin")
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        page = client.get(f"/invoices/{invoice['id']}", headers=HTML)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert page.status_code == 200 and page.text.count('data-copy-target="key-') == 2
    assert len([s for s in statements if "FROM license_keys" in s]) == 1, statements

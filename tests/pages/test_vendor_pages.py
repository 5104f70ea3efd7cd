"""The vendor portal's pages: its vendors only, the dashboard's chart numbers, apps and listings through review,
releases, licenses and transactions with filters, the CSV of exactly the filtered rows, and the direct store."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mercato.accounts.models import Membership, Role, User
from mercato.catalog.models import App, ListingRevision, Release, RevisionStatus, Vendor, VendorStatus
from mercato.clock import FixedClock
from mercato.commerce.models import Invoice, InvoiceLine
from mercato.commerce.vendor_reports import VendorReports, month_starts
from mercato.pages import vendor_report_pages
from mercato.pricing import from_minor_units
from support.pages import HTML, sign_in
from support.world import World, add_second_wiki_server, build_world

VENDOR = "mockups_vendor@test.example"
BUYER = "acme_admin@test.example"
MOCKUPS = "com.example.mockups.wiki"
API = "/api/v1"


@pytest.fixture
def world(session: Session) -> World:
    built = build_world(session)
    session.commit()
    return built


def _vendor_csrf(client: TestClient, session: Session, server_clock: FixedClock) -> str:
    return sign_in(client, session, VENDOR, server_clock.now())


def _buy(
    client: TestClient,
    world: World,
    key: str,
    tier: str,
    channel: str = "marketplace",
    host: str | None = None,
) -> dict[str, Any]:
    """A paid purchase of ``key`` on Acme's wiki server (through the API, as a buyer would): the invoice."""
    quote = client.post(
        f"{API}/quotes",
        json={
            "host_instance_id": host or str(world.wiki_server.id),
            "channel": channel,
            "items": [{"action": "new", "product_key": key, "tier": tier}],
        },
        headers=world.auth("acme_admin"),
    )
    assert quote.status_code == 201, quote.text
    accepted = client.post(f"{API}/quotes/{quote.json()['id']}/accept", headers=world.auth("acme_admin"))
    assert accepted.status_code in (200, 201), accepted.text
    invoice = accepted.json()["invoice"]
    payer = "operator" if channel == "marketplace" else "mockups_vendor"
    paid = client.post(
        f"{API}/invoices/{invoice['id']}/payments",
        json={
            "amount": invoice["total"],
            "provider": "bank_transfer",
            "reference": f"REF-{invoice['number']}",
        },
        headers=world.auth(payer),
    )
    assert paid.status_code == 200, paid.text
    result: dict[str, Any] = paid.json()
    return result


def _rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return re.findall(r"<tr>(.*?)</tr>", body, re.S)


# -- access ----------------------------------------------------------------------------------------------------


def test_a_member_is_sent_to_its_only_vendor(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    _vendor_csrf(client, session, server_clock)
    answer = client.get("/vendor", headers=HTML, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/vendor/example-mockups"


def test_a_stranger_is_sent_to_sign_in(client: TestClient, world: World) -> None:
    answer = client.get("/vendor/example-mockups", headers=HTML, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/sign-in?next=/vendor/example-mockups")


@pytest.mark.parametrize(
    "path",
    [
        "/vendor/gatekeeper",
        "/vendor/gatekeeper/apps",
        "/vendor/gatekeeper/licenses",
        "/vendor/gatekeeper/transactions",
        "/vendor/gatekeeper/transactions.csv",
        "/vendor/gatekeeper/store",
        "/vendor/gatekeeper/apps/com.gatekeeper.sso.wiki",
        "/vendor/example-mockups/apps/com.gatekeeper.sso.wiki",
        "/vendor/example-mockups/apps/com.gatekeeper.sso.wiki/listings/server",
        "/vendor/no-such-vendor",
    ],
)
def test_another_vendors_pages_are_404(
    client: TestClient, session: Session, world: World, server_clock: FixedClock, path: str
) -> None:
    _vendor_csrf(client, session, server_clock)
    answer = client.get(path, headers=HTML)
    assert answer.status_code == 404
    assert "text/html" in answer.headers["content-type"]


@pytest.mark.parametrize(
    "path", ["/vendor", "/vendor/example-mockups", "/vendor/example-mockups/transactions"]
)
def test_a_buyer_gets_404_in_the_portal(
    client: TestClient, session: Session, world: World, server_clock: FixedClock, path: str
) -> None:
    sign_in(client, session, BUYER, server_clock.now())
    assert client.get(path, headers=HTML).status_code == 404


def test_posting_to_another_vendors_store_is_404_and_changes_nothing(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    csrf = _vendor_csrf(client, session, server_clock)
    answer = client.post(
        "/vendor/timekeep/store", data={"csrf_token": csrf, "enabled": "false"}, headers=HTML
    )
    assert answer.status_code == 404
    session.expire_all()
    assert session.scalars(select(Vendor).where(Vendor.slug == "timekeep")).one().direct_store is True


# -- CSRF on every form ------------------------------------------------------------------------------------------

FORMS = [
    ("/vendor/example-mockups/store", {"enabled": "false"}),
    ("/vendor/example-mockups/apps", {"key": "com.example.csrf.wiki", "name": "X", "host_product": "wiki"}),
    (f"/vendor/example-mockups/apps/{MOCKUPS}", {"name": "Renamed by another site"}),
    (f"/vendor/example-mockups/apps/{MOCKUPS}/listings/server/draft", {"currency": "USD", "action": "save"}),
    (f"/vendor/example-mockups/apps/{MOCKUPS}/listings/server/submit", {}),
    (f"/vendor/example-mockups/apps/{MOCKUPS}/listings/server/withdraw", {}),
    (
        f"/vendor/example-mockups/apps/{MOCKUPS}/listings/server/releases",
        {"version": "9.9.9", "build_date": "2026-11-01"},
    ),
]


@pytest.mark.parametrize(("path", "data"), FORMS)
def test_every_form_refuses_a_post_without_its_token(
    client: TestClient,
    session: Session,
    world: World,
    server_clock: FixedClock,
    path: str,
    data: dict[str, str],
) -> None:
    _vendor_csrf(client, session, server_clock)
    before = _state(session)
    for token in (None, "forged-token-of-another-site-xxxxx"):
        sent = dict(data) | ({"csrf_token": token} if token else {})
        answer = client.post(path, data=sent, headers=HTML, follow_redirects=False)
        assert answer.status_code == 403
        assert "This form has expired" in answer.text
    assert _state(session) == before


def _state(session: Session) -> tuple[Any, ...]:
    session.expire_all()
    return (
        session.scalars(select(Vendor.direct_store).where(Vendor.slug == "example-mockups")).one(),
        session.scalar(select(func.count()).select_from(App)),
        session.scalars(select(App.name).where(App.key == MOCKUPS)).one(),
        session.scalar(select(func.count()).select_from(ListingRevision)),
        session.scalar(select(func.count()).select_from(Release)),
    )


# -- dashboard and chart -------------------------------------------------------------------------------------------


def test_the_dashboard_chart_holds_the_sums_of_the_invoice_lines(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    _buy(client, world, MOCKUPS, "100")  # marketplace: the vendor's share is the recorded split
    _vendor_csrf(client, session, server_clock)
    page = client.get("/vendor/example-mockups", headers=HTML)
    assert page.status_code == 200
    assert 'role="img"' in page.text and "aria-label=" in page.text
    assert "/static/chart-4.6.1.umd.min.js" in page.text
    # The same numbers, summed in Python from the invoice lines, to the cent.
    session.expire_all()
    lines = session.execute(
        select(InvoiceLine.amount_minor, InvoiceLine.vendor_amount_minor)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .join(App, App.key == MOCKUPS)
        .where(InvoiceLine.vendor_id == App.vendor_id, Invoice.paid_at.is_not(None))
    ).all()
    gross = from_minor_units(sum(amount for amount, _ in lines), "USD")
    share = from_minor_units(sum(vendor or amount for amount, vendor in lines), "USD")
    assert gross == Decimal("1100.00")
    assert Decimal("0") < share < gross
    month = f"{server_clock.today():%b %Y}"
    row = next(r for r in _rows(page.text) if month in r)
    assert f"${gross:,.2f}" in row
    assert f"${share:,.2f}" in row
    chart = re.search(r"data-chart='([^']+)'", page.text)
    assert chart is not None
    assert f'"{gross}"' in chart.group(1) and f'"{share}"' in chart.group(1)
    assert chart.group(1).count('"active": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]') == 1


def test_monthly_series_are_sql_sums_with_refunds_in_their_month(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    paid = _buy(client, world, MOCKUPS, "100")
    first_month = server_clock.today().replace(day=1)
    server_clock.advance(days=10)  # into the next month (26 Nov + 10 days = 6 Dec)
    line = paid["lines"][0]
    refund = client.post(
        f"{API}/invoices/{paid['id']}/lines/{line['id']}/refund",
        json={"reason": "bought by mistake"},
        headers=world.auth("operator"),
    )
    assert refund.status_code == 200, refund.text
    vendor = session.scalars(select(Vendor).where(Vendor.slug == "example-mockups")).one()
    starts = month_starts(server_clock.today(), 2)
    assert starts[0] == first_month
    revenue = VendorReports(session).monthly_revenue(vendor.id, starts)
    by_month = {row.month: row for row in revenue}
    share = Decimal(line["revenue_split"]["vendor_amount"])
    assert by_month[starts[0]].gross == Decimal("1100.00")
    assert by_month[starts[0]].vendor_share == share
    assert by_month[starts[1]].gross == Decimal("-1100.00")
    assert by_month[starts[1]].vendor_share == -share
    active = VendorReports(session).active_licenses_by_month(vendor.id, starts)
    assert [a.active for a in active] == [0, 0]  # the refunded license is cancelled
    _vendor_csrf(client, session, server_clock)
    refunds = client.get("/vendor/example-mockups/transactions?kind=refund", headers=HTML)
    rows = _rows(refunds.text)
    assert len(rows) == 1 and "-$1,100.00" in rows[0] and "refund" in rows[0]
    table = list(csv.DictReader(io.StringIO(client.get("/vendor/example-mockups/transactions.csv").text)))
    assert [(r["kind"], r["gross"], r["vendor_share"]) for r in table] == [
        ("refund", "-1100.00", str(-share)),
        ("new", "1100.00", str(share)),
    ]


# -- apps, listings, review, releases -----------------------------------------------------------------------------


def test_a_vendor_creates_an_app_drafts_its_listing_and_submits_it(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    csrf = _vendor_csrf(client, session, server_clock)
    key = "com.example.mockups.whiteboard.wiki"
    created = client.post(
        "/vendor/example-mockups/apps",
        data={
            "csrf_token": csrf,
            "key": key,
            "name": "Whiteboards for Wiki",
            "host_product": "wiki",
            "summary": "Sketch together.",
            "description": "## Whiteboards\n\nDraw *together*.",
            "links.documentation": "https://mockups.example/wb",
        },
        headers=HTML,
        follow_redirects=False,
    )
    assert created.status_code == 303
    assert created.headers["location"] == f"/vendor/example-mockups/apps/{key}"
    page = client.get(created.headers["location"], headers=HTML)
    assert "Whiteboards for Wiki" in page.text and "<em>together</em>" in page.text
    prices = {"10": "10.00", "25": "250.00", "50": "500.00", "100": "900.00", "250": "1800.00",
              "500": "2800.00", "2000": "4800.00", "10000": "7800.00", "unlimited": "9800.00"}  # fmt: skip
    draft = {
        "csrf_token": csrf,
        "currency": "USD",
        "marketplace.sold": "on",
        "marketplace.max_maintenance_months": "36",
        "direct.max_maintenance_months": "12",
        "license_types": ["academic", "community"],
        **{f"prices.{tier}": amount for tier, amount in prices.items()},
    }
    saved = client.post(
        f"/vendor/example-mockups/apps/{key}/listings/server/draft",
        data=draft | {"action": "save"},
        headers=HTML,
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    revision = session.scalars(select(ListingRevision).join(App).where(App.key == key)).one()
    assert revision.status == RevisionStatus.DRAFT
    assert revision.content["prices"]["100"] == "900.00"
    assert revision.content["license_types"] == ["academic", "community"]
    submitted = client.post(
        f"/vendor/example-mockups/apps/{key}/listings/server/submit",
        data={"csrf_token": csrf},
        headers=HTML,
        follow_redirects=False,
    )
    assert submitted.status_code == 303
    again = client.post(  # a repeated post changes nothing more
        f"/vendor/example-mockups/apps/{key}/listings/server/submit",
        data={"csrf_token": csrf},
        headers=HTML,
        follow_redirects=False,
    )
    assert again.status_code == 303
    session.expire_all()
    assert session.scalars(select(ListingRevision.status).join(App).where(App.key == key)).all() == [
        RevisionStatus.SUBMITTED
    ]
    listing_page = client.get(f"/vendor/example-mockups/apps/{key}/listings/server", headers=HTML)
    assert "waiting for review" in listing_page.text
    # The operator rejects it with a note: the vendor sees the status and the note.
    rejected = client.post(
        f"{API}/revisions/{revision.id}/reject",
        json={"note": "The 25-user price looks wrong."},
        headers=world.auth("operator"),
    )
    assert rejected.status_code == 200
    listing_page = client.get(f"/vendor/example-mockups/apps/{key}/listings/server", headers=HTML)
    assert "rejected" in listing_page.text and "The 25-user price looks wrong." in listing_page.text


def test_a_bad_price_table_is_shown_next_to_its_fields(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    csrf = _vendor_csrf(client, session, server_clock)
    answer = client.post(
        f"/vendor/example-mockups/apps/{MOCKUPS}/listings/server/draft",
        data={
            "csrf_token": csrf,
            "action": "save",
            "currency": "USD",
            "marketplace.sold": "on",
            "marketplace.max_maintenance_months": "36",
            "direct.max_maintenance_months": "12",
            "prices.10": "10.00",
            "prices.25": "5.00",  # falls
        },
        headers=HTML,
    )
    assert answer.status_code == 422
    assert 'id="prices-25" ' in answer.text
    assert re.search(
        r'id="prices-25"[^>]*aria-invalid="true"[^>]*aria-describedby="prices-25-error"', answer.text
    )
    assert 'id="prices-25-error"' in answer.text and "prices must not fall" in answer.text
    assert 'id="prices-50-error"' in answer.text and "no price for the 50 tier" in answer.text
    assert session.scalar(select(func.count()).select_from(ListingRevision)) == 0


def test_a_price_change_sooner_than_the_notice_is_refused_with_the_earliest_day(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    csrf = _vendor_csrf(client, session, server_clock)
    page = client.get(f"/vendor/example-mockups/apps/{MOCKUPS}/listings/server", headers=HTML)
    earliest = server_clock.today() + timedelta(days=30)
    assert earliest.isoformat() in page.text
    prices = {"10": "20.00", "25": "300.00", "50": "600.00", "100": "1100.00", "250": "2200.00",
              "500": "3300.00", "2000": "5500.00", "10000": "8800.00", "unlimited": "11000.00"}  # fmt: skip
    form = {
        "csrf_token": csrf,
        "action": "submit",
        "currency": "USD",
        "marketplace.sold": "on",
        "marketplace.max_maintenance_months": "36",
        "direct.sold": "on",
        "direct.max_maintenance_months": "12",
        "license_types": ["academic", "starter", "community", "open_source", "developer"],
        **{f"prices.{t}": a for t, a in prices.items()},
    }
    too_soon = (earliest - timedelta(days=1)).isoformat()
    answer = client.post(
        f"/vendor/example-mockups/apps/{MOCKUPS}/listings/server/draft",
        data=form | {"prices_effective_from": too_soon},
        headers=HTML,
    )
    assert answer.status_code == 422
    assert 'id="prices-effective-from-error"' in answer.text
    assert f"must be on or after {earliest.isoformat()}" in answer.text
    assert session.scalar(select(func.count()).select_from(ListingRevision)) == 0
    scheduled = client.post(
        f"/vendor/example-mockups/apps/{MOCKUPS}/listings/server/draft",
        data=form | {"prices_effective_from": earliest.isoformat()},
        headers=HTML,
        follow_redirects=False,
    )
    assert scheduled.status_code == 303
    revision = session.scalars(select(ListingRevision)).one()
    assert revision.status == RevisionStatus.SUBMITTED
    assert revision.prices_effective_from == earliest


def test_a_release_is_added_once_and_listed(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    csrf = _vendor_csrf(client, session, server_clock)
    path = f"/vendor/example-mockups/apps/{MOCKUPS}/listings/server/releases"
    data = {"csrf_token": csrf, "version": "4.3.0", "build_date": "2026-11-20", "host_version_min": "8.5",
            "host_version_max": "9.4", "notes": "Faster."}  # fmt: skip
    for _ in range(2):
        answer = client.post(path, data=data, headers=HTML, follow_redirects=False)
        assert answer.status_code == 303
    assert session.scalar(select(func.count()).select_from(Release).where(Release.version == "4.3.0")) == 1
    page = client.get(f"/vendor/example-mockups/apps/{MOCKUPS}/listings/server", headers=HTML)
    assert "4.3.0" in page.text and "20 Nov 2026" in page.text
    future = client.post(path, data=data | {"version": "5.0.0", "build_date": "2027-01-01"}, headers=HTML)
    assert future.status_code == 422
    assert 'id="release-build-date-error"' in future.text or "build" in future.text


def test_an_app_key_taken_is_shown_next_to_the_key(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    csrf = _vendor_csrf(client, session, server_clock)
    answer = client.post(
        "/vendor/example-mockups/apps",
        data={
            "csrf_token": csrf,
            "key": "com.gatekeeper.sso.wiki",
            "name": "Mine now",
            "host_product": "wiki",
        },
        headers=HTML,
    )
    assert answer.status_code == 409
    assert 'id="key-error"' in answer.text and "exists already" in answer.text
    bad = client.post(
        "/vendor/example-mockups/apps",
        data={"csrf_token": csrf, "key": "Not A Key", "name": "", "host_product": "wiki"},
        headers=HTML,
    )
    assert bad.status_code == 422
    assert 'id="key-error"' in bad.text and 'id="name-error"' in bad.text


# -- transactions, CSV, licenses ------------------------------------------------------------------------------------


def test_transactions_filter_and_the_csv_holds_exactly_the_filtered_rows(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    _buy(client, world, MOCKUPS, "100")
    _buy(client, world, "com.gatekeeper.sso.wiki", "100")  # another vendor's: never in these reports
    _vendor_csrf(client, session, server_clock)
    everything = client.get("/vendor/example-mockups/transactions", headers=HTML)
    assert everything.status_code == 200
    assert len(_rows(everything.text)) == 1
    assert "com.gatekeeper" not in everything.text
    assert "Acme Corp" in everything.text and "MKT-" in everything.text
    none = client.get("/vendor/example-mockups/transactions?channel=direct", headers=HTML)
    assert _rows(none.text) == []
    query = (
        f"app={MOCKUPS}&channel=marketplace&kind=new&from={server_clock.today()}&to={server_clock.today()}"
    )
    filtered = client.get(f"/vendor/example-mockups/transactions?{query}", headers=HTML)
    assert len(_rows(filtered.text)) == 1
    download = client.get(f"/vendor/example-mockups/transactions.csv?{query}")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert download.headers["content-disposition"].startswith("attachment;")
    table = list(csv.DictReader(io.StringIO(download.text)))
    assert len(table) == 1
    row = table[0]
    assert row["app_key"] == MOCKUPS and row["kind"] == "new" and row["channel"] == "marketplace"
    assert row["gross"] == "1100.00" and row["currency"] == "USD" and row["customer"] == "Acme Corp"
    assert Decimal(row["vendor_share"]) < Decimal("1100.00")
    empty = client.get("/vendor/example-mockups/transactions.csv?kind=refund")
    assert list(csv.DictReader(io.StringIO(empty.text))) == []
    bad_day = client.get("/vendor/example-mockups/transactions?from=yesterday", headers=HTML)
    assert bad_day.status_code == 422


def test_licenses_of_the_vendors_apps_with_filters(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    _buy(client, world, MOCKUPS, "100")
    _buy(client, world, "com.gatekeeper.sso.wiki", "100")
    _vendor_csrf(client, session, server_clock)
    page = client.get("/vendor/example-mockups/licenses", headers=HTML)
    assert page.status_code == 200
    assert len(_rows(page.text)) == 1
    assert "Mockups for Wiki" in page.text and "Gatekeeper" not in page.text.split("<tbody>", 1)[1]
    assert _rows(client.get("/vendor/example-mockups/licenses?status=cancelled", headers=HTML).text) == []
    assert len(_rows(client.get("/vendor/example-mockups/licenses?status=active", headers=HTML).text)) == 1


# -- direct store -----------------------------------------------------------------------------------------------


def test_the_direct_store_closes_and_opens_and_shows_public_keys_only(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    csrf = _vendor_csrf(client, session, server_clock)
    opened = client.post(
        "/vendor/example-mockups/store", data={"csrf_token": csrf, "enabled": "true"}, follow_redirects=False
    )
    assert opened.status_code == 303
    page = client.get("/vendor/example-mockups/store", headers=HTML)
    assert "vendor:example-mockups" in page.text
    assert "/api/v1/issuers/example-mockups/jwks" in page.text
    assert "signing" in page.text
    assert "PRIVATE" not in page.text.upper().replace("NO PRIVATE MATERIAL", "")
    closed = client.post(
        "/vendor/example-mockups/store", data={"csrf_token": csrf, "enabled": "false"}, follow_redirects=False
    )
    assert closed.status_code == 303
    session.expire_all()
    assert session.scalars(select(Vendor.direct_store).where(Vendor.slug == "example-mockups")).one() is False
    assert "Open the direct store" in client.get("/vendor/example-mockups/store", headers=HTML).text


def test_a_direct_sale_is_all_the_vendors_and_pages_keep_their_filters(
    client: TestClient,
    session: Session,
    world: World,
    server_clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _buy(client, world, MOCKUPS, "100")
    server_clock.advance(hours=1)
    lab = add_second_wiki_server(session, world)
    session.commit()
    direct = _buy(client, world, MOCKUPS, "10", channel="direct", host=str(lab.id))
    server_clock.advance(hours=1)
    _vendor_csrf(client, session, server_clock)
    monkeypatch.setattr(vendor_report_pages, "PAGE_SIZE", 1)
    first = client.get("/vendor/example-mockups/transactions?app=" + MOCKUPS, headers=HTML)
    rows = _rows(first.text)
    assert len(rows) == 1 and direct["number"] in rows[0]  # newest first
    assert "direct" in rows[0]
    total = direct["total"]
    assert rows[0].count(f"${Decimal(total):,.2f}") == 2  # gross and share: the whole line is the vendor's
    following = re.search(
        r'href="(/vendor/example-mockups/transactions\?app=[^"]*&amp;after=[^"]+)" rel="next"', first.text
    )
    assert following, "the next page keeps the filter and carries the cursor"
    second = client.get(unescape(following.group(1)), headers=HTML)
    assert len(_rows(second.text)) == 1 and "MKT-" in _rows(second.text)[0]
    assert "Newest" in second.text and "Next page" not in second.text
    download = client.get(f"/vendor/example-mockups/transactions.csv?app={MOCKUPS}")
    table = list(csv.DictReader(io.StringIO(download.text)))
    assert [row["channel"] for row in table] == ["direct", "marketplace"]  # every page, in the page's order
    assert table[0]["gross"] == table[0]["vendor_share"] == total
    licenses = client.get("/vendor/example-mockups/licenses?channel=direct", headers=HTML)
    assert len(_rows(licenses.text)) == 1 and "direct" in _rows(licenses.text)[0]


def test_a_draft_is_withdrawn_and_a_cloud_draft_is_saved(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    csrf = _vendor_csrf(client, session, server_clock)
    page = client.get(f"/vendor/example-mockups/apps/{MOCKUPS}/listings/cloud", headers=HTML)
    assert page.status_code == 200
    assert 'value="1.50"' in page.text  # the published cloud prices fill the form
    form = {
        "csrf_token": csrf,
        "action": "save",
        "currency": "USD",
        "marketplace.sold": "on",
        "marketplace.max_maintenance_months": "36",
        "license_types": "academic",
        "cloud_prices.flat_monthly": "12.00",
        "cloud_prices.brackets.0.up_to_users": "100",
        "cloud_prices.brackets.0.per_user_monthly": "1.60",
        "cloud_prices.brackets.1.per_user_monthly": "0.50",
        "cloud_prices.annual_tiers": "10, 25, 50",
    }
    saved = client.post(
        f"/vendor/example-mockups/apps/{MOCKUPS}/listings/cloud/draft",
        data=form,
        headers=HTML,
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    revision = session.scalars(select(ListingRevision)).one()
    assert revision.content["cloud_prices"]["brackets"] == [
        {"up_to_users": 100, "per_user_monthly": "1.60"},
        {"up_to_users": None, "per_user_monthly": "0.50"},
    ]
    assert revision.content["license_types"] == ["academic"]
    withdrawn = client.post(
        f"/vendor/example-mockups/apps/{MOCKUPS}/listings/cloud/withdraw",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert withdrawn.status_code == 303
    session.expire_all()
    assert session.scalars(select(ListingRevision.status)).one() == RevisionStatus.WITHDRAWN
    nothing = client.post(
        f"/vendor/example-mockups/apps/{MOCKUPS}/listings/cloud/submit",
        data={"csrf_token": csrf},
        headers=HTML,
    )
    assert nothing.status_code == 404 and "no open cloud draft" in nothing.text


def test_the_apps_page_texts_change_at_once(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    csrf = _vendor_csrf(client, session, server_clock)
    answer = client.post(
        f"/vendor/example-mockups/apps/{MOCKUPS}",
        data={
            "csrf_token": csrf,
            "name": "Mockups for Wiki 2",
            "summary": "Now faster.",
            "description": "Hi",
            "links.support": "mailto:help@mockups.example",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
    session.expire_all()
    app = session.scalars(select(App).where(App.key == MOCKUPS)).one()
    assert (app.name, app.summary, app.links) == (
        "Mockups for Wiki 2",
        "Now faster.",
        {"support": "mailto:help@mockups.example"},
    )
    refused = client.post(
        f"/vendor/example-mockups/apps/{MOCKUPS}",
        data={"csrf_token": csrf, "name": "X", "description": "<script>alert(1)</script>"},
        headers=HTML,
    )
    assert refused.status_code == 422
    assert 'id="description-error"' in refused.text
    session.expire_all()
    assert session.scalars(select(App.name).where(App.key == MOCKUPS)).one() == "Mockups for Wiki 2"


def test_a_vendor_not_yet_approved_cannot_open_its_store_and_is_told_why(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    csrf = _vendor_csrf(client, session, server_clock)
    vendor = session.scalars(select(Vendor).where(Vendor.slug == "example-mockups")).one()
    vendor.direct_store = False
    vendor.status = VendorStatus.PENDING
    session.commit()
    answer = client.post(
        "/vendor/example-mockups/store", data={"csrf_token": csrf, "enabled": "true"}, headers=HTML
    )
    assert answer.status_code == 409
    assert 'role="alert"' in answer.text and "its direct store can open once it is active" in answer.text
    session.expire_all()
    assert session.scalars(select(Vendor.direct_store).where(Vendor.slug == "example-mockups")).one() is False


def test_a_member_of_two_vendors_chooses_one(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    user = session.scalars(select(User).where(User.email == VENDOR)).one()
    gatekeeper = session.scalars(select(Vendor).where(Vendor.slug == "gatekeeper")).one()
    session.add(Membership(user_id=user.id, role=Role.VENDOR_MEMBER, vendor_id=gatekeeper.id))
    session.commit()
    _vendor_csrf(client, session, server_clock)
    page = client.get("/vendor", headers=HTML, follow_redirects=False)
    assert page.status_code == 200
    assert 'href="/vendor/example-mockups"' in page.text and 'href="/vendor/gatekeeper"' in page.text
    assert "timekeep" not in page.text
    assert client.get("/vendor/gatekeeper", headers=HTML).status_code == 200
    assert client.get("/vendor/timekeep", headers=HTML).status_code == 404


def test_a_customer_name_cannot_become_a_formula_in_the_csv(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    world.acme.name = '=HYPERLINK("https://evil.example","Acme")'
    session.commit()
    _buy(client, world, MOCKUPS, "100")
    _vendor_csrf(client, session, server_clock)
    table = list(csv.DictReader(io.StringIO(client.get("/vendor/example-mockups/transactions.csv").text)))
    assert table[0]["customer"] == "'" + world.acme.name

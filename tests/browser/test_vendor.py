"""The vendor portal in a real browser: a vendor lists a new app and submits its listing, the operator approves
it, and buyers can then see it; a vendor filters its transactions, downloads them as CSV and sees the chart."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from pathlib import Path

from playwright.sync_api import APIRequestContext, Page, expect

from support.browser import VENDOR, LiveServer, sign_in
from support.browser_checks import check_page

OPERATOR_TOKEN = {"Authorization": "Bearer mct_demo_operator"}
BUYER_TOKEN = {"Authorization": "Bearer mct_demo_acme_admin"}
WHITEBOARD = "com.example.mockups.whiteboard.wiki"
MOCKUPS = "com.example.mockups.wiki"
PRICES = {"10 users": "10.00", "25 users": "250.00", "50 users": "500.00", "100 users": "900.00",
          "250 users": "1,800.00", "500 users": "2800.00", "2,000 users": "4800.00", "10,000 users": "7800.00",
          "Unlimited users": "9800.00"}  # fmt: skip


def test_a_vendor_lists_an_app_and_submits_it_and_the_operator_approves_it(page: Page) -> None:
    sign_in(page, VENDOR)
    page.get_by_role("link", name="Vendor portal").click()
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    page.get_by_role("link", name="Apps and listings").click()
    page.get_by_label("App key").fill(WHITEBOARD)
    page.get_by_label("Name").fill("Whiteboards for Wiki")
    page.get_by_label("Host product").select_option("wiki")
    page.get_by_label("Summary").fill("Sketch on a shared whiteboard inside any wiki page.")
    page.get_by_label("Description").fill("## Whiteboards\n\nDraw together, right in the page.")
    page.get_by_role("button", name="Create the app").click()
    expect(page.get_by_role("heading", name="Whiteboards for Wiki", level=1)).to_be_visible()

    page.get_by_role("link", name="Create a server listing").click()
    expect(page.get_by_label("Sold on the marketplace")).to_be_checked()
    for label, amount in PRICES.items():
        page.get_by_label(label, exact=True).fill(amount.replace(",", ""))
    page.get_by_role("button", name="Save and submit for review").click()
    expect(page.get_by_role("status")).to_contain_text("Submitted for review")
    expect(page.get_by_text("waiting for review", exact=True)).to_be_visible()
    check_page(page, "vendor-app")

    # The operator's review page is another part of the site: approve through the API, as operator staff.
    api: APIRequestContext = page.request
    queue = api.get("/api/v1/review-queue", headers=OPERATOR_TOKEN).json()
    revision = next(item for item in queue["items"] if item["app_key"] == WHITEBOARD)
    approved = api.post(
        f"/api/v1/revisions/{revision['id']}/approve",
        data={"note": "Prices look right."},
        headers=OPERATOR_TOKEN,
    )
    assert approved.ok, approved.text()
    page.reload()
    expect(page.get_by_role("cell", name="Prices look right.")).to_be_visible()
    expect(page.get_by_role("cell", name="approved")).to_be_visible()
    # A buyer now finds it in the public catalog. (The storefront's app page is built separately; the public
    # API answers what it will show.)
    public = api.get(f"/api/v1/apps/{WHITEBOARD}")
    assert public.ok
    assert public.json()["name"] == "Whiteboards for Wiki"


def _buy_mockups_for_acme(api: APIRequestContext) -> str:
    """Acme buys Mockups for its 100-user wiki server on the marketplace and the operator records the payment
    (the calls of docs/buying.md): the invoice number."""
    hosts = api.get(
        "/api/v1/organisations/acme/host-instances?host_product=wiki&hosting=server", headers=BUYER_TOKEN
    ).json()
    quote = api.post(
        "/api/v1/quotes",
        data={
            "host_instance_id": hosts["items"][0]["id"],
            "channel": "marketplace",
            "items": [{"action": "new", "product_key": MOCKUPS, "tier": "100"}],
        },
        headers=BUYER_TOKEN,
    )
    assert quote.ok, quote.text()
    accepted = api.post(
        f"/api/v1/quotes/{quote.json()['id']}/accept",
        headers=BUYER_TOKEN | {"Idempotency-Key": "vendor-test-1"},
    )
    assert accepted.ok, accepted.text()
    invoice = accepted.json()["invoice"]
    paid = api.post(
        f"/api/v1/invoices/{invoice['id']}/payments",
        data={"amount": invoice["total"], "provider": "bank_transfer", "reference": "BANK-VENDOR-TEST-1"},
        headers=OPERATOR_TOKEN,
    )
    assert paid.ok, paid.text()
    number: str = invoice["number"]
    return number


def test_a_vendor_filters_its_transactions_downloads_the_csv_and_sees_the_chart(
    page: Page, live_server: LiveServer
) -> None:
    invoice = _buy_mockups_for_acme(page.request)
    sign_in(page, VENDOR)
    page.goto("/vendor/example-mockups/transactions")
    page.get_by_label("App").select_option(label="Mockups for Wiki")
    page.get_by_label("Channel").select_option("marketplace")
    page.get_by_label("Kind").select_option("new")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"app=com\.example\.mockups\.wiki.*channel=marketplace.*kind=new"))
    row = page.get_by_role("row").filter(has_text=invoice)
    expect(row).to_contain_text("Acme")
    expect(row).to_contain_text("$1,100.00")
    check_page(page, "vendor-transactions")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download these as CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith("example-mockups-transactions-")
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert [r["invoice_number"] for r in rows] == [invoice]
    assert rows[0]["app_key"] == MOCKUPS and rows[0]["gross"] == "1100.00" and rows[0]["kind"] == "new"

    page.get_by_role("link", name="Dashboard").click()
    chart = page.get_by_role("img", name=re.compile("Chart of monthly revenue"))
    expect(chart).to_have_attribute("data-rendered", "true")
    box = chart.bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] > 100
    table = page.get_by_role("table", name="Monthly revenue and active licenses")
    expect(table).to_contain_text("$1,100.00")
    check_page(page, "vendor-dashboard")


def test_a_vendor_announces_a_transition_and_sees_who_must_upgrade(page: Page) -> None:
    """Globex runs a 100-user Mockups license the vendor sold before Mercato (imported, so no money moves and the
    other tests' figures stay) on its 250-user wiki: the campaign the vendor announces lists it as needing an
    upgrade to 250 users, with the price."""
    api: APIRequestContext = page.request
    today = date.fromisoformat(api.get("/api/v1/test-clock", headers=OPERATOR_TOKEN).json()["now"][:10])
    header = "organisation,contact_email,host_product,hosting,server_id,tier,license_type,purchase_date,"
    header += "maintenance_end,reference,app"
    row = f"globex,admin@globex.example,wiki,server,GX5M-7T3R-90QD-K2ZB,100,commercial,{today - timedelta(days=60)},"
    row += f"{today + timedelta(days=300)},LEGACY-GLOBEX-1,{MOCKUPS}"
    imported = api.post(
        "/api/v1/vendors/example-mockups/license-imports",
        data=f"{header}\n{row}\n",
        headers={"Authorization": "Bearer mct_demo_mockups_vendor", "Content-Type": "text/csv"},
    )
    assert imported.ok, imported.text()
    entitlement = imported.json()["lines"][0]["entitlement_number"]

    sign_in(page, VENDOR)
    page.get_by_role("link", name="Vendor portal").click()
    page.get_by_role("link", name="Transitions").first.click()
    expect(page.get_by_role("heading", name="Transition campaigns", level=1)).to_be_visible()
    page.get_by_label(MOCKUPS).check()
    page.get_by_label("Notice date (today or later)").fill(today.isoformat())
    page.get_by_label("Deadline (at least").fill((today + timedelta(days=60)).isoformat())
    page.get_by_label("Your message to customers").fill("We are moving our store to the marketplace.")
    page.get_by_role("button", name="Announce the campaign").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Transition by")
    listed = page.get_by_role("row", name=re.compile(entitlement))
    expect(listed).to_contain_text("needs upgrade to 250")
    expect(page.locator("#total-needs_upgrade")).not_to_have_text("0")
    check_page(page)

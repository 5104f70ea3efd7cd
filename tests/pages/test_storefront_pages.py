"""The storefront: the catalog's search and filters, an app's page (prices, channels, releases) and the price
calculator on the pricing preview, refusals shown next to their fields."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from mercato.catalog.models import App, AppVisibility, Listing, Release, Vendor
from mercato.clock import FixedClock
from mercato.pages import storefront_pages
from support.pages import HTML, sign_in
from support.world import build_world

MOCKUPS = "com.example.mockups.wiki"
PRICE = f"/apps/{MOCKUPS}/price"


def app_names(html: str) -> list[str]:
    return re.findall(r'<h2><a href="/apps/[^"]+">([^<]+)</a></h2>', html)


def field_error(html: str, name: str) -> str | None:
    found = re.search(rf'<p class="field-error" id="{name}-error">([^<]+)</p>', html)
    return found.group(1).replace("&#39;", "'") if found else None


def price(client: TestClient, **fields: str) -> tuple[int, str]:
    query = {"hosting": "server", "host_tier": "100", "tier": "100", "channel": "marketplace", "years": "1"}
    answer = client.get(PRICE, params=query | fields, headers=HTML)
    return answer.status_code, answer.text


def test_the_storefront_lists_public_apps_without_sign_in(client: TestClient) -> None:
    page = client.get("/", headers=HTML)
    assert page.status_code == 200
    names = app_names(page.text)
    assert "Mockups for Wiki" in names and "Gatekeeper SSO for Wiki" in names
    assert "5 apps" in page.text
    assert "from <strong>$10.00</strong>" in page.text  # the smallest tier's price of today


def test_search_and_filters_are_those_of_the_api(client: TestClient) -> None:
    assert set(app_names(client.get("/?q=mockups", headers=HTML).text)) == {
        "Mockups for Tracker",
        "Mockups for Wiki",
    }
    tracker = app_names(client.get("/?host_product=tracker", headers=HTML).text)
    assert set(tracker) == {"Mockups for Tracker", "TimeKeep for Tracker"}
    cloud = app_names(client.get("/?hosting=cloud", headers=HTML).text)
    assert "Gatekeeper SSO for Wiki" not in cloud and "Mockups for Wiki" in cloud
    assert app_names(client.get("/?vendor=gatekeeper", headers=HTML).text) == ["Gatekeeper SSO for Wiki"]
    nothing = client.get("/?q=no-such-app-anywhere", headers=HTML).text
    assert "No app matches." in nothing and app_names(nothing) == []


def test_the_catalog_is_paged(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storefront_pages, "PAGE_SIZE", 4)
    first = client.get("/?host_product=", headers=HTML).text
    assert len(app_names(first)) == 4 and "page 1 of 2" in first
    assert 'href="/?page=2" rel="next"' in first
    second = client.get("/?page=2", headers=HTML).text
    assert len(app_names(second)) == 1 and 'rel="prev"' in second
    assert not set(app_names(first)) & set(app_names(second))


def test_a_hidden_app_is_neither_listed_nor_shown(client: TestClient, session: Session) -> None:
    app = session.scalars(select(App).where(App.key == MOCKUPS)).one()
    app.visibility = AppVisibility.HIDDEN
    session.commit()
    assert "Mockups for Wiki" not in app_names(client.get("/", headers=HTML).text)
    page = client.get(f"/apps/{MOCKUPS}", headers=HTML)
    assert page.status_code == 404
    assert client.get(PRICE, headers=HTML).status_code == 404


def test_an_unknown_app_is_a_404_page(client: TestClient) -> None:
    page = client.get("/apps/com.example.nothing", headers=HTML)
    assert page.status_code == 404
    assert "There is no app with the key" in page.text


def test_the_app_page_shows_prices_channels_and_releases(client: TestClient) -> None:
    page = client.get(f"/apps/{MOCKUPS}", headers=HTML)
    assert page.status_code == 200
    text = page.text
    assert "<h1>Mockups for Wiki</h1>" in text
    assert "Example Mockups Ltd" in text and "Northwind Wiki" in text
    assert "$1,100.00" in text and "$19,000.00" in text  # server 100 users, Data Center unlimited
    assert "$1.50 per user" in text  # a cloud bracket
    assert text.index(">4.2.0<") < text.index(">4.1.0<") < text.index(">4.0.0<")  # newest first
    # Channels, from the listing's policy.
    assert "Seller of record: Northwind Marketplace" in text
    assert "Seller of record: Example Mockups Ltd" in text
    assert "a 10-user license on a 100-user host" in text  # direct: the tier need not match
    assert "must cover your Northwind Wiki license&#39;s tier" in text  # marketplace: it must
    assert "Up to 3 years of maintenance in one purchase" in text
    assert "Maintenance is sold 1 year at a time." in text
    # The calculator starts with a server and prices it at once; the channels of that hosting are beside it.
    assert '<option value="server" selected>Server</option>' in text
    assert '<td class="number total">$1,100.00</td>' in text
    assert "Cloud apps are sold only on the marketplace." not in text
    _, cloud = price(client, hosting="cloud", host_tier="40")
    assert "Cloud apps are sold only on the marketplace." in cloud
    assert "Cloud apps are sold only here." in cloud


def test_the_channel_sentences_follow_the_listing_policy(client: TestClient, session: Session) -> None:
    listing = session.scalars(
        select(Listing).where(Listing.product_key == MOCKUPS, Listing.hosting == "server")
    ).one()
    listing.tier_must_match_host_direct = True
    listing.max_maintenance_months_direct = 24
    session.commit()
    text = client.get(f"/apps/{MOCKUPS}", headers=HTML).text
    server = text[text.index("Marketplace or direct store? (Server)") :]
    assert "must cover your host license&#39;s tier" in server
    assert "Up to 2 years of maintenance in one purchase" in server

    vendor = session.scalars(select(Vendor).where(Vendor.slug == "example-mockups")).one()
    vendor.direct_store = False
    session.commit()
    text = client.get(f"/apps/{MOCKUPS}", headers=HTML).text
    assert "has no direct store open" in text
    status, html = price(client, tier="10", channel="direct")
    assert status == 422
    assert "has no direct store open" in (field_error(html, "channel") or "")


def test_the_marketplace_refuses_a_tier_below_the_host_and_the_direct_store_accepts_it(
    client: TestClient,
) -> None:
    status, html = price(client, tier="10", channel="marketplace")
    assert status == 422
    sentence = field_error(html, "tier")
    assert sentence is not None and "must be licensed for at least 100 users on the marketplace" in sentence
    assert "Choose the 100-user tier" in sentence
    assert 'id="tier" name="tier" aria-invalid="true" aria-describedby="tier-error"' in html
    assert '<a href="#tier">' in html  # the error summary links to the field

    status, html = price(client, tier="10", channel="direct")
    assert status == 200
    assert field_error(html, "tier") is None
    assert '<td class="number total">$10.00</td>' in html
    assert "Bought from Example Mockups Ltd" in html


def test_years_of_maintenance_and_the_cap_of_each_channel(client: TestClient) -> None:
    status, html = price(client, years="3")
    assert status == 200
    assert (
        "(first year) + 50% of the current 100-user list price USD 1,100.00 × 2 more years (renewal)" in html
    )
    assert '<td class="number total">$2,200.00</td>' in html  # 1,100 + 2 × 550, one line as the quote has it
    status, html = price(client, years="4")
    assert status == 422
    assert field_error(html, "years") == (
        "The marketplace sells at most 36 months of maintenance ahead. Choose at most 3 years."
    )
    status, html = price(client, channel="direct", years="2")
    assert status == 422
    assert "Choose at most 1 year." in (field_error(html, "years") or "")
    status, html = price(client, years="0")
    assert status == 422 and field_error(html, "years") == "Choose between 1 and 10 years of maintenance."


def test_co_terming_and_cloud_on_the_marketplace_only(client: TestClient) -> None:
    status, html = price(client, co_term="2028-03-31")
    assert status == 200
    assert "Co-term: 50% of the current 100-user list price" in html
    status, html = price(client, channel="direct", co_term="2028-03-31")
    assert status == 422
    assert field_error(html, "co_term") == (
        "Co-terming is offered only on the marketplace, not on the direct channel."
    )
    status, html = price(client, co_term="31/03/2028")
    assert status == 422 and "for example 2028-03-31" in (field_error(html, "co_term") or "")
    status, html = price(client, hosting="cloud", channel="direct")
    assert status == 422
    assert "Choose the marketplace." in (field_error(html, "channel") or "")
    status, html = price(client, hosting="cloud", host_tier="40")
    assert status == 200 and "Cloud monthly for 40 users" in html


def test_the_calculator_answers_htmx_with_its_fragment(client: TestClient) -> None:
    answer = client.get(
        PRICE,
        params={"hosting": "server", "host_tier": "100", "tier": "10", "channel": "marketplace"},
        headers=HTML | {"HX-Request": "true"},
    )
    assert answer.status_code == 422
    assert answer.headers["vary"] == "HX-Request"
    assert "<html" not in answer.text and answer.text.lstrip().startswith('<section id="calculator"')
    assert field_error(answer.text, "tier") is not None


def test_the_prices_follow_the_server_clock(client: TestClient, server_clock: FixedClock) -> None:
    status, html = price(client)
    assert status == 200 and "26 Nov 2026 – 26 Nov 2027" in html


def test_a_stranger_is_asked_to_sign_in_and_a_customer_gets_the_buy_form(
    client: TestClient, session: Session, server_clock: FixedClock
) -> None:
    _, html = price(client, tier="10", channel="direct")
    assert "Sign in to buy" in html and 'action="/cart/items"' not in html
    world = build_world(session)
    session.commit()
    sign_in(client, session, "acme_admin@test.example", server_clock.now())
    _, html = price(client, tier="10", channel="direct")
    form = html[html.index('action="/cart/items"') :]
    form = form[: form.index("</form>")]
    for name, value in {"app_key": MOCKUPS, "hosting": "server", "channel": "direct", "tier": "10"}.items():
        assert f'name="{name}" value="{value}"' in form
    assert 'name="csrf_token"' in form
    assert f'<option value="{world.wiki_server.id}">Acme wiki' in form
    assert str(world.globex_wiki.id) not in html  # another customer's host is never offered
    assert "Acme cloud wiki" not in form  # a server license is bought for a server
    # A refused price offers nothing to buy.
    _, refused = price(client, tier="10", channel="marketplace")
    assert 'action="/cart/items"' not in refused


def test_a_vendor_member_sees_no_buy_form(
    client: TestClient, session: Session, server_clock: FixedClock
) -> None:
    build_world(session)
    session.commit()
    sign_in(client, session, "mockups_vendor@test.example", server_clock.now())
    _, html = price(client)
    assert 'action="/cart/items"' not in html and "Sign in to buy" not in html


def test_a_billing_contact_is_told_who_buys(
    client: TestClient, session: Session, server_clock: FixedClock
) -> None:
    build_world(session)
    session.commit()
    sign_in(client, session, "acme_billing@test.example", server_clock.now())
    _, html = price(client)
    assert 'action="/cart/items"' not in html
    assert "Your organisation's admins can buy it." in html


def test_a_customer_prices_one_of_its_registered_hosts(
    client: TestClient, session: Session, server_clock: FixedClock
) -> None:
    world = build_world(session)
    session.commit()
    sign_in(client, session, "acme_admin@test.example", server_clock.now())
    page = client.get(f"/apps/{MOCKUPS}", headers=HTML).text
    assert f'<option value="{world.wiki_server.id}">Acme wiki (Server, 100 users)</option>' in page
    # The host's own hosting and tier are priced, whatever the form said about them.
    status, html = price(client, host=str(world.wiki_server.id), host_tier="10", tier="10")
    assert status == 422
    assert "licensed for at least 100 users" in (field_error(html, "tier") or "")
    status, html = price(client, host=str(world.wiki_cloud.id), hosting="server")
    assert status == 200 and "Cloud monthly for 40 users" in html
    _, html = price(client, host=str(world.wiki_server.id), channel="direct", tier="10")
    assert f'<option value="{world.wiki_server.id}" selected>Acme wiki' in html[html.index("/cart/items") :]


def test_another_customers_host_is_not_found(
    client: TestClient, session: Session, server_clock: FixedClock
) -> None:
    world = build_world(session)
    session.commit()
    stranger = client.get(
        PRICE, params={"host": str(world.globex_wiki.id)}, headers=HTML, follow_redirects=False
    )
    assert stranger.status_code == 303 and stranger.headers["location"].startswith("/sign-in?next=")
    sign_in(client, session, "acme_admin@test.example", server_clock.now())
    answer = client.get(PRICE, params={"host": str(world.globex_wiki.id)}, headers=HTML)
    assert answer.status_code == 404
    assert "Globex" not in answer.text
    assert client.get(PRICE, params={"host": "not-an-id"}, headers=HTML).status_code == 404


def test_the_vendors_texts_are_shown_sanitised(client: TestClient, session: Session) -> None:
    app = session.scalars(select(App).where(App.key == MOCKUPS)).one()
    app.description = "Draw **wireframes**.\n\n<script>alert(1)</script> [bad](javascript:alert(1))"
    app.links = {"documentation": "https://mockups.example/docs", "homepage": "javascript:alert(1)"}
    listing = session.scalars(
        select(Listing).where(Listing.product_key == MOCKUPS, Listing.hosting == "server")
    ).one()
    release = session.scalars(
        select(Release).where(Release.listing_id == listing.id, Release.version == "4.2.0")
    ).one()
    release.notes = "Fixes *export*. <img src=x onerror=alert(1)>"
    release.host_version_min, release.host_version_max = "9.0", "9.2"
    session.commit()
    text = client.get(f"/apps/{MOCKUPS}", headers=HTML).text
    assert "Draw <strong>wireframes</strong>." in text
    assert "<script>alert" not in text and 'href="javascript:' not in text and "<img" not in text
    assert 'href="https://mockups.example/docs"' in text
    assert "Fixes <em>export</em>." in text
    assert "9.0 to 9.2" in text


def test_a_vendors_own_direct_prices_are_shown_and_said(client: TestClient) -> None:
    text = client.get("/apps/io.timekeep.tracker", headers=HTML).text
    assert "Server, direct store</th>" in text
    assert "$1,650.00" in text  # the 100-user direct price, beside the marketplace's $1,500.00
    assert "TimeKeep GmbH&#39;s own prices, not the marketplace&#39;s: see the price table." in text
    direct = client.get(
        "/apps/io.timekeep.tracker/price",
        params={"hosting": "server", "host_tier": "100", "tier": "100", "channel": "direct"},
        headers=HTML,
    ).text
    assert '<td class="number total">$1,650.00</td>' in direct


def test_a_hosting_the_app_is_not_sold_for_is_told_on_the_hosting_field(client: TestClient) -> None:
    answer = client.get(
        "/apps/com.gatekeeper.sso.wiki/price",
        params={"hosting": "cloud", "host_tier": "100", "tier": "100", "channel": "marketplace"},
        headers=HTML,
    )
    assert answer.status_code == 422
    assert field_error(answer.text, "hosting") == "It is not sold for cloud; it is sold for server."

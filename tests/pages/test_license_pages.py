"""My licenses as pages: licenses by host instance with their keys, one license's history, and the quotes that
renew, upgrade and co-term them, with the rules' refusals shown by the field and access checked on the server."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from mercato.catalog.models import Release
from mercato.catalog.repository import CatalogRepository
from mercato.clock import FixedClock
from support.pages import HTML, csrf_of, sign_in
from support.world import World, add_second_wiki_server, build_world

MOCKUPS = "com.example.mockups.wiki"
SSO = "com.gatekeeper.sso.wiki"
_FIELD_ERROR = re.compile(r'<p class="field-error" id="([^"]+)">([^<]+)</p>')
_REQUEST_KEY = re.compile(r'name="request_key" value="([^"]+)"')


@pytest.fixture
def world(session: Session) -> World:
    built = build_world(session)
    add_second_wiki_server(session, built)
    session.commit()
    return built


def buy(
    client: TestClient,
    world: World,
    items: list[dict[str, Any]],
    channel: str = "marketplace",
    instance: str = "wiki_server",
    buyer: str = "acme_admin",
) -> dict[str, Any]:
    """Quote, accept and pay (by the seller) through the API; the paid invoice."""
    body = {"host_instance_id": str(getattr(world, instance).id), "channel": channel, "items": items}
    quote = client.post("/api/v1/quotes", json=body, headers=world.auth(buyer))
    assert quote.status_code == 201, quote.text
    accepted = client.post(f"/api/v1/quotes/{quote.json()['id']}/accept", headers=world.auth(buyer))
    assert accepted.status_code == 201, accepted.text
    invoice = accepted.json()["invoice"]
    payer = "operator" if invoice["seller"] == "operator" else "mockups_vendor"
    paid = client.post(
        f"/api/v1/invoices/{invoice['id']}/payments",
        json={"amount": invoice["amount_due"], "reference": f"TRF-{invoice['number']}"},
        headers=world.auth(payer),
    )
    assert paid.status_code == 200, paid.text
    return dict(paid.json())


def bought(client: TestClient, world: World, **kwargs: Any) -> tuple[str, dict[str, Any]]:
    """Buy the mockups app (100 users unless told): its entitlement number and the paid invoice."""
    items = kwargs.pop("items", [{"action": "new", "product_key": MOCKUPS, "tier": "100"}])
    invoice = buy(client, world, items, **kwargs)
    return invoice["lines"][0]["license"], invoice


def quotes_of(client: TestClient, world: World, role: str = "acme_admin") -> list[dict[str, Any]]:
    answer = client.get("/api/v1/quotes", headers=world.auth(role))
    assert answer.status_code == 200
    return list(answer.json()["items"])


def signed_in(client: TestClient, session: Session, clock: FixedClock, role: str = "acme_admin") -> str:
    return sign_in(client, session, f"{role}@test.example", clock.now())


def field_errors(html: str) -> dict[str, str]:
    return {field: sentence for field, sentence in _FIELD_ERROR.findall(html)}


# -- the list ----------------------------------------------------------------------------------------------------


def test_licenses_are_grouped_by_host_instance_with_channel_seller_status_and_key(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    marketplace, _ = bought(client, world)
    direct, _ = bought(client, world, channel="direct", instance="wiki_lab")
    signed_in(client, session, server_clock)

    page = client.get("/licenses", headers=HTML)

    assert page.status_code == 200
    html = page.text
    wiki = html[
        html.index(f'id="host-{world.wiki_server.id}"') : html.index(f'id="host-{world.wiki_lab.id}"')
    ]
    lab = html[html.index(f'id="host-{world.wiki_lab.id}"') :]
    assert "Acme wiki" in wiki and "Northwind Wiki" in wiki and "100 users" in wiki
    assert marketplace in wiki and "Marketplace" in wiki and "Northwind Marketplace" in wiki
    assert direct in lab and "Direct" in lab and "Example Mockups" in lab
    assert direct not in wiki and marketplace not in lab
    assert '<span class="badge ok">Active</span>' in wiki
    assert "26 Nov 2027" in wiki  # maintenance end: 12 months from the purchase
    # Each license's current key, with a button that copies it.
    detail = client.get(f"/api/v1/licenses/{marketplace}", headers=world.auth("acme_admin")).json()
    token = next(k["key"] for k in detail["keys"] if k["state"] == "current")
    assert f'data-copy-target="key-{marketplace}"' in wiki
    assert f'id="key-{marketplace}">{token}</code>' in wiki
    # The cloud site is listed too, with nothing on it yet.
    assert f'id="host-{world.wiki_cloud.id}"' in html
    assert "Globex" not in html


def test_the_list_reads_the_same_few_queries_however_many_licenses_it_shows(
    client: TestClient, session: Session, world: World, server_clock: FixedClock, engine: Engine
) -> None:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    bought(client, world)
    bought(client, world, channel="direct", instance="wiki_lab")
    signed_in(client, session, server_clock)
    event.listen(engine, "before_cursor_execute", count)
    try:
        client.get("/licenses", headers=HTML)
        with_two = len(statements)
        for product_key in (SSO, "com.diagramly.diagrams.wiki"):
            bought(client, world, items=[{"action": "new", "product_key": product_key, "tier": "100"}])
        statements.clear()
        page = client.get("/licenses", headers=HTML)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert page.text.count("Copy key</button>") == 4
    # One more per seller of record shown (its name), never one more per license.
    assert len(statements) == with_two, statements


def test_the_list_is_filtered_by_host_instance_and_status(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    marketplace, _ = bought(client, world)
    direct, _ = bought(client, world, channel="direct", instance="wiki_lab")
    signed_in(client, session, server_clock)

    lab = client.get(f"/licenses?host={world.wiki_lab.id}&status=", headers=HTML).text
    assert direct in lab and marketplace not in lab
    assert f'id="host-{world.wiki_server.id}"' not in lab

    active = client.get("/licenses?status=active", headers=HTML).text
    assert direct in active and marketplace in active
    cancelled = client.get("/licenses?status=cancelled", headers=HTML).text
    assert direct not in cancelled and marketplace not in cancelled
    assert "No license matches these filters." in cancelled

    assert client.get("/licenses?status=nonsense", headers=HTML).status_code == 422
    assert client.get(f"/licenses?host={world.globex_wiki.id}", headers=HTML).status_code == 404


def test_a_refunded_license_shows_as_cancelled(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    entitlement, invoice = bought(client, world)
    refund = client.post(
        f"/api/v1/invoices/{invoice['id']}/lines/{invoice['lines'][0]['id']}/refund",
        json={"reason": "bought for the wrong host"},
        headers=world.auth("operator"),
    )
    assert refund.status_code == 200, refund.text
    signed_in(client, session, server_clock)

    cancelled = client.get("/licenses?status=cancelled", headers=HTML).text
    assert entitlement in cancelled
    assert '<span class="badge bad">Cancelled</span>' in cancelled
    detail = client.get(f"/licenses/{entitlement}", headers=HTML).text
    assert "Refund" in detail
    assert "A cancelled license cannot be renewed or upgraded" in detail
    assert "Quote renewal" not in detail


def test_statuses_read_as_the_owner_sees_them_evaluation_in_grace_and_maintenance_ended(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    evaluation = client.post(
        "/api/v1/quotes",
        json={
            "host_instance_id": str(world.wiki_lab.id),
            "items": [{"action": "evaluation", "product_key": MOCKUPS}],
        },
        headers=world.auth("acme_admin"),
    ).json()
    accepted = client.post(f"/api/v1/quotes/{evaluation['id']}/accept", headers=world.auth("acme_admin"))
    assert accepted.json()["invoice"]["status"] == "paid"  # free: the key is issued at once
    server_license, _ = bought(client, world)
    cloud, _ = bought(client, world, instance="wiki_cloud", items=[{"action": "new", "product_key": MOCKUPS}])
    signed_in(client, session, server_clock)

    today = client.get("/licenses", headers=HTML).text
    assert '<span class="badge info">Evaluation</span>' in today
    assert (
        client.get("/licenses?status=evaluation", headers=HTML).text.count('class="badge info">Evaluation')
        == 1
    )

    # Past the cloud site's paid-until date (2026-12-10), before the billing run suspends it; and past the
    # server license's maintenance end (2027-11-26), which it keeps working through for older builds.
    server_clock.advance(days=20)
    signed_in(client, session, server_clock)  # a browser session lasts 14 days
    in_grace = client.get("/licenses?status=in_grace", headers=HTML).text
    assert cloud in in_grace and server_license not in in_grace
    assert '<span class="badge warn">In grace</span>' in in_grace
    assert "suspended after" in client.get(f"/licenses/{cloud}", headers=HTML).text
    server_clock.advance(days=365)
    signed_in(client, session, server_clock)
    ended = client.get("/licenses?status=maintenance_ended", headers=HTML).text
    assert server_license in ended and '<span class="badge warn">Maintenance ended</span>' in ended


def test_a_billing_contact_sees_the_licenses_but_not_the_keys_nor_the_forms(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    entitlement, _ = bought(client, world)
    signed_in(client, session, server_clock, "acme_billing")

    listed = client.get("/licenses", headers=HTML).text
    assert entitlement in listed
    assert "Copy key" not in listed
    assert "Shown to your organisation's admins" in listed
    assert "Quote co-term" not in listed
    detail = client.get(f"/licenses/{entitlement}", headers=HTML).text
    assert "Only your organisation's admins can renew or upgrade this license." in detail
    assert 'data-copy-target="license-key"' not in detail
    # As in the API, a billing contact may look but not buy: a forged post is refused and makes no quote.
    before = len(quotes_of(client, world))
    refused = client.post(
        f"/licenses/{entitlement}/renew", data={"csrf_token": csrf_of(detail), "years": "1"}, headers=HTML
    )
    assert refused.status_code == 403
    assert "Only the organisation" in refused.text
    assert len(quotes_of(client, world)) == before


# -- one license -------------------------------------------------------------------------------------------------


def test_a_license_shows_its_facts_key_release_and_history_with_invoices(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    entitlement, invoice = bought(client, world)
    renewal = buy(client, world, [{"action": "renewal", "license": entitlement, "years": 1}])
    signed_in(client, session, server_clock)

    page = client.get(f"/licenses/{entitlement}", headers=HTML)

    assert page.status_code == 200
    html = page.text
    assert MOCKUPS in html and "Northwind Marketplace" in html
    assert 'data-copy-target="license-key"' in html and 'id="license-key"' in html
    assert "Newest release you may install" in html
    history = html[html.index('id="history-title"') :]
    assert history.index("Renewal") < history.index("Sale")  # newest first
    assert f'<a href="/invoices/{invoice["id"]}">{invoice["number"]}</a>' in history
    assert f'<a href="/invoices/{renewal["id"]}">{renewal["number"]}</a>' in history
    assert "26 Nov 2028" in html  # maintenance extended by the renewal
    assert "Quote the migration" not in html  # a marketplace license has nothing to migrate


def test_a_license_says_when_renewing_unlocks_a_newer_release(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    entitlement, _ = bought(client, world)  # maintenance until 2027-11-26
    listing = CatalogRepository(session).listing(MOCKUPS, "server")
    assert listing is not None
    session.add(Release(listing_id=listing.id, version="9.0.0", build_date=date(2028, 1, 15)))
    session.commit()
    signed_in(client, session, server_clock)

    html = client.get(f"/licenses/{entitlement}", headers=HTML).text

    newest = client.get(f"/api/v1/licenses/{entitlement}", headers=world.auth("acme_admin")).json()
    assert newest["renewal_unlocks_newer_release"] is True
    assert f"{newest['newest_installable_release']['version']} <span" in html
    assert "renewing unlocks it" in html


def test_a_direct_license_quotes_its_migration_to_the_marketplace_and_pays_nothing_when_it_matches(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    entitlement, _ = bought(client, world, channel="direct", instance="wiki_lab")
    signed_in(client, session, server_clock)
    html = client.get(f"/licenses/{entitlement}", headers=HTML).text
    assert "Quote the migration" in html and "keeps working for 30 days" in html
    request_key = _REQUEST_KEY.findall(html)[-1]
    data = {"csrf_token": csrf_of(html), "request_key": request_key}

    answer = client.post(f"/licenses/{entitlement}/migrate", data=data, headers=HTML, follow_redirects=False)

    assert answer.status_code == 303
    quote = client.get(f"/api/v1/{answer.headers['location'].lstrip('/')}", headers=world.auth("acme_admin"))
    assert (quote.json()["channel"], quote.json()["seller"], quote.json()["total"]) == (
        "marketplace",
        "operator",
        "0.00",
    )
    line = quote.json()["lines"][0]
    assert (line["action"], line["license"], line["tier"]) == ("migration", entitlement, "100")
    again = client.post(f"/licenses/{entitlement}/migrate", data=data, headers=HTML, follow_redirects=False)
    assert again.headers["location"] == answer.headers["location"]  # a reload makes no second quote


def test_a_migration_the_rules_refuse_is_told_on_the_license_page(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    entitlement, _ = bought(client, world, channel="direct", instance="wiki_lab")
    first = client.post(
        "/api/v1/quotes",
        json={
            "host_instance_id": str(world.wiki_lab.id),  # type: ignore[union-attr]
            "items": [{"action": "migration", "license": entitlement}],
        },
        headers=world.auth("acme_admin"),
    )
    accepted = client.post(f"/api/v1/quotes/{first.json()['id']}/accept", headers=world.auth("acme_admin"))
    assert accepted.status_code == 201  # free: the license moved at once
    signed_in(client, session, server_clock)
    html = client.get(f"/licenses/{entitlement}", headers=HTML).text
    assert "Quote the migration" not in html  # a marketplace license has nothing to migrate

    answer = client.post(
        f"/licenses/{entitlement}/migrate",
        data={"csrf_token": csrf_of(html), "request_key": "k-1"},
        headers=HTML,
        follow_redirects=False,
    )
    assert answer.status_code == 422
    assert "already is a marketplace license" in answer.text


# -- actions -----------------------------------------------------------------------------------------------------


def test_renewing_creates_a_renewal_quote_and_goes_to_it(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    entitlement, _ = bought(client, world)
    signed_in(client, session, server_clock)
    form = client.get(f"/licenses/{entitlement}", headers=HTML).text
    data = {"csrf_token": csrf_of(form), "request_key": _REQUEST_KEY.findall(form)[0], "years": "2"}
    before = len(quotes_of(client, world))

    answer = client.post(f"/licenses/{entitlement}/renew", data=data, headers=HTML, follow_redirects=False)

    assert answer.status_code == 303
    quote_id = answer.headers["location"].removeprefix("/quotes/")
    quote = client.get(f"/api/v1/quotes/{quote_id}", headers=world.auth("acme_admin")).json()
    assert [(line["action"], line["license"]) for line in quote["lines"]] == [("renewal", entitlement)]
    assert quote["lines"][0]["period_end"] == "2029-11-26"
    # The same form sent again (a reload, a double click) makes no second quote.
    again = client.post(f"/licenses/{entitlement}/renew", data=data, headers=HTML, follow_redirects=False)
    assert again.headers["location"] == answer.headers["location"]
    assert len(quotes_of(client, world)) == before + 1
    # Each form has its own key: the renewal's key cannot make another change.
    assert len(set(_REQUEST_KEY.findall(form))) == 2
    reused = client.post(
        f"/licenses/{entitlement}/upgrade", data=data | {"tier": "250"}, headers=HTML, follow_redirects=False
    )
    assert reused.status_code == 422
    assert "already sent for another change" in field_errors(reused.text)["tier-error"]
    assert len(quotes_of(client, world)) == before + 1


def test_upgrading_creates_an_upgrade_quote(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    entitlement, _ = bought(client, world)
    signed_in(client, session, server_clock)
    form = client.get(f"/licenses/{entitlement}", headers=HTML).text
    assert '<option value="250">250 users</option>' in form
    assert '<option value="50">' not in form  # only larger tiers are offered

    answer = client.post(
        f"/licenses/{entitlement}/upgrade",
        data={"csrf_token": csrf_of(form), "request_key": _REQUEST_KEY.findall(form)[1], "tier": "250"},
        headers=HTML,
        follow_redirects=False,
    )

    assert answer.status_code == 303
    quote = client.get(f"/api/v1/{answer.headers['location'].lstrip('/')}", headers=world.auth("acme_admin"))
    line = quote.json()["lines"][0]
    assert (line["action"], line["license"], line["tier"]) == ("upgrade", entitlement, "250")


def test_co_terming_a_host_quotes_every_marketplace_app_to_one_date(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    mockups, _ = bought(client, world)
    sso, _ = bought(client, world, items=[{"action": "new", "product_key": SSO, "tier": "100"}])
    signed_in(client, session, server_clock)
    listed = client.get("/licenses", headers=HTML).text
    field = f"co-term-{world.wiki_server.id}"
    assert f'id="{field}" name="target_date" type="date"' in listed
    assert 'value="2028-03-31"' in listed  # the host's maintenance end, proposed

    answer = client.post(
        "/licenses/co-term",
        data={
            "csrf_token": csrf_of(listed),
            "request_key": _REQUEST_KEY.findall(listed)[0],
            "host_instance_id": str(world.wiki_server.id),
            "target_date": "2028-03-31",
        },
        headers=HTML,
        follow_redirects=False,
    )

    assert answer.status_code == 303
    quote = client.get(f"/api/v1/{answer.headers['location'].lstrip('/')}", headers=world.auth("acme_admin"))
    lines = quote.json()["lines"]
    assert {(line["action"], line["license"], line["period_end"]) for line in lines} == {
        ("co_term", mockups, "2028-03-31"),
        ("co_term", sso, "2028-03-31"),
    }


@pytest.mark.parametrize(
    ("channel", "action", "data", "field", "sentence"),
    [
        ("marketplace", "renew", {"years": "3"}, "years", "36 months ahead"),
        ("marketplace", "renew", {"years": "3"}, "years", "You can buy at most 2 years now."),
        ("direct", "renew", {"years": "2"}, "years", "at most 12 months ahead on the direct channel"),
        ("marketplace", "renew", {"years": "0"}, "years", "Renew for 1 to 10 years at a time."),
        ("marketplace", "upgrade", {"tier": "50"}, "tier", "an upgrade must go to a larger tier"),
        ("marketplace", "upgrade", {"tier": "lots"}, "tier", "Choose a tier"),
    ],
)
def test_a_refused_change_is_told_by_its_field_and_creates_nothing(
    client: TestClient,
    session: Session,
    world: World,
    server_clock: FixedClock,
    channel: str,
    action: str,
    data: dict[str, str],
    field: str,
    sentence: str,
) -> None:
    entitlement, _ = bought(client, world, channel=channel)
    before = len(quotes_of(client, world))
    signed_in(client, session, server_clock)
    form = client.get(f"/licenses/{entitlement}", headers=HTML).text

    answer = client.post(
        f"/licenses/{entitlement}/{action}",
        data={"csrf_token": csrf_of(form), "request_key": _REQUEST_KEY.findall(form)[0]} | data,
        headers=HTML,
    )

    assert answer.status_code == 422
    errors = field_errors(answer.text)
    assert sentence in errors[f"{field}-error"], errors
    assert not errors[f"{field}-error"].startswith("Item")  # an API request's item number means nothing here
    assert f'aria-describedby="{field}-hint {field}-error"' in answer.text
    assert 'aria-invalid="true"' in answer.text
    assert f'<a href="#{field}">' in answer.text  # the summary leads to the field
    assert len(quotes_of(client, world)) == before


def test_a_co_term_to_a_date_nothing_ends_before_is_told_by_the_date(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    bought(client, world)
    before = len(quotes_of(client, world))
    signed_in(client, session, server_clock)
    listed = client.get("/licenses", headers=HTML).text

    answer = client.post(
        "/licenses/co-term",
        data={
            "csrf_token": csrf_of(listed),
            "request_key": _REQUEST_KEY.findall(listed)[0],
            "host_instance_id": str(world.wiki_server.id),
            "target_date": "2027-06-30",
        },
        headers=HTML,
    )

    assert answer.status_code == 422
    field = f"co-term-{world.wiki_server.id}"
    sentence = field_errors(answer.text)[f"{field}-error"]
    assert sentence.startswith("No marketplace app license of this host instance ends before 2027-06-30")
    assert "there is nothing to co-term" in sentence
    assert 'value="2027-06-30"' in answer.text  # the date sent stays in the field
    assert len(quotes_of(client, world)) == before


@pytest.mark.parametrize("token", [None, "forged-token-of-another-site-xxxxx"])
def test_every_form_refuses_a_post_without_its_token(
    client: TestClient, session: Session, world: World, server_clock: FixedClock, token: str | None
) -> None:
    entitlement, _ = bought(client, world)
    before = len(quotes_of(client, world))
    signed_in(client, session, server_clock)
    posts = [
        (f"/licenses/{entitlement}/renew", {"years": "1"}),
        (f"/licenses/{entitlement}/upgrade", {"tier": "250"}),
        (f"/licenses/{entitlement}/migrate", {}),
        ("/licenses/co-term", {"host_instance_id": str(world.wiki_server.id), "target_date": "2028-03-31"}),
    ]
    for path, data in posts:
        if token is not None:
            data = data | {"csrf_token": token}
        answer = client.post(path, data=data, headers=HTML, follow_redirects=False)
        assert answer.status_code == 403, path
        assert "This form has expired" in answer.text
    assert len(quotes_of(client, world)) == before


# -- access ------------------------------------------------------------------------------------------------------


def test_another_organisations_license_and_host_answer_404(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    theirs, _ = bought(
        client,
        world,
        instance="globex_wiki",
        buyer="globex_admin",
        items=[{"action": "new", "product_key": MOCKUPS, "tier": "250"}],
    )
    csrf = signed_in(client, session, server_clock)

    assert theirs not in client.get("/licenses", headers=HTML).text
    assert client.get(f"/licenses/{theirs}", headers=HTML).status_code == 404
    assert client.get("/licenses/SEN-0000000000", headers=HTML).status_code == 404
    renew = client.post(f"/licenses/{theirs}/renew", data={"csrf_token": csrf, "years": "1"}, headers=HTML)
    assert renew.status_code == 404
    co_term = client.post(
        "/licenses/co-term",
        data={"csrf_token": csrf, "host_instance_id": str(world.globex_wiki.id), "target_date": "2028-03-31"},
        headers=HTML,
    )
    assert co_term.status_code == 404
    assert quotes_of(client, world, "globex_admin")[0]["lines"][0]["action"] == "new"  # nothing new for them


def test_operator_staff_and_vendors_see_only_their_own_organisations_licenses_here(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    entitlement, _ = bought(client, world, channel="direct", instance="wiki_lab")
    for role in ("operator", "mockups_vendor"):
        signed_in(client, session, server_clock, role)
        assert entitlement not in client.get("/licenses", headers=HTML).text
        assert client.get(f"/licenses/{entitlement}", headers=HTML).status_code == 404


def test_a_stranger_is_sent_to_sign_in(client: TestClient) -> None:
    answer = client.get("/licenses", headers=HTML, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/sign-in?next=/licenses"

"""The billing run: cloud renewals on the site's billing date, dunning, expiries and lapsed maintenance."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from commerce.test_seed_scenarios import MOCKUPS, buy, license_detail, validate
from mercato.accounts.models import HostInstance
from mercato.billing.service import BillingReport, BillingRun
from mercato.clock import FixedClock
from mercato.services import Services
from support.licenses import SECRET
from support.world import World


def run(session_factory: sessionmaker[Session], day: date) -> BillingReport:
    services = Services(
        secret_key=SECRET, clock=FixedClock(datetime(day.year, day.month, day.day, 12, tzinfo=UTC))
    )
    report = BillingReport()
    with session_factory() as session, session.begin():
        billing = BillingRun(session, services)
        for site in billing.cloud_sites_due():
            report.merge(billing.renew_site(site))
        report.merge(billing.sweep_licenses())
    return report


def cloud_app(shop: TestClient, world: World) -> dict[str, Any]:
    invoice = buy(shop, world, [{"action": "new", "product_key": MOCKUPS}], instance="wiki_cloud")
    line = invoice["lines"][0]
    assert "× 14/30 days to the site's next billing date" in line["description"]  # co-termed with the site
    return license_detail(shop, world, line["license"])


def test_cloud_apps_renew_on_the_sites_billing_date_once(
    shop: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    subscription = cloud_app(shop, world)
    assert subscription["term_end"] == "2026-12-10"
    assert run(session_factory, date(2026, 12, 9)).renewal_invoices == []
    report = run(session_factory, date(2026, 12, 10))
    assert len(report.renewal_invoices) == 1
    invoices = shop.get("/api/v1/invoices", headers=world.auth("acme_admin")).json()["items"]
    renewal = next(i for i in invoices if i["number"] == report.renewal_invoices[0])
    assert renewal["total"] == "55.00"  # 40 users: 10.00 flat + 30 × 1.50, a full month
    assert "2026-12-10 → 2027-01-10" in renewal["lines"][0]["description"]
    assert run(session_factory, date(2026, 12, 10)).renewal_invoices == []  # idempotent
    with session_factory() as session:
        site = session.get(HostInstance, world.wiki_cloud.id)
        assert site is not None and site.next_billing_date == date(2027, 1, 10)
    shop.post(
        f"/api/v1/invoices/{renewal['id']}/payments",
        headers=world.auth("operator"),
        json={"amount": "55.00", "reference": "TRF-REN"},
    )
    renewed = license_detail(shop, world, subscription["entitlement_number"])
    assert renewed["term_end"] == "2027-01-10"
    assert [t["kind"] for t in renewed["history"]] == ["cloud_subscription", "renewal"]


def test_unpaid_cloud_renewal_goes_through_grace_suspension_and_expiry_then_payment_restores_it(
    shop: TestClient, world: World, session_factory: sessionmaker[Session], clock: FixedClock
) -> None:
    subscription = cloud_app(shop, world)
    entitlement = subscription["entitlement_number"]
    run(session_factory, date(2026, 12, 10))
    assert run(session_factory, date(2026, 12, 25)).suspended == []  # 15 days of grace
    assert run(session_factory, date(2026, 12, 26)).suspended == [entitlement]
    key = license_detail(shop, world, entitlement)["keys"][-1]["key"]
    clock.advance(days=30)  # the server's clock decides: 2026-12-26
    verdict = validate(shop, key, hosting="cloud", server_id="acme-test.wiki.example", host_tier="40")
    assert verdict["status"] == "REVOKED" and "suspended" in verdict["message"]
    assert run(session_factory, date(2027, 1, 9)).unlicensed == []
    assert run(session_factory, date(2027, 1, 10)).unlicensed == [entitlement]
    detail = license_detail(shop, world, entitlement)
    assert detail["status"] == "expired"
    assert [t["kind"] for t in detail["history"]] == ["cloud_subscription", "suspended", "unlicensed"]
    invoices = shop.get("/api/v1/invoices", headers=world.auth("acme_admin")).json()["items"]
    renewal = next(i for i in invoices if i["status"] == "open")
    shop.post(
        f"/api/v1/invoices/{renewal['id']}/payments",
        headers=world.auth("operator"),
        json={"amount": renewal["total"], "reference": "LATE"},
    )
    restored = license_detail(shop, world, entitlement)
    assert (restored["status"], restored["term_end"]) == ("active", "2027-01-10")


def test_evaluations_expire_and_maintenance_lapses_once(
    shop: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    evaluation = buy(shop, world, [{"action": "evaluation", "product_key": MOCKUPS}])["lines"][0]["license"]
    perpetual = buy(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}])["lines"][0][
        "license"
    ]
    assert run(session_factory, date(2026, 12, 26)).expired == []
    assert run(session_factory, date(2026, 12, 27)).expired == [evaluation]
    assert run(session_factory, date(2027, 11, 27)).maintenance_lapsed == [perpetual]
    assert run(session_factory, date(2027, 11, 28)).maintenance_lapsed == []
    detail = license_detail(shop, world, perpetual)
    assert detail["status"] == "active"  # a perpetual license keeps working for builds made before
    assert [t["kind"] for t in detail["history"]] == ["new", "maintenance_lapsed"]

"""A vendor moves its direct cloud customers to its marketplace cloud listing (docs/cloud-transition.md): one
marketplace invoice per customer for the rest of its term less the unused prepayment; paid, the license keeps
its entitlement number, users and billing date, gets a marketplace key, and renews with the billing run."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from billing.test_billing_run import run as billing_run
from mercato.accounts.models import HostInstance
from mercato.catalog.models import App, Listing
from mercato.clock import FixedClock
from mercato.cloud_transitions.models import CloudTransition
from mercato.licenses.events import LicenseEvent, LicenseEvents
from mercato.licenses.models import License, LicenseEventKind, LicenseState, LicenseTransaction
from mercato.licenses.service import LicenseService
from mercato.pricing import Channel, Hosting, LicenseType
from mercato.services import Services
from support.licenses import license_services
from support.world import World

from .test_seed_scenarios import MOCKUPS, license_detail, validate

PATH = "/api/v1/vendors/example-mockups/cloud-transitions"
TODAY = date(2026, 11, 26)


def cents(amount: Fraction) -> Decimal:
    """Rounded half-even to the cent, as an invoice shows it."""
    return Decimal(round(amount * 100)).scaleb(-2)


def direct_cloud_customer(
    session_factory: sessionmaker[Session],
    world: World,
    *,
    organisation: str,
    site: str,
    users: int,
    cycle: str,
    start: date,
    end: date,
    prepaid: str,
    app_key: str = MOCKUPS,
    services: Services | None = None,
) -> str:
    """A vendor's direct cloud customer as an import brings it in: a cloud site without marketplace billing, a
    vendor-issued license bound to it, and the import's history entry with the prepayment. Its entitlement."""
    services = services or license_services(TODAY)
    with session_factory() as session, session.begin():
        listing = session.scalars(
            select(Listing).where(Listing.product_key == app_key, Listing.hosting == Hosting.CLOUD)
        ).first() or legacy_listing(session, app_key)
        org = getattr(world, organisation)
        instance = HostInstance(
            organisation_id=org.id,
            host_product_id=world.wiki_server.host_product_id,
            hosting=Hosting.CLOUD,
            server_id=site,
            name=site,
            host_license_type=LicenseType.COMMERCIAL,
            cloud_users=users,
        )
        session.add(instance)
        session.flush()
        license = License(
            entitlement_number="",
            listing_id=listing.id,
            organisation_id=org.id,
            host_instance_id=instance.id,
            product_key=app_key,
            hosting=Hosting.CLOUD,
            channel=Channel.DIRECT,
            issuer="vendor:example-mockups",
            license_type=LicenseType.COMMERCIAL,
            tier_users=users,
            host_binding=site,
            maintenance_start=start,
            maintenance_end=end,
            term_end=end,
            status=LicenseState.ACTIVE,
        )
        issued = LicenseService(session, services).create(license)
        LicenseEvents(session).record(
            LicenseEvent(
                kind=LicenseEventKind.IMPORT,
                license=license,
                occurred_at=services.clock.now(),
                description="Imported from the vendor's own store.",
                key=issued.key,
                details={"prepaid": {"amount": prepaid, "currency": "USD"}, "billing_cycle": cycle},
            )
        )
        return license.entitlement_number


def legacy_listing(session: Session, app_key: str) -> Listing:
    """The vendor's own cloud app its direct customers bought, never sold on the marketplace (no prices)."""
    mockups = session.scalars(select(Listing).where(Listing.product_key == MOCKUPS)).first()
    assert mockups is not None and mockups.app_id is not None
    vendor_id = session.scalars(select(App.vendor_id).where(App.id == mockups.app_id)).one()
    app = App(
        key=app_key, name="Mockups Classic", vendor_id=vendor_id, host_product_id=mockups.host_product_id
    )
    session.add(app)
    session.flush()
    listing = Listing(
        product_key=app_key,
        hosting=Hosting.CLOUD,
        app_id=app.id,
        host_product_id=mockups.host_product_id,
        currency="USD",
        max_maintenance_months_marketplace=12,
        max_maintenance_months_direct=12,
    )
    session.add(listing)
    session.flush()
    return listing


def transition(shop: TestClient, world: World, role: str = "mockups_vendor", **body: Any) -> Any:
    return shop.post(PATH, json={"from_app": MOCKUPS, "to_app": MOCKUPS} | body, headers=world.auth(role))


def invoice_numbered(shop: TestClient, world: World, number: str) -> dict[str, Any]:
    invoices = shop.get("/api/v1/invoices?limit=200", headers=world.auth("operator")).json()["items"]
    return dict(next(invoice for invoice in invoices if invoice["number"] == number))


def pay(shop: TestClient, world: World, invoice: dict[str, Any], reference: str) -> None:
    paid = shop.post(
        f"/api/v1/invoices/{invoice['id']}/payments",
        json={"amount": invoice["amount_due"], "provider": "bank_transfer", "reference": reference},
        headers=world.auth("operator"),
    )
    assert paid.status_code == 200, paid.text


def two_customers(session_factory: sessionmaker[Session], world: World) -> tuple[str, str]:
    annual = direct_cloud_customer(
        session_factory,
        world,
        organisation="acme",
        site="acme-direct.wiki.example",
        users=40,
        cycle="annual",
        start=date(2026, 4, 1),
        end=date(2027, 4, 1),
        prepaid="600.00",
    )
    monthly = direct_cloud_customer(
        session_factory,
        world,
        organisation="globex",
        site="globex.wiki.example",
        users=25,
        cycle="monthly",
        start=date(2026, 11, 10),
        end=date(2026, 12, 10),
        prepaid="25.00",
    )
    return annual, monthly


def test_two_direct_cloud_customers_move_with_their_prepayment_credited_and_renew_on_the_marketplace(
    shop: TestClient, world: World, session_factory: sessionmaker[Session], clock: FixedClock
) -> None:
    annual, monthly = two_customers(session_factory, world)
    direct_key = license_detail(shop, world, annual)["keys"][-1]["key"]

    answer = transition(shop, world)
    assert answer.status_code == 200, answer.text
    moves = {move["entitlement_number"]: move for move in answer.json()["licenses"]}
    assert answer.json()["counts"]["invoiced"] == 2

    # Annual, 40 users: the 50-user annual tier, 10 × (10.00 + 40 × 1.50) = 700.00 a year, for the 126 of 365
    # days left to the billing date 2027-04-01; the credit is 600.00 prepaid × 126/365 unused.
    charge, credit = cents(Fraction(700) * Fraction(126, 365)), cents(Fraction(600) * Fraction(126, 365))
    assert (charge, credit) == (Decimal("241.64"), Decimal("207.12"))
    first = moves[annual]
    assert (first["site"], first["users"], first["billing_date"]) == (
        "acme-direct.wiki.example",
        40,
        "2027-04-01",
    )
    assert (Decimal(first["charge"]), Decimal(first["credit"]), Decimal(first["net"])) == (
        charge,
        credit,
        charge - credit,
    )
    assert first["state"] == "invoiced"
    # Monthly, 25 users: 10.00 + 15 × 1.50 = 32.50 a month, 14 of 30 days left; 25.00 prepaid × 14/30 unused.
    monthly_charge, monthly_credit = (
        cents(Fraction(3250, 100) * Fraction(14, 30)),
        cents(Fraction(25) * Fraction(14, 30)),
    )
    second = moves[monthly]
    assert (second["users"], second["billing_date"]) == (25, "2026-12-10")
    assert Decimal(second["net"]) == monthly_charge - monthly_credit == Decimal("3.50")

    invoice = invoice_numbered(shop, world, first["invoice"])
    assert (invoice["seller"], invoice["status"], Decimal(invoice["total"])) == (
        "operator",
        "open",
        charge - credit,
    )
    line = invoice["lines"][0]
    assert (line["action"], line["license"]) == ("migration", annual)
    split = line["revenue_split"]
    operator_share = charge - cents(Fraction(charge) * Fraction(85, 100))  # the operator's 15% of the charge
    assert Decimal(split["operator_amount"]) == operator_share
    assert Decimal(split["vendor_amount"]) == charge - credit - operator_share  # the vendor bears the credit

    pay(shop, world, invoice, "TRF-CLOUD-1")
    moved = license_detail(shop, world, annual)
    assert moved["entitlement_number"] == annual
    assert (moved["channel"], moved["issuer"], moved["tier"], moved["term_end"]) == (
        "marketplace",
        "operator",
        "50",
        "2027-04-01",
    )
    assert [entry["kind"] for entry in moved["history"]] == ["import", "migration"]
    new_key = moved["keys"][-1]["key"]
    on_site = {"hosting": "cloud", "server_id": "acme-direct.wiki.example", "host_tier": "40"}
    assert validate(shop, new_key, **on_site)["status"] == "VALID"
    during_grace = validate(shop, direct_key, **on_site)
    assert (during_grace["status"], during_grace["action"]) == ("VALID", "GET_NEW_KEY")
    with session_factory() as session:
        site = session.scalars(
            select(HostInstance).where(HostInstance.server_id == "acme-direct.wiki.example")
        ).one()
        assert (site.cloud_users, site.billing_cycle, site.next_billing_date) == (
            40,
            "annual",
            date(2027, 4, 1),
        )

    # The billing date comes: the billing run renews it at marketplace prices, a full year of the 50-user tier.
    report = billing_run(session_factory, date(2027, 4, 1))
    renewals = [invoice_numbered(shop, world, number) for number in report.renewal_invoices]
    renewal = next(r for r in renewals if r["lines"][0]["license"] == annual)
    assert Decimal(renewal["total"]) == Decimal("700.00")
    assert "2027-04-01 → 2028-04-01" in renewal["lines"][0]["description"]


def test_a_customer_whose_credit_exceeds_the_charge_moves_at_once_and_pays_nothing(
    shop: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    entitlement = direct_cloud_customer(
        session_factory,
        world,
        organisation="acme",
        site="acme-prepaid.wiki.example",
        users=40,
        cycle="annual",
        start=date(2026, 4, 1),
        end=date(2027, 4, 1),
        prepaid="1200.00",
    )
    answer = transition(shop, world)
    assert answer.status_code == 200, answer.text
    move = answer.json()["licenses"][0]
    charge, credit = cents(Fraction(700) * Fraction(126, 365)), cents(Fraction(1200) * Fraction(126, 365))
    assert (Decimal(move["net"]), Decimal(move["credit_unused"])) == (Decimal("0.00"), credit - charge)
    assert move["state"] == "moved"
    invoice = invoice_numbered(shop, world, move["invoice"])
    assert (invoice["total"], invoice["status"]) == ("0.00", "paid")
    assert "the vendor refunds the" in invoice["lines"][0]["description"]
    moved = license_detail(shop, world, entitlement)
    assert (moved["channel"], moved["term_end"]) == ("marketplace", "2027-04-01")


def test_a_repeated_transition_changes_nothing_and_a_dry_run_nothing_at_all(
    shop: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    two_customers(session_factory, world)
    rehearsal = transition(shop, world, dry_run=True)
    assert rehearsal.status_code == 200, rehearsal.text
    assert {m["state"] for m in rehearsal.json()["licenses"]} == {"would_invoice"}
    assert all(m["invoice"] is None for m in rehearsal.json()["licenses"])

    first = transition(shop, world).json()
    again = transition(shop, world).json()
    assert {m["state"] for m in again["licenses"]} == {"waiting"}
    assert sorted(m["invoice"] for m in again["licenses"]) == sorted(m["invoice"] for m in first["licenses"])
    pay(shop, world, invoice_numbered(shop, world, first["licenses"][0]["invoice"]), "TRF-CLOUD-2")
    third = transition(shop, world).json()
    assert [m["state"] for m in third["licenses"]] == ["waiting"]  # the paid one is on the marketplace now
    with session_factory() as session:
        row = session.scalars(select(CloudTransition)).one()
        assert (row.runs, row.invoiced, row.moved_at_once) == (3, 2, 0)

    elsewhere = transition(shop, world, to_app="com.example.mockups.tracker")
    assert elsewhere.status_code == 409 and elsewhere.json()["type"].endswith("transition-goes-elsewhere")


def test_an_idempotency_key_replays_the_first_answer(
    shop: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    two_customers(session_factory, world)
    headers = world.auth("mockups_vendor") | {"Idempotency-Key": "transition-1"}
    body = {"from_app": MOCKUPS, "to_app": MOCKUPS}
    first = shop.post(PATH, json=body, headers=headers)
    retry = shop.post(PATH, json=body, headers=headers)
    assert first.status_code == retry.status_code == 200
    assert first.json() == retry.json()


def test_only_the_vendors_members_and_operator_staff_may_run_it(
    shop: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    two_customers(session_factory, world)
    for role in ("globex_admin", "acme_admin"):
        refused = transition(shop, world, role=role, dry_run=True)
        assert refused.status_code == 404 and refused.json()["type"].endswith("vendor-not-found")
    other_vendor = shop.post(
        "/api/v1/vendors/diagramly/cloud-transitions",
        json={"from_app": MOCKUPS, "to_app": MOCKUPS, "dry_run": True},
        headers=world.auth("mockups_vendor"),
    )
    assert other_vendor.status_code == 404
    staff = transition(shop, world, role="operator", dry_run=True)
    assert staff.status_code == 200 and len(staff.json()["licenses"]) == 2
    not_theirs = transition(shop, world, from_app="com.diagramly.diagrams.wiki")
    assert not_theirs.status_code == 422 and not_theirs.json()["type"].endswith("not-the-vendors-app")


def test_customers_of_another_app_move_to_the_listing_named_and_keep_their_license(
    shop: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    legacy = "com.example.mockups.classic"
    entitlement = direct_cloud_customer(
        session_factory,
        world,
        organisation="acme",
        site="acme-classic.wiki.example",
        users=25,
        cycle="monthly",
        start=date(2026, 11, 10),
        end=date(2026, 12, 10),
        prepaid="25.00",
        app_key=legacy,
    )
    old_key = license_detail(shop, world, entitlement)["keys"][-1]["key"]
    answer = transition(shop, world, from_app=legacy)
    assert answer.status_code == 200, answer.text
    move = answer.json()["licenses"][0]
    assert (move["entitlement_number"], move["net"], move["billing_date"]) == (
        entitlement,
        "3.50",
        "2026-12-10",
    )
    pay(shop, world, invoice_numbered(shop, world, move["invoice"]), "TRF-CLASSIC")
    moved = license_detail(shop, world, entitlement)
    assert (moved["product_key"], moved["channel"], moved["term_end"]) == (
        MOCKUPS,
        "marketplace",
        "2026-12-10",
    )
    on_site = {"hosting": "cloud", "server_id": "acme-classic.wiki.example", "host_tier": "25"}
    assert validate(shop, moved["keys"][-1]["key"], **on_site)["status"] == "VALID"
    during_grace = validate(shop, old_key, app_key=legacy, **on_site)
    assert (during_grace["status"], during_grace["action"]) == ("VALID", "GET_NEW_KEY")
    with session_factory() as session:
        history = session.scalars(
            select(LicenseTransaction).where(LicenseTransaction.kind == LicenseEventKind.MIGRATION)
        ).all()
        before = next(
            h.details["migrated_from"] for h in history if h.details["migrated_from"].get("product_key")
        )
        assert (before["product_key"], before["channel"], before["term_end"]) == (
            legacy,
            "direct",
            "2026-12-10",
        )

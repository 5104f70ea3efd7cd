"""The whole path DESIGN §5 promises: licenses sold elsewhere are imported into the vendor's direct channel,
then move to the marketplace without losing anything. The imported server license is told which upgrade makes
it match its host; the imported cloud customer moves with its vendor's cloud transition, the prepayment the
import recorded credited to the cent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

from fastapi.testclient import TestClient

from support.imports import MOCKUPS, clean_rows, csv_file, post_csv
from support.world import World


def cents(amount: Fraction) -> Decimal:
    return Decimal(round(amount * 100)).scaleb(-2)


def imported(shop: TestClient, world: World) -> dict[str, str]:
    answer = post_csv(shop, world, csv_file(clean_rows()))
    assert answer.status_code in (200, 201), answer.text
    return {line["reference"]: line["entitlement_number"] for line in answer.json()["lines"]}


def test_an_imported_server_license_is_quoted_the_upgrade_that_lets_it_move(
    shop: TestClient, world: World
) -> None:
    entitlement = imported(shop, world)["MOCK-0001"]  # 25 users, on a new 100-user wiki server
    detail = shop.get(f"/api/v1/licenses/{entitlement}", headers=world.auth("acme_admin")).json()
    assert (detail["channel"], detail["tier"]) == ("direct", "25")

    offered = shop.post(
        "/api/v1/quotes",
        json={
            "host_instance_id": detail["host_instance_id"],
            "items": [{"action": "migration", "license": entitlement}],
        },
        headers=world.auth("acme_admin"),
    )

    assert offered.status_code == 201, offered.text
    line = offered.json()["lines"][0]
    assert (line["action"], line["tier"], line["period_end"]) == ("migration", "100", "2027-03-01")
    assert Decimal(line["amount"]) > 0 and "upgrade to 100 users" in line["explanation"]


def test_an_imported_cloud_customer_moves_with_the_prepayment_the_import_recorded(
    shop: TestClient, world: World
) -> None:
    entitlement = imported(shop, world)[
        "MOCK-0003"
    ]  # Initech: 50 users, annual, 120.00 for 2026-03-01 → 2027-01-31

    moved = shop.post(
        "/api/v1/vendors/example-mockups/cloud-transitions",
        json={"from_app": MOCKUPS, "to_app": MOCKUPS},
        headers=world.auth("mockups_vendor"),
    )

    assert moved.status_code == 200, moved.text
    [move] = [m for m in moved.json()["licenses"] if m["entitlement_number"] == entitlement]
    days_left, term_days = (
        (date(2027, 1, 31) - date(2026, 11, 26)).days,
        (date(2027, 1, 31) - date(2026, 3, 1)).days,
    )
    credit = cents(Fraction(120) * Fraction(days_left, term_days))
    charge = cents(
        Fraction(700) * Fraction(days_left, 365)
    )  # the 50-user annual tier, 10 × (10.00 + 40 × 1.50)
    assert (move["users"], move["billing_date"]) == (50, "2027-01-31")
    assert (Decimal(move["credit"]), Decimal(move["charge"]), Decimal(move["net"])) == (
        credit,
        charge,
        charge - credit,
    )

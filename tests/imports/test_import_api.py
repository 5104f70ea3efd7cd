"""Importing licenses through `POST /api/v1/vendors/{slug}/license-imports`: a clean file becomes ordinary direct
licenses that validate, renew and upgrade; a bad row writes nothing; the same file twice makes one copy."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mercato.accounts.models import HostInstance, Invitation, Organisation
from mercato.ledger.models import LedgerEntry
from mercato.licenses.models import License, LicenseEventKind, LicenseKey, LicenseTransaction
from mercato.outbox.models import OutboxMessage
from mercato.webhooks.models import WebhookDelivery
from support.imports import IMPORTS, MOCKUPS, clean_rows, counts, csv_file, post_csv, row
from support.world import World

VALIDATE = "/api/v1/licenses/validate"


def imported(shop: TestClient, world: World, data: bytes | None = None) -> dict[str, Any]:
    answer = post_csv(shop, world, data if data is not None else csv_file(clean_rows()))
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def license_of(shop: TestClient, world: World, entitlement: str, role: str = "mockups_vendor") -> Any:
    answer = shop.get(f"/api/v1/licenses/{entitlement}", headers=world.auth(role))
    assert answer.status_code == 200, answer.text
    return answer.json()


def current_key(detail: dict[str, Any]) -> str:
    [key] = [k["key"] for k in detail["keys"] if k["state"] == "current"]
    return str(key)


def test_a_clean_file_imports_direct_licenses_that_validate(
    shop: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    summary = imported(shop, world)
    assert {
        k: summary[k]
        for k in (
            "rows",
            "licenses_created",
            "rows_skipped",
            "organisations_created",
            "host_instances_created",
        )
    } == {
        "rows": 3,
        "licenses_created": 3,
        "rows_skipped": 0,
        "organisations_created": 1,
        "host_instances_created": 3,
    }
    assert [(line["line"], line["reference"]) for line in summary["lines"]] == [
        (2, "MOCK-0001"),
        (3, "MOCK-0002"),
        (4, "MOCK-0003"),
    ]
    hosts = {
        "MOCK-0001": {"hosting": "server", "server_id": "ACME-IMPORTED-1", "host_tier": "100"},
        "MOCK-0002": {"hosting": "datacenter", "server_id": "ACME-DC-1", "host_tier": "500"},
        "MOCK-0003": {"hosting": "cloud", "server_id": "initech.wiki.example", "host_tier": "50"},
    }
    for line in summary["lines"]:
        detail = license_of(shop, world, line["entitlement_number"])
        assert (detail["channel"], detail["issuer"], detail["status"]) == (
            "direct",
            "vendor:example-mockups",
            "active",
        )
        body = {"key": current_key(detail), "app_key": MOCKUPS, "host_license_type": "commercial"}
        verdict = shop.post(VALIDATE, json=body | hosts[line["reference"]]).json()
        assert verdict["status"] == "VALID", (line, verdict)
        [entry] = [h for h in detail["history"] if h["kind"] == "import"]
        assert entry["amount"] in ("0.00", "0", None)
    with session_factory() as session:
        licenses = {
            lic.host_binding: lic
            for lic in session.scalars(select(License).where(License.channel == "direct"))
        }
        server, datacenter, cloud = (
            licenses["ACME-IMPORTED-1"],
            licenses["ACME-DC-1"],
            licenses["initech.wiki.example"],
        )
        assert (str(server.maintenance_start), str(server.maintenance_end), server.term_end) == (
            "2026-03-01",
            "2027-03-01",
            None,
        )
        assert str(datacenter.term_end) == "2027-06-30"
        assert (str(cloud.term_end), cloud.tier_users) == ("2027-01-31", 50)
        initech = session.scalars(select(Organisation).where(Organisation.name == "Initech")).one()
        assert (initech.slug, initech.billing_email) == ("initech", "admin@initech.example")
        site = session.scalars(
            select(HostInstance).where(HostInstance.server_id == "initech.wiki.example")
        ).one()
        assert (site.organisation_id, site.cloud_users, site.billing_cycle) == (initech.id, 50, "annual")
        [history] = session.scalars(
            select(LicenseTransaction).where(
                LicenseTransaction.license_id == cloud.id, LicenseTransaction.kind == LicenseEventKind.IMPORT
            )
        ).all()
        assert history.details == {
            "reference": "MOCK-0003",
            "import": summary["id"],
            "line": 4,
            "prepaid": {"amount": "120.00", "currency": "USD"},
            "billing_cycle": "annual",
        }
        assert history.amount_minor == 0 and history.currency is None
        # No money moved: the ledger has nothing of it.
        assert (
            session.scalars(
                select(LedgerEntry).where(LedgerEntry.license_id.in_([lic.id for lic in licenses.values()]))
            ).all()
            == []
        )
        invited = {i.email for i in session.scalars(select(Invitation))}
        assert {"it@acme.example", "admin@initech.example"} <= invited


def test_the_customers_admins_get_their_keys_in_one_e_mail_per_organisation(
    shop: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    summary = imported(shop, world)
    with session_factory() as session:
        messages = session.scalars(select(OutboxMessage)).all()
        keys = [m for m in messages if m.payload.get("subject", "").startswith("Your license keys")]
        by_recipient = {tuple(m.payload["to"]): m for m in keys}
        # Acme has an admin (its keys go to the admin); Initech is new, so its contact's billing address.
        assert set(by_recipient) == {("acme_admin@test.example",), ("admin@initech.example",)}
        acme_mail = by_recipient[("acme_admin@test.example",)].payload["text"]
        numbers = {line["reference"]: line["entitlement_number"] for line in summary["lines"]}
        assert numbers["MOCK-0001"] in acme_mail and numbers["MOCK-0002"] in acme_mail
        assert numbers["MOCK-0003"] not in acme_mail
        invitations = [m for m in messages if "invites you to join" in m.payload.get("text", "")]
        assert {m.payload["to"][0] for m in invitations} == {"it@acme.example", "admin@initech.example"}


def test_imported_licenses_renew_and_upgrade_in_the_direct_channel(
    shop: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    summary = imported(shop, world, csv_file([row(purchase_date="2025-12-10", maintenance_end="2026-12-10")]))
    [line] = summary["lines"]
    with session_factory() as session:
        instance = session.scalars(
            select(HostInstance).where(HostInstance.server_id == "ACME-IMPORTED-1")
        ).one()
    admin = world.auth("acme_admin")

    def buy(item: dict[str, str]) -> dict[str, Any]:
        body = {"host_instance_id": str(instance.id), "channel": "direct", "items": [item]}
        quote = shop.post("/api/v1/quotes", json=body, headers=admin)
        assert quote.status_code == 201, quote.text
        accepted = shop.post(f"/api/v1/quotes/{quote.json()['id']}/accept", headers=admin)
        assert accepted.status_code == 201, accepted.text
        invoice = accepted.json()["invoice"]
        paid = shop.post(
            f"/api/v1/invoices/{invoice['id']}/payments",
            json={
                "amount": invoice["amount_due"],
                "provider": "bank_transfer",
                "reference": f"IN-{item['action']}",
            },
            headers=world.auth("mockups_vendor"),
        )
        assert paid.status_code == 200, paid.text
        return dict(paid.json())

    renewed = buy({"action": "renewal", "license": line["entitlement_number"]})
    assert renewed["seller"] == "vendor:example-mockups"
    detail = license_of(shop, world, line["entitlement_number"])
    assert detail["maintenance_end"] == "2027-12-10"
    buy({"action": "upgrade", "license": line["entitlement_number"], "tier": "50"})
    detail = license_of(shop, world, line["entitlement_number"])
    assert (detail["tier"], detail["channel"]) == ("50", "direct")
    body = {
        "key": current_key(detail),
        "app_key": MOCKUPS,
        "hosting": "server",
        "server_id": "ACME-IMPORTED-1",
        "host_tier": "100",
        "app_users": 40,
    }
    assert shop.post(VALIDATE, json=body).json()["status"] == "VALID"
    kinds = [h["kind"] for h in detail["history"]]
    assert kinds[0] == "import" and {"renewal", "upgrade"} <= set(kinds)


def test_a_file_with_one_bad_row_writes_nothing_and_names_the_row(
    shop: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    rows = clean_rows()
    rows.insert(1, row(reference="MOCK-0009", server_id="ACME-IMPORTED-9", tier="33"))
    with session_factory() as session:
        before = counts(session)
    answer = post_csv(shop, world, csv_file(rows))
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["type"].endswith("/import-refused")
    assert problem["errors"] == [
        {
            "line": 3,
            "column": "tier",
            "detail": "com.example.mockups.wiki is not sold direct with 33 users; its tiers are 10, 25, 50, 100, "
            "250, 500, 2000, 10000, unlimited.",
        }
    ]
    assert "line 3, tier" in problem["detail"]
    with session_factory() as session:
        assert counts(session) == before


def test_every_problem_is_answered_at_once_with_its_line_and_column(shop: TestClient, world: World) -> None:
    rows = [
        row(purchase_date="2026-02-30"),
        row(reference="MOCK-0002", server_id="GLOBEX-WIKI-1", contact_email="not-an-address"),
        row(reference="MOCK-0001", server_id="ACME-IMPORTED-3", app="com.gatekeeper.sso.wiki"),
        row(
            reference="MOCK-0004",
            server_id="ACME-IMPORTED-4",
            purchase_date="2026-12-01",
            license_type="free",
        ),
        row(reference="MOCK-0005", server_id="ACME-IMPORTED-5", host_tier=""),
        row(reference="MOCK-0006", server_id="ACME-WIKI-0001", organisation="acme-test"),
    ]
    answer = post_csv(shop, world, csv_file(rows))
    assert answer.status_code == 422, answer.text
    found = {(e["line"], e["column"]) for e in answer.json()["errors"]}
    # The rows' form, and the database's rules for the rows well formed: another vendor's app, a new host
    # without its tier.
    assert found == {
        (2, "purchase_date"),
        (3, "contact_email"),
        (4, "reference"),
        (4, "app"),
        (5, "license_type"),
        (5, "purchase_date"),
        (6, "host_tier"),
    }, answer.json()["errors"]
    # Once the form is right: another customer's server and another vendor's app remain.
    rows[0]["purchase_date"] = "2026-02-28"
    rows[1]["contact_email"] = "it@globex.example"
    rows[2]["reference"] = "MOCK-0003"
    rows[3] |= {"purchase_date": "2026-02-28", "license_type": "academic"}
    rows[4]["host_tier"] = "100"
    answer = post_csv(shop, world, csv_file(rows))
    assert answer.status_code == 422, answer.text
    errors = answer.json()["errors"]
    assert {(e["line"], e["column"]) for e in errors} == {(3, "server_id"), (4, "app")}, errors


def test_a_file_that_holds_an_app_its_host_has_already_is_refused(shop: TestClient, world: World) -> None:
    imported(shop, world, csv_file([row()]))
    again = post_csv(shop, world, csv_file([row(reference="MOCK-0100")]))
    assert again.status_code == 422
    [error] = again.json()["errors"]
    assert (error["line"], error["column"]) == (2, "server_id")
    assert "once per host" in error["detail"]


def test_the_same_file_twice_leaves_one_copy(
    shop: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    data = csv_file(clean_rows())
    first = imported(shop, world, data)
    with session_factory() as session:
        after_first = counts(session)
    again = post_csv(shop, world, data)
    assert again.status_code == 200, again.text
    assert again.json()["repeated"] is True
    assert (again.json()["id"], again.json()["lines"]) == (first["id"], first["lines"])
    with session_factory() as session:
        assert counts(session) == after_first
    # A new file with one row imported before (same terms) and one new row: the first is skipped.
    more = csv_file([row(), row(reference="MOCK-0010", server_id="ACME-IMPORTED-10")])
    answer = post_csv(shop, world, more)
    assert answer.status_code == 201, answer.text
    assert (answer.json()["licenses_created"], answer.json()["rows_skipped"]) == (1, 1)
    lines = answer.json()["lines"]
    assert [(line["reference"], line["skipped"]) for line in lines] == [
        ("MOCK-0001", True),
        ("MOCK-0010", False),
    ]
    assert lines[0]["entitlement_number"] == first["lines"][0]["entitlement_number"]
    # The same reference with other terms is a problem of its row.
    changed = post_csv(shop, world, csv_file([row(tier="50")]))
    assert changed.status_code == 422
    assert [(e["line"], e["column"]) for e in changed.json()["errors"]] == [(2, "reference")]
    listed = shop.get(f"{IMPORTS}?include=total", headers=world.auth("mockups_vendor")).json()
    assert (listed["total"], sorted(i["licenses_created"] for i in listed["items"])) == (2, [1, 3])


def test_a_dry_run_writes_nothing_and_says_what_it_would_make(
    shop: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        before = counts(session)
    answer = post_csv(shop, world, csv_file(clean_rows()), dry_run="true")
    assert answer.status_code == 200, answer.text
    summary = answer.json()
    assert (summary["dry_run"], summary["id"], summary["licenses_created"]) == (True, None, 3)
    assert (
        summary["organisations_created"],
        summary["host_instances_created"],
        summary["invitations_sent"],
    ) == (
        1,
        3,
        2,
    )
    with session_factory() as session:
        assert counts(session) == before
    bad = post_csv(shop, world, csv_file([row(tier="7")]), dry_run="true")
    assert bad.status_code == 422 and bad.json()["errors"][0]["line"] == 2


def test_only_the_vendors_members_and_operator_staff_import(shop: TestClient, world: World) -> None:
    data = csv_file([row()])
    for role in ("acme_admin", "globex_admin"):
        refused = post_csv(shop, world, data, role=role)
        assert refused.status_code == 404, refused.text
        assert refused.json()["type"].endswith("/vendor-not-found")
        assert shop.get(IMPORTS, headers=world.auth(role)).status_code == 404
    assert post_csv(shop, world, data, role="acme_read_only").status_code in (403, 404)
    assert post_csv(shop, world, data, role="operator", dry_run="true").status_code == 200
    assert shop.post(IMPORTS, content=data, headers={"Content-Type": "text/csv"}).status_code == 401


def test_a_file_over_five_megabytes_is_refused_with_413(shop: TestClient, world: World) -> None:
    data = csv_file([row()]) + b"#" * (5 * 1024 * 1024)
    answer = post_csv(shop, world, data)
    assert answer.status_code == 413
    assert answer.json()["type"].endswith("/import-too-large")


def test_webhooks_announce_imported_licenses_as_created(
    shop: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    endpoint = shop.post(
        "/api/v1/webhook-endpoints",
        headers=world.auth("mockups_vendor"),
        json={
            "url": "https://hooks.mockups.example/in",
            "events": ["license.created", "transaction.created"],
        },
    )
    assert endpoint.status_code == 201, endpoint.text
    summary = imported(shop, world)
    with session_factory() as session:
        deliveries = session.scalars(select(WebhookDelivery)).all()
        assert sorted(d.event_type for d in deliveries) == ["license.created"] * 3
        assert {json.loads(d.body)["data"]["change"] for d in deliveries} == {"import"}
        assert {json.loads(d.body)["data"]["money"] for d in deliveries} == {None}
        assert {json.loads(d.body)["data"]["entitlement_number"] for d in deliveries} == {
            line["entitlement_number"] for line in summary["lines"]
        }


def test_every_imported_license_has_exactly_one_current_key(
    shop: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    imported(shop, world)
    with session_factory() as session:
        for license in session.scalars(select(License).where(License.channel == "direct")):
            keys = session.scalars(select(LicenseKey).where(LicenseKey.license_id == license.id)).all()
            assert len([k for k in keys if k.superseded_at is None and k.revoked_at is None]) == 1


def test_a_vendor_without_a_direct_store_is_told_to_open_it(shop: TestClient, world: World) -> None:
    data = csv_file([row(app="com.diagramly.diagrams.wiki")])
    answer = shop.post(
        "/api/v1/vendors/diagramly/license-imports",
        content=data,
        headers=world.auth("operator") | {"Content-Type": "text/csv"},
    )
    assert answer.status_code == 409, answer.text
    assert answer.json()["type"].endswith("/direct-store-closed")
    assert "direct-store" in answer.json()["detail"]


def test_a_known_host_and_a_member_contact_are_reused_not_made_again(
    shop: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    # Acme's own wiki server, named by the organisation's exact name; its admin is the contact.
    data = csv_file(
        [
            row(
                organisation="Acme Corp",
                server_id="ACME-WIKI-0001",
                host_tier="",
                contact_email="acme_admin@test.example",
            )
        ]
    )
    summary = imported(shop, world, data)
    assert (
        summary["organisations_created"],
        summary["host_instances_created"],
        summary["invitations_sent"],
    ) == (
        0,
        0,
        0,
    )
    with session_factory() as session:
        license = session.scalars(select(License).where(License.channel == "direct")).one()
        assert (license.organisation_id, license.host_instance_id) == (world.acme.id, world.wiki_server.id)
    # The same server named for another customer is refused.
    other = csv_file([row(organisation="globex-test", server_id="ACME-WIKI-0001", reference="MOCK-0200")])
    answer = post_csv(shop, world, other)
    assert answer.status_code == 422
    assert [(e["line"], e["column"]) for e in answer.json()["errors"]] == [(2, "server_id")]

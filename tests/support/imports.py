"""Import files for tests: rows, CSV, table counts, and posting a file."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mercato.accounts.models import HostInstance, Invitation, Organisation
from mercato.catalog.demo import load_demo_catalog
from mercato.catalog.repository import CatalogRepository
from mercato.database import make_engine, make_session_factory, transaction
from mercato.imports.models import ImportedLicense, LicenseImport
from mercato.ledger.models import LedgerEntry
from mercato.licenses.models import License, LicenseKey, LicenseTransaction
from mercato.migrations import upgrade_to_head
from mercato.outbox.models import OutboxMessage
from support.world import World

START = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
HEADER = (
    "organisation",
    "contact_email",
    "host_product",
    "hosting",
    "server_id",
    "tier",
    "license_type",
    "purchase_date",
    "maintenance_end",
    "reference",
    "app",
    "host_tier",
    "billing_cycle",
    "prepaid_amount",
    "currency",
)
MOCKUPS = "com.example.mockups.wiki"
IMPORTS = "/api/v1/vendors/example-mockups/license-imports"
COUNTED = (
    License,
    LicenseKey,
    LicenseTransaction,
    Organisation,
    HostInstance,
    Invitation,
    LicenseImport,
    ImportedLicense,
    LedgerEntry,
    OutboxMessage,
)


def row(**cells: str) -> dict[str, str]:
    """A clean server row for Acme's new wiki server, with ``cells`` changed."""
    return {
        "organisation": "acme-test",
        "contact_email": "it@acme.example",
        "host_product": "wiki",
        "hosting": "server",
        "server_id": "ACME-IMPORTED-1",
        "tier": "25",
        "license_type": "commercial",
        "purchase_date": "2026-03-01",
        "maintenance_end": "2027-03-01",
        "reference": "MOCK-0001",
        "app": MOCKUPS,
        "host_tier": "100",
        "billing_cycle": "",
        "prepaid_amount": "",
        "currency": "",
    } | cells


def csv_file(rows: Sequence[Mapping[str, str]], header: Sequence[str] = HEADER) -> bytes:
    lines = [",".join(header)] + [",".join(r.get(column, "") for column in header) for r in rows]
    return ("\n".join(lines) + "\n").encode()


def clean_rows() -> list[dict[str, str]]:
    """Acme's new wiki server and Data Center, and a new customer's cloud site."""
    return [
        row(),
        row(
            hosting="datacenter",
            server_id="ACME-DC-1",
            tier="100",
            host_tier="500",
            reference="MOCK-0002",
            maintenance_end="2027-06-30",
        ),
        row(
            organisation="Initech",
            contact_email="admin@initech.example",
            hosting="cloud",
            server_id="initech.wiki.example",
            tier="50",
            host_tier="",
            reference="MOCK-0003",
            maintenance_end="2027-01-31",
            billing_cycle="annual",
            prepaid_amount="120.00",
            currency="USD",
        ),
    ]


def counts(session: Session) -> dict[str, int]:
    return {
        table.__tablename__: int(session.scalar(select(func.count()).select_from(table)) or 0)
        for table in COUNTED
    }


def post_csv(
    shop: TestClient, world: World, data: bytes, role: str = "mockups_vendor", **params: str
) -> httpx.Response:
    return shop.post(
        IMPORTS, content=data, params=params, headers=world.auth(role) | {"Content-Type": "text/csv"}
    )


def many_rows(count: int, customers: int = 30) -> list[dict[str, str]]:
    """``count`` server licenses of Mockups for Wiki, each on a new server of one of ``customers`` new
    customers."""
    return [
        row(
            organisation=f"Bulk Customer {n % customers:02d}",
            contact_email=f"it{n % customers:02d}@bulk.example",
            server_id=f"BULK-{n:05d}",
            reference=f"BULK-{n:05d}",
        )
        for n in range(count)
    ]


def seeded_database(url: str) -> None:
    """A migrated database at ``url`` with the demo catalog (Example Mockups sells direct)."""
    engine = make_engine(url)
    try:
        upgrade_to_head(engine)
        with transaction(make_session_factory(engine)) as session:
            load_demo_catalog(CatalogRepository(session))
    finally:
        engine.dispose()


def table_counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return counts(session)
    finally:
        engine.dispose()

"""A PostgreSQL database of N licenses, shaped like a marketplace's, for the scale benchmarks.

Creates a database of its own, runs the migrations, loads the demo catalog and demo accounts, then writes the
customers' rows straight into the models' tables (SQLAlchemy Core, in chunks of 10,000 rows), as the
application would have written them:

- organisations (one per 20 licenses) with their host instances: cloud sites (users, billing cycle, next
  billing date), servers and Data Center instances (user tier, host maintenance end);
- licenses: 40 % cloud subscriptions (two apps per site, marketplace), 50 % server (two apps per server, some
  sold direct by their vendor, 2 % evaluations), 10 % Data Center (one app per instance); entitlement numbers
  in the application's ``SEN-`` format; one history entry each (the sale that made it);
- for every fifth license, the sale that made it: an accepted quote with its line, the order, a paid invoice
  with its line and the payment, numbered in the seller's series (which is moved on past them).

Exactly 10 % of the licenses are due on ``DAY``, the day the billing run is run for:

- cloud sites whose next billing date is ``DAY``, with their paid marketplace subscriptions running to it
  (8 % of cloud licenses: renewed);
- cloud sites whose last renewal went unpaid: subscriptions 16 days past their term (suspended) or 31 days
  past it and suspended already (unlicensed) (2 % of cloud licenses);
- evaluations and Data Center terms that ended the day before (expired);
- server licenses whose maintenance ended the day before (the lapse is recorded).

Everything else ends after ``DAY`` + 90 days (cloud: on its site's next billing date, within a cycle), so that
no renewal reminder is due either: the run's work is exactly the due licenses. License keys are not written
(signing a million keys would dominate the generation, and neither the billing run nor the lists read them).

    .venv/bin/python benchmarks/scale_data.py --licenses 100000 --keep     # prints the database URL
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Table, insert, make_url, select, text
from sqlalchemy.engine import Connection, Engine

from mercato.accounts.demo import load_demo_accounts
from mercato.accounts.models import HostInstance, Organisation
from mercato.catalog.demo import load_demo_catalog
from mercato.catalog.models import App, HostProduct, Listing, Vendor
from mercato.catalog.repository import CatalogRepository
from mercato.commerce.models import (
    Invoice,
    InvoiceLine,
    InvoiceSeries,
    Order,
    Payment,
    Quote,
    QuoteLine,
)
from mercato.database import DatabaseTimeouts, make_engine, make_session_factory, transaction
from mercato.licenses.models import License, LicenseTransaction
from mercato.migrations import upgrade_to_head

POSTGRES_ADMIN_URL = os.environ.get(
    "MERCATO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
SECRET = "benchmark-only-secret-5Rw8Lq2Zx7Kc4Vn9Tb1Mh6"  # the commands refuse a weak one
DAY = date(2026, 12, 1)
"""The day the billing run is run for (before the demo accounts' cloud site's billing date, 2026-12-15)."""
CHUNK = 10_000
TIMEOUTS = DatabaseTimeouts(statement=3600.0)
"""A million rows' statements (VACUUM, dropping the database on a busy machine) take longer than the
application's 30 s statement timeout."""
LICENSES_PER_ORGANISATION = 20
SOLD_EVERY = 5
"""Every fifth license has the quote, order and invoice of its sale."""
CLOUD_USERS = (10, 25, 50, 100, 250, 500, 1000)  # annual tiers as well, so a site's users are its tier
SERVER_TIERS = (25, 50, 100, 250, 500, 2000, 10000, -1)
SHUFFLE = 1_000_003
"""A prime larger than any group: ``(i * SHUFFLE) % n`` visits 0..n-1 once each, so the due rows of a group are
spread over it rather than bunched at its start."""


@dataclass
class ScaleData:
    url: str
    name: str
    licenses: int
    due: dict[str, int] = field(default_factory=dict)
    """Due licenses by what the run does to them: renewal, suspension, unlicensed, expiry, lapse."""
    due_sites: int = 0
    """Cloud sites whose billing date is the day (each renews two subscriptions)."""
    seconds: float = 0.0

    @property
    def due_licenses(self) -> int:
        return sum(self.due.values())


@dataclass(frozen=True)
class _Listing:
    id: uuid.UUID
    product_key: str
    vendor_slug: str
    sold_direct: bool


@dataclass
class _Catalog:
    host_products: dict[str, uuid.UUID]
    apps: dict[tuple[str, str], list[_Listing]]
    """App listings by (host product key, hosting), by product key."""
    vendors: dict[str, uuid.UUID]


def create_database(prefix: str = "mercato_bench_scale") -> tuple[str, str]:
    """An empty database of its own; returns its URL and name."""
    admin = make_engine(POSTGRES_ADMIN_URL, TIMEOUTS, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    admin.dispose()
    return url, name


def drop_database(name: str) -> None:
    admin = make_engine(POSTGRES_ADMIN_URL, TIMEOUTS, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _read_catalog(connection: Connection) -> _Catalog:
    host_products = {key: id_ for id_, key in connection.execute(select(HostProduct.id, HostProduct.key))}
    vendors = {slug: id_ for id_, slug in connection.execute(select(Vendor.id, Vendor.slug))}
    apps: dict[tuple[str, str], list[_Listing]] = {}
    rows = connection.execute(
        select(
            Listing.id,
            Listing.product_key,
            Listing.hosting,
            Listing.sold_direct,
            HostProduct.key,
            Vendor.slug,
        )
        .join(App, App.id == Listing.app_id)
        .join(Vendor, Vendor.id == App.vendor_id)
        .join(HostProduct, HostProduct.id == Listing.host_product_id)
        .where(Listing.published_at.is_not(None))
        .order_by(Listing.product_key)
    )
    for listing_id, product_key, hosting, sold_direct, host_key, vendor_slug in rows:
        apps.setdefault((host_key, str(hosting)), []).append(
            _Listing(listing_id, product_key, vendor_slug, sold_direct)
        )
    return _Catalog(host_products, apps, vendors)


def _spread(index: int, size: int) -> int:
    return (index * SHUFFLE) % size


class _Writer:
    """Buffers rows per table and writes them in chunks of ``CHUNK`` with PostgreSQL's ``COPY``, column by
    column of the model's table: about twenty times as fast as ``insert()`` with many parameter sets, which
    would take most of a quarter of an hour for a million licenses here."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.rows: dict[Table, list[dict[str, Any]]] = {}
        self.order: list[Table] = []

    def add(self, model: Any, row: dict[str, Any]) -> None:
        table: Table = model.__table__
        if table not in self.rows:
            self.rows[table] = []
            self.order.append(table)
        pending = self.rows[table]
        pending.append(row)
        if len(pending) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        # Parents first: the tables were first used in the order their rows refer to each other.
        cursor = self.connection.connection.cursor()
        for table in self.order:
            pending = self.rows[table]
            if not pending:
                continue
            columns = list(pending[0])
            for name in columns:
                assert name in table.c, f"{table.name} has no column {name}"
            json_columns = {name for name in columns if isinstance(table.c[name].type, JSON)}
            with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in pending:
                    copy.write_row(
                        [json.dumps(row[name]) if name in json_columns else row[name] for name in columns]
                    )
            pending.clear()


def _created(index: int, total: int) -> datetime:
    """Creation times spread over the three years before DAY, in the order of the index."""
    start = datetime(DAY.year - 3, DAY.month, DAY.day, 9, tzinfo=UTC)
    return start + timedelta(seconds=index * (3 * 365 * 86400 // max(total, 1)))


def _generate(connection: Connection, licenses: int) -> tuple[dict[str, int], int]:
    catalog = _read_catalog(connection)
    writer = _Writer(connection)
    cloud = licenses * 4 // 10
    datacenter = licenses // 10
    server = licenses - cloud - datacenter
    organisations = -(-licenses // LICENSES_PER_ORGANISATION)
    org_ids = [uuid.uuid4() for _ in range(organisations)]
    countries = ("US", "DE", "FR", "GB", "JP", "BR")
    for number, org_id in enumerate(org_ids):
        writer.add(
            Organisation,
            {
                "id": org_id,
                "slug": f"scale-customer-{number}",
                "name": f"Scale Customer {number}",
                "billing_email": f"billing@customer-{number}.scale.example",
                "country": countries[number % len(countries)],
                "created_at": _created(number, organisations),
            },
        )
    due = {"renewal": 0, "suspension": 0, "unlicensed": 0, "expiry": 0, "lapse": 0}
    sequence = _Sequence(licenses)

    # Cloud: two marketplace subscriptions per site. 10 % of the sites are due: 4 in 5 renew on DAY, the
    # others went unpaid (half of them 16 days ago: suspended now; half 31 days ago: unlicensed now).
    sites = cloud // 2
    due_sites = sites // 10
    unpaid_sites = due_sites // 5
    renewal_sites = due_sites - unpaid_sites
    cloud_products = sorted(k for k in catalog.host_products if len(catalog.apps.get((k, "cloud"), [])) >= 2)
    for s in range(sites):
        rank = _spread(s, sites)
        host_key = cloud_products[s % len(cloud_products)]
        users = CLOUD_USERS[s % len(CLOUD_USERS)]
        cycle = "annual" if s % 5 == 0 else "monthly"
        if rank < renewal_sites:
            next_billing, term_end, status, kind = DAY, DAY, "active", "renewal"
        elif rank < due_sites:
            overdue = 16 if (rank - renewal_sites) % 2 == 0 else 31
            term_end = DAY - timedelta(days=overdue)
            # The site went on renewing on its billing dates since (without the unpaid apps): its next one
            # is after DAY.
            months = 12 if cycle == "annual" else 1
            cycles = 1
            while (next_billing := _add_months(term_end, months * cycles)) <= DAY:
                cycles += 1
            status = "active" if overdue == 16 else "suspended"
            kind = "suspension" if overdue == 16 else "unlicensed"
        else:
            days = 365 if cycle == "annual" else 28
            next_billing = DAY + timedelta(days=1 + s % days)
            term_end, status, kind = next_billing, "active", ""
        site_id = uuid.uuid4()
        org_id = org_ids[(s * 2) // LICENSES_PER_ORGANISATION % organisations]
        hostname = f"site-{s}.{host_key}.scale.example"
        created = _created(s * 2, licenses)
        writer.add(
            HostInstance,
            {
                "id": site_id,
                "organisation_id": org_id,
                "host_product_id": catalog.host_products[host_key],
                "hosting": "cloud",
                "server_id": hostname,
                "name": f"Cloud site {s}",
                "host_license_type": "commercial",
                "user_tier": None,
                "cloud_users": users,
                "host_maintenance_end": None,
                "billing_cycle": cycle,
                "next_billing_date": next_billing,
                "created_at": created,
            },
        )
        for listing in catalog.apps[(host_key, "cloud")][:2]:
            sequence.license(
                writer,
                listing,
                org_id=org_id,
                site_id=site_id,
                hosting="cloud",
                binding=hostname,
                channel="marketplace",
                tier=users,
                maintenance_end=term_end,
                term_end=term_end,
                status=status,
                evaluation=False,
                created=created,
                action="cloud_subscription",
            )
            if kind:
                due[kind] += 1

    # Server: two apps per server. 10 % due: 8 % maintenance ended yesterday, 2 % evaluations ended yesterday;
    # another 2 % are evaluations still running.
    servers = -(-server // 2)
    server_products = sorted(
        k for k in catalog.host_products if len(catalog.apps.get((k, "server"), [])) >= 2
    )
    due_lapses = server * 8 // 100
    due_evaluations = server // 10 - due_lapses
    running_evaluations = server // 50
    written = 0
    for s in range(servers):
        host_key = server_products[s % len(server_products)]
        listings = catalog.apps[(host_key, "server")]
        tier = SERVER_TIERS[s % len(SERVER_TIERS)]
        instance_id = uuid.uuid4()
        org_id = org_ids[(cloud + s * 2) // LICENSES_PER_ORGANISATION % organisations]
        server_id = f"SRV{s:07d}-{host_key.upper()}"
        created = _created(cloud + s * 2, licenses)
        writer.add(
            HostInstance,
            {
                "id": instance_id,
                "organisation_id": org_id,
                "host_product_id": catalog.host_products[host_key],
                "hosting": "server",
                "server_id": server_id,
                "name": f"Server {s}",
                "host_license_type": "commercial",
                "user_tier": tier,
                "cloud_users": None,
                "host_maintenance_end": DAY + timedelta(days=200 + s % 400),
                "billing_cycle": None,
                "next_billing_date": None,
                "created_at": created,
            },
        )
        for j in range(2):
            if written == server:
                break
            rank = _spread(written, server)
            written += 1
            listing = listings[(s + j) % len(listings)]
            evaluation = False
            term_end = None
            if rank < due_lapses:
                maintenance_end, kind = DAY - timedelta(days=1), "lapse"
            elif rank < due_lapses + due_evaluations:
                maintenance_end = term_end = DAY - timedelta(days=1)
                evaluation, kind = True, "expiry"
            elif rank < due_lapses + due_evaluations + running_evaluations:
                maintenance_end = term_end = DAY + timedelta(days=1 + rank % 29)
                evaluation, kind = True, ""
            else:
                maintenance_end, kind = DAY + timedelta(days=91 + rank % 730), ""
            direct = listing.sold_direct and not evaluation and rank % 3 == 0
            sequence.license(
                writer,
                listing,
                org_id=org_id,
                site_id=instance_id,
                hosting="server",
                binding=server_id,
                channel="direct" if direct else "marketplace",
                tier=-1 if evaluation else tier,
                maintenance_end=maintenance_end,
                term_end=term_end,
                status="active",
                evaluation=evaluation,
                created=created,
                action="evaluation" if evaluation else "new",
            )
            if kind:
                due[kind] += 1

    # Data Center: one app per instance (the demo catalog's Data Center host is the wiki). 10 % of the terms
    # ended yesterday.
    dc_products = sorted(k for k in catalog.host_products if catalog.apps.get((k, "datacenter")))
    due_terms = datacenter // 10
    for d in range(datacenter):
        rank = _spread(d, datacenter)
        host_key = dc_products[d % len(dc_products)]
        listing = catalog.apps[(host_key, "datacenter")][d % len(catalog.apps[(host_key, "datacenter")])]
        tier = SERVER_TIERS[4 + d % 4]
        instance_id = uuid.uuid4()
        index = cloud + server + d
        org_id = org_ids[index // LICENSES_PER_ORGANISATION % organisations]
        server_id = f"DC{d:07d}-{host_key.upper()}"
        created = _created(index, licenses)
        term_end = DAY - timedelta(days=1) if rank < due_terms else DAY + timedelta(days=91 + rank % 365)
        writer.add(
            HostInstance,
            {
                "id": instance_id,
                "organisation_id": org_id,
                "host_product_id": catalog.host_products[host_key],
                "hosting": "datacenter",
                "server_id": server_id,
                "name": f"Data Center {d}",
                "host_license_type": "commercial",
                "user_tier": tier,
                "cloud_users": None,
                "host_maintenance_end": DAY + timedelta(days=200 + d % 400),
                "billing_cycle": None,
                "next_billing_date": None,
                "created_at": created,
            },
        )
        direct = listing.sold_direct and rank % 3 == 0
        sequence.license(
            writer,
            listing,
            org_id=org_id,
            site_id=instance_id,
            hosting="datacenter",
            binding=server_id,
            channel="direct" if direct else "marketplace",
            tier=tier,
            maintenance_end=term_end,
            term_end=term_end,
            status="active",
            evaluation=False,
            created=created,
            action="new",
        )
        if rank < due_terms:
            due["expiry"] += 1
    writer.flush()
    # The sellers' invoice series continue after the invoices written here, as if the application had
    # numbered them.
    for seller, (prefix, used) in sequence.series.items():
        connection.execute(
            insert(InvoiceSeries.__table__).values(seller=seller, prefix=prefix, next_number=used + 1)
        )
    return due, renewal_sites


class _Sequence:
    """Writes one license with its history entry and, for every fifth, its sale's documents."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.count = 0
        self.quote_line_id = 0
        self.invoice_line_id = 0
        self.series: dict[str, tuple[str, int]] = {}

    def license(
        self,
        writer: _Writer,
        listing: _Listing,
        *,
        org_id: uuid.UUID,
        site_id: uuid.UUID,
        hosting: str,
        binding: str,
        channel: str,
        tier: int,
        maintenance_end: date,
        term_end: date | None,
        status: str,
        evaluation: bool,
        created: datetime,
        action: str,
    ) -> None:
        number = self.count
        self.count += 1
        license_id = uuid.uuid4()
        seller = "operator" if channel == "marketplace" else f"vendor:{listing.vendor_slug}"
        start = maintenance_end - timedelta(days=30 if evaluation else 365)
        writer.add(
            License,
            {
                "id": license_id,
                # The application draws SEN- and ten digits at random; a running number is as unique.
                "entitlement_number": f"SEN-{1_000_000_000 + number * 7 % 9_000_000_000}",
                "listing_id": listing.id,
                "organisation_id": org_id,
                "host_instance_id": site_id,
                "product_key": listing.product_key,
                "hosting": hosting,
                "channel": channel,
                "issuer": seller,
                "license_type": "evaluation" if evaluation else "commercial",
                "tier_users": tier,
                "host_binding": binding,
                "evaluation": evaluation,
                "maintenance_start": start,
                "maintenance_end": maintenance_end,
                "term_end": term_end,
                "status": status,
                "created_at": created,
                "updated_at": created,
            },
        )
        invoice_line_id = None
        amount = 0 if evaluation else 1000 + (number % 50) * 1100
        split = None if evaluation else Decimal("0.8500" if hosting == "cloud" else "0.7500")
        vendor_amount = None if split is None else int(amount * split)
        operator_amount = None if vendor_amount is None else amount - vendor_amount
        if number % SOLD_EVERY == 0:
            invoice_line_id = self._sale(
                writer,
                listing,
                license_id=license_id,
                org_id=org_id,
                site_id=site_id,
                channel=channel,
                seller=seller,
                tier=tier,
                action=action,
                start=start,
                end=maintenance_end,
                amount=amount,
                split=split if channel == "marketplace" else None,
                vendor_amount=vendor_amount if channel == "marketplace" else None,
                operator_amount=operator_amount if channel == "marketplace" else None,
                created=created,
                number=number,
            )
        writer.add(
            LicenseTransaction,
            {
                "license_id": license_id,
                "kind": action,
                "invoice_line_id": invoice_line_id,
                "currency": "USD",
                "amount_minor": amount,
                "vendor_share_rate": split,
                "vendor_amount_minor": vendor_amount,
                "operator_amount_minor": operator_amount,
                "description": f"{listing.product_key}: {tier if tier > 0 else 'unlimited'} users",
                "details": {},
                "occurred_at": created,
                "once_key": None,
            },
        )

    def _sale(
        self,
        writer: _Writer,
        listing: _Listing,
        *,
        license_id: uuid.UUID,
        org_id: uuid.UUID,
        site_id: uuid.UUID,
        channel: str,
        seller: str,
        tier: int,
        action: str,
        start: date,
        end: date,
        amount: int,
        split: Decimal | None,
        vendor_amount: int | None,
        operator_amount: int | None,
        created: datetime,
        number: int,
    ) -> int:
        quote_id, order_id, invoice_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        self.quote_line_id += 1
        self.invoice_line_id += 1
        prefix = "MKT" if seller == "operator" else seller.removeprefix("vendor:").upper()
        used = self.series.get(seller, (prefix, 0))[1] + 1
        self.series[seller] = (prefix, used)
        explanation = f"{tier if tier > 0 else 'unlimited'} users, {start.isoformat()} → {end.isoformat()}"
        writer.add(
            Quote,
            {
                "id": quote_id,
                "number": f"Q-{created:%Y%m%d}-{number:06X}",
                "organisation_id": org_id,
                "host_instance_id": site_id,
                "channel": channel,
                "seller": seller,
                "currency": "USD",
                "total_minor": amount,
                "status": "accepted",
                "po_number": None,
                "priced_on": created.date(),
                "valid_until": created.date() + timedelta(days=30),
                "created_by_id": None,
                "created_at": created,
                "accepted_at": created,
            },
        )
        writer.add(
            QuoteLine,
            {
                "id": self.quote_line_id,
                "quote_id": quote_id,
                "position": 1,
                "action": action,
                "listing_id": listing.id,
                "product_key": listing.product_key,
                "vendor_id": None,
                "license_id": None,
                "tier_users": tier,
                "users": tier if action == "cloud_subscription" else None,
                "license_type": "evaluation" if action == "evaluation" else "commercial",
                "period_start": start,
                "period_end": end,
                "amount_minor": amount,
                "explanation": explanation,
                "formula": {"rule": action, "tier": str(tier)},
                "vendor_share_rate": split,
                "vendor_amount_minor": vendor_amount,
                "operator_amount_minor": operator_amount,
            },
        )
        writer.add(
            Order,
            {
                "id": order_id,
                "quote_id": quote_id,
                "organisation_id": org_id,
                "seller": seller,
                "created_at": created,
            },
        )
        paid = amount > 0
        writer.add(
            Invoice,
            {
                "id": invoice_id,
                "number": f"{prefix}-{created:%Y}-{used:06d}",
                "seller": seller,
                "order_id": order_id,
                "organisation_id": org_id,
                "currency": "USD",
                "total_minor": amount,
                "amount_paid_minor": amount,
                "status": "paid",
                "po_number": None,
                "issued_on": created.date(),
                "due_on": created.date() + timedelta(days=30),
                "paid_at": created + timedelta(hours=2) if paid else created,
                "created_at": created,
            },
        )
        writer.add(
            InvoiceLine,
            {
                "id": self.invoice_line_id,
                "invoice_id": invoice_id,
                "position": 1,
                "quote_line_id": self.quote_line_id,
                "license_id": license_id,
                "description": f"{listing.product_key}: {explanation}",
                "amount_minor": amount,
                "vendor_id": None,
                "vendor_share_rate": split,
                "vendor_amount_minor": vendor_amount,
                "operator_amount_minor": operator_amount,
                "refunded_at": None,
            },
        )
        if paid:
            writer.add(
                Payment,
                {
                    "invoice_id": invoice_id,
                    "provider": "bank_transfer",
                    "reference": f"BANK-{number}",
                    "amount_minor": amount,
                    "received_on": created.date(),
                    "recorded_by_id": None,
                    "created_at": created + timedelta(hours=2),
                },
            )
        return self.invoice_line_id


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError(day)


def prepare(url: str, licenses: int) -> ScaleData:
    """Migrate, load the demo catalog and accounts, and generate ``licenses`` licenses (a multiple of 100)."""
    if licenses % 100:
        raise SystemExit("--licenses must be a multiple of 100 (so that exactly 10 % are due)")
    engine = make_engine(url, TIMEOUTS)
    upgrade_to_head(engine)
    with transaction(make_session_factory(engine)) as session:
        load_demo_catalog(CatalogRepository(session))
        load_demo_accounts(session)
    began = time.perf_counter()
    with engine.begin() as connection:
        # The rows are made to fit their foreign keys; checking them one row at a time (the triggers behind
        # them) would take most of the generation's time, so this transaction skips the triggers.
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        due, due_sites = _generate(connection, licenses)
        _name_vendors(connection)
    _analyze(engine)
    seconds = time.perf_counter() - began
    engine.dispose()
    return ScaleData(url, url.rsplit("/", 1)[-1], licenses, due, due_sites, seconds)


def _name_vendors(connection: Connection) -> None:
    """Quote and invoice lines of app sales name the app's vendor, as the application's lines do."""
    connection.execute(
        text(
            "UPDATE quote_lines SET vendor_id = apps.vendor_id FROM listings JOIN apps ON apps.id = listings.app_id "
            "WHERE listings.id = quote_lines.listing_id"
        )
    )
    connection.execute(
        text(
            "UPDATE invoice_lines SET vendor_id = quote_lines.vendor_id FROM quote_lines "
            "WHERE quote_lines.id = invoice_lines.quote_line_id"
        )
    )
    # Explicit ids were written: the sequences continue after them.
    for table in ("quote_lines", "invoice_lines", "license_transactions", "payments"):
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
        )


def _analyze(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--licenses", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the database and print its URL last")
    parser.add_argument("--drop", metavar="URL", help="drop a database kept earlier, and nothing else")
    args = parser.parse_args()
    if args.drop:
        name = make_url(args.drop).database or ""
        if not name.startswith("mercato_bench_scale_"):
            raise SystemExit(f"{name!r} is not a database this script made; nothing dropped")
        drop_database(name)
        return 0
    url, name = create_database()
    try:
        data = prepare(url, args.licenses)
    except BaseException:
        drop_database(name)
        raise
    print(describe(data))
    if args.keep:
        print(url)
    else:
        drop_database(name)
    return 0


def describe(data: ScaleData) -> str:
    kinds = ", ".join(f"{count:,} {kind}" for kind, count in data.due.items())
    return (
        f"generated {data.licenses:,} licenses in {data.seconds:.1f} s; due on {DAY}: {data.due_licenses:,} "
        f"({data.due_licenses / data.licenses:.0%}: {kinds}; {data.due_sites:,} cloud sites to renew)"
    )


if __name__ == "__main__":
    sys.exit(main())

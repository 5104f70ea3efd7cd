"""The vendor reports over 1,000,000 ledger entries on PostgreSQL, as ratios to a bare ``SELECT count(*)``.

Creates a database of its own (and drops it at the end), loads the demo catalog, issues a few licenses per app
and generates the entries with one ``INSERT ... SELECT generate_series`` per vendor: 1,000,000 in all over two
years, 100,000 of them for the measured vendor (``example-mockups``), the rest spread over the other vendors.
Then, alternating rounds, best of each:

- the floor: ``SELECT count(*)`` over the measured vendor's entries of the summary's months (the same rows the
  summary reads);
- the monthly summary of that vendor over those months, by the code behind
  ``GET /api/v1/vendor/{slug}/summary``; target within 5x of the floor;
- the first page (50) of a filtered transactions report (app, channel, since), by the code behind
  ``GET /api/v1/vendor/{slug}/transactions``; target under 50 ms.

Not a test: run it by hand.

    .venv/bin/python benchmarks/reports.py
    .venv/bin/python benchmarks/reports.py --entries 200000 --vendor-entries 20000
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select, text

from mercato.catalog.demo import load_demo_catalog
from mercato.catalog.models import App, Vendor
from mercato.catalog.repository import CatalogRepository
from mercato.database import make_engine, make_session_factory, transaction
from mercato.ledger.domain import Month
from mercato.ledger.models import LedgerEntry
from mercato.ledger.reports import TransactionFilters, VendorReports
from mercato.licenses.models import License
from mercato.licenses.service import IssueRequest, LicenseService
from mercato.migrations import upgrade_to_head
from mercato.paging import PageRequest
from mercato.services import Services

POSTGRES_ADMIN_URL = os.environ.get(
    "MERCATO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
SECRET = "benchmark-only-secret-5Rw8Lq2Zx7Kc4Vn9Tb1Mh6"
MEASURED = "example-mockups"
START = datetime(2025, 1, 1, tzinfo=UTC)
DAYS = 730
LICENSES_PER_APP = 40

# One row per entry: kind by position, the split at 75 %, the time spread evenly over DAYS.
GENERATE = """
INSERT INTO ledger_entries (
    source, kind, channel, vendor_id, app_id, license_id, hosting, currency, gross_minor, discount_minor,
    amount_minor, vendor_share_rate, vendor_amount_minor, operator_amount_minor, description, occurred_at,
    recorded_at)
SELECT 'bench:' || :vendor_tag || ':' || n,
       (ARRAY['new','renewal','renewal','upgrade','co_term','migration','refund','new'])[1 + n % 8],
       CASE WHEN n % 5 = 0 THEN 'direct' ELSE 'marketplace' END,
       CAST(:vendor_id AS uuid),
       (CAST(:app_ids AS uuid[]))[1 + n % :app_count],
       (CAST(:license_ids AS uuid[]))[1 + n % :license_count],
       (ARRAY['server','datacenter','cloud'])[1 + n % 3],
       CASE WHEN n % 7 = 0 THEN 'EUR' ELSE 'USD' END,
       CASE WHEN n % 8 = 6 THEN -10000 ELSE 10000 END,
       0,
       CASE WHEN n % 8 = 6 THEN -10000 ELSE 10000 END,
       0.75,
       CASE WHEN n % 8 = 6 THEN -7500 ELSE 7500 END,
       CASE WHEN n % 8 = 6 THEN -2500 ELSE 2500 END,
       '',
       CAST(:start AS timestamptz) + (n * CAST(:step AS double precision)) * interval '1 second',
       CAST(:start AS timestamptz) + (n * CAST(:step AS double precision)) * interval '1 second'
FROM generate_series(1, :rows) AS n
"""


def issue_licenses(session_factory: object, per_app: int) -> dict[uuid.UUID, list[uuid.UUID]]:
    """A few real licenses per app (the entries point at them), issued through the service."""
    licenses: dict[uuid.UUID, list[uuid.UUID]] = {}
    with transaction(session_factory) as session:  # type: ignore[arg-type]
        service = LicenseService(session, Services(secret_key=SECRET))
        for app in session.scalars(select(App).order_by(App.key)):
            for i in range(per_app):
                request = IssueRequest(
                    app_key=app.key,
                    hosting="server",
                    channel="marketplace",
                    tier=100,
                    license_type="commercial",
                    host_binding=f"BENCH-{app.key}-{i}",
                    maintenance_end=date.today() + timedelta(days=365),
                )
                try:
                    service.issue(request)
                except Exception:  # an app without a server listing: its entries carry no license
                    break
        for license_id, app_id in session.execute(
            select(License.id, App.id).join(App, App.key == License.product_key)
        ):
            licenses.setdefault(app_id, []).append(license_id)
    return licenses


def generate(url: str, total: int, measured: int) -> tuple[uuid.UUID, str, float]:
    engine = make_engine(url)
    upgrade_to_head(engine)
    session_factory = make_session_factory(engine)
    with transaction(session_factory) as session:
        load_demo_catalog(CatalogRepository(session))
    licenses = issue_licenses(session_factory, LICENSES_PER_APP)
    began = time.perf_counter()
    with transaction(session_factory) as session:
        vendors = list(session.scalars(select(Vendor).order_by(Vendor.slug)))
        others = [v for v in vendors if v.slug != MEASURED]
        target = next(v for v in vendors if v.slug == MEASURED)
        shares = {target.id: measured}
        for i, vendor in enumerate(others):
            shares[vendor.id] = (total - measured) // len(others) + (
                (total - measured) % len(others) if i == 0 else 0
            )
        app_key = ""
        for vendor in vendors:
            apps = list(session.scalars(select(App).where(App.vendor_id == vendor.id).order_by(App.key)))
            if not apps:
                continue
            if vendor.id == target.id:
                app_key = apps[0].key
            ids = [lic for app in apps for lic in licenses.get(app.id, [])] or [None]
            rows = shares[vendor.id]
            session.execute(
                text(GENERATE),
                {
                    "vendor_tag": vendor.slug,
                    "vendor_id": str(vendor.id),
                    "app_ids": "{" + ",".join(str(a.id) for a in apps) + "}",
                    "app_count": len(apps),
                    "license_ids": "{" + ",".join("NULL" if i is None else str(i) for i in ids) + "}",
                    "license_count": len(ids),
                    "start": START.isoformat(),
                    "step": DAYS * 86400 / rows,
                    "rows": rows,
                },
            )
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    seconds = time.perf_counter() - began
    engine.dispose()
    return target.id, app_key, seconds


def best(fn: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return min(times)


def measure(url: str, vendor_id: uuid.UUID, app_key: str, rounds: int) -> dict[str, float]:
    engine = make_engine(url)
    session_factory = make_session_factory(engine)
    first, last = Month.parse("2025-01"), Month.parse("2026-12")
    since = (START + timedelta(days=DAYS - 90)).date()
    with session_factory() as session:
        reports = VendorReports(session, Services(secret_key=SECRET))
        vendor = session.get(Vendor, vendor_id)
        assert vendor is not None

        def floor() -> object:
            return session.scalar(
                select(func.count())
                .select_from(LedgerEntry)
                .where(
                    LedgerEntry.vendor_id == vendor_id,
                    LedgerEntry.occurred_at >= first.start,
                    LedgerEntry.occurred_at < last.end,
                )
            )

        def summary() -> object:
            return reports.summary(vendor, first, last)

        def page() -> object:
            filters = TransactionFilters(app=app_key, channel="marketplace", since=since)
            found = reports.transactions(vendor, filters, PageRequest(50))
            assert len(found.rows) == 50, len(found.rows)
            return found

        rows = floor()
        made = summary()
        entries = sum(sum(m.by_kind.values()) for m in made.months)  # type: ignore[attr-defined]
        assert entries == rows, (entries, rows)
        figures = {"floor": 1e9, "summary": 1e9, "page": 1e9}
        for _ in range(rounds):
            figures["floor"] = min(figures["floor"], best(floor, 1))
            figures["summary"] = min(figures["summary"], best(summary, 1))
            figures["page"] = min(figures["page"], best(page, 1))
        figures["rows"] = float(rows)  # type: ignore[arg-type]
    engine.dispose()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--vendor-entries", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument(
        "--keep", action="store_true", help="keep the database (to EXPLAIN it) and print its name"
    )
    args = parser.parse_args()
    admin = make_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"mercato_bench_reports_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    try:
        vendor_id, app_key, seconds = generate(url, args.entries, args.vendor_entries)
        print(
            f"generated {args.entries:,} ledger entries ({args.vendor_entries:,} for {MEASURED}) "
            f"in {seconds:.1f} s"
        )
        figures = measure(url, vendor_id, app_key, args.rounds)
    finally:
        if args.keep:
            print(f"kept database {name}")
        else:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    floor, summary, page = figures["floor"], figures["summary"], figures["page"]
    print(
        f"best of {args.rounds} rounds, {int(figures['rows']):,} entries of {MEASURED} in the summary's months"
    )
    print(f"SELECT count(*) (floor):                         {floor * 1000:8.2f} ms")
    print(
        f"monthly summary, 24 months:                      {summary * 1000:8.2f} ms  ratio {summary / floor:5.2f}",
        end="",
    )
    print("  (target <= 5)")
    print(
        f"transactions, first page (app, channel, since):  {page * 1000:8.2f} ms  ratio {page / floor:5.2f}",
        end="",
    )
    print("  (target < 50 ms)")
    ok = summary / floor <= 5 and page < 0.050
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

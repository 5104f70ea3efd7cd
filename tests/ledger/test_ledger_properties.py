"""Properties of the vendors' money, over generated histories:

- the ledger always sums to the paid invoice lines of vendors' apps minus their refunds, in amount and in the
  vendors' share;
- statements chain: every month's closing balance is the next month's opening balance, and the last closing
  balance is everything earned less everything paid;
- payouts never pay a cent twice: each payout is the sum of the entries it claims, no entry is claimed twice,
  and however the runs are ordered and repeated, what was paid is what the claimed entries add up to.

Examples accumulate in the test's database (it is rolled back at the end), so each one brings its own host
instances and vendors, and the properties are checked over everything written so far.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from mercato.accounts.models import HostInstance
from mercato.catalog.models import Vendor
from mercato.clock import FixedClock
from mercato.commerce.models import Invoice, InvoiceLine, InvoiceStatus
from mercato.ledger.domain import Month
from mercato.ledger.models import EntryKind, LedgerEntry, Payout, PayoutItem
from mercato.ledger.service import Ledger, PayoutRun
from mercato.pricing import Channel
from mercato.services import Services
from support.ledger import MOCKUPS, SSO, buy, refund
from support.world import World

DIAGRAMS = "com.diagramly.diagrams.wiki"
PROPERTY = settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], database=None
)
_hosts = itertools.count()

purchase = st.tuples(
    st.sampled_from(
        [
            (MOCKUPS, "marketplace"),
            (SSO, "marketplace"),
            (DIAGRAMS, "marketplace"),
            (MOCKUPS, "direct"),
            ("wiki", "marketplace"),
        ]
    ),
    st.sampled_from(["100", "250"]),
    st.booleans(),
)


def _new_host(session_factory: sessionmaker[Session], world: World) -> None:
    with session_factory() as session, session.begin():
        host = HostInstance(
            organisation_id=world.acme.id,
            host_product_id=world.wiki_server.host_product_id,
            hosting="server",
            server_id=f"PROP-{next(_hosts)}",
            name="generated host",
            host_license_type="commercial",
            user_tier=100,
            host_maintenance_end=date(2028, 3, 31),
        )
        session.add(host)
        session.flush()
        world.wiki_lab = host


@PROPERTY
@given(purchases=st.lists(purchase, min_size=1, max_size=3))
def test_the_ledger_sums_to_the_paid_app_lines_minus_their_refunds(
    shop: TestClient,
    world: World,
    session_factory: sessionmaker[Session],
    purchases: list[tuple[tuple[str, str], str, bool]],
) -> None:
    for (product, channel), tier, refunded in purchases:
        _new_host(session_factory, world)
        tier = "10" if channel == "direct" else tier
        invoice = buy(
            shop, world, [{"action": "new", "product_key": product, "tier": tier}], channel, "wiki_lab"
        )
        if refunded:
            refund(shop, world, invoice)
    with session_factory() as session:
        paid_lines = (
            select(InvoiceLine)
            .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
            .where(Invoice.status == InvoiceStatus.PAID.value, InvoiceLine.vendor_id.is_not(None))
        ).subquery()
        sold = session.scalar(select(func.coalesce(func.sum(paid_lines.c.amount_minor), 0)))
        given_back = session.scalar(
            select(func.coalesce(func.sum(paid_lines.c.amount_minor), 0)).where(
                paid_lines.c.refunded_at.is_not(None)
            )
        )
        vendor_sold = session.scalar(select(func.coalesce(func.sum(paid_lines.c.vendor_amount_minor), 0)))
        vendor_back = session.scalar(
            select(func.coalesce(func.sum(paid_lines.c.vendor_amount_minor), 0)).where(
                paid_lines.c.refunded_at.is_not(None)
            )
        )
        entries = list(
            session.scalars(select(LedgerEntry).where(LedgerEntry.kind != EntryKind.ADJUSTMENT.value))
        )
    assert sum(e.amount_minor for e in entries) == sold - given_back
    marketplace = [e for e in entries if e.channel is Channel.MARKETPLACE]
    assert sum(e.vendor_amount_minor for e in marketplace) == vendor_sold - vendor_back
    assert all(e.vendor_amount_minor + e.operator_amount_minor == e.amount_minor for e in entries)


MONTHS = [Month(2026, m) for m in range(1, 7)]
entry = st.tuples(
    st.integers(0, 1),  # which of the example's two vendors
    st.sampled_from(["EUR", "USD"]),
    st.integers(0, 180),  # days into 2026
    st.integers(-50_000, 200_000),
)
payout_run = st.tuples(st.sampled_from(MONTHS[:5]), st.sampled_from([Decimal(0), Decimal(50), Decimal(1000)]))


@PROPERTY
@given(
    generated=st.lists(entry, min_size=1, max_size=25),
    runs=st.lists(payout_run, min_size=1, max_size=6),
)
def test_statements_chain_and_payouts_never_pay_a_cent_twice(
    session_factory: sessionmaker[Session],
    generated: list[tuple[int, str, int, int]],
    runs: list[tuple[Month, Decimal]],
) -> None:
    services = Services(secret_key="test-secret-key", clock=FixedClock(datetime(2026, 7, 2, tzinfo=UTC)))
    with session_factory() as session, session.begin():
        vendors = []
        for _ in range(2):
            slug = f"prop-{uuid.uuid4().hex[:12]}"
            vendor = Vendor(slug=slug, name=slug, email=f"{slug}@test.example")
            session.add(vendor)
            vendors.append(vendor)
        session.flush()
        for index, (which, currency, day, amount) in enumerate(generated):
            vendor_amount = amount * 3 // 4
            session.add(
                LedgerEntry(
                    source=f"generated:{vendors[which].slug}:{index}",
                    kind=EntryKind.ADJUSTMENT if amount < 0 else EntryKind.NEW,
                    channel=Channel.MARKETPLACE,
                    vendor_id=vendors[which].id,
                    currency=currency,
                    gross_minor=amount,
                    discount_minor=0,
                    amount_minor=amount,
                    vendor_share_rate=Decimal("0.75"),
                    vendor_amount_minor=vendor_amount,
                    operator_amount_minor=amount - vendor_amount,
                    occurred_at=datetime(2026, 1, 1, 8, tzinfo=UTC) + timedelta(days=day),
                )
            )
        session.flush()
    for month, threshold in runs:  # each run of a month twice: the second pays nothing more
        for _ in range(2):
            with session_factory() as session, session.begin():
                payouts = PayoutRun(session, services)
                for vendor in vendors:
                    payouts.pay_vendor(vendor.id, month, threshold, "P-")

    with session_factory() as session:
        ledger = Ledger(session, services)
        for vendor in vendors:
            rows = session.scalars(select(LedgerEntry).where(LedgerEntry.vendor_id == vendor.id)).all()
            paid = session.scalars(select(Payout).where(Payout.vendor_id == vendor.id)).all()
            for payout in paid:
                claimed = ledger.repo.entries_paid_by(payout.id)
                assert payout.amount_minor == sum(e.vendor_amount_minor for e in claimed) > 0
                assert all(e.occurred_at < Month.parse(payout.month).end for e in claimed)
            claimed_ids = session.scalars(
                select(PayoutItem.entry_id)
                .join(Payout, Payout.id == PayoutItem.payout_id)
                .where(Payout.vendor_id == vendor.id)
            ).all()
            assert len(claimed_ids) == len(set(claimed_ids))
            for currency in ("EUR", "USD"):
                earned = sum(e.vendor_amount_minor for e in rows if e.currency == currency)
                paid_out = sum(p.amount_minor for p in paid if p.currency == currency)
                claimed_total = sum(
                    e.vendor_amount_minor for e in rows if e.currency == currency and e.id in set(claimed_ids)
                )
                assert paid_out == claimed_total
                statements = [ledger.statement(vendor, month, currency) for month in MONTHS]
                assert statements[0].totals.opening_minor == 0
                for this, following in itertools.pairwise(statements):
                    assert this.totals.closing_minor == following.totals.opening_minor
                assert statements[-1].totals.closing_minor == earned - paid_out

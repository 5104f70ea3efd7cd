"""What ``mercato billing run`` does for a given day. Every step is idempotent: running it twice on the same
day changes nothing the second time, and every change is recorded in the license's history.

1. **Cloud renewals.** A cloud site whose next billing date has come gets one renewal invoice for the apps
   it pays for, for the next cycle (the apps follow the site's billing date), and its billing date moves on.
2. **Dunning** of cloud subscriptions whose renewal is unpaid: 15 days of grace after the paid-until date,
   then *suspended*, then 15 more days, then *expired* (unlicensed). Paying the invoice restores the license.
3. **Evaluations** and **Data Center terms** past their end expire.
4. **Maintenance** of perpetual server licenses lapses: recorded once per maintenance end; the license keeps
   working for builds released before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from mercato import pricing
from mercato.accounts.models import HostInstance
from mercato.catalog.domain import pricing_listing, revenue_schedule
from mercato.catalog.repository import CatalogRepository
from mercato.commerce.models import LicenseTransaction, Quote, QuoteLine
from mercato.commerce.service import QUOTE_VALID_DAYS, CommerceService
from mercato.keys.models import OPERATOR_ISSUER
from mercato.licenses.models import License

GRACE_DAYS = 15
SUSPENDED_DAYS = 15


@dataclass
class BillingReport:
    renewal_invoices: list[str] = field(default_factory=list)
    suspended: list[str] = field(default_factory=list)
    unlicensed: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)
    maintenance_lapsed: list[str] = field(default_factory=list)

    def merge(self, other: BillingReport) -> None:
        for name in ("renewal_invoices", "suspended", "unlicensed", "expired", "maintenance_lapsed"):
            getattr(self, name).extend(getattr(other, name))


class BillingRun:
    def __init__(self, session: Session, secret: str) -> None:
        self.session = session
        self.catalog = CatalogRepository(session)
        self.commerce = CommerceService(session, secret)

    # -- 1. cloud renewals ---------------------------------------------------------------------------------

    def cloud_sites_due(self, today: date) -> Sequence[HostInstance]:
        return self.session.scalars(
            select(HostInstance)
            .where(HostInstance.hosting == "cloud", HostInstance.next_billing_date <= today)
            .order_by(HostInstance.next_billing_date, HostInstance.id)
        ).all()

    def renew_site(self, site: HostInstance, today: date, now: datetime) -> BillingReport:
        """Invoice the next cycle of every app the site pays for up to its billing date, and move the date on
        by one cycle. (Apps left unpaid are not invoiced again: dunning takes them from there.)"""
        report = BillingReport()
        assert site.next_billing_date is not None and site.billing_cycle is not None
        billing_date = site.next_billing_date
        cycle = pricing.BillingCycle(site.billing_cycle)
        renewing = self.session.scalars(
            select(License).where(
                License.host_instance_id == site.id,
                License.hosting == "cloud",
                License.channel == "marketplace",
                License.evaluation.is_(False),
                License.status == "active",
                License.term_end == billing_date,
            )
        ).all()
        if renewing:
            report.renewal_invoices.append(
                self._renewal_invoice(site, renewing, billing_date, cycle, today, now)
            )
        site.next_billing_date = pricing.add_months(billing_date, pricing.cycle_months(cycle))
        self.session.flush()
        return report

    def _renewal_invoice(
        self,
        site: HostInstance,
        licenses: Sequence[License],
        billing_date: date,
        cycle: pricing.BillingCycle,
        today: date,
        now: datetime,
    ) -> str:
        host_product = self.catalog.host_product_by_id(site.host_product_id)
        assert host_product is not None and site.cloud_users is not None
        host = pricing.HostContext(
            hosting=pricing.Hosting.CLOUD,
            license_type=pricing.LicenseType(site.host_license_type),
            cloud_users=site.cloud_users,
            billing_cycle=cycle,
            next_billing_date=billing_date,
            product_name=host_product.name,
        )
        schedule = revenue_schedule(self.catalog.revenue_share_rates())
        lines: list[QuoteLine] = []
        currency = ""
        for position, license in enumerate(licenses, 1):
            listing = self.catalog.listing(license.product_key, license.hosting)  # with prices and app
            assert listing is not None
            name = listing.app.name if listing.app is not None else host_product.name
            line = pricing.price_cloud_subscription(
                pricing_listing(listing, name),
                host,
                billing_date,
                license_type=pricing.LicenseType(license.license_type),
            )
            split = pricing.split_revenue(line, schedule, today)
            currency = line.currency
            lines.append(
                QuoteLine(
                    position=position,
                    action="renewal",
                    listing_id=listing.id,
                    product_key=listing.product_key,
                    vendor_id=listing.app.vendor_id if listing.app is not None else None,
                    license_id=license.id,
                    tier_users=line.tier.users or -1,
                    users=line.users,
                    license_type=line.license_type.value,
                    period_start=line.period_start,
                    period_end=line.period_end,
                    amount_minor=pricing.to_minor_units(line.amount, currency),
                    explanation=line.explanation,
                    formula=dict(line.formula),
                    vendor_share_rate=split.vendor_share_rate if split else None,
                    vendor_amount_minor=pricing.to_minor_units(split.vendor_amount, currency)
                    if split
                    else None,
                    operator_amount_minor=pricing.to_minor_units(split.operator_amount, currency)
                    if split
                    else None,
                )
            )
        quote = Quote(
            number=self.commerce.new_quote_number(today),
            organisation_id=site.organisation_id,
            host_instance_id=site.id,
            channel="marketplace",
            seller=OPERATOR_ISSUER,
            currency=currency,
            total_minor=sum(line.amount_minor for line in lines),
            status="open",
            priced_on=today,
            valid_until=today + timedelta(days=QUOTE_VALID_DAYS),
            lines=lines,
        )
        self.session.add(quote)
        self.session.flush()
        _, invoice = self.commerce.issue_invoice(quote, today, now)
        return invoice.number

    # -- 2.–4. license states ------------------------------------------------------------------------------

    def sweep_licenses(self, today: date, now: datetime) -> BillingReport:
        report = BillingReport()
        candidates = self.session.scalars(
            select(License).where(License.status.in_(("active", "suspended"))).order_by(License.created_at)
        ).all()
        for license in candidates:
            self._sweep(license, today, now, report)
        self.session.flush()
        return report

    def _sweep(self, license: License, today: date, now: datetime, report: BillingReport) -> None:
        if license.evaluation or (license.hosting == "datacenter" and license.term_end is not None):
            if license.term_end is not None and license.term_end < today and license.status == "active":
                what = "evaluation" if license.evaluation else "Data Center term"
                self._change(license, "expired", "expired", f"The {what} ended on {license.term_end}.", now)
                report.expired.append(license.entitlement_number)
            return
        if license.hosting == "cloud" and license.term_end is not None:
            overdue = (today - license.term_end).days
            if overdue > GRACE_DAYS + SUSPENDED_DAYS:
                self._change(
                    license,
                    "expired",
                    "unlicensed",
                    f"Unpaid for {overdue} days after {license.term_end}: the subscription ended.",
                    now,
                )
                report.unlicensed.append(license.entitlement_number)
            elif overdue > GRACE_DAYS and license.status == "active":
                self._change(
                    license,
                    "suspended",
                    "suspended",
                    f"Unpaid {overdue} days after {license.term_end}: suspended until the invoice is paid.",
                    now,
                )
                report.suspended.append(license.entitlement_number)
            return
        if (
            license.hosting == "server"
            and license.maintenance_end is not None
            and license.maintenance_end < today
        ):
            lapsed_already = self.session.scalar(
                select(LicenseTransaction.id).where(
                    LicenseTransaction.license_id == license.id,
                    LicenseTransaction.kind == "maintenance_lapsed",
                    LicenseTransaction.description.contains(license.maintenance_end.isoformat()),
                )
            )
            if lapsed_already is None:
                self._record(
                    license,
                    "maintenance_lapsed",
                    f"Maintenance ended on {license.maintenance_end.isoformat()}: the license keeps working for "
                    "app versions built before then; renew for newer ones.",
                    now,
                )
                report.maintenance_lapsed.append(license.entitlement_number)

    def _change(self, license: License, status: str, kind: str, description: str, now: datetime) -> None:
        license.status = status
        self._record(license, kind, description, now)

    def _record(self, license: License, kind: str, description: str, now: datetime) -> None:
        self.session.add(
            LicenseTransaction(license_id=license.id, kind=kind, description=description, occurred_at=now)
        )

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
from datetime import date

from sqlalchemy.orm import Session

from mercato import pricing
from mercato.accounts.models import HostInstance
from mercato.billing.repository import BillingRepository
from mercato.catalog.domain import pricing_listing, revenue_schedule
from mercato.catalog.repository import CatalogRepository
from mercato.commerce.invoicing import Invoicing
from mercato.commerce.models import LineAction, QuoteLine
from mercato.commerce.quoting import Quoting, quote_line
from mercato.commerce.repository import CommerceRepository
from mercato.licenses.events import LicenseEvent, LicenseEvents
from mercato.licenses.models import License, LicenseEventKind, LicenseState
from mercato.services import Services

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
    """One day's billing, as of the services' clock."""

    def __init__(self, session: Session, services: Services) -> None:
        self.session = session
        self.services = services
        self.clock = services.clock
        self.repo = BillingRepository(session)
        self.catalog = CatalogRepository(session)
        self.commerce = CommerceRepository(session)
        self.events = LicenseEvents(session, services.license_subscribers)

    # -- 1. cloud renewals ---------------------------------------------------------------------------------

    def cloud_sites_due(self) -> Sequence[HostInstance]:
        return self.repo.cloud_sites_due(self.clock.today())

    def renew_site(self, site: HostInstance) -> BillingReport:
        """Invoice the next cycle of every app the site pays for up to its billing date, and move the date on
        by one cycle. (Apps left unpaid are not invoiced again: dunning takes them from there.)"""
        report = BillingReport()
        assert site.next_billing_date is not None and site.billing_cycle is not None
        billing_date = site.next_billing_date
        renewing = self.repo.cloud_subscriptions_renewing(site.id, billing_date)
        if renewing:
            report.renewal_invoices.append(
                self._renewal_invoice(site, renewing, billing_date, site.billing_cycle)
            )
        site.next_billing_date = pricing.add_months(billing_date, pricing.cycle_months(site.billing_cycle))
        self.session.flush()
        return report

    def _renewal_invoice(
        self,
        site: HostInstance,
        licenses: Sequence[License],
        billing_date: date,
        cycle: pricing.BillingCycle,
    ) -> str:
        host_product = self.catalog.host_product_by_id(site.host_product_id)
        assert host_product is not None and site.cloud_users is not None
        host = pricing.HostContext(
            hosting=pricing.Hosting.CLOUD,
            license_type=site.host_license_type,
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
                pricing_listing(listing, name), host, billing_date, license_type=license.license_type
            )
            split = pricing.split_revenue(line, schedule, self.clock.today())
            currency = line.currency
            lines.append(quote_line(position, LineAction.RENEWAL, listing, line, split, license))
        quote = Quoting(self.commerce, self.services).renewal_quote(site, currency, lines)
        _, invoice = Invoicing(self.commerce, self.services).issue(quote)
        return invoice.number

    # -- 2.–4. license states ------------------------------------------------------------------------------

    def sweep_licenses(self) -> BillingReport:
        report = BillingReport()
        for license in self.repo.licenses_in_force():
            self._sweep(license, report)
        self.session.flush()
        return report

    def _sweep(self, license: License, report: BillingReport) -> None:
        today = self.clock.today()
        if license.evaluation or (
            license.hosting == pricing.Hosting.DATACENTER and license.term_end is not None
        ):
            if (
                license.term_end is not None
                and license.term_end < today
                and license.status == LicenseState.ACTIVE
            ):
                what = "evaluation" if license.evaluation else "Data Center term"
                self._change(
                    license,
                    LicenseState.EXPIRED,
                    LicenseEventKind.EXPIRY,
                    f"The {what} ended on {license.term_end}.",
                )
                report.expired.append(license.entitlement_number)
            return
        if license.hosting == pricing.Hosting.CLOUD and license.term_end is not None:
            overdue = (today - license.term_end).days
            if overdue > GRACE_DAYS + SUSPENDED_DAYS:
                self._change(
                    license,
                    LicenseState.EXPIRED,
                    LicenseEventKind.UNLICENSED,
                    f"Unpaid for {overdue} days after {license.term_end}: the subscription ended.",
                )
                report.unlicensed.append(license.entitlement_number)
            elif overdue > GRACE_DAYS and license.status == LicenseState.ACTIVE:
                self._change(
                    license,
                    LicenseState.SUSPENDED,
                    LicenseEventKind.SUSPENSION,
                    f"Unpaid {overdue} days after {license.term_end}: suspended until the invoice is paid.",
                )
                report.suspended.append(license.entitlement_number)
            return
        if (
            license.hosting == pricing.Hosting.SERVER
            and license.maintenance_end is not None
            and license.maintenance_end < today
            and not self.repo.lapse_recorded(license.id, license.maintenance_end)
        ):
            self._record(
                license,
                LicenseEventKind.MAINTENANCE_LAPSED,
                f"Maintenance ended on {license.maintenance_end.isoformat()}: the license keeps working for "
                "app versions built before then; renew for newer ones.",
                details={"maintenance_end": license.maintenance_end.isoformat()},
            )
            report.maintenance_lapsed.append(license.entitlement_number)

    def _change(
        self, license: License, status: LicenseState, kind: LicenseEventKind, description: str
    ) -> None:
        license.status = status
        self._record(license, kind, description)

    def _record(
        self,
        license: License,
        kind: LicenseEventKind,
        description: str,
        details: dict[str, str] | None = None,
    ) -> None:
        self.events.record(LicenseEvent(kind, license, self.clock.now(), description, details=details or {}))

"""What ``mercato billing run`` does for a given day. Every step is idempotent: running it twice on the same
day changes nothing the second time, and every change is recorded in the license's history. Two runs at once
change nothing twice either: each item is re-checked under its row lock, and the database refuses a second
renewal of a site for a billing date (``CloudRenewal``) and a second history entry of a once-per-date change
(``once_key``). The command also serialises whole runs (``billing.run_lock``).

1. **Cloud renewals.** A cloud site whose next billing date has come gets one renewal invoice for the apps
   it pays for, for the next cycle (the apps follow the site's billing date), and its billing date moves on.
2. **Dunning** of cloud subscriptions whose renewal is unpaid: 15 days of grace after the paid-until date,
   then *suspended*, then 15 more days, then *expired* (unlicensed). Paying the invoice restores the license.
3. **Evaluations** and **Data Center terms** past their end expire.
4. **Maintenance** of perpetual server licenses lapses: recorded once per maintenance end; the license keeps
   working for builds released before it.

The command then announces scheduled price changes (``mercato.catalog.price_notices``): each once, to the
customers with renewals due around it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from mercato import pricing
from mercato.accounts.models import HostInstance
from mercato.billing.models import CloudRenewal
from mercato.billing.repository import BillingRepository
from mercato.catalog.domain import pricing_listing
from mercato.catalog.repository import CatalogRepository
from mercato.catalog.vendors import RevenueSchedules
from mercato.commerce.invoicing import Invoicing
from mercato.commerce.models import Invoice, LineAction, QuoteLine
from mercato.commerce.quoting import Quoting, quote_line
from mercato.commerce.repository import CommerceRepository
from mercato.licenses.events import LicenseEvent, LicenseEvents
from mercato.licenses.models import License, LicenseEventKind, LicenseState
from mercato.reminders.service import RenewalReminders
from mercato.services import Services

GRACE_DAYS = 15
SUSPENDED_DAYS = 15


@dataclass(frozen=True)
class RenewalInvoice:
    """One renewal invoice a run made: its number, the site it renews and its total."""

    number: str
    site: str
    billing_date: date
    total: str


@dataclass
class BillingReport:
    renewal_invoices: list[str] = field(default_factory=list)
    suspended: list[str] = field(default_factory=list)
    unlicensed: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)
    maintenance_lapsed: list[str] = field(default_factory=list)
    renewals: list[RenewalInvoice] = field(default_factory=list)
    renewal_reminders: list[str] = field(default_factory=list)
    """``<entitlement number>:<reminder>`` for each renewal reminder sent (``mercato.reminders``)."""

    def merge(self, other: BillingReport) -> None:
        for name in (
            "renewal_invoices",
            "suspended",
            "unlicensed",
            "expired",
            "maintenance_lapsed",
            "renewals",
            "renewal_reminders",
        ):
            getattr(self, name).extend(getattr(other, name))


@dataclass(frozen=True)
class StateChange:
    """A change the sweep makes to one license: its new status (None: the status stays), the history kind,
    the sentence, and the date it is about (once per license, kind and date)."""

    status: LicenseState | None
    kind: LicenseEventKind
    description: str
    on: date


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

    def renew_due_site(self, site_id: uuid.UUID) -> BillingReport | None:
        """Renew the site if it is still due, re-checked under its row lock (another run may have renewed it
        meanwhile); None when it is not due any more."""
        site = self.repo.cloud_site_due(site_id, self.clock.today(), for_update=True)
        return None if site is None else self.renew_site(site)

    def renew_site(self, site: HostInstance) -> BillingReport:
        """Invoice the next cycle of every app the site pays for up to its billing date, and move the date on
        by one cycle. (Apps left unpaid are not invoiced again: dunning takes them from there.)"""
        report = BillingReport()
        assert site.next_billing_date is not None and site.billing_cycle is not None
        billing_date = site.next_billing_date
        # Claimed first: the table's key refuses a second renewal of this site and date, so a run that got
        # past the row lock anyway fails here, before it writes an invoice.
        renewal = CloudRenewal(host_instance_id=site.id, billing_date=billing_date)
        self.session.add(renewal)
        self.session.flush()
        renewing = self.repo.cloud_subscriptions_renewing(site.id, billing_date)
        if renewing:
            invoice = self._renewal_invoice(site, renewing, billing_date, site.billing_cycle)
            renewal.invoice_id = invoice.id
            report.renewal_invoices.append(invoice.number)
            total = pricing.format_money(
                pricing.from_minor_units(invoice.total_minor, invoice.currency), invoice.currency
            )
            report.renewals.append(RenewalInvoice(invoice.number, site.server_id, billing_date, total))
        site.next_billing_date = pricing.add_months(billing_date, pricing.cycle_months(site.billing_cycle))
        self.session.flush()
        return report

    def _renewal_invoice(
        self,
        site: HostInstance,
        licenses: Sequence[License],
        billing_date: date,
        cycle: pricing.BillingCycle,
    ) -> Invoice:
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
        schedules = RevenueSchedules(self.session)  # the vendor's agreement, else the standard rates
        lines: list[QuoteLine] = []
        currency = ""
        for position, license in enumerate(licenses, 1):
            listing = self.catalog.listing(license.product_key, license.hosting)  # with prices and app
            assert listing is not None
            name = listing.app.name if listing.app is not None else host_product.name
            line = pricing.price_cloud_subscription(
                pricing_listing(listing, name, billing_date),
                host,
                billing_date,
                license_type=license.license_type,
                renewing=True,
            )
            vendor_id = listing.app.vendor_id if listing.app is not None else None
            split = pricing.split_revenue(line, schedules.of(vendor_id), self.clock.today())
            currency = line.currency
            lines.append(quote_line(position, LineAction.RENEWAL, listing, line, split, license))
        quote = Quoting(self.commerce, self.services).renewal_quote(site, currency, lines)
        _, invoice = Invoicing(self.commerce, self.services).issue(quote)
        return invoice

    def whole_day(self, max_cycles_per_site: int) -> BillingReport:
        """Every step of the day in this one session, as the run does them (which commits site by site).
        ``billing run --dry-run`` calls it and rolls the session back: what it reports is exactly what a run
        would do, priced and numbered by the same code, and nothing of it is kept."""
        report = BillingReport()
        for site in self.cloud_sites_due():
            for _ in range(max_cycles_per_site):
                renewed = self.renew_due_site(site.id)
                if renewed is None:
                    break
                report.merge(renewed)
        report.merge(self.sweep_licenses())
        report.renewal_reminders.extend(
            RenewalReminders(self.session, self.clock, self.services.secret_key).send_all()
        )
        return report

    # -- 2.–4. license states ------------------------------------------------------------------------------

    def sweep_licenses(self) -> BillingReport:
        report = BillingReport()
        for license in self.repo.licenses_in_force():
            if self.change_due(license) is None:
                continue
            # Re-read under the row's lock before changing it: another run may have changed it meanwhile.
            self.session.refresh(license, with_for_update=True)
            change = self.change_due(license)
            if change is not None:
                self._apply(license, change, report)
        self.session.flush()
        return report

    def change_due(self, license: License) -> StateChange | None:
        """What the sweep changes on this license today, if anything (reads only)."""
        today = self.clock.today()
        if license.evaluation or (
            license.hosting == pricing.Hosting.DATACENTER and license.term_end is not None
        ):
            if license.term_end is None or license.term_end >= today or license.status != LicenseState.ACTIVE:
                return None
            what = "evaluation" if license.evaluation else "Data Center term"
            ended = f"The {what} ended on {license.term_end}."
            return StateChange(LicenseState.EXPIRED, LicenseEventKind.EXPIRY, ended, license.term_end)
        if license.hosting == pricing.Hosting.CLOUD and license.term_end is not None:
            overdue = (today - license.term_end).days
            if overdue > GRACE_DAYS + SUSPENDED_DAYS:
                ended = f"Unpaid for {overdue} days after {license.term_end}: the subscription ended."
                return StateChange(LicenseState.EXPIRED, LicenseEventKind.UNLICENSED, ended, license.term_end)
            if overdue > GRACE_DAYS and license.status == LicenseState.ACTIVE:
                held = f"Unpaid {overdue} days after {license.term_end}: suspended until the invoice is paid."
                return StateChange(
                    LicenseState.SUSPENDED, LicenseEventKind.SUSPENSION, held, license.term_end
                )
            return None
        if (
            license.hosting == pricing.Hosting.SERVER
            and license.maintenance_end is not None
            and license.maintenance_end < today
            and not self.repo.lapse_recorded(license.id, license.maintenance_end)
        ):
            lapsed = (
                f"Maintenance ended on {license.maintenance_end.isoformat()}: the license keeps working for "
                "app versions built before then; renew for newer ones."
            )
            return StateChange(None, LicenseEventKind.MAINTENANCE_LAPSED, lapsed, license.maintenance_end)
        return None

    def _apply(self, license: License, change: StateChange, report: BillingReport) -> None:
        if change.status is not None:
            license.status = change.status
        self.events.record(
            LicenseEvent(
                change.kind,
                license,
                self.clock.now(),
                change.description,
                details={"on": change.on.isoformat()},
                once_key=f"{change.kind.value}:{change.on.isoformat()}",
            )
        )
        reported = {
            LicenseEventKind.EXPIRY: report.expired,
            LicenseEventKind.UNLICENSED: report.unlicensed,
            LicenseEventKind.SUSPENSION: report.suspended,
            LicenseEventKind.MAINTENANCE_LAPSED: report.maintenance_lapsed,
        }
        reported[change.kind].append(license.entitlement_number)

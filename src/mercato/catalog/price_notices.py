"""Price changes with notice: customers whose renewal falls around a price change are told by e-mail.

A price change is a price table that takes effect after today (``Listing.prices_after``). Once, for each such
table, this finds the listing's active licenses whose next renewal is due between today and 30 days after the
change takes effect — server: its maintenance end; Data Center: its term end; cloud: the site's next billing
date — and queues one e-mail per customer organisation (to the people who receive its license keys) naming,
for each license, the renewal price before and after the change for the license's own tier, users, license
type and channel, and the date. Then it sets the table's ``announced_at``.

Safe to run again and at the same time: each table is locked and re-read before it is announced (a run that
waited finds it announced), and the database refuses a second notice of one change to one organisation
(``PriceChangeNotice``). It runs as a step of ``mercato billing run``; code that publishes a future price table
may call ``announce_price_changes`` at once.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from mercato import pricing
from mercato.accounts.models import HostInstance
from mercato.accounts.repository import AccountsRepository
from mercato.catalog.domain import pricing_listing, tier_of
from mercato.catalog.models import Listing, PriceTable
from mercato.catalog.price_notices_models import PriceChangeNotice
from mercato.catalog.price_notices_repository import PriceNoticesRepository
from mercato.catalog.repository import CatalogRepository
from mercato.licenses.models import License
from mercato.mail.templates import render_email
from mercato.outbox.service import enqueue_rendered_email
from mercato.services import Services

RENEWALS_AFTER_CHANGE = timedelta(days=30)
"""Renewals due up to this long after a change takes effect are announced too (the first renewal at the new
price)."""

TEMPLATE = "price-change"


@dataclass(frozen=True)
class NoticeLine:
    """One license of a notice: its renewal price before and after the change."""

    license: License
    renews_on: date
    old_amount: Decimal
    new_amount: Decimal
    currency: str
    per: str  # "a year" or "a month": what one renewal buys

    @property
    def rises(self) -> bool:
        return self.new_amount > self.old_amount


@dataclass
class Announcement:
    """What announcing one price change did."""

    product_key: str
    hosting: str
    effective_from: date
    emails: int = 0
    organisations: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return f"{self.product_key} ({self.hosting}) from {self.effective_from}: {self.emails} e-mail(s)"


class PriceNotices:
    def __init__(self, session: Session, services: Services) -> None:
        self.session = session
        self.clock = services.clock
        self.repo = PriceNoticesRepository(session)
        self.catalog = CatalogRepository(session)
        self.accounts = AccountsRepository(session)

    def due(self) -> list[uuid.UUID]:
        """The price changes not announced yet (reads only; ``announce`` checks each again under its lock)."""
        return list(self.repo.unannounced_changes(self.clock.today()))

    def announce_all(self) -> list[Announcement]:
        return [a for table_id in self.due() if (a := self.announce(table_id)) is not None]

    def announce(self, table_id: uuid.UUID) -> Announcement | None:
        """Announce one price change, unless it was announced meanwhile or takes effect today or earlier."""
        today = self.clock.today()
        table = self.repo.price_table_for_update(table_id)
        if table is None or table.announced_at is not None or table.effective_from <= today:
            return None
        listing = self.repo.listing_with_prices(table.listing_id)
        assert listing is not None
        announcement = Announcement(listing.product_key, listing.hosting.value, table.effective_from)
        before = listing.prices_on(table.effective_from - timedelta(days=1))
        if before is not table:  # a listing's first prices change nothing
            self._notify(listing, table, before, announcement)
        table.announced_at = self.clock.now()
        self.session.flush()
        return announcement

    # -- one change --------------------------------------------------------------------------------------

    def _notify(
        self, listing: Listing, table: PriceTable, before: PriceTable, announcement: Announcement
    ) -> None:
        today, effective = self.clock.today(), table.effective_from
        name = self._name(listing)
        old_listing = pricing_listing(listing, name, effective - timedelta(days=1))
        new_listing = pricing_listing(listing, name, effective)
        told = self.repo.notified_organisations(table.id)
        lines: dict[uuid.UUID, list[NoticeLine]] = defaultdict(list)
        for license, instance in self.repo.licenses_in_force(listing.id):
            assert license.organisation_id is not None
            renews_on = self._renews_on(license, instance)
            if license.organisation_id in told or renews_on is None:
                continue
            if not today <= renews_on <= effective + RENEWALS_AFTER_CHANGE:
                continue
            line = self._line(license, instance, renews_on, old_listing, new_listing)
            if line is not None and line.old_amount != line.new_amount:
                lines[license.organisation_id].append(line)
        in_force_today = listing.prices_on(today) is before
        for organisation_id, organisation_lines in lines.items():
            recipients = self.accounts.key_recipients(organisation_id)
            organisation = self.repo.organisation(organisation_id)
            if not recipients or organisation is None:
                continue
            context = price_change_context(
                name, listing, effective, organisation.name, organisation_lines, in_force_today
            )
            message = enqueue_rendered_email(self.session, recipients, render_email(TEMPLATE, context))
            self.repo.add(
                PriceChangeNotice(
                    price_table_id=table.id,
                    organisation_id=organisation_id,
                    licenses=[line.license.entitlement_number for line in organisation_lines],
                    outbox_message_id=message.id,
                )
            )
            announcement.emails += 1
            announcement.organisations.append(organisation.slug)

    def _name(self, listing: Listing) -> str:
        return listing.app.name if listing.app is not None else listing.host_product.name

    @staticmethod
    def _renews_on(license: License, instance: HostInstance) -> date | None:
        """When the license renews next: server maintenance end, Data Center term end, the cloud site's next
        billing date."""
        if license.hosting == pricing.Hosting.CLOUD:
            # Subscriptions paid up to the site's billing date renew with it (as the billing run renews them).
            renews = license.term_end is not None and license.term_end == instance.next_billing_date
            return instance.next_billing_date if renews else None
        if license.hosting == pricing.Hosting.SERVER:
            return license.maintenance_end
        return license.term_end or license.maintenance_end

    def _line(
        self,
        license: License,
        instance: HostInstance,
        renews_on: date,
        old: pricing.Listing,
        new: pricing.Listing,
    ) -> NoticeLine | None:
        """The license's next renewal priced with the prices before and after the change; None where it cannot
        be priced (a channel or tier no longer sold: the buyer learns that when renewing)."""
        try:
            if license.hosting == pricing.Hosting.CLOUD:
                host = self._cloud_host(instance, renews_on)
                if host is None:
                    return None
                before = pricing.price_cloud_subscription(
                    old, host, renews_on, license_type=license.license_type
                )
                after = pricing.price_cloud_subscription(
                    new, host, renews_on, license_type=license.license_type
                )
                per = "a year" if host.billing_cycle is pricing.BillingCycle.ANNUAL else "a month"
            else:
                tier, channel = tier_of(license.tier_users), pricing.Channel(license.channel)
                before, after = (
                    pricing.price_renewal(
                        listing, tier, channel, license.license_type, renews_on, 1, renews_on
                    )
                    for listing in (old, new)
                )
                per = "a year"
        except pricing.PricingError:
            return None
        return NoticeLine(license, renews_on, before.amount, after.amount, before.currency, per)

    def _cloud_host(self, instance: HostInstance, renews_on: date) -> pricing.HostContext | None:
        if instance.cloud_users is None or instance.billing_cycle is None:
            return None
        host_product = self.catalog.host_product_by_id(instance.host_product_id)
        return pricing.HostContext(
            hosting=pricing.Hosting.CLOUD,
            license_type=instance.host_license_type,
            cloud_users=instance.cloud_users,
            billing_cycle=instance.billing_cycle,
            next_billing_date=renews_on,
            product_name=host_product.name if host_product else "host",
        )


def price_change_context(
    name: str,
    listing: Listing,
    effective: date,
    organisation: str,
    lines: list[NoticeLine],
    in_force_today: bool,
) -> dict[str, Any]:
    """What the ``price-change`` e-mail says: the app, hosting, date, and each license's prices."""
    hosting = pricing.Hosting(listing.hosting)
    return {
        "app": name,
        "product_key": listing.product_key,
        "hosting": {"server": "Server", "datacenter": "Data Center", "cloud": "Cloud"}[hosting.value],
        "effective_from": effective.isoformat(),
        "organisation": organisation,
        "licenses": [
            {
                "entitlement_number": line.license.entitlement_number,
                "host_binding": line.license.host_binding,
                "tier": str(tier_of(line.license.tier_users)),
                "license_type": pricing.LicenseType(line.license.license_type).label,
                "channel": pricing.Channel(line.license.channel).value,
                "renews_on": line.renews_on.isoformat(),
                "old_price": pricing.format_money(line.old_amount, line.currency),
                "new_price": pricing.format_money(line.new_amount, line.currency),
                "per": line.per,
                "rises": line.rises,
                # A server or Data Center license may renew early at the prices in force today.
                "renew_early": line.rises and in_force_today and hosting is not pricing.Hosting.CLOUD,
                # A cloud bill due before the change is still at the old price.
                "billed_before_change": hosting is pricing.Hosting.CLOUD and line.renews_on < effective,
            }
            for line in lines
        ],
    }


def announce_price_changes(session: Session, services: Services) -> int:
    """Announce every price change not announced yet, in the caller's transaction (flushed, not committed);
    returns how many e-mails were queued. Safe to call again and from concurrent transactions."""
    return sum(announcement.emails for announcement in PriceNotices(session, services).announce_all())


__all__ = ["Announcement", "PriceNotices", "announce_price_changes", "price_change_context"]

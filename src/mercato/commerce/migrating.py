"""Batch migration: a vendor (or the operator) moves every direct server and Data Center license of the vendor's
apps that can move as it is, for nothing, to the marketplace.

Each license moves in a transaction of its own, through the same quote, invoice and fulfilment as a customer's
migration (a zero invoice is settled at once): a run that is stopped, or killed, has moved the licenses it
finished, and running it again moves the others. A license whose tier must be raised to match its host does not
move here: its customer pays the upgrade on its own migration quote; the run lists it with the price.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from mercato import pricing
from mercato.catalog.models import App, Listing, Vendor
from mercato.commerce import schemas
from mercato.commerce.invoicing import Invoicing
from mercato.commerce.quoting import Quoting
from mercato.commerce.repository import CommerceRepository
from mercato.keys.models import vendor_issuer
from mercato.licenses.models import License, LicenseState
from mercato.problems import Problem
from mercato.services import Services


@dataclass(frozen=True)
class MigrationOutcome:
    """What a batch run did with one license: ``migrated`` (with its zero invoice), ``needs_upgrade`` (with the
    tier and the price its customer's migration quote asks), or ``skipped`` (with the reason)."""

    entitlement_number: str
    outcome: str
    detail: str
    invoice: str | None = None
    tier: str | None = None
    amount: Decimal | None = None
    currency: str | None = None


class RolledBack(Exception):
    """Raised inside a license's transaction so that it writes nothing (the quote that priced an upgrade, or a
    dry run), carrying what the run reports for the license."""

    def __init__(self, outcome: MigrationOutcome) -> None:
        super().__init__(outcome.detail)
        self.outcome = outcome


class BatchMigration:
    def __init__(self, session: Session, services: Services) -> None:
        self.session = session
        self.services = services
        self.repo = CommerceRepository(session)

    def candidates(self, vendor: Vendor, app_key: str | None = None) -> list[uuid.UUID]:
        """The vendor's direct server and Data Center licenses (of ``app_key`` only, if given) that are open and
        not evaluations, oldest first."""
        query = (
            select(License.id)
            .join(Listing, Listing.id == License.listing_id)
            .join(App, App.id == Listing.app_id)
            .where(
                App.vendor_id == vendor.id,
                License.channel == pricing.Channel.DIRECT,
                License.issuer == vendor_issuer(vendor.slug),
                License.hosting.in_([pricing.Hosting.SERVER, pricing.Hosting.DATACENTER]),
                License.evaluation.is_(False),
                License.status.not_in([LicenseState.CANCELLED, LicenseState.SUPERSEDED]),
                License.host_instance_id.is_not(None),
            )
            .order_by(License.created_at, License.entitlement_number)
        )
        if app_key is not None:
            query = query.where(License.product_key == app_key)
        return list(self.session.scalars(query))

    def migrate(self, license_id: uuid.UUID, *, dry_run: bool = False) -> MigrationOutcome:
        """Move one license if it can move for nothing. The license's row is locked first, so two runs at once
        queue on it and the second finds it moved. Raises :class:`RolledBack` when the license must be upgraded
        first, and on a dry run: its transaction must then be rolled back."""
        license = self.session.get(License, license_id, with_for_update=True)
        assert license is not None and license.host_instance_id is not None
        entitlement = license.entitlement_number
        instance = self.repo.host_instance(license.host_instance_id)
        assert instance is not None
        quoting = Quoting(self.repo, self.services)
        try:
            quoting.check_migratable(license)
            quote = quoting.quote_instance(
                instance,
                schemas.QuoteRequest(
                    host_instance_id=instance.id,
                    channel=pricing.Channel.MARKETPLACE,
                    items=[schemas.MigrationQuoteItem(action="migration", license=entitlement)],
                ),
            )
        except Problem as problem:
            return MigrationOutcome(entitlement, "skipped", problem.detail)
        except pricing.PricingError as error:
            return MigrationOutcome(entitlement, "skipped", error.detail)
        line = quote.lines[0]
        amount = pricing.from_minor_units(line.amount_minor, quote.currency)
        tier = "unlimited" if line.tier_users == -1 else str(line.tier_users)
        if quote.total_minor > 0:
            raise RolledBack(
                MigrationOutcome(
                    entitlement,
                    "needs_upgrade",
                    f"must be upgraded to {tier} users to match its host: "
                    f"{pricing.format_money(amount, quote.currency)} on its migration quote",
                    tier=tier,
                    amount=amount,
                    currency=quote.currency,
                )
            )
        outcome = MigrationOutcome(
            entitlement, "migrated", "moved to the marketplace as it is", tier=tier, amount=amount
        )
        if dry_run:
            raise RolledBack(outcome)  # roll back: nothing is written on a dry run
        _, invoice = Invoicing(self.repo, self.services).issue(quote)
        return MigrationOutcome(
            entitlement, "migrated", outcome.detail, invoice.number, tier, amount, quote.currency
        )

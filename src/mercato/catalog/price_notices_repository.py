"""All SQL of price-change notices: the changes not yet announced, the licenses that renew around one, and
the notices already sent."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from mercato.accounts.models import HostInstance, Organisation
from mercato.catalog.models import Listing, PriceTable
from mercato.catalog.price_notices_models import PriceChangeNotice
from mercato.licenses.models import License, LicenseState


class PriceNoticesRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def unannounced_changes(self, today: date) -> Sequence[uuid.UUID]:
        """Price tables that take effect after ``today`` and were not announced yet, soonest first."""
        return self.session.scalars(
            select(PriceTable.id)
            .where(PriceTable.effective_from > today, PriceTable.announced_at.is_(None))
            .order_by(PriceTable.effective_from, PriceTable.id)
        ).all()

    def price_table_for_update(self, table_id: uuid.UUID) -> PriceTable | None:
        """The price table, locked (PostgreSQL ``FOR UPDATE``; SQLite's unit of work holds the write lock) and
        read afresh: a run that waited here sees what the run before it committed."""
        return self.session.scalars(
            select(PriceTable)
            .where(PriceTable.id == table_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).first()

    def listing_with_prices(self, listing_id: uuid.UUID) -> Listing | None:
        return self.session.scalars(
            select(Listing)
            .options(
                selectinload(Listing.price_tables).options(
                    selectinload(PriceTable.tier_prices), selectinload(PriceTable.cloud_brackets)
                ),
                selectinload(Listing.app),
                selectinload(Listing.host_product),
            )
            .where(Listing.id == listing_id)
        ).first()

    def licenses_in_force(self, listing_id: uuid.UUID) -> Sequence[tuple[License, HostInstance]]:
        """The listing's active, paid-for licenses of customer organisations, with their host instance."""
        rows = self.session.execute(
            select(License, HostInstance)
            .join(HostInstance, HostInstance.id == License.host_instance_id)
            .where(
                License.listing_id == listing_id,
                License.status == LicenseState.ACTIVE,
                License.evaluation.is_(False),
                License.organisation_id.is_not(None),
            )
            .order_by(License.organisation_id, License.entitlement_number)
        ).all()
        return [(license, instance) for license, instance in rows]

    def organisation(self, organisation_id: uuid.UUID) -> Organisation | None:
        return self.session.get(Organisation, organisation_id)

    def notified_organisations(self, table_id: uuid.UUID) -> set[uuid.UUID]:
        return set(
            self.session.scalars(
                select(PriceChangeNotice.organisation_id).where(PriceChangeNotice.price_table_id == table_id)
            )
        )

    def notices_of(self, table_id: uuid.UUID) -> Sequence[PriceChangeNotice]:
        return self.session.scalars(
            select(PriceChangeNotice)
            .where(PriceChangeNotice.price_table_id == table_id)
            .order_by(PriceChangeNotice.id)
        ).all()

    def add(self, notice: PriceChangeNotice) -> None:
        self.session.add(notice)
        self.session.flush()

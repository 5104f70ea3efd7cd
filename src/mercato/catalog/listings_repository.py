"""The SQL of app management and listing review: apps with their listings, open drafts, the review queue."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from mercato.catalog.models import (
    OPEN_REVISION_STATES,
    App,
    HostProduct,
    Listing,
    ListingRevision,
    PriceTable,
    RevisionStatus,
    Vendor,
)
from mercato.paging import KeysetOrder, Page, PageRequest, fetch_page

_LISTING_DETAILS = (
    selectinload(Listing.price_tables).options(
        selectinload(PriceTable.tier_prices), selectinload(PriceTable.cloud_brackets)
    ),
    selectinload(Listing.releases),
)


def _apps() -> Select[App]:
    return select(App).options(
        selectinload(App.vendor),
        selectinload(App.host_product),
        selectinload(App.listings).options(*_LISTING_DETAILS),
    )


REVIEW_QUEUE_ORDER = KeysetOrder(
    "review-queue", ListingRevision.submitted_at, ListingRevision.id, datetime, uuid.UUID, descending=False
)


class ListingsRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- apps --------------------------------------------------------------------------------------------------

    def app(self, key: str, *, for_update: bool = False) -> App | None:
        """The app with its vendor, host product and listings (prices and releases loaded)."""
        query = _apps().where(App.key == key)
        if for_update:
            query = query.with_for_update(of=App).execution_options(populate_existing=True)
        return self.session.scalars(query).first()

    def app_by_id(self, app_id: uuid.UUID) -> App | None:
        return self.session.scalars(_apps().where(App.id == app_id)).first()

    def apps_of_vendor(self, vendor_id: uuid.UUID) -> Sequence[App]:
        return self.session.scalars(_apps().where(App.vendor_id == vendor_id).order_by(App.key)).all()

    def key_taken(self, key: str) -> bool:
        return self.session.scalar(select(func.count()).select_from(App).where(App.key == key)) != 0

    def vendor(self, slug: str) -> Vendor | None:
        return self.session.scalars(select(Vendor).where(Vendor.slug == slug)).first()

    def host_product(self, key: str) -> HostProduct | None:
        return self.session.scalars(select(HostProduct).where(HostProduct.key == key)).first()

    def host_hostings(self, host_product_id: uuid.UUID) -> set[str]:
        """The hostings the host product itself is sold in."""
        return set(
            self.session.scalars(
                select(Listing.hosting).where(
                    Listing.host_product_id == host_product_id, Listing.app_id.is_(None)
                )
            )
        )

    # -- revisions ---------------------------------------------------------------------------------------------

    def open_revision(
        self, app_id: uuid.UUID, hosting: str, *, for_update: bool = False
    ) -> ListingRevision | None:
        query = select(ListingRevision).where(
            ListingRevision.app_id == app_id,
            ListingRevision.hosting == hosting,
            ListingRevision.status.in_(OPEN_REVISION_STATES),
        )
        if for_update:
            query = query.with_for_update().execution_options(populate_existing=True)
        return self.session.scalars(query).first()

    def latest_revision(self, app_id: uuid.UUID, hosting: str) -> ListingRevision | None:
        return self.session.scalars(
            select(ListingRevision)
            .where(ListingRevision.app_id == app_id, ListingRevision.hosting == hosting)
            .order_by(ListingRevision.created_at.desc(), ListingRevision.id)
            .limit(1)
        ).first()

    def revision(self, revision_id: uuid.UUID, *, for_update: bool = False) -> ListingRevision | None:
        query = select(ListingRevision).where(ListingRevision.id == revision_id)
        if for_update:
            query = query.with_for_update().execution_options(populate_existing=True)
        return self.session.scalars(query).first()

    def revisions(self, app_id: uuid.UUID, hosting: str) -> Sequence[ListingRevision]:
        """The listing's revisions, newest first."""
        return self.session.scalars(
            select(ListingRevision)
            .where(ListingRevision.app_id == app_id, ListingRevision.hosting == hosting)
            .order_by(ListingRevision.created_at.desc(), ListingRevision.id)
        ).all()

    def review_queue(self, page: PageRequest) -> Page[ListingRevision]:
        """Submitted revisions, the longest waiting first, with their apps loaded; always counted (the queue
        is short)."""
        waiting = ListingRevision.status == RevisionStatus.SUBMITTED
        query = (
            select(ListingRevision)
            .options(selectinload(ListingRevision.app).selectinload(App.vendor))
            .where(waiting)
        )
        return fetch_page(self.session, query, REVIEW_QUEUE_ORDER, page, always_count=True)

    def add(self, *objects: object) -> None:
        self.session.add_all(objects)
        self.session.flush()

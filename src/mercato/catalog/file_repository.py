"""The SQL of the catalog file (``catalog/file.py``): the whole catalog loaded at once, each object with the
relationships the file writes, and the few look-ups ``mercato catalog apply`` needs."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from mercato.catalog.models import (
    App,
    HostProduct,
    Listing,
    Operator,
    PriceTable,
    RevenueShareRate,
    Vendor,
    VendorRevenueShare,
)

_LISTING_DETAILS = (
    selectinload(Listing.price_tables).options(
        selectinload(PriceTable.tier_prices), selectinload(PriceTable.cloud_brackets)
    ),
    selectinload(Listing.releases),
)


class CatalogFileRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def operator(self) -> Operator | None:
        return self.session.scalars(select(Operator).order_by(Operator.created_at).limit(1)).first()

    def revenue_share_rates(self) -> Sequence[RevenueShareRate]:
        return self.session.scalars(
            select(RevenueShareRate).order_by(RevenueShareRate.effective_from, RevenueShareRate.hosting)
        ).all()

    def host_products(self) -> Sequence[HostProduct]:
        return self.session.scalars(select(HostProduct).order_by(HostProduct.key)).all()

    def vendors(self) -> Sequence[Vendor]:
        return self.session.scalars(select(Vendor).order_by(Vendor.slug)).all()

    def vendor_revenue_shares(self) -> Sequence[VendorRevenueShare]:
        return self.session.scalars(
            select(VendorRevenueShare).order_by(
                VendorRevenueShare.vendor_id, VendorRevenueShare.effective_from, VendorRevenueShare.hosting
            )
        ).all()

    def apps(self) -> Sequence[App]:
        return self.session.scalars(
            select(App).options(selectinload(App.vendor), selectinload(App.host_product)).order_by(App.key)
        ).all()

    def listings(self) -> Sequence[Listing]:
        """Every listing (of apps and of host products), with its price tables and releases."""
        return self.session.scalars(
            select(Listing).options(*_LISTING_DETAILS).order_by(Listing.product_key, Listing.hosting)
        ).all()

    def listing_count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(Listing)) or 0

    def add(self, *objects: object) -> None:
        self.session.add_all(objects)
        self.session.flush()

    def flush(self) -> None:
        self.session.flush()

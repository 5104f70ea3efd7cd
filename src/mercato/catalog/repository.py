"""All catalog SQL. Returns ORM objects with the relationships the caller asked for already loaded."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from mercato.catalog.models import (
    App,
    AppVisibility,
    HostProduct,
    Listing,
    Operator,
    PriceTable,
    RevenueShareRate,
    Vendor,
    VendorStatus,
)

_LISTING_DETAILS = (
    selectinload(Listing.price_tables).options(
        selectinload(PriceTable.tier_prices), selectinload(PriceTable.cloud_brackets)
    ),
    selectinload(Listing.releases),
)


_published = Listing.published_at.is_not(None)


def _public_apps() -> tuple[ColumnElement[bool], ...]:
    """What the public catalog shows: public apps of active vendors with at least one published listing."""
    return (
        App.visibility == AppVisibility.PUBLIC,
        App.vendor.has(Vendor.status == VendorStatus.ACTIVE),
        App.listings.any(_published),
    )


def _app_query() -> Select[App]:
    return select(App).options(
        selectinload(App.vendor),
        selectinload(App.host_product),
        selectinload(App.listings).options(*_LISTING_DETAILS),
    )


class CatalogRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def operator(self) -> Operator | None:
        return self.session.scalars(select(Operator).order_by(Operator.created_at).limit(1)).first()

    def list_apps(
        self,
        *,
        hosting: str | None = None,
        vendor_slug: str | None = None,
        host_product_key: str | None = None,
        text: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[Sequence[App], int]:
        """A page of public apps (ordered by key) and the number of public apps that match the filters."""
        conditions = list(_public_apps())
        if hosting is not None:
            conditions.append(App.listings.any(and_(Listing.hosting == hosting, _published)))
        if vendor_slug is not None:
            conditions.append(App.vendor.has(Vendor.slug == vendor_slug))
        if host_product_key is not None:
            conditions.append(App.host_product.has(HostProduct.key == host_product_key))
        if text:
            pattern = f"%{text.lower()}%"
            conditions.append(or_(func.lower(App.name).like(pattern), func.lower(App.key).like(pattern)))
        total = self.session.scalar(select(func.count()).select_from(App).where(*conditions)) or 0
        page = self.session.scalars(
            _app_query().where(*conditions).order_by(App.key).limit(limit).offset(offset)
        )
        return page.all(), total

    def app_by_key(self, key: str) -> App | None:
        return self.session.scalars(_app_query().where(App.key == key)).first()

    def public_app(self, key: str) -> App | None:
        """The app if the public catalog shows it: public, of an active vendor, with a published listing."""
        return self.session.scalars(_app_query().where(App.key == key, *_public_apps())).first()

    def list_host_products(self) -> Sequence[HostProduct]:
        return self.session.scalars(select(HostProduct).order_by(HostProduct.key)).all()

    def host_product_by_key(self, key: str) -> HostProduct | None:
        return self.session.scalars(select(HostProduct).where(HostProduct.key == key)).first()

    def listings_of_host_product(self, host_product_id: object) -> Sequence[Listing]:
        return self.session.scalars(
            select(Listing)
            .options(*_LISTING_DETAILS)
            .where(Listing.host_product_id == host_product_id, Listing.app_id.is_(None))
            .order_by(Listing.hosting)
        ).all()

    def listing(self, product_key: str, hosting: str) -> Listing | None:
        """The listing of an app key or host product key in one hosting, with prices and releases."""
        return self.session.scalars(
            select(Listing)
            .options(*_LISTING_DETAILS, selectinload(Listing.app), selectinload(Listing.host_product))
            .where(Listing.product_key == product_key, Listing.hosting == hosting)
        ).first()

    def listings_of_product(self, product_key: str) -> Sequence[Listing]:
        return self.session.scalars(
            select(Listing).where(Listing.product_key == product_key).order_by(Listing.hosting)
        ).all()

    def revenue_share_rates(self, up_to: date | None = None) -> Sequence[RevenueShareRate]:
        query = select(RevenueShareRate).order_by(RevenueShareRate.effective_from)
        if up_to is not None:
            query = query.where(RevenueShareRate.effective_from <= up_to)
        return self.session.scalars(query).all()

    def vendor_by_slug(self, slug: str) -> Vendor | None:
        return self.session.scalars(select(Vendor).where(Vendor.slug == slug)).first()

    def is_empty(self) -> bool:
        return self.session.scalar(select(func.count()).select_from(Listing)) == 0

    def add(self, *objects: object) -> None:
        self.session.add_all(objects)
        self.session.flush()

    def vendor_by_id(self, vendor_id: object) -> Vendor | None:
        return self.session.get(Vendor, vendor_id)

    def host_product_by_id(self, host_product_id: object) -> HostProduct | None:
        return self.session.get(HostProduct, host_product_id)

    def seller_name(self, seller: str) -> str:
        """The name a seller of record (``operator`` or ``vendor:<slug>``) signs its invoices and e-mails with."""
        if seller == "operator":
            operator = self.operator()
            return operator.name if operator else "the marketplace"
        vendor = self.vendor_by_slug(seller.removeprefix("vendor:"))
        return vendor.name if vendor else seller

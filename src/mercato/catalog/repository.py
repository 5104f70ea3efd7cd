"""All catalog SQL. Returns ORM objects with the relationships the caller asked for already loaded."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum

from sqlalchemy import (
    ColumnElement,
    Select,
    SQLColumnExpression,
    and_,
    case,
    exists,
    false,
    func,
    inspect,
    literal_column,
    or_,
    select,
    union,
)
from sqlalchemy.orm import Session, aliased, joinedload, selectinload
from sqlalchemy.orm.util import identity_key

from mercato.catalog.models import (
    App,
    AppVisibility,
    HostProduct,
    Listing,
    Operator,
    PriceList,
    PriceTable,
    Release,
    RevenueShareRate,
    TierPrice,
    Vendor,
    VendorStatus,
)
from mercato.database import transaction_cache
from mercato.licenses.models import License, LicenseState
from mercato.paging import KeysetOrder, Page, PageRequest, fetch_page
from mercato.pricing import Channel, Hosting, currency_precision

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


class AppSort(StrEnum):
    KEY = "key"  # the app key, A to Z
    NAME = "name"  # the app name, A to Z (ignoring case)
    NEWEST = "newest"  # the app listed last first
    MOST_INSTALLED = "most_installed"  # the most active licenses first


SEARCH_CONFIG = "simple"
"""PostgreSQL text-search configuration: words as written (lower-cased), no language stemming, since app names
and vendors are proper names in any language. Migration 0009 indexes the same expressions."""


def _tsvector(column: SQLColumnExpression[str]) -> ColumnElement[object]:
    # Spelled exactly as the expression indexes of migration 0009, so PostgreSQL uses them.
    return func.to_tsvector(literal_column(f"'{SEARCH_CONFIG}'"), column)


def app_search_document(app: type[App] = App) -> ColumnElement[object]:
    """What PostgreSQL's full-text search reads of an app: its name and summary."""
    return _tsvector(app.name.op("||")(literal_column("' '")).op("||")(app.summary))


def vendor_search_document() -> ColumnElement[object]:
    return _tsvector(Vendor.name)


def _like_pattern(text: str) -> str:
    """``text`` anywhere in a value, with LIKE's own wildcards (and the escape character) taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _contains(column: SQLColumnExpression[str], text: str) -> ColumnElement[bool]:
    return func.lower(column).like(func.lower(_like_pattern(text)), escape="\\")


@dataclass(frozen=True)
class AppSearch:
    """What the app list is narrowed to and ordered by. Each filter is one SQL condition, so they combine
    with each other (and with any other condition) by AND; the listing filters (hosting, channel, price and
    ``public_only``) must all hold for one and the same listing of the app."""

    text: str | None = None
    host_product_key: str | None = None
    vendor_slug: str | None = None
    hosting: Hosting | None = None
    channel: Channel | None = None
    max_price: Decimal | None = None
    today: date | None = None
    """The day whose prices ``max_price`` compares with (the server's today)."""
    sort: AppSort = AppSort.KEY
    public_only: bool = False
    """Only public apps of active vendors, by their published listings: what is sold."""

    def app_conditions(self, dialect: str) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.host_product_key is not None:
            conditions.append(App.host_product.has(HostProduct.key == self.host_product_key))
        if self.vendor_slug is not None:
            conditions.append(App.vendor.has(Vendor.slug == self.vendor_slug))
        if self.text is not None and self.text.strip():
            conditions.append(self._text_condition(self.text.strip(), dialect))
        if self.public_only:
            conditions.append(App.visibility == AppVisibility.PUBLIC)
            conditions.append(App.vendor.has(Vendor.status == VendorStatus.ACTIVE))
        return conditions

    def listing_conditions(self, currencies: Iterable[str] = ()) -> list[ColumnElement[bool]]:
        """Conditions on one listing of the app. ``currencies``: the listing currencies in the catalog (the
        price limit is compared in each currency's minor units)."""
        conditions: list[ColumnElement[bool]] = []
        if self.hosting is not None:
            conditions.append(Listing.hosting == self.hosting)
        if self.channel is Channel.MARKETPLACE:
            conditions.append(Listing.sold_on_marketplace.is_(True))
        elif self.channel is Channel.DIRECT:
            conditions.append(Listing.sold_direct.is_(True))
        if self.max_price is not None:
            conditions.append(self._price_condition(self.max_price, currencies))
        if self.public_only:
            conditions.append(Listing.published_at.is_not(None))
        return conditions

    def conditions(self, dialect: str, currencies: Iterable[str] = ()) -> list[ColumnElement[bool]]:
        conditions = self.app_conditions(dialect)
        listing = self.listing_conditions(currencies)
        if listing:
            conditions.append(App.listings.any(and_(*listing)))
        return conditions

    def order(self, dialect: str) -> KeysetOrder:
        """The sort, then the key: every order is total, so pages never overlap or skip an app. A cursor holds
        the sort's value as the database computed it (a name lower-cased, a count of installs)."""
        name = f"apps:{self.sort.value}"
        if self.sort is AppSort.NAME:
            lowered = func.lower(App.name)
            # Byte order on both databases, whatever the PostgreSQL server's locale: the same pages everywhere.
            by_name = lowered.collate("C") if dialect == "postgresql" else lowered
            return KeysetOrder(name, by_name, App.key, str, str, descending=False)
        if self.sort is AppSort.NEWEST:
            return KeysetOrder(name, App.created_at, App.key, datetime, str, id_descending=False)
        if self.sort is AppSort.MOST_INSTALLED:
            return KeysetOrder(name, active_licenses_of_app(), App.key, int, str, id_descending=False)
        return KeysetOrder(name, App.key, App.key, str, str, descending=False)

    @staticmethod
    def _text_condition(text: str, dialect: str) -> ColumnElement[bool]:
        """The app's name or summary, or its vendor's name, hold the text; or the text is the app's key.

        PostgreSQL: full-text search (every word of the query, as whole words, in the app's name and summary
        or in the vendor's name; quotes, ``or`` and ``-word`` as in a web search engine). Elsewhere: the text
        as written, ignoring case, inside the name, the summary or the vendor's name."""
        if dialect == "postgresql":
            query = func.websearch_to_tsquery(literal_column(f"'{SEARCH_CONFIG}'"), text)
            # A union rather than OR: each part reads its own index (the key's, and the two text indexes).
            # Its own alias of apps, so that the parts do not correlate with the apps being filtered.
            apps = aliased(App)
            found = union(
                select(apps.id).where(apps.key == text),
                select(apps.id).where(app_search_document(apps).bool_op("@@")(query)),
                select(apps.id)
                .join(Vendor, Vendor.id == apps.vendor_id)
                .where(vendor_search_document().bool_op("@@")(query)),
            )
            return App.id.in_(found.scalar_subquery())
        return or_(
            App.key == text,
            _contains(App.name, text),
            _contains(App.summary, text),
            App.vendor.has(_contains(Vendor.name, text)),
        )

    def _price_condition(self, max_price: Decimal, currencies: Iterable[str]) -> ColumnElement[bool]:
        """The lowest list price of the listing, in the price table in force on ``today``, is at most
        ``max_price``: the price of some tier (server, Data Center), or the monthly price for up to 10 users
        (cloud)."""
        today = self.today
        if today is None:
            raise ValueError("a price filter needs the day whose prices it reads")
        later = aliased(PriceTable)
        in_force_from = func.coalesce(
            select(func.max(later.effective_from))
            .where(later.listing_id == Listing.id, later.effective_from <= today)
            .correlate(Listing)
            .scalar_subquery(),
            select(func.min(later.effective_from))
            .where(later.listing_id == Listing.id)
            .correlate(Listing)
            .scalar_subquery(),
        )
        by_currency: list[ColumnElement[bool]] = []
        for currency in sorted(set(currencies)):
            limit = int((max_price.scaleb(currency_precision(currency))).to_integral_value(ROUND_FLOOR))
            tier_within = exists(
                select(TierPrice.id).where(
                    TierPrice.price_table_id == PriceTable.id,
                    TierPrice.price_list == PriceList.STANDARD,
                    TierPrice.amount_minor <= limit,
                )
            )
            by_currency.append(
                and_(
                    Listing.currency == currency,
                    exists(
                        select(PriceTable.id)
                        .where(
                            PriceTable.listing_id == Listing.id,
                            PriceTable.effective_from == in_force_from,
                            or_(PriceTable.cloud_flat_monthly_minor <= limit, tier_within),
                        )
                        .correlate(Listing)
                    ),
                )
            )
        return or_(false(), *by_currency)


def seller_name_column(seller: SQLColumnExpression[str]) -> ColumnElement[str | None]:
    """The name a seller of record (``operator`` or ``vendor:<slug>``) signs with, as a column of a query that
    reads the seller anyway (a locked quote or invoice), so that its e-mail needs no query of its own. NULL when
    the operator or vendor is missing; ``CatalogRepository.remember_seller_name`` takes it."""
    operator = select(Operator.name).order_by(Operator.created_at).limit(1).scalar_subquery()
    vendor = (
        select(Vendor.name)
        .where(Vendor.slug == func.substr(seller, len(_VENDOR_PREFIX) + 1))
        .scalar_subquery()
    )
    return case((seller == _OPERATOR_SELLER, operator), else_=vendor)


def _with_app_and_vendor(listing: Listing) -> bool:
    """Whether the listing's app, and the app's vendor, are loaded (a host product's listing has no app)."""
    if "app" in inspect(listing).unloaded:
        return False
    return listing.app is None or "vendor" not in inspect(listing.app).unloaded


_OPERATOR_SELLER, _VENDOR_PREFIX = "operator", "vendor:"
_SELLER_NAMES = "seller names"
"""The ``transaction_cache`` of the seller names read with other rows."""


def active_licenses_of_app() -> ColumnElement[int]:
    """How many active licenses the app has (its installs), for the app of the enclosing query."""
    return (
        select(func.count(License.id))
        .where(License.product_key == App.key, License.status == LicenseState.ACTIVE)
        .correlate(App)
        .scalar_subquery()
    )


class CatalogRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def operator(self) -> Operator | None:
        return self.session.scalars(select(Operator).order_by(Operator.created_at).limit(1)).first()

    def list_apps(self, search: AppSearch, page: PageRequest = PageRequest()) -> Page[App]:
        """A page of the apps that match ``search``, in its order, and how many match in all (the catalog is
        short enough to count)."""
        dialect = self.session.get_bind().dialect.name
        currencies = self.listing_currencies() if search.max_price is not None else ()
        order = search.order(dialect)
        query = _app_query().add_columns(order.sort).where(*search.conditions(dialect, currencies))
        found = fetch_page(
            self.session,
            query,
            order,
            page,
            key_of=lambda row: (row[1], row[0].key),
            scalars=False,
            always_count=True,
        )
        return found.shown_as([row[0] for row in found.rows])

    def listing_currencies(self) -> Sequence[str]:
        return self.session.scalars(select(Listing.currency).distinct()).all()

    def app_by_key(self, key: str) -> App | None:
        return self.session.scalars(_app_query().where(App.key == key)).first()

    def public_app(self, key: str) -> App | None:
        """The app if the public catalog shows it: public, of an active vendor, with a published listing."""
        return self.session.scalars(_app_query().where(App.key == key, *_public_apps())).first()

    def list_host_products(self) -> Sequence[HostProduct]:
        return self.session.scalars(select(HostProduct).order_by(HostProduct.key)).all()

    def host_product_by_key(self, key: str) -> HostProduct | None:
        return self.session.scalars(select(HostProduct).where(HostProduct.key == key)).first()

    def app_listing_counts(self) -> dict[uuid.UUID, int]:
        """How many app listings (published or not) each host product has, by host product id."""
        rows = self.session.execute(
            select(Listing.host_product_id, func.count())
            .where(Listing.app_id.is_not(None))
            .group_by(Listing.host_product_id)
        ).all()
        return {host_product_id: count for host_product_id, count in rows}

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

    def listings(self, product_keys: Iterable[str], hosting: str) -> dict[str, Listing]:
        """The listings of several app or host product keys in one hosting, by key, with what pricing them
        reads: the app, its vendor, the host product, and the price tables with their prices, all joined. One
        query whatever the number of keys (a quote of many apps); releases are not loaded. A price table has
        tier prices (server, Data Center) or cloud brackets, not both, so joining the two multiplies no rows."""
        found = (
            self.session.scalars(
                select(Listing)
                .options(
                    joinedload(Listing.app).joinedload(App.vendor),
                    joinedload(Listing.host_product),
                    joinedload(Listing.price_tables).options(
                        joinedload(PriceTable.tier_prices), joinedload(PriceTable.cloud_brackets)
                    ),
                )
                .where(Listing.product_key.in_(set(product_keys)), Listing.hosting == hosting)
            )
            .unique()
            .all()
        )
        return {listing.product_key: listing for listing in found}

    def listings_by_id(self, listing_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Listing]:
        """Listings by id with their app and its vendor: a paid invoice's lines. Those this session holds with
        both loaded already (a locked invoice joins them) cost nothing; the others are one query (joined)."""
        wanted = set(listing_ids)
        known = self.held_listings(wanted)
        missing = wanted - known.keys()
        if missing:
            known.update(
                (listing.id, listing)
                for listing in self.session.scalars(
                    select(Listing)
                    .options(joinedload(Listing.app).joinedload(App.vendor))
                    .where(Listing.id.in_(missing))
                )
            )
        return known

    def held_listings(self, listing_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Listing]:
        """Of these listings, those this session holds with their app and the app's vendor loaded (no query)."""
        found = (self.session.identity_map.get(identity_key(Listing, id_)) for id_ in set(listing_ids))
        return {
            listing.id: listing
            for listing in found
            if isinstance(listing, Listing) and _with_app_and_vendor(listing)
        }

    def listing_by_id(self, listing_id: object) -> Listing | None:
        return self.session.get(Listing, listing_id)

    def release(self, listing_id: object, version: str) -> Release | None:
        return self.session.scalars(
            select(Release).where(Release.listing_id == listing_id, Release.version == version)
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

    def remember_seller_name(self, seller: str, name: str | None) -> None:
        """Keep a seller's name read with other rows (``seller_name_column``) for ``seller_name`` in this
        transaction: its e-mails then read no operator or vendor."""
        transaction_cache(self.session, _SELLER_NAMES)[seller] = name

    def seller_name(self, seller: str) -> str:
        """The name a seller of record (``operator`` or ``vendor:<slug>``) signs its invoices and e-mails with."""
        remembered = transaction_cache(self.session, _SELLER_NAMES)
        if seller in remembered:
            return remembered[seller] or ("the marketplace" if seller == _OPERATOR_SELLER else seller)
        if seller == "operator":
            operator = self.operator()
            return operator.name if operator else "the marketplace"
        vendor = self.vendor_by_slug(seller.removeprefix("vendor:"))
        return vendor.name if vendor else seller

"""All SQL of quotes, orders, invoices, payments and license history, including who may read what."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Subquery,
    false,
    func,
    inspect,
    literal,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import (
    Session,
    aliased,
    contains_eager,
    joinedload,
    make_transient_to_detached,
    selectinload,
)
from sqlalchemy.orm.util import identity_key

from mercato.accounts.access import Principal
from mercato.accounts.models import HostInstance, Organisation
from mercato.catalog.models import App, HostProduct, Listing, Vendor
from mercato.catalog.repository import CatalogRepository, seller_name_column
from mercato.commerce.models import (
    IdempotentRequest,
    Invoice,
    InvoiceLine,
    InvoiceSeries,
    InvoiceStatus,
    LineAction,
    Order,
    Quote,
    QuoteLine,
)
from mercato.keys.models import OPERATOR_ISSUER, SigningKey
from mercato.keys.repository import KeyRepository, signing_key_of
from mercato.licenses.models import License, LicenseEventKind, LicenseKey, LicenseState, LicenseTransaction
from mercato.paging import KeysetOrder, Page, PageRequest, fetch_page
from mercato.pricing import Channel, Hosting

# What presenting an invoice reads: its lines with their quote lines and licenses, and its payments.
_INVOICE_LOADS = (
    selectinload(Invoice.lines).selectinload(InvoiceLine.quote_line),
    selectinload(Invoice.lines).selectinload(InvoiceLine.license),
    selectinload(Invoice.payments),
)
_QUOTE_LOADS = (selectinload(Quote.lines).selectinload(QuoteLine.license),)
# An invoice locked for a change (a payment, a refund): its lines with their quote lines and what those sell (the
# listing, its app and vendor) joined to its row, its payments, and its order's quote with the quote's host
# instance and organisation (with the admins, who receive the keys): what settling it fulfils, in one query. The
# lines' licenses only where there are any.
_LOCKED_INVOICE_LOADS = (
    joinedload(Invoice.lines)
    .joinedload(InvoiceLine.quote_line)
    .joinedload(QuoteLine.listing)
    .joinedload(Listing.app)
    .joinedload(App.vendor),
    joinedload(Invoice.lines).selectinload(InvoiceLine.license),
    joinedload(Invoice.payments),
    contains_eager(Invoice.order)
    .contains_eager(Order.quote)
    .options(
        contains_eager(Quote.host_instance),
        contains_eager(Quote.organisation).joinedload(Organisation.admins),
    ),
)


@dataclass(frozen=True)
class LicenseFilters:
    """What a license list may be narrowed to; ``None`` leaves a field open."""

    product_key: str | None = None
    hosting: Hosting | None = None
    channel: Channel | None = None
    status: LicenseState | None = None
    host_instance_id: uuid.UUID | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        pairs = (
            (License.product_key, self.product_key),
            (License.hosting, self.hosting),
            (License.channel, self.channel),
            (License.status, self.status),
            (License.host_instance_id, self.host_instance_id),
        )
        return [column == value for column, value in pairs if value is not None]


# A license's listing and the listing's releases, loaded with the licenses (one query each for a whole page),
# for the newest release each license may install.
_WITH_RELEASES = selectinload(License.listing).selectinload(Listing.releases)

# The lists' orders; the indexes on (created_at, id), and on (organisation_id, created_at, id) for one
# organisation's rows, serve them (migration 0022).
LICENSES_NEWEST_FIRST = KeysetOrder("licenses", License.created_at, License.id, datetime, uuid.UUID)
QUOTES_NEWEST_FIRST = KeysetOrder("quotes", Quote.created_at, Quote.id, datetime, uuid.UUID)
INVOICES_NEWEST_FIRST = KeysetOrder("invoices", Invoice.created_at, Invoice.id, datetime, uuid.UUID)


def _first_holdings(rows: Iterable[Sequence[Any]]) -> dict[str, tuple[str, str | None]]:
    """``holdings`` from its rows (kind, product key, number), by product key: a license wins over an invoice
    waiting for payment, and of several the first in the rows' order."""
    held: dict[str, tuple[str, str | None]] = {}
    listed = list(rows)
    for wanted in ("license", "invoice"):
        for kind, product_key, number in listed:
            if kind == wanted:
                held.setdefault(product_key, (kind, number))
    return held


class CommerceRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, *objects: object) -> None:
        self.session.add_all(objects)
        self.session.flush()

    # -- who may read what ---------------------------------------------------------------------------------

    def seller_issuers_of(self, principal: Principal) -> list[str]:
        """The sellers of record a principal acts for: the marketplace for operator staff, and the direct
        store of each vendor whose team it is in."""
        sellers = [OPERATOR_ISSUER] if principal.operator else []
        if principal.vendor_member_of:
            slugs = self.session.scalars(select(Vendor.slug).where(Vendor.id.in_(principal.vendor_member_of)))
            sellers += [f"vendor:{slug}" for slug in slugs]
        return sellers

    def acts_for_seller(self, principal: Principal, seller: str) -> bool:
        """Operator staff for the marketplace, the vendor's own team (not operator staff) for its store."""
        return seller in self.seller_issuers_of(principal)

    def _readable_invoices(self, principal: Principal) -> ColumnElement[bool]:
        if principal.operator:
            return true()
        sellers = self.seller_issuers_of(principal)
        return or_(
            Invoice.organisation_id.in_(principal.organisations) if principal.organisations else false(),
            Invoice.seller.in_(sellers) if sellers else false(),
        )

    def can_read_invoice(self, principal: Principal, invoice: Invoice) -> bool:
        return principal.can_read_organisation(invoice.organisation_id) or self.acts_for_seller(
            principal, invoice.seller
        )

    @staticmethod
    def _readable_licenses(principal: Principal) -> ColumnElement[bool]:
        if principal.operator:
            return true()
        vendor_listings = (
            select(Listing.id)
            .join(App, App.id == Listing.app_id)
            .where(App.vendor_id.in_(principal.vendor_member_of))
        )
        return or_(
            License.organisation_id.in_(principal.organisations) if principal.organisations else false(),
            License.listing_id.in_(vendor_listings) if principal.vendor_member_of else false(),
        )

    def readable_license(self, principal: Principal, entitlement_number: str) -> License | None:
        return self.session.scalars(
            select(License)
            .options(_WITH_RELEASES)
            .where(License.entitlement_number == entitlement_number, self._readable_licenses(principal))
        ).first()

    def may_see_keys(self, principal: Principal, license: License) -> bool:
        """The keys themselves are shown to the organisation's admins and operator staff, and to the vendor for
        its direct licenses (billing contacts and marketplace vendors see that keys exist, not the keys)."""
        if principal.operator:
            return True
        if license.organisation_id is not None and license.organisation_id in principal.customer_admin_of:
            return True
        if license.channel != Channel.DIRECT or not principal.vendor_member_of:
            return False
        vendor_id = self.session.scalar(
            select(App.vendor_id)
            .join(Listing, Listing.app_id == App.id)
            .where(Listing.id == license.listing_id)
        )
        return vendor_id in principal.vendor_member_of

    # -- host instances and licenses -----------------------------------------------------------------------

    def host_instance(self, host_instance_id: uuid.UUID) -> HostInstance | None:
        return self.session.get(HostInstance, host_instance_id)

    def host_instance_with_product(
        self, host_instance_id: uuid.UUID
    ) -> tuple[HostInstance, HostProduct] | None:
        """The host instance and its host product, in one query (a quote needs both)."""
        row = self.session.execute(
            select(HostInstance, HostProduct)
            .join(HostProduct, HostProduct.id == HostInstance.host_product_id)
            .where(HostInstance.id == host_instance_id)
        ).first()
        return None if row is None else (row[0], row[1])

    def organisation(self, organisation_id: uuid.UUID) -> Organisation | None:
        return self.session.get(Organisation, organisation_id)

    def license_by_entitlement(self, entitlement_number: str) -> License | None:
        return self.session.scalars(
            select(License).where(License.entitlement_number == entitlement_number)
        ).first()

    def app_licenses_of_instance(self, host_instance_id: uuid.UUID) -> Sequence[License]:
        """The instance's app licenses (not the host product's own), by app and age."""
        return self.session.scalars(
            select(License)
            .join(Listing, Listing.id == License.listing_id)
            .where(License.host_instance_id == host_instance_id, Listing.app_id.is_not(None))
            .order_by(License.product_key, License.created_at)
        ).all()

    def holding(self, host_instance_id: uuid.UUID, product_key: str) -> tuple[str, str | None] | None:
        """What already licenses ``product_key`` on the instance: ``("license", entitlement number)`` for a
        license that is neither an evaluation nor closed, ``("invoice", invoice number)`` for an accepted quote
        whose invoice waits for payment and will make one; None if nothing does."""
        return self.holdings(host_instance_id, [product_key]).get(product_key)

    def holdings(
        self, host_instance_id: uuid.UUID, product_keys: Iterable[str]
    ) -> dict[str, tuple[str, str | None]]:
        """``holding`` of several products at once (one query whatever their number), by product key; the
        products nothing licenses are left out. A license wins over an invoice waiting for payment."""
        keys = set(product_keys)
        if not keys:
            return {}
        found = self._holdings_of(host_instance_id, keys)
        rows = self.session.execute(
            select(found.c.kind, found.c.product_key, found.c.number).order_by(
                found.c.product_key, found.c.number
            )
        ).all()
        return _first_holdings(rows)

    def host_instance_with_holdings(
        self, host_instance_id: uuid.UUID, product_keys: Iterable[str]
    ) -> tuple[HostInstance, HostProduct, dict[str, tuple[str, str | None]]] | None:
        """``host_instance_with_product`` and the instance's ``holdings`` of ``product_keys``, in one query (a
        quote buying them needs all three): each row the instance holds, joined to the instance and its host
        product (one row, with no holding, when it holds none of them)."""
        keys = set(product_keys)
        if not keys:
            found = self.host_instance_with_product(host_instance_id)
            return None if found is None else (found[0], found[1], {})
        held = self._holdings_of(host_instance_id, keys)
        rows = self.session.execute(
            select(HostInstance, HostProduct, held.c.kind, held.c.product_key, held.c.number)
            .join(HostProduct, HostProduct.id == HostInstance.host_product_id)
            .outerjoin(held, true())
            .where(HostInstance.id == host_instance_id)
            .order_by(held.c.product_key, held.c.number)
        ).all()
        if not rows:
            return None
        holdings = _first_holdings(
            [(kind, key, number) for _, _, kind, key, number in rows if kind is not None]
        )
        return rows[0][0], rows[0][1], holdings

    @staticmethod
    def _holdings_of(
        host_instance_id: uuid.UUID | ColumnElement[uuid.UUID], keys: set[str] | Select[str]
    ) -> Subquery:
        """What licenses the products on the instance, one row each (see ``holdings``), as a subquery; the
        instance and the products may be given as SQL (a quote's, read in the same query)."""
        licensed = select(
            literal("license").label("kind"),
            License.product_key.label("product_key"),
            License.entitlement_number.label("number"),
        ).where(
            License.host_instance_id == host_instance_id,
            License.product_key.in_(keys),
            License.evaluation.is_(False),
            License.status.not_in([LicenseState.CANCELLED, LicenseState.SUPERSEDED]),
        )
        waiting = (
            select(
                literal("invoice").label("kind"),
                QuoteLine.product_key.label("product_key"),
                Invoice.number.label("number"),
            )
            .join(Quote, Quote.id == QuoteLine.quote_id)
            .join(Order, Order.quote_id == Quote.id)
            .join(Invoice, Invoice.order_id == Order.id)
            .where(
                Quote.host_instance_id == host_instance_id,
                QuoteLine.product_key.in_(keys),
                QuoteLine.action.in_([LineAction.NEW, LineAction.CLOUD_SUBSCRIPTION]),
                Invoice.status == InvoiceStatus.OPEN,
            )
        )
        return union_all(licensed, waiting).subquery()

    def migration_waiting(self, license_id: uuid.UUID) -> str | None:
        """The number of an open invoice whose paid lines would move the license to the marketplace."""
        return self.session.scalar(
            select(Invoice.number)
            .join(Order, Order.id == Invoice.order_id)
            .join(QuoteLine, QuoteLine.quote_id == Order.quote_id)
            .where(
                QuoteLine.license_id == license_id,
                QuoteLine.action == LineAction.MIGRATION,
                Invoice.status == InvoiceStatus.OPEN,
            )
            .limit(1)
        )

    def evaluation_license(self, host_instance_id: uuid.UUID, product_key: str) -> License | None:
        return self.session.scalars(
            select(License)
            .where(
                License.host_instance_id == host_instance_id,
                License.product_key == product_key,
                License.evaluation.is_(True),
            )
            .order_by(License.created_at)
        ).first()

    def licenses(self, principal: Principal, filters: LicenseFilters, page: PageRequest) -> Page[License]:
        """The principal's licenses (see ``_readable_licenses``), newest first, narrowed by ``filters``."""
        conditions = [self._readable_licenses(principal), *filters.conditions()]
        query = select(License).options(_WITH_RELEASES).where(*conditions)
        return fetch_page(self.session, query, LICENSES_NEWEST_FIRST, page)

    def keys_of(self, license_id: uuid.UUID) -> Sequence[LicenseKey]:
        """The license's keys, oldest first; of keys issued in the same instant (a test clock, a migration right
        after a sale) the replaced ones come before the current one, as ``License.keys`` orders them."""
        return self.session.scalars(
            select(LicenseKey)
            .where(LicenseKey.license_id == license_id)
            .order_by(LicenseKey.issued_at, LicenseKey.superseded_at.is_(None), LicenseKey.serial)
        ).all()

    def transactions_of(self, license_id: uuid.UUID) -> Sequence[LicenseTransaction]:
        return self.session.scalars(
            select(LicenseTransaction)
            .where(LicenseTransaction.license_id == license_id)
            .order_by(LicenseTransaction.occurred_at, LicenseTransaction.id)
        ).all()

    def keys_of_licenses(self, license_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[LicenseKey]]:
        """The keys of many licenses at once (a page of licenses), each license's in the order of ``keys_of``."""
        found: dict[uuid.UUID, list[LicenseKey]] = {}
        ids = list(license_ids)
        if not ids:
            return found
        for key in self.session.scalars(
            select(LicenseKey)
            .where(LicenseKey.license_id.in_(ids))
            .order_by(LicenseKey.issued_at, LicenseKey.superseded_at.is_(None), LicenseKey.serial)
        ):
            found.setdefault(key.license_id, []).append(key)
        return found

    def invoices_of_lines(self, invoice_line_ids: Iterable[int]) -> dict[int, tuple[uuid.UUID, str]]:
        """The invoice (id and number) each of these invoice lines is on, for a license history's links."""
        ids = list(invoice_line_ids)
        if not ids:
            return {}
        rows = self.session.execute(
            select(InvoiceLine.id, Invoice.id, Invoice.number)
            .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
            .where(InvoiceLine.id.in_(ids))
        )
        return {line_id: (invoice_id, number) for line_id, invoice_id, number in rows}

    def count_history(self, license_id: uuid.UUID, kind: LicenseEventKind) -> int:
        return (
            self.session.scalar(
                select(func.count())
                .select_from(LicenseTransaction)
                .where(LicenseTransaction.license_id == license_id, LicenseTransaction.kind == kind)
            )
            or 0
        )

    def history_entry_of_line(self, license_id: uuid.UUID, invoice_line_id: int) -> LicenseTransaction | None:
        return self.session.scalars(
            select(LicenseTransaction)
            .where(
                LicenseTransaction.license_id == license_id,
                LicenseTransaction.invoice_line_id == invoice_line_id,
            )
            .order_by(LicenseTransaction.id)
        ).first()

    # -- quotes --------------------------------------------------------------------------------------------

    def quote(self, quote_id: uuid.UUID) -> Quote | None:
        query = select(Quote).options(*_QUOTE_LOADS).where(Quote.id == quote_id)
        return self.session.scalars(query).first()

    def quote_to_accept(self, quote_id: uuid.UUID) -> tuple[Quote, dict[str, tuple[str, str | None]]] | None:
        """The quote, locked, with what accepting it reads, in one query: its lines, its organisation and its
        seller's name (the invoice e-mail names both), and what its host instance already holds of the products
        it buys new (``holdings``: the once-per-host rule, checked again at acceptance).

        PostgreSQL: concurrent accepts of one quote queue here, on the quote's row alone (the rest is joined,
        not locked); the first finds it open, the others accepted. SQLite transactions already hold the write
        lock (BEGIN IMMEDIATE)."""
        asked, bought = aliased(Quote), aliased(QuoteLine)
        held = self._holdings_of(
            select(asked.host_instance_id).where(asked.id == quote_id).scalar_subquery(),
            select(bought.product_key).where(
                bought.quote_id == quote_id,
                bought.action.in_([LineAction.NEW, LineAction.CLOUD_SUBSCRIPTION]),
                bought.license_id.is_(None),
            ),
        )
        locked = (
            select(Quote, seller_name_column(Quote.seller), held.c.kind, held.c.product_key, held.c.number)
            .join(Quote.organisation)
            .outerjoin(held, true())
            .options(
                contains_eager(Quote.organisation),
                joinedload(Quote.lines).selectinload(QuoteLine.license),
            )
            .where(Quote.id == quote_id)
            .order_by(held.c.product_key, held.c.number)
            .with_for_update(of=Quote)
        )
        rows = self.session.execute(locked).unique().all()
        if not rows:
            return None
        quote, seller_name = rows[0][0], rows[0][1]
        CatalogRepository(self.session).remember_seller_name(quote.seller, seller_name)
        holdings = [(kind, key, number) for _, _, kind, key, number in rows if kind is not None]
        return quote, _first_holdings(holdings)

    def readable_quotes(self, principal: Principal, page: PageRequest) -> Page[Quote]:
        """The principal's organisations' quotes (operator staff: every quote), newest first."""
        visible = true() if principal.operator else Quote.organisation_id.in_(principal.organisations)
        query = select(Quote).options(*_QUOTE_LOADS).where(visible)
        return fetch_page(self.session, query, QUOTES_NEWEST_FIRST, page)

    def quote_lines_by_id(self, ids: Iterable[int]) -> dict[int, QuoteLine]:
        rows = self.session.scalars(select(QuoteLine).where(QuoteLine.id.in_(list(ids)))).all()
        return {row.id: row for row in rows}

    def quote_of_invoice(self, invoice: Invoice) -> tuple[Quote, HostInstance]:
        """The invoice's quote, without its lines (the invoice's lines hold theirs), and the quote's host
        instance: what a payment that settles the invoice fulfils. A locked invoice has them loaded already;
        otherwise one query."""
        if "order" not in inspect(invoice).unloaded:
            quote = invoice.order.quote
            return quote, quote.host_instance
        quote, instance = self.session.execute(
            select(Quote, HostInstance)
            .join(Order, Order.quote_id == Quote.id)
            .join(HostInstance, HostInstance.id == Quote.host_instance_id)
            .where(Order.id == invoice.order_id)
        ).one()
        return quote, instance

    def insert_quote_unless_number_taken(self, quote: Quote) -> bool:
        """Insert the row of a new quote (not in the session yet) unless another quote carries its number: one
        statement, in which the number's unique constraint decides (``ON CONFLICT DO NOTHING``), so no check
        reads the quotes before. Inserted, the quote joins the session as it is, and its lines are written with
        the next flush; False (nothing written) when its number is taken."""
        values = {column.key: getattr(quote, column.key) for column in inspect(Quote).column_attrs}
        dialect = self.session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        inserted = self.session.execute(
            insert(Quote)
            .values(values)
            .on_conflict_do_nothing(index_elements=[Quote.number])
            .returning(Quote.id)
        ).scalar_one_or_none()
        if inserted is None:
            return False
        lines = list(quote.lines)
        quote.lines = []
        make_transient_to_detached(quote)  # its row exists: the session is not to insert it again
        self.session.add(quote)
        quote.lines.extend(lines)
        return True

    def quote_numbers_taken(self, numbers: Iterable[str]) -> set[str]:
        """Which of ``numbers`` quotes already carry (one query, however many numbers)."""
        return set(self.session.scalars(select(Quote.number).where(Quote.number.in_(set(numbers)))))

    def organisations(self, organisation_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Organisation]:
        """Several organisations by id: those this session holds already, the others in one query."""
        wanted = set(organisation_ids)
        known: dict[uuid.UUID, Organisation] = {}
        for organisation_id in wanted:
            loaded = self.session.identity_map.get(identity_key(Organisation, organisation_id))
            if isinstance(loaded, Organisation):
                known[organisation_id] = loaded
        missing = wanted - known.keys()
        if missing:
            known.update(
                (organisation.id, organisation)
                for organisation in self.session.scalars(
                    select(Organisation).where(Organisation.id.in_(missing))
                )
            )
        return known

    # -- orders and invoices -------------------------------------------------------------------------------

    def order_of_quote(self, quote_id: uuid.UUID) -> Order | None:
        return self.session.scalars(select(Order).where(Order.quote_id == quote_id)).first()

    def invoice_of_order(self, order_id: uuid.UUID) -> Invoice | None:
        return self.session.scalars(
            select(Invoice).options(*_INVOICE_LOADS).where(Invoice.order_id == order_id)
        ).first()

    def invoice(self, invoice_id: uuid.UUID, *, for_update: bool = False) -> Invoice | None:
        if for_update:
            # Only the invoice's row is locked (FOR UPDATE OF invoices), not the rows joined to it.
            # With the seller's name and signing key, which the keys its payment signs and their e-mail need.
            locked = (
                select(Invoice, seller_name_column(Invoice.seller), SigningKey)
                .join(Invoice.order)
                .join(Order.quote)
                .join(Quote.host_instance)
                .join(Quote.organisation)
                .outerjoin(SigningKey, signing_key_of(Invoice.seller))
                .options(*_LOCKED_INVOICE_LOADS)
                .where(Invoice.id == invoice_id)
                .with_for_update(of=Invoice)
            )
            row = self.session.execute(locked).unique().first()
            if row is None:
                return None
            invoice, seller_name, signing_key = row
            CatalogRepository(self.session).remember_seller_name(invoice.seller, seller_name)
            KeyRepository(self.session).remember_signing_key(invoice.seller, signing_key)
            return invoice
        query = select(Invoice).options(*_INVOICE_LOADS).where(Invoice.id == invoice_id)
        return self.session.scalars(query).first()

    def readable_invoices(
        self,
        principal: Principal,
        page: PageRequest,
        *,
        status: InvoiceStatus | None = None,
        organisation_id: uuid.UUID | None = None,
        seller: str | None = None,
    ) -> Page[Invoice]:
        """Invoices of the principal's organisations and the direct-store invoices of its vendors, narrowed to
        one status, one organisation and one seller of record when given."""
        conditions = [self._readable_invoices(principal)]
        if status is not None:
            conditions.append(Invoice.status == status)
        if organisation_id is not None:
            conditions.append(Invoice.organisation_id == organisation_id)
        if seller is not None:
            conditions.append(Invoice.seller == seller)
        query = select(Invoice).options(*_INVOICE_LOADS).where(*conditions)
        return fetch_page(self.session, query, INVOICES_NEWEST_FIRST, page)

    def take_invoice_number(self, seller: str, prefix: str) -> int:
        """The seller's next invoice number, advanced in this transaction: gapless, never handed out twice
        (the row update locks the series until the transaction ends)."""
        return self.take_invoice_numbers(seller, prefix, 1)

    def take_invoice_numbers(self, seller: str, prefix: str, count: int) -> int:
        """The first of the seller's next ``count`` invoice numbers, taken together in this transaction (a
        billing run's invoices take a block in one statement): gapless, never handed out twice."""
        advance = (
            update(InvoiceSeries)
            .where(InvoiceSeries.seller == seller)
            .values(next_number=InvoiceSeries.next_number + count)
            .returning(InvoiceSeries.next_number)
        )
        taken = self.session.execute(advance).scalar_one_or_none()
        if taken is None:
            # The seller's first invoice creates its series; concurrent first invoices must not both create it.
            dialect = self.session.get_bind().dialect.name
            insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
            self.session.execute(
                insert(InvoiceSeries)
                .values(seller=seller, prefix=prefix, next_number=1)
                .on_conflict_do_nothing()
            )
            taken = self.session.execute(advance).scalar_one()
        return int(taken) - count

    # -- idempotency ---------------------------------------------------------------------------------------

    def idempotent_request(self, scope: str, key: str) -> IdempotentRequest | None:
        return self.session.scalars(
            select(IdempotentRequest).where(IdempotentRequest.scope == scope, IdempotentRequest.key == key)
        ).first()

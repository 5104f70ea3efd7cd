"""All SQL of quotes, orders, invoices, payments and license history, including who may read what."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, func, or_, select, true, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, selectinload

from mercato.accounts.access import Principal
from mercato.accounts.models import HostInstance, Organisation
from mercato.catalog.models import App, Listing, Vendor
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
from mercato.keys.models import OPERATOR_ISSUER
from mercato.licenses.models import License, LicenseEventKind, LicenseKey, LicenseState, LicenseTransaction
from mercato.pricing import Channel, Hosting

# What presenting an invoice reads: its lines with their quote lines and licenses, and its payments.
_INVOICE_LOADS = (
    selectinload(Invoice.lines).selectinload(InvoiceLine.quote_line),
    selectinload(Invoice.lines).selectinload(InvoiceLine.license),
    selectinload(Invoice.payments),
)
_QUOTE_LOADS = (selectinload(Quote.lines).selectinload(QuoteLine.license),)


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
        license = self.session.scalars(
            select(License)
            .where(
                License.host_instance_id == host_instance_id,
                License.product_key == product_key,
                License.evaluation.is_(False),
                License.status.not_in([LicenseState.CANCELLED, LicenseState.SUPERSEDED]),
            )
            .limit(1)
        ).first()
        if license is not None:
            return "license", license.entitlement_number
        waiting = self.session.scalar(
            select(Invoice.number)
            .join(Order, Order.id == Invoice.order_id)
            .join(Quote, Quote.id == Order.quote_id)
            .join(QuoteLine, QuoteLine.quote_id == Quote.id)
            .where(
                Quote.host_instance_id == host_instance_id,
                QuoteLine.product_key == product_key,
                QuoteLine.action.in_([LineAction.NEW, LineAction.CLOUD_SUBSCRIPTION]),
                Invoice.status == InvoiceStatus.OPEN,
            )
            .limit(1)
        )
        return ("invoice", waiting) if waiting is not None else None

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

    def licenses(
        self, principal: Principal, filters: LicenseFilters, limit: int, offset: int
    ) -> tuple[Sequence[License], int]:
        conditions = [self._readable_licenses(principal), *filters.conditions()]
        total = self.session.scalar(select(func.count()).select_from(License).where(*conditions)) or 0
        rows = self.session.scalars(
            select(License)
            .options(_WITH_RELEASES)
            .where(*conditions)
            .order_by(License.created_at.desc())
            .limit(limit)
            .offset(offset)
        ).all()
        return rows, total

    def keys_of(self, license_id: uuid.UUID) -> Sequence[LicenseKey]:
        return self.session.scalars(
            select(LicenseKey).where(LicenseKey.license_id == license_id).order_by(LicenseKey.issued_at)
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
            select(LicenseKey).where(LicenseKey.license_id.in_(ids)).order_by(LicenseKey.issued_at)
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

    def quote(self, quote_id: uuid.UUID, *, for_update: bool = False) -> Quote | None:
        query = select(Quote).options(*_QUOTE_LOADS).where(Quote.id == quote_id)
        if for_update:
            # PostgreSQL: concurrent accepts of one quote queue here. SQLite transactions already hold the
            # write lock (BEGIN IMMEDIATE), so the clause is not needed there.
            query = query.with_for_update(of=Quote)
        return self.session.scalars(query).first()

    def readable_quotes(self, principal: Principal, limit: int, offset: int) -> tuple[Sequence[Quote], int]:
        """The principal's organisations' quotes (operator staff: every quote), newest first."""
        visible = true() if principal.operator else Quote.organisation_id.in_(principal.organisations)
        total = self.session.scalar(select(func.count()).select_from(Quote).where(visible)) or 0
        rows = self.session.scalars(
            select(Quote)
            .options(*_QUOTE_LOADS)
            .where(visible)
            .order_by(Quote.created_at.desc())
            .limit(limit)
            .offset(offset)
        ).all()
        return rows, total

    def quote_lines_by_id(self, ids: Iterable[int]) -> dict[int, QuoteLine]:
        rows = self.session.scalars(select(QuoteLine).where(QuoteLine.id.in_(list(ids)))).all()
        return {row.id: row for row in rows}

    def quote_of_invoice(self, invoice: Invoice) -> Quote:
        quote = self.session.scalars(
            select(Quote)
            .options(*_QUOTE_LOADS)
            .join(Order, Order.quote_id == Quote.id)
            .where(Order.id == invoice.order_id)
        ).one()
        return quote

    def quote_number_exists(self, number: str) -> bool:
        return self.session.scalar(select(Quote.id).where(Quote.number == number)) is not None

    # -- orders and invoices -------------------------------------------------------------------------------

    def order_of_quote(self, quote_id: uuid.UUID) -> Order | None:
        return self.session.scalars(select(Order).where(Order.quote_id == quote_id)).first()

    def invoice_of_order(self, order_id: uuid.UUID) -> Invoice | None:
        return self.session.scalars(
            select(Invoice).options(*_INVOICE_LOADS).where(Invoice.order_id == order_id)
        ).first()

    def invoice(self, invoice_id: uuid.UUID, *, for_update: bool = False) -> Invoice | None:
        query = select(Invoice).options(*_INVOICE_LOADS).where(Invoice.id == invoice_id)
        if for_update:
            query = query.with_for_update(of=Invoice)
        return self.session.scalars(query).first()

    def readable_invoices(
        self,
        principal: Principal,
        limit: int,
        offset: int,
        *,
        status: InvoiceStatus | None = None,
        organisation_id: uuid.UUID | None = None,
        seller: str | None = None,
    ) -> tuple[Sequence[Invoice], int]:
        """Invoices of the principal's organisations and the direct-store invoices of its vendors, narrowed to
        one status, one organisation and one seller of record when given."""
        conditions = [self._readable_invoices(principal)]
        if status is not None:
            conditions.append(Invoice.status == status)
        if organisation_id is not None:
            conditions.append(Invoice.organisation_id == organisation_id)
        if seller is not None:
            conditions.append(Invoice.seller == seller)
        total = self.session.scalar(select(func.count()).select_from(Invoice).where(*conditions)) or 0
        rows = self.session.scalars(
            select(Invoice)
            .options(*_INVOICE_LOADS)
            .where(*conditions)
            .order_by(Invoice.created_at.desc())
            .limit(limit)
            .offset(offset)
        ).all()
        return rows, total

    def take_invoice_number(self, seller: str, prefix: str) -> int:
        """The seller's next invoice number, advanced in this transaction: gapless, never handed out twice
        (the row update locks the series until the transaction ends)."""
        # The seller's first invoice creates its series; concurrent first invoices must not both create it.
        insert = postgresql_insert if self.session.get_bind().dialect.name == "postgresql" else sqlite_insert
        self.session.execute(
            insert(InvoiceSeries).values(seller=seller, prefix=prefix, next_number=1).on_conflict_do_nothing()
        )
        taken = self.session.execute(
            update(InvoiceSeries)
            .where(InvoiceSeries.seller == seller)
            .values(next_number=InvoiceSeries.next_number + 1)
            .returning(InvoiceSeries.next_number)
        ).scalar_one()
        return int(taken) - 1

    # -- idempotency ---------------------------------------------------------------------------------------

    def idempotent_request(self, scope: str, key: str) -> IdempotentRequest | None:
        return self.session.scalars(
            select(IdempotentRequest).where(IdempotentRequest.scope == scope, IdempotentRequest.key == key)
        ).first()

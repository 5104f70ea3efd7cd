"""All SQL of quotes, orders, invoices, payments and license history."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import ColumnElement, func, select, true, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, selectinload

from mercato.accounts.models import HostInstance, Organisation
from mercato.commerce.models import (
    IdempotentRequest,
    Invoice,
    InvoiceSeries,
    LicenseTransaction,
    Order,
    Quote,
    QuoteLine,
)
from mercato.licenses.models import License


class CommerceRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, *objects: object) -> None:
        self.session.add_all(objects)
        self.session.flush()

    # -- host instances and licenses -----------------------------------------------------------------------

    def host_instance(self, host_instance_id: uuid.UUID) -> HostInstance | None:
        return self.session.get(HostInstance, host_instance_id)

    def organisation(self, organisation_id: uuid.UUID) -> Organisation | None:
        return self.session.get(Organisation, organisation_id)

    def license_by_entitlement(self, entitlement_number: str) -> License | None:
        return self.session.scalars(
            select(License).where(License.entitlement_number == entitlement_number)
        ).first()

    def licenses_of_instance(self, host_instance_id: uuid.UUID) -> Sequence[License]:
        return self.session.scalars(
            select(License)
            .where(License.host_instance_id == host_instance_id)
            .order_by(License.product_key, License.created_at)
        ).all()

    def licenses(
        self, visible: ColumnElement[bool], filters: Iterable[ColumnElement[bool]], limit: int, offset: int
    ) -> tuple[Sequence[License], int]:
        conditions = [visible, *filters]
        total = self.session.scalar(select(func.count()).select_from(License).where(*conditions)) or 0
        rows = self.session.scalars(
            select(License).where(*conditions).order_by(License.created_at.desc()).limit(limit).offset(offset)
        ).all()
        return rows, total

    def transactions_of(self, license_id: uuid.UUID) -> Sequence[LicenseTransaction]:
        return self.session.scalars(
            select(LicenseTransaction)
            .where(LicenseTransaction.license_id == license_id)
            .order_by(LicenseTransaction.occurred_at, LicenseTransaction.id)
        ).all()

    # -- quotes --------------------------------------------------------------------------------------------

    def quote(self, quote_id: uuid.UUID, *, for_update: bool = False) -> Quote | None:
        query = select(Quote).options(selectinload(Quote.lines)).where(Quote.id == quote_id)
        if for_update:
            # PostgreSQL: concurrent accepts of one quote queue here. SQLite transactions already hold the
            # write lock (BEGIN IMMEDIATE), so the clause is not needed there.
            query = query.with_for_update(of=Quote)
        return self.session.scalars(query).first()

    def quotes(
        self, organisation_ids: frozenset[uuid.UUID] | None, limit: int, offset: int
    ) -> tuple[Sequence[Quote], int]:
        visible = true() if organisation_ids is None else Quote.organisation_id.in_(organisation_ids)
        total = self.session.scalar(select(func.count()).select_from(Quote).where(visible)) or 0
        rows = self.session.scalars(
            select(Quote)
            .options(selectinload(Quote.lines))
            .where(visible)
            .order_by(Quote.created_at.desc())
            .limit(limit)
            .offset(offset)
        ).all()
        return rows, total

    def quote_lines_by_id(self, ids: Iterable[int]) -> dict[int, QuoteLine]:
        rows = self.session.scalars(select(QuoteLine).where(QuoteLine.id.in_(list(ids)))).all()
        return {row.id: row for row in rows}

    def quote_number_exists(self, number: str) -> bool:
        return self.session.scalar(select(Quote.id).where(Quote.number == number)) is not None

    # -- orders and invoices -------------------------------------------------------------------------------

    def order_of_quote(self, quote_id: uuid.UUID) -> Order | None:
        return self.session.scalars(select(Order).where(Order.quote_id == quote_id)).first()

    def invoice_of_order(self, order_id: uuid.UUID) -> Invoice | None:
        return self.session.scalars(
            select(Invoice)
            .options(selectinload(Invoice.lines), selectinload(Invoice.payments))
            .where(Invoice.order_id == order_id)
        ).first()

    def invoice(self, invoice_id: uuid.UUID, *, for_update: bool = False) -> Invoice | None:
        query = (
            select(Invoice)
            .options(selectinload(Invoice.lines), selectinload(Invoice.payments))
            .where(Invoice.id == invoice_id)
        )
        if for_update:
            query = query.with_for_update(of=Invoice)
        return self.session.scalars(query).first()

    def invoices(
        self, visible: ColumnElement[bool], limit: int, offset: int
    ) -> tuple[Sequence[Invoice], int]:
        total = self.session.scalar(select(func.count()).select_from(Invoice).where(visible)) or 0
        rows = self.session.scalars(
            select(Invoice)
            .options(selectinload(Invoice.lines), selectinload(Invoice.payments))
            .where(visible)
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

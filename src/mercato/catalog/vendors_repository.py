"""All SQL about vendors: profiles, their teams, their revenue-share agreements, and what turning the direct
store on writes (the invoice series). Returns ORM rows; the rules are in ``catalog.vendors``."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import cast

from sqlalchemy import ColumnElement, delete, func, null, select, union_all
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mercato.accounts.models import Membership, Role, User
from mercato.catalog.models import RevenueShareRate, Vendor, VendorRevenueShare, VendorStatus
from mercato.commerce.models import InvoiceSeries
from mercato.paging import KeysetOrder, Page, PageRequest, fetch_page
from mercato.pricing import Hosting
from mercato.problems import Problem

VENDORS_BY_SLUG = KeysetOrder("vendors", Vendor.slug, Vendor.id, str, uuid.UUID, descending=False)


def selling_vendor() -> ColumnElement[bool]:
    """SQL condition on ``Vendor``: its apps may be sold (it is active: not pending approval, not suspended)."""
    return Vendor.status == VendorStatus.ACTIVE


def selling_direct_vendor() -> ColumnElement[bool]:
    """SQL condition on ``Vendor``: it may sell on its own bills now (active, with its direct store on)."""
    return (Vendor.status == VendorStatus.ACTIVE) & Vendor.direct_store.is_(True)


@dataclass(frozen=True)
class VendorMember:
    membership: Membership
    user: User


class VendorsRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, *objects: object) -> None:
        self.session.add_all(objects)
        self.session.flush()

    def add_unique(self, row: object, conflict: Problem) -> None:
        """Insert a row a unique constraint guards; a concurrent insert of the same key gets ``conflict``."""
        try:
            with self.session.begin_nested():
                self.session.add(row)
                self.session.flush()
        except IntegrityError:
            raise conflict from None

    # -- vendors -------------------------------------------------------------------------------------------

    def vendor_by_slug(self, slug: str) -> Vendor | None:
        return self.session.scalars(select(Vendor).where(Vendor.slug == slug)).first()

    def lock_vendor(self, vendor: Vendor) -> None:
        """Re-read the vendor under a row lock (PostgreSQL) so changes of one vendor take turns; SQLite's unit
        of work holds the database's write lock already."""
        self.session.refresh(vendor, with_for_update=True)

    def list_vendors(
        self,
        *,
        only: Collection[uuid.UUID] | None,
        status: str | None = None,
        page: PageRequest = PageRequest(),
    ) -> Page[Vendor]:
        """A page of vendors by slug, limited to the ids in ``only`` unless it is None, always counted (vendors
        are few)."""
        conditions: list[ColumnElement[bool]] = []
        if only is not None:
            conditions.append(Vendor.id.in_(list(only)))
        if status is not None:
            conditions.append(Vendor.status == status)
        query = select(Vendor).where(*conditions)
        return fetch_page(self.session, query, VENDORS_BY_SLUG, page, always_count=True)

    def is_selling(self, vendor_id: uuid.UUID) -> bool:
        """Whether the vendor's apps may be sold now (see ``selling_vendor``)."""
        return bool(self.session.scalar(select(func.count()).where(Vendor.id == vendor_id, selling_vendor())))

    def is_selling_direct(self, vendor_id: uuid.UUID) -> bool:
        """Whether the vendor may sell on its own bills now (see ``selling_direct_vendor``)."""
        return bool(
            self.session.scalar(select(func.count()).where(Vendor.id == vendor_id, selling_direct_vendor()))
        )

    # -- members -------------------------------------------------------------------------------------------

    def members_of(self, vendor_id: uuid.UUID) -> list[VendorMember]:
        rows = self.session.execute(
            select(Membership, User)
            .join(User, User.id == Membership.user_id)
            .where(Membership.vendor_id == vendor_id, Membership.role == Role.VENDOR_MEMBER)
            .order_by(User.email)
        ).all()
        return [VendorMember(m, u) for m, u in rows]

    def membership(self, vendor_id: uuid.UUID, user_id: uuid.UUID) -> Membership | None:
        return self.session.scalars(
            select(Membership).where(
                Membership.vendor_id == vendor_id,
                Membership.user_id == user_id,
                Membership.role == Role.VENDOR_MEMBER,
            )
        ).first()

    def remove(self, membership: Membership) -> None:
        self.session.execute(delete(Membership).where(Membership.id == membership.id))
        self.session.flush()

    # -- revenue share -------------------------------------------------------------------------------------

    def standard_rates(self) -> Sequence[RevenueShareRate]:
        return self.session.scalars(select(RevenueShareRate).order_by(RevenueShareRate.effective_from)).all()

    def agreement_of(self, vendor_id: uuid.UUID) -> Sequence[VendorRevenueShare]:
        """The vendor's own revenue-share rates, by hosting and date."""
        return self.session.scalars(
            select(VendorRevenueShare)
            .where(VendorRevenueShare.vendor_id == vendor_id)
            .order_by(VendorRevenueShare.hosting, VendorRevenueShare.effective_from)
        ).all()

    def agreements_of(self, vendor_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[VendorRevenueShare]]:
        """``agreement_of`` several vendors in one query, by vendor (vendors without rates are left out)."""
        found: dict[uuid.UUID, list[VendorRevenueShare]] = {}
        ids = set(vendor_ids)
        if not ids:
            return found
        for rate in self.session.scalars(
            select(VendorRevenueShare)
            .where(VendorRevenueShare.vendor_id.in_(ids))
            .order_by(VendorRevenueShare.hosting, VendorRevenueShare.effective_from)
        ):
            found.setdefault(rate.vendor_id, []).append(rate)
        return found

    def standard_rates_and_agreements_of(
        self, vendor_ids: Iterable[uuid.UUID]
    ) -> tuple[list[RevenueShareRate], dict[uuid.UUID, list[VendorRevenueShare]]]:
        """``standard_rates`` and ``agreements_of`` together, in one query (a quote's first look at revenue
        shares). The rates are new objects, not rows of the session: read them, do not change them."""
        own = select(
            VendorRevenueShare.vendor_id,
            VendorRevenueShare.hosting,
            VendorRevenueShare.effective_from,
            VendorRevenueShare.vendor_share,
        ).where(VendorRevenueShare.vendor_id.in_(set(vendor_ids)))
        standard = select(
            null(), RevenueShareRate.hosting, RevenueShareRate.effective_from, RevenueShareRate.vendor_share
        )
        rates: list[RevenueShareRate] = []
        found: dict[uuid.UUID, list[VendorRevenueShare]] = {}
        # The vendors' rates first: the union's columns take the first select's types (the vendor's id).
        rows = cast(
            "Iterable[tuple[uuid.UUID | None, Hosting, date, Decimal]]",
            self.session.execute(union_all(own, standard)).all(),
        )
        for vendor_id, hosting, effective_from, vendor_share in rows:
            if vendor_id is None:
                rates.append(
                    RevenueShareRate(
                        hosting=hosting, effective_from=effective_from, vendor_share=vendor_share
                    )
                )
            else:
                found.setdefault(vendor_id, []).append(
                    VendorRevenueShare(
                        vendor_id=vendor_id,
                        hosting=hosting,
                        effective_from=effective_from,
                        vendor_share=vendor_share,
                    )
                )
        rates.sort(key=lambda rate: rate.effective_from)
        for agreement in found.values():
            agreement.sort(key=lambda rate: (rate.hosting, rate.effective_from))
        return rates, found

    def replace_agreement(self, vendor_id: uuid.UUID, rates: Sequence[VendorRevenueShare]) -> None:
        self.session.execute(delete(VendorRevenueShare).where(VendorRevenueShare.vendor_id == vendor_id))
        self.session.add_all(rates)
        self.session.flush()

    # -- direct store --------------------------------------------------------------------------------------

    def ensure_invoice_series(self, seller: str, prefix: str) -> None:
        """The seller's invoice series, created once however many requests race (the seller is its key)."""
        insert = postgresql_insert if self.session.get_bind().dialect.name == "postgresql" else sqlite_insert
        self.session.execute(
            insert(InvoiceSeries).values(seller=seller, prefix=prefix, next_number=1).on_conflict_do_nothing()
        )

    def invoice_series(self, seller: str) -> InvoiceSeries | None:
        return self.session.get(InvoiceSeries, seller)

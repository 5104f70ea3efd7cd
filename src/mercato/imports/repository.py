"""All SQL of imports: earlier imports and references, and the lookups that check a file against the database."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mercato.accounts.models import HostInstance, Membership, Organisation, User
from mercato.catalog.models import HostProduct
from mercato.imports.models import ImportedLicense, LicenseImport
from mercato.licenses.models import License, LicenseState
from mercato.paging import KeysetOrder, Page, PageRequest, fetch_page

IMPORTS_NEWEST_FIRST = KeysetOrder(
    "license-imports", LicenseImport.created_at, LicenseImport.id, datetime, uuid.UUID
)


class ImportRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- imports ------------------------------------------------------------------------------------------------

    def import_by_hash(self, vendor_id: uuid.UUID, sha256: str) -> LicenseImport | None:
        return self.session.scalars(
            select(LicenseImport).where(LicenseImport.vendor_id == vendor_id, LicenseImport.sha256 == sha256)
        ).first()

    def imports_of(self, vendor_id: uuid.UUID, page: PageRequest) -> Page[LicenseImport]:
        """The vendor's imports, newest first."""
        query = select(LicenseImport).where(LicenseImport.vendor_id == vendor_id)
        return fetch_page(self.session, query, IMPORTS_NEWEST_FIRST, page)

    def imported(self, vendor_id: uuid.UUID, references: Iterable[str]) -> dict[str, ImportedLicense]:
        """The references of this vendor imported before, by reference."""
        wanted = list(set(references))
        found: dict[str, ImportedLicense] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            found.update(
                (row.reference, row)
                for row in self.session.scalars(
                    select(ImportedLicense).where(
                        ImportedLicense.vendor_id == vendor_id, ImportedLicense.reference.in_(chunk)
                    )
                )
            )
        return found

    def licenses_of_import(self, import_id: uuid.UUID) -> list[tuple[ImportedLicense, str]]:
        """The references an import wrote, with their licenses' entitlement numbers, in file order."""
        rows = self.session.execute(
            select(ImportedLicense, License.entitlement_number)
            .join(License, License.id == ImportedLicense.license_id)
            .where(ImportedLicense.import_id == import_id)
            .order_by(ImportedLicense.line)
        ).all()
        return [(row[0], row[1]) for row in rows]

    def taken_entitlement_numbers(self, numbers: Iterable[str]) -> set[str]:
        wanted = list(numbers)
        taken: set[str] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            taken.update(
                self.session.scalars(
                    select(License.entitlement_number).where(License.entitlement_number.in_(chunk))
                )
            )
        return taken

    def add(self, *objects: object) -> None:
        self.session.add_all(objects)
        self.session.flush()

    # -- what a file is checked against -------------------------------------------------------------------------

    def organisations_named(self, reference: str) -> list[Organisation]:
        """The organisation with this slug, else those with exactly this name."""
        by_slug = self.session.scalars(
            select(Organisation).where(Organisation.slug == reference.strip().lower())
        ).first()
        if by_slug is not None:
            return [by_slug]
        return list(
            self.session.scalars(
                select(Organisation).where(Organisation.name == reference).order_by(Organisation.slug)
            )
        )

    def slug_taken(self, slug: str) -> bool:
        return self.session.scalar(select(Organisation.id).where(Organisation.slug == slug)) is not None

    def host_product(self, key: str) -> HostProduct | None:
        return self.session.scalars(select(HostProduct).where(HostProduct.key == key)).first()

    def host_instance(self, host_product_id: uuid.UUID, hosting: str, server_id: str) -> HostInstance | None:
        return self.session.scalars(
            select(HostInstance).where(
                HostInstance.host_product_id == host_product_id,
                HostInstance.hosting == hosting,
                HostInstance.server_id == server_id,
            )
        ).first()

    def license_on(self, host_instance_id: uuid.UUID, product_key: str) -> License | None:
        """A license of the app on the instance that counts (not an evaluation, not closed): an app is licensed
        once per host."""
        return self.session.scalars(
            select(License)
            .where(
                License.host_instance_id == host_instance_id,
                License.product_key == product_key,
                License.evaluation.is_(False),
                License.status.not_in([LicenseState.CANCELLED, LicenseState.SUPERSEDED]),
            )
            .limit(1)
        ).first()

    def is_member(self, organisation_id: uuid.UUID, email: str) -> bool:
        """Whether the address holds any role in the organisation."""
        return (
            self.session.scalar(
                select(Membership.id)
                .join(User, User.id == Membership.user_id)
                .where(Membership.organisation_id == organisation_id, User.email == email)
                .limit(1)
            )
            is not None
        )

"""The imports a vendor made, and which license each of its references became.

A file is known by its SHA-256 per vendor and a reference by its text per vendor: both unique, so the same file
sent twice, or two imports of it at the same moment, can only ever write one copy."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mercato.clock import utcnow
from mercato.database import Base, new_id


class LicenseImport(Base):
    """One file a vendor imported, with what it made."""

    __tablename__ = "license_imports"
    __table_args__ = (UniqueConstraint("vendor_id", "sha256"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    vendor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("vendors.id", ondelete="RESTRICT"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), doc="The file's SHA-256, hex")
    imported_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), doc="NULL when run on the console"
    )
    rows: Mapped[int] = mapped_column(Integer)
    licenses_created: Mapped[int] = mapped_column(Integer)
    rows_skipped: Mapped[int] = mapped_column(Integer, doc="Rows imported before with the same terms")
    organisations_created: Mapped[int] = mapped_column(Integer)
    host_instances_created: Mapped[int] = mapped_column(Integer)
    invitations_sent: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ImportedLicense(Base):
    """A vendor's own reference of a license it sold elsewhere, and the license it became here."""

    __tablename__ = "imported_licenses"
    __table_args__ = (UniqueConstraint("vendor_id", "reference"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    vendor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("vendors.id", ondelete="RESTRICT"))
    reference: Mapped[str] = mapped_column(String(200))
    import_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("license_imports.id", ondelete="RESTRICT"), index=True
    )
    license_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("licenses.id", ondelete="RESTRICT"), unique=True)
    line: Mapped[int] = mapped_column(Integer, doc="Its line in the file (the header is line 1)")
    terms: Mapped[str] = mapped_column(
        String(64), doc="SHA-256 of the row's terms: the same reference again with other terms is refused"
    )

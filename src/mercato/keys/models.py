"""Signing keys. Private keys are stored encrypted (see ``mercato.keys.sealing``); public keys in the clear."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from mercato.clock import utcnow
from mercato.database import Base, enum_column, new_id

OPERATOR_ISSUER = "operator"


def vendor_issuer(vendor_slug: str) -> str:
    return f"vendor:{vendor_slug}"


class KeyState(StrEnum):
    SIGNING = "signing"  # the one key of its ring that signs new license keys
    VERIFYING = "verifying"  # rotated out: still trusted for keys it signed earlier
    RETIRED = "retired"  # no longer trusted: keys it signed fail UNKNOWN_KEY


class SigningKey(Base):
    __tablename__ = "signing_keys"
    __table_args__ = (
        CheckConstraint("state IN ('signing', 'verifying', 'retired')", name="state"),
        # One signing key per issuer, whoever races to make it: the database refuses a second.
        Index(
            "uq_signing_keys_one_signing_key_per_issuer",
            "issuer",
            unique=True,
            sqlite_where=text("state = 'signing'"),
            postgresql_where=text("state = 'signing'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    issuer: Mapped[str] = mapped_column(String(100), index=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    state: Mapped[KeyState] = mapped_column(enum_column(KeyState, 16))
    public_key: Mapped[str] = mapped_column(
        String(64), doc="Raw Ed25519 public key, base64url without padding"
    )
    sealed_private_key: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    rotated_at: Mapped[datetime | None]
    retired_at: Mapped[datetime | None]

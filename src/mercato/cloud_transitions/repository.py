"""All SQL of cloud transitions: the transition row, the licenses that move, and what their import recorded."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mercato.cloud_transitions.models import CloudTransition
from mercato.licenses.models import License, LicenseEventKind, LicenseState, LicenseTransaction
from mercato.pricing import Channel, Hosting


class CloudTransitionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def transition(
        self, vendor_id: uuid.UUID, from_app: str, *, for_update: bool = False
    ) -> CloudTransition | None:
        query = select(CloudTransition).where(
            CloudTransition.vendor_id == vendor_id, CloudTransition.from_app == from_app
        )
        return self.session.scalars(query.with_for_update() if for_update else query).first()

    def claim(self, vendor_id: uuid.UUID, from_app: str, to_app: str) -> CloudTransition:
        """The transition row, made if it is new, and locked: the unique key lets one of two runs at once make
        it, and the lock makes the other wait until the first has committed its invoices."""
        if self.transition(vendor_id, from_app) is None:
            try:
                with self.session.begin_nested():
                    self.session.add(CloudTransition(vendor_id=vendor_id, from_app=from_app, to_app=to_app))
            except IntegrityError:
                pass  # another run made it first; it is read below
        claimed = self.transition(vendor_id, from_app, for_update=True)
        assert claimed is not None
        return claimed

    def direct_cloud_licenses(self, issuer: str, app_key: str) -> Sequence[License]:
        """The vendor's active direct cloud licenses of ``app_key``, by entitlement number."""
        return self.session.scalars(
            select(License)
            .where(
                License.product_key == app_key,
                License.hosting == Hosting.CLOUD,
                License.channel == Channel.DIRECT,
                License.issuer == issuer,
                License.evaluation.is_(False),
                License.status == LicenseState.ACTIVE,
            )
            .order_by(License.entitlement_number)
        ).all()

    def license(self, license_id: uuid.UUID, *, for_update: bool = False) -> License | None:
        return self.session.get(License, license_id, with_for_update=for_update, populate_existing=for_update)

    def import_entry(self, license_id: uuid.UUID) -> LicenseTransaction | None:
        """The license's latest import history entry, which records what the customer prepaid."""
        return self.session.scalars(
            select(LicenseTransaction)
            .where(
                LicenseTransaction.license_id == license_id,
                LicenseTransaction.kind == LicenseEventKind.IMPORT,
            )
            .order_by(LicenseTransaction.id.desc())
            .limit(1)
        ).first()

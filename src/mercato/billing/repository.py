"""All SQL of the billing run: what is due on a day, and what was already done."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from mercato.accounts.models import HostInstance
from mercato.licenses.models import License, LicenseEventKind, LicenseState, LicenseTransaction
from mercato.pricing import Channel, Hosting


class BillingRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def cloud_sites_due(self, today: date) -> Sequence[HostInstance]:
        return self.session.scalars(
            select(HostInstance)
            .where(HostInstance.hosting == Hosting.CLOUD, HostInstance.next_billing_date <= today)
            .order_by(HostInstance.next_billing_date, HostInstance.id)
        ).all()

    def cloud_site_due(
        self, site_id: uuid.UUID, today: date, *, for_update: bool = False
    ) -> HostInstance | None:
        query = select(HostInstance).where(
            HostInstance.id == site_id,
            HostInstance.hosting == Hosting.CLOUD,
            HostInstance.next_billing_date <= today,
        )
        if for_update:
            query = query.with_for_update()
        return self.session.scalars(query).first()

    def cloud_subscriptions_renewing(self, site_id: uuid.UUID, billing_date: date) -> Sequence[License]:
        """The site's paid marketplace app subscriptions that run to its billing date."""
        return self.session.scalars(
            select(License).where(
                License.host_instance_id == site_id,
                License.hosting == Hosting.CLOUD,
                License.channel == Channel.MARKETPLACE,
                License.evaluation.is_(False),
                License.status == LicenseState.ACTIVE,
                License.term_end == billing_date,
            )
        ).all()

    def licenses_in_force(self) -> Sequence[License]:
        return self.session.scalars(
            select(License)
            .where(License.status.in_((LicenseState.ACTIVE, LicenseState.SUSPENDED)))
            .order_by(License.created_at)
        ).all()

    def lapse_recorded(self, license_id: uuid.UUID, maintenance_end: date) -> bool:
        """Whether the lapse of this maintenance end is in the license's history already (once per end)."""
        lapses = self.session.scalars(
            select(LicenseTransaction).where(
                LicenseTransaction.license_id == license_id,
                LicenseTransaction.kind == LicenseEventKind.MAINTENANCE_LAPSED,
            )
        ).all()
        end = maintenance_end.isoformat()
        # Entries written before lapses carried a once_key name their date only in the description.
        return any(
            lapse.once_key == f"maintenance_lapsed:{end}" or end in lapse.description for lapse in lapses
        )

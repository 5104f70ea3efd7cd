"""All SQL of the billing run: what is due on a day, and what was already done."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import date, timedelta

from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.orm import Session

from mercato.accounts.models import HostInstance
from mercato.licenses.models import LAPSE_NOT_RECORDED, License, LicenseState
from mercato.pricing import Channel, Hosting


class BillingRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def cloud_sites_due(
        self,
        today: date,
        *,
        limit: int | None = None,
        skip: Collection[uuid.UUID] = (),
        for_update: bool = False,
        skip_locked: bool = False,
    ) -> Sequence[HostInstance]:
        """Cloud sites whose billing date has come, earliest first (``ix_host_instances_billing``). Locked, the
        rows another transaction holds are waited for and checked again, so a site renewed meanwhile is left
        out; with ``skip_locked`` they are passed over instead, so that the jobs of one run take batches of
        their own (a site passed over is renewed by the job that holds it, or by the next batch)."""
        query = (
            select(HostInstance)
            .where(HostInstance.hosting == Hosting.CLOUD, HostInstance.next_billing_date <= today)
            .order_by(HostInstance.next_billing_date, HostInstance.id)
            .limit(limit)
        )
        if skip:
            query = query.where(HostInstance.id.not_in(skip))
        if for_update:
            query = query.with_for_update(skip_locked=skip_locked).execution_options(populate_existing=True)
        return self.session.scalars(query).all()

    def count_cloud_sites_due(self, today: date) -> int:
        return (
            self.session.scalar(
                select(func.count())
                .select_from(HostInstance)
                .where(HostInstance.hosting == Hosting.CLOUD, HostInstance.next_billing_date <= today)
            )
            or 0
        )

    def cloud_site_due(
        self, site_id: uuid.UUID, today: date, *, for_update: bool = False
    ) -> HostInstance | None:
        query = select(HostInstance).where(
            HostInstance.id == site_id,
            HostInstance.hosting == Hosting.CLOUD,
            HostInstance.next_billing_date <= today,
        )
        if for_update:
            query = query.with_for_update().execution_options(populate_existing=True)
        return self.session.scalars(query).first()

    def cloud_subscriptions_renewing(self, sites: Sequence[HostInstance]) -> dict[uuid.UUID, list[License]]:
        """Each site's paid marketplace app subscriptions that run to its billing date, in one query for all
        the sites, in the order they were bought."""
        billing_dates = {site.id: site.next_billing_date for site in sites}
        found = self.session.scalars(
            select(License)
            .where(
                License.host_instance_id.in_(billing_dates),
                License.hosting == Hosting.CLOUD,
                License.channel == Channel.MARKETPLACE,
                License.evaluation.is_(False),
                License.status == LicenseState.ACTIVE,
            )
            .order_by(License.created_at, License.id)
        )
        renewing: dict[uuid.UUID, list[License]] = {}
        for license in found:
            assert license.host_instance_id is not None
            if license.term_end == billing_dates[license.host_instance_id]:
                renewing.setdefault(license.host_instance_id, []).append(license)
        return renewing

    def licenses_due_for_change(
        self, today: date, suspend_after: int, end_after: int
    ) -> list[list[uuid.UUID]]:
        """The ids of the licenses that may have a state change due today, by three indexed queries, one list
        each: ended evaluations and Data Center terms, cloud subscriptions unpaid past their grace
        (``ix_licenses_status_term_end``), and server licenses whose maintenance ended unrecorded
        (``ix_licenses_lapse_pending``). Each in id order, the order their row locks are taken in; a license in
        two lists is kept in the first."""
        active, suspended = LicenseState.ACTIVE, LicenseState.SUSPENDED
        ended = select(License.id).where(
            License.status == active,
            License.term_end < today,
            or_(License.evaluation.is_(True), License.hosting == Hosting.DATACENTER),
        )
        unpaid = select(License.id).where(
            License.hosting == Hosting.CLOUD,
            or_(
                and_(License.status == active, License.term_end < today - timedelta(days=suspend_after)),
                and_(License.status == suspended, License.term_end < today - timedelta(days=end_after)),
            ),
        )
        lapsed = select(License.id).where(
            text(LAPSE_NOT_RECORDED),
            License.maintenance_end < today,
            License.status.in_((active, suspended)),
        )
        seen: set[uuid.UUID] = set()
        kinds: list[list[uuid.UUID]] = []
        for query in (ended, unpaid, lapsed):
            found = set(self.session.scalars(query)) - seen
            seen |= found
            kinds.append(sorted(found))
        return kinds

    def licenses_locked(self, license_ids: Sequence[uuid.UUID]) -> Sequence[License]:
        """The licenses, read again under their row locks (taken in id order, as every batch takes them)."""
        if not license_ids:
            return ()
        return self.session.scalars(
            select(License)
            .where(License.id.in_(license_ids))
            .order_by(License.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).all()

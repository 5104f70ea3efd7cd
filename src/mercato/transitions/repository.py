"""All SQL of transition campaigns: the campaigns of a vendor, the direct licenses a campaign is about, the
e-mails it sent, and who receives them."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mercato.catalog.models import App, Listing
from mercato.commerce.models import Quote, QuoteLine
from mercato.licenses.models import License, LicenseState
from mercato.paging import KeysetOrder, Page, PageRequest, fetch_page
from mercato.pricing import Channel, Hosting
from mercato.transitions.models import (
    CampaignStatus,
    TransitionCampaign,
    TransitionEmail,
    TransitionEmailKind,
    TransitionMember,
)

CAMPAIGNS_NEWEST_FIRST = KeysetOrder(
    "transition-campaigns", TransitionCampaign.created_at, TransitionCampaign.id, datetime, uuid.UUID
)


class TransitionsRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, *rows: object) -> None:
        self.session.add_all(rows)
        self.session.flush()

    # -- campaigns -------------------------------------------------------------------------------------------

    def campaigns_of(self, vendor_id: uuid.UUID, page: PageRequest) -> Page[TransitionCampaign]:
        """A vendor's campaigns, newest first, always counted (a vendor runs few)."""
        query = select(TransitionCampaign).where(TransitionCampaign.vendor_id == vendor_id)
        return fetch_page(self.session, query, CAMPAIGNS_NEWEST_FIRST, page, always_count=True)

    def campaign(self, campaign_id: uuid.UUID, *, for_update: bool = False) -> TransitionCampaign | None:
        return self.session.get(TransitionCampaign, campaign_id, with_for_update=for_update)

    def campaigns_running(self, today: date) -> Sequence[TransitionCampaign]:
        """Active campaigns whose notice date has come and whose deadline has not passed."""
        return self.session.scalars(
            select(TransitionCampaign)
            .where(
                TransitionCampaign.status == CampaignStatus.ACTIVE,
                TransitionCampaign.notice_date <= today,
                TransitionCampaign.deadline >= today,
            )
            .order_by(TransitionCampaign.created_at, TransitionCampaign.id)
        ).all()

    # -- apps and licenses -----------------------------------------------------------------------------------

    def app_keys_of(self, vendor_id: uuid.UUID) -> list[str]:
        return list(self.session.scalars(select(App.key).where(App.vendor_id == vendor_id).order_by(App.key)))

    def direct_licenses(self, app_keys: Iterable[str]) -> Sequence[License]:
        """The open, bought, direct server and Data Center licenses of these apps bound to a customer's host
        instance: the licenses a campaign made today is about."""
        return self.session.scalars(
            select(License)
            .where(
                License.product_key.in_(list(app_keys)),
                License.channel == Channel.DIRECT,
                License.hosting.in_([Hosting.SERVER, Hosting.DATACENTER]),
                License.evaluation.is_(False),
                License.status.not_in([LicenseState.CANCELLED, LicenseState.SUPERSEDED]),
                License.organisation_id.is_not(None),
                License.host_instance_id.is_not(None),
            )
            .order_by(License.entitlement_number)
        ).all()

    def license(self, license_id: uuid.UUID, *, for_update: bool = False) -> License | None:
        return self.session.get(License, license_id, with_for_update=for_update)

    def members_with_licenses(self, campaign_id: uuid.UUID) -> list[tuple[TransitionMember, License]]:
        rows = self.session.execute(
            select(TransitionMember, License)
            .join(License, License.id == TransitionMember.license_id)
            .where(TransitionMember.campaign_id == campaign_id)
            .order_by(License.entitlement_number)
        ).all()
        return [(member, license) for member, license in rows]

    def member(self, campaign_id: uuid.UUID, license_id: uuid.UUID) -> TransitionMember | None:
        return self.session.scalar(
            select(TransitionMember).where(
                TransitionMember.campaign_id == campaign_id, TransitionMember.license_id == license_id
            )
        )

    def app_names(self, listing_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
        rows = self.session.execute(
            select(Listing.id, App.name)
            .join(App, App.id == Listing.app_id)
            .where(Listing.id.in_(list(listing_ids)))
        ).all()
        return {listing_id: name for listing_id, name in rows}

    def quote(self, quote_id: uuid.UUID | None) -> Quote | None:
        return self.session.get(Quote, quote_id) if quote_id is not None else None

    def migration_line(self, quote_id: uuid.UUID) -> QuoteLine | None:
        """The line of a campaign's migration quote (it has one)."""
        return self.session.scalars(select(QuoteLine).where(QuoteLine.quote_id == quote_id).limit(1)).first()

    # -- e-mails ---------------------------------------------------------------------------------------------

    def sent_kinds(self, campaign_id: uuid.UUID, license_id: uuid.UUID) -> dict[TransitionEmailKind, date]:
        """Which e-mails of the campaign went out about the license, and on which day."""
        rows = self.session.execute(
            select(TransitionEmail.kind, TransitionEmail.sent_on).where(
                TransitionEmail.campaign_id == campaign_id, TransitionEmail.license_id == license_id
            )
        ).all()
        return {TransitionEmailKind(kind): sent_on for kind, sent_on in rows}

    def sent_kinds_of_campaign(
        self, campaign_id: uuid.UUID
    ) -> dict[uuid.UUID, dict[TransitionEmailKind, date]]:
        """``sent_kinds`` of every license of the campaign, in one query."""
        sent: dict[uuid.UUID, dict[TransitionEmailKind, date]] = {}
        for license_id, kind, sent_on in self.session.execute(
            select(TransitionEmail.license_id, TransitionEmail.kind, TransitionEmail.sent_on).where(
                TransitionEmail.campaign_id == campaign_id
            )
        ):
            sent.setdefault(license_id, {})[TransitionEmailKind(kind)] = sent_on
        return sent

    def emails_of(self, campaign_id: uuid.UUID) -> dict[uuid.UUID, list[TransitionEmail]]:
        """The campaign's e-mails per license, in the order they were sent."""
        found: dict[uuid.UUID, list[TransitionEmail]] = {}
        for row in self.session.scalars(
            select(TransitionEmail)
            .where(TransitionEmail.campaign_id == campaign_id)
            .order_by(TransitionEmail.id)
        ):
            found.setdefault(row.license_id, []).append(row)
        return found

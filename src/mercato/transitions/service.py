"""Transition campaigns: a vendor announces, well ahead, that its direct server and Data Center licenses of some
apps move to the marketplace by a deadline, and follows each license until it has moved.

A campaign is made by the vendor's members or operator staff. Its notice date is today or later and its
deadline at least 30 days after the notice date, by the server's clock. Its members are fixed when it is made:
the vendor's open, bought, direct server and Data Center licenses of those apps bound to a customer's host
instance. Until they move, they keep working, renewing and upgrading in the direct channel; the campaign only
tells their customers, with a migration quote (``mercato.transitions.mailing``), and shows where each stands:

- ``migrated``: it is a marketplace license now;
- ``ready``: it moves as it is, for nothing (its tier covers its host);
- ``needs_upgrade``: it moves with an upgrade to the host's tier, at the price shown;
- ``awaiting_payment``: a migration quote was accepted and its invoice waits for payment;
- ``blocked``: it cannot move today (say, its maintenance ended and it needs an upgrade: renew it first);
- ``closed``: it was cancelled or superseded.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from mercato import pricing
from mercato.accounts.access import Principal
from mercato.accounts.models import HostInstance, Organisation
from mercato.catalog.domain import tier_label, tier_users
from mercato.catalog.models import Vendor
from mercato.catalog.vendors import VendorService
from mercato.commerce.errors import MigrationPending
from mercato.commerce.idempotency import Answer, Idempotency, request_fingerprint
from mercato.commerce.quoting import Quoting
from mercato.commerce.repository import CommerceRepository
from mercato.licenses.models import License
from mercato.paging import Page, PageRequest
from mercato.problems import Problem
from mercato.services import Services
from mercato.transitions.errors import (
    CampaignNotFound,
    DeadlineTooSoon,
    NothingToTransition,
    NoticeDateInThePast,
    NotTheVendorsApp,
)
from mercato.transitions.models import CampaignStatus, TransitionCampaign, TransitionEmail, TransitionMember
from mercato.transitions.repository import TransitionsRepository

MINIMUM_NOTICE = timedelta(days=30)
"""The shortest time between the notice date and the deadline: customers are warned well in advance."""


class MemberStatus(StrEnum):
    MIGRATED = "migrated"
    READY = "ready"
    NEEDS_UPGRADE = "needs_upgrade"
    AWAITING_PAYMENT = "awaiting_payment"
    BLOCKED = "blocked"
    CLOSED = "closed"


class CampaignState(StrEnum):
    SCHEDULED = "scheduled"  # the notice date has not come
    RUNNING = "running"  # customers are told and reminded
    ENDED = "ended"  # the deadline has passed
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class CampaignRequest:
    apps: Sequence[str] | None
    notice_date: date
    deadline: date
    message: str


@dataclass(frozen=True)
class Offer:
    """What moving one license costs today: free, or an upgrade to ``to_tier`` at ``price``; or why it cannot."""

    status: MemberStatus
    to_tier: str | None = None
    price: Decimal | None = None
    currency: str | None = None
    note: str | None = None
    invoice: str | None = None


@dataclass(frozen=True)
class MemberView:
    license: License
    app: str
    organisation: str
    host: str
    offer: Offer
    quote_number: str | None
    quote_id: uuid.UUID | None
    emails: list[TransitionEmail]

    @property
    def status(self) -> MemberStatus:
        return self.offer.status


@dataclass
class CampaignView:
    campaign: TransitionCampaign
    vendor: Vendor
    state: CampaignState
    members: list[MemberView] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, int]:
        counted = Counter(member.status.value for member in self.members)
        return {status.value: counted.get(status.value, 0) for status in MemberStatus} | {
            "members": len(self.members)
        }


def campaign_state(campaign: TransitionCampaign, today: date) -> CampaignState:
    if campaign.status == CampaignStatus.CANCELLED:
        return CampaignState.CANCELLED
    if today < campaign.notice_date:
        return CampaignState.SCHEDULED
    if today > campaign.deadline:
        return CampaignState.ENDED
    return CampaignState.RUNNING


def offer_for(quoting: Quoting, license: License) -> Offer:
    """Where one license stands: moved, closed, or what moving it costs today (priced as its quote would be)."""
    if license.channel == pricing.Channel.MARKETPLACE:
        return Offer(MemberStatus.MIGRATED)
    if license.status.is_closed:
        return Offer(MemberStatus.CLOSED, note=f"The license is {license.status}.")
    try:
        _, priced = quoting.migration_offer(license)
    except MigrationPending as pending:
        invoice = str(pending.extensions.get("invoice") or "")
        return Offer(MemberStatus.AWAITING_PAYMENT, note=pending.detail, invoice=invoice or None)
    except (Problem, pricing.PricingError) as refused:
        return Offer(MemberStatus.BLOCKED, note=getattr(refused, "detail", str(refused)))
    line = priced.line
    if tier_users(line.tier) == license.tier_users:
        return Offer(MemberStatus.READY, price=line.amount, currency=line.currency)
    return Offer(
        MemberStatus.NEEDS_UPGRADE,
        to_tier=tier_label(tier_users(line.tier)),
        price=line.amount,
        currency=line.currency,
    )


class TransitionCampaigns:
    def __init__(self, session: Session, services: Services) -> None:
        self.session = session
        self.services = services
        self.clock = services.clock
        self.repo = TransitionsRepository(session)
        self.commerce = CommerceRepository(session)
        self.vendors = VendorService(session, services.secret_key, services.clock)

    # -- finding ---------------------------------------------------------------------------------------------

    def vendor_for(self, principal: Principal, slug: str) -> Vendor:
        """The vendor, for its members and operator staff; ``VendorNotFound`` (404) for anyone else."""
        return self.vendors.vendor_for(principal, slug)

    def campaign_for(self, principal: Principal, slug: str, campaign_id: uuid.UUID) -> TransitionCampaign:
        vendor = self.vendor_for(principal, slug)
        campaign = self.repo.campaign(campaign_id)
        if campaign is None or campaign.vendor_id != vendor.id:
            raise CampaignNotFound(f"Vendor {vendor.slug} has no transition campaign {campaign_id}.")
        return campaign

    def campaigns_of(
        self, principal: Principal, slug: str, page: PageRequest = PageRequest()
    ) -> Page[CampaignView]:
        vendor = self.vendor_for(principal, slug)
        campaigns = self.repo.campaigns_of(vendor.id, page)
        today = self.clock.today()
        return campaigns.shown_as(
            [CampaignView(row, vendor, campaign_state(row, today)) for row in campaigns.rows]
        )

    # -- making and stopping ---------------------------------------------------------------------------------

    def create_once(
        self,
        principal: Principal,
        slug: str,
        request: CampaignRequest,
        idempotency_key: str | None,
        present: Callable[[CampaignView], dict[str, Any]],
    ) -> Answer:
        """``create``, once per ``Idempotency-Key``: a retry whose answer was lost gets the same campaign."""
        vendor = self.vendor_for(principal, slug)
        return Idempotency(self.commerce, self.clock).run(
            f"{principal.user_id}:create-transition:{vendor.id}",
            idempotency_key,
            request_fingerprint(
                list(request.apps) if request.apps is not None else None,
                request.notice_date,
                request.deadline,
                request.message,
            ),
            "for another transition campaign",
            lambda: Answer(201, present(self.view(self.create(principal, slug, request)))),
        )

    def create(self, principal: Principal, slug: str, request: CampaignRequest) -> TransitionCampaign:
        vendor = self.vendor_for(principal, slug)
        today = self.clock.today()
        if request.notice_date < today:
            raise NoticeDateInThePast(
                f"The notice date {request.notice_date} has passed (today is {today}); choose today or later.",
                field="body.notice_date",
            )
        earliest = request.notice_date + MINIMUM_NOTICE
        if request.deadline < earliest:
            raise DeadlineTooSoon(
                f"The deadline {request.deadline} is less than {MINIMUM_NOTICE.days} days after the notice date "
                f"{request.notice_date}; choose {earliest} or later.",
                field="body.deadline",
                earliest=earliest.isoformat(),
            )
        own = self.repo.app_keys_of(vendor.id)
        apps = list(dict.fromkeys(key.strip() for key in request.apps)) if request.apps else own
        others = [key for key in apps if key not in own]
        if others:
            raise NotTheVendorsApp(
                f"{', '.join(others)} {'is' if len(others) == 1 else 'are'} not an app of {vendor.name}; its "
                f"apps are {', '.join(own) or 'none yet'}.",
                field="body.apps",
                apps=others,
            )
        licenses = self.repo.direct_licenses(apps)
        if not licenses:
            raise NothingToTransition(
                f"No customer has an open direct server or Data Center license of {', '.join(apps)}: there is "
                "no one to tell.",
                field="body.apps",
            )
        campaign = TransitionCampaign(
            vendor_id=vendor.id,
            app_keys=apps,
            notice_date=request.notice_date,
            deadline=request.deadline,
            message=request.message.strip(),
            status=CampaignStatus.ACTIVE,
            created_by_id=principal.user_id,
            members=[TransitionMember(license_id=license.id) for license in licenses],
        )
        self.repo.add(campaign)
        return campaign

    def cancel(self, principal: Principal, slug: str, campaign_id: uuid.UUID) -> TransitionCampaign:
        """No more e-mails; again, nothing changes. Quotes already sent stay valid: a customer may still move."""
        campaign = self.campaign_for(principal, slug, campaign_id)
        self.session.refresh(campaign, with_for_update=True)
        if campaign.status != CampaignStatus.CANCELLED:
            campaign.status = CampaignStatus.CANCELLED
            campaign.cancelled_at = self.clock.now()
            self.session.flush()
        return campaign

    # -- where each license stands ---------------------------------------------------------------------------

    def view(self, campaign: TransitionCampaign, *, with_members: bool = True) -> CampaignView:
        vendor = self.session.get(Vendor, campaign.vendor_id)
        assert vendor is not None
        view = CampaignView(campaign, vendor, campaign_state(campaign, self.clock.today()))
        if with_members:
            view.members = self.member_views(campaign)
        return view

    def member_views(self, campaign: TransitionCampaign) -> list[MemberView]:
        rows = self.repo.members_with_licenses(campaign.id)
        apps = self.repo.app_names({license.listing_id for _, license in rows})
        emails = self.repo.emails_of(campaign.id)
        quoting = Quoting(self.commerce, self.services)
        views = []
        for member, license in rows:
            organisation = (
                self.session.get(Organisation, license.organisation_id) if license.organisation_id else None
            )
            instance = (
                self.session.get(HostInstance, license.host_instance_id) if license.host_instance_id else None
            )
            quote = self.repo.quote(member.quote_id)
            views.append(
                MemberView(
                    license=license,
                    app=apps.get(license.listing_id, license.product_key),
                    organisation=organisation.name if organisation else "",
                    host=(instance.name or instance.server_id) if instance else license.host_binding,
                    offer=offer_for(quoting, license),
                    quote_number=quote.number if quote else None,
                    quote_id=quote.id if quote else None,
                    emails=emails.get(license.id, []),
                )
            )
        return views

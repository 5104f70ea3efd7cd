"""The e-mails of transition campaigns, a step of ``mercato billing run`` (and ``mercato transitions run``).

On or after a campaign's notice date, the admins of each member license's customer get one announcement: what
changes (the marketplace operator becomes the seller; bills and renewals come from the marketplace, on the same
terms; the entitlement number and maintenance end stay; a new key replaces the old one, which keeps working for
the grace period), the license's migration quote with its price (free, or an upgrade to the host's tier and
what it costs), the deadline and a link to the quote. Then reminders 30, 7 and 1 days before the deadline, to
the customers of licenses that have not moved, each with a fresh quote when the earlier one is no longer open.
A reminder whose day is not after the announcement's is skipped: the announcement said it all. Cancelled
campaigns, licenses that moved or were closed, and days after the deadline get nothing.

Each e-mail goes once: a ``TransitionEmail`` row (unique per campaign, license and kind) is claimed before the
quote and the outbox message are written, in the same transaction, one license per transaction. A run that is
repeated, interrupted or racing another sends nothing twice: the second one's claim is refused by the database
(on PostgreSQL it waits for the first to commit; on SQLite the write lock queues it, and it then finds the row).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from mercato import pricing
from mercato.accounts.models import HostInstance, Organisation
from mercato.accounts.repository import AccountsRepository
from mercato.catalog.domain import tier_label
from mercato.catalog.models import Vendor
from mercato.commerce.models import Quote, QuoteStatus
from mercato.commerce.quoting import Quoting
from mercato.commerce.repository import CommerceRepository
from mercato.database import transaction
from mercato.licenses.models import License
from mercato.mail.templates import render_email
from mercato.outbox.service import enqueue_rendered_email
from mercato.services import Services
from mercato.transitions.models import (
    CampaignStatus,
    TransitionCampaign,
    TransitionEmail,
    TransitionEmailKind,
    TransitionMember,
)
from mercato.transitions.repository import TransitionsRepository
from mercato.transitions.service import MemberStatus, Offer, offer_for

TEMPLATE = "transition-notice"

REMINDERS: tuple[tuple[TransitionEmailKind, int], ...] = (
    (TransitionEmailKind.DAYS_30, 30),
    (TransitionEmailKind.DAYS_7, 7),
    (TransitionEmailKind.DAYS_1, 1),
)
"""Reminders and how many days before the deadline each one's day is."""


def email_due(
    campaign: TransitionCampaign, sent: dict[TransitionEmailKind, date], today: date
) -> TransitionEmailKind | None:
    """The e-mail a member license's customer is due ``today``: the announcement from the notice date until the
    day before the deadline; then the latest reminder whose day has come (until the next one's), if it was not
    sent and its day is after the announcement's."""
    if campaign.status != CampaignStatus.ACTIVE or not campaign.notice_date <= today < campaign.deadline:
        return None
    announced = sent.get(TransitionEmailKind.ANNOUNCEMENT)
    if announced is None:
        return TransitionEmailKind.ANNOUNCEMENT
    for index, (kind, days) in enumerate(REMINDERS):
        starts = campaign.deadline - timedelta(days=days)
        following = REMINDERS[index + 1][1] if index + 1 < len(REMINDERS) else 0
        ends = campaign.deadline - timedelta(days=following)
        if starts <= today < ends and announced < starts and kind not in sent:
            return kind
    return None


@dataclass(frozen=True)
class SentEmail:
    campaign_id: uuid.UUID
    entitlement_number: str
    kind: TransitionEmailKind

    def describe(self) -> str:
        return f"{self.entitlement_number}:{self.kind.value}"


class TransitionMailing:
    def __init__(self, session: Session, services: Services) -> None:
        self.session = session
        self.services = services
        self.clock = services.clock
        self.repo = TransitionsRepository(session)
        self.commerce = CommerceRepository(session)

    def due(self) -> list[tuple[uuid.UUID, uuid.UUID]]:
        """(campaign, license) pairs that may have an e-mail due today (reads only; ``send`` checks again)."""
        today = self.clock.today()
        found = []
        for campaign in self.repo.campaigns_running(today):
            sent = self.repo.sent_kinds_of_campaign(campaign.id)  # one query, not one per license
            for member, license in self.repo.members_with_licenses(campaign.id):
                if self._still_direct(license) and email_due(campaign, sent.get(license.id, {}), today):
                    found.append((campaign.id, member.license_id))
        return found

    def send(self, campaign_id: uuid.UUID, license_id: uuid.UUID) -> SentEmail | None:
        """Send the e-mail due today about the license, unless it was sent already; in the caller's
        transaction."""
        today = self.clock.today()
        campaign = self.repo.campaign(campaign_id)
        license = self.repo.license(license_id)
        member = self.repo.member(campaign_id, license_id)
        if campaign is None or license is None or member is None or not self._still_direct(license):
            return None
        kind = email_due(campaign, self.repo.sent_kinds(campaign.id, license.id), today)
        if kind is None or license.organisation_id is None:
            return None
        row = TransitionEmail(
            campaign_id=campaign.id, license_id=license.id, kind=kind, sent_on=today, recipients=0
        )
        self.repo.add(row)  # the unique key refuses an e-mail another run has just sent
        quote, offer = self._quote(member, license)
        recipients = AccountsRepository(self.session).key_recipients(license.organisation_id)
        if recipients:
            context = self.context(campaign, license, kind, quote, offer)
            message = enqueue_rendered_email(self.session, recipients, render_email(TEMPLATE, context))
            row.outbox_message_id = message.id
        row.quote_id = quote.id if quote else None
        row.recipients = len(recipients)
        self.session.flush()
        return SentEmail(campaign.id, license.entitlement_number, kind)

    def send_all(self) -> list[SentEmail]:
        """Every e-mail due today in this one session (the dry run's way; the run commits one by one)."""
        return [sent for pair in self.due() if (sent := self.send(*pair)) is not None]

    @staticmethod
    def _still_direct(license: License) -> bool:
        return license.channel == pricing.Channel.DIRECT and not license.status.is_closed

    def _quote(self, member: TransitionMember, license: License) -> tuple[Quote | None, Offer]:
        """The member's migration quote: the one sent before while it is open and valid, else a new one. None
        (with the reason in the offer) when the license cannot be quoted today."""
        quoting = Quoting(self.commerce, self.services)
        offer = offer_for(quoting, license)
        if offer.status not in (MemberStatus.READY, MemberStatus.NEEDS_UPGRADE):
            return None, offer
        quote = self.repo.quote(member.quote_id)
        if quote is None or not self._still_offers(quote, license, offer):
            quote = quoting.migration_quote(license)
            member.quote_id = quote.id
        return quote, offer

    def _still_offers(self, quote: Quote, license: License, offer: Offer) -> bool:
        """Whether the quote sent before may be sent again: open, still valid, and still what moving the license
        means today (a direct renewal or upgrade since changes its maintenance end or tier, and so the quote)."""
        if quote.status != QuoteStatus.OPEN or quote.valid_until < self.clock.today():
            return False
        line = self.repo.migration_line(quote.id)
        target = offer.to_tier or tier_label(license.tier_users)
        return (
            line is not None
            and tier_label(line.tier_users) == target
            and line.period_end == license.paid_until
            and offer.price is not None
            and offer.currency == quote.currency
            and quote.total_minor == pricing.to_minor_units(offer.price, quote.currency)
        )

    def context(
        self,
        campaign: TransitionCampaign,
        license: License,
        kind: TransitionEmailKind,
        quote: Quote | None,
        offer: Offer,
    ) -> dict[str, Any]:
        """What the ``transition-notice`` e-mail says."""
        vendor = self.session.get(Vendor, campaign.vendor_id)
        organisation = self.session.get(Organisation, license.organisation_id)
        instance = (
            self.session.get(HostInstance, license.host_instance_id) if license.host_instance_id else None
        )
        app = self.repo.app_names([license.listing_id]).get(license.listing_id, license.product_key)
        base = self.services.public_url.rstrip("/")
        total = None
        if quote is not None:
            total = pricing.format_money(
                pricing.from_minor_units(quote.total_minor, quote.currency), quote.currency
            )
        return {
            "kind": kind.value,
            "reminder": kind != TransitionEmailKind.ANNOUNCEMENT,
            "days_left": (campaign.deadline - self.clock.today()).days,
            "deadline": campaign.deadline.isoformat(),
            "vendor": vendor.name if vendor else "",
            "message": campaign.message,
            "organisation": organisation.name if organisation else "",
            "app": app,
            "entitlement_number": license.entitlement_number,
            "hosting": {"server": "Server", "datacenter": "Data Center"}.get(license.hosting.value, "Server"),
            "host": (instance.name or instance.server_id) if instance else license.host_binding,
            "tier": tier_label(license.tier_users),
            "maintenance_end": license.paid_until.isoformat(),
            "what_ends": "maintenance" if license.hosting == pricing.Hosting.SERVER else "term",
            "grace_days": self.services.superseded_key_grace.days,
            "free": offer.status == MemberStatus.READY and quote is not None and quote.total_minor == 0,
            "upgrade_to": offer.to_tier,
            "price": total,
            "quote_number": quote.number if quote else None,
            "quote_valid_until": quote.valid_until.isoformat() if quote else None,
            "quote_url": f"{base}/quotes/{quote.id}" if quote and base else None,
            "quote_path": f"/quotes/{quote.id}" if quote else None,
            "waiting_invoice": offer.invoice,
            "blocked": offer.note if offer.status == MemberStatus.BLOCKED else None,
        }


def send_due_transition_emails(session_factory: sessionmaker[Session], services: Services) -> list[SentEmail]:
    """Send every transition e-mail due today, one license per transaction (see the module's docstring)."""
    with transaction(session_factory) as session:
        due = TransitionMailing(session, services).due()
    sent = []
    for campaign_id, license_id in due:
        try:
            with transaction(session_factory) as session:
                outcome = TransitionMailing(session, services).send(campaign_id, license_id)
        except IntegrityError:  # another run sent it a moment ago
            continue
        if outcome is not None:
            sent.append(outcome)
    return sent

"""Transition campaigns over HTTP: a vendor's members (and operator staff) announce that the vendor's direct
licenses move to the marketplace by a deadline, list the campaigns, follow each license (also as CSV) and cancel
a campaign. Another vendor answers 404 exactly like a missing one."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from mercato.accounts.access import Forbidden, NotAuthenticated
from mercato.accounts.dependencies import Reader, Writer
from mercato.accounts.errors import VendorNotFound
from mercato.catalog.domain import tier_label
from mercato.commerce.errors import IdempotencyKeyReused
from mercato.fields import Day, Note, Text
from mercato.paging import InvalidCursor, PageOut, page_fields
from mercato.transitions.errors import (
    CampaignNotFound,
    DeadlineTooSoon,
    NothingToTransition,
    NoticeDateInThePast,
    NotTheVendorsApp,
)
from mercato.transitions.export import campaign_csv, csv_filename
from mercato.transitions.service import CampaignRequest, CampaignView, MemberView, TransitionCampaigns
from mercato.web.dependencies import ServicesDep, SessionDep
from mercato.web.paging import PageParams
from mercato.web.responses import problem_responses
from mercato.web.routing import UnitOfWorkRoute

router = APIRouter(tags=["transitions"], route_class=UnitOfWorkRoute)

VendorPath = Annotated[Text, Path(max_length=64, description="The vendor's slug, e.g. example-mockups.")]
CampaignPath = Annotated[uuid.UUID, Path(description="The campaign's id.")]
IdempotencyKey = Annotated[
    Text | None,
    Header(
        max_length=200,
        description="Any unique string you choose: a retry with the same key and body makes one campaign.",
    ),
]
_SIGNED_IN = (NotAuthenticated, Forbidden)
_CAMPAIGN = (*_SIGNED_IN, VendorNotFound, CampaignNotFound)
_CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "The campaign"}
}


class CampaignIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "apps": ["com.example.mockups.wiki"],
                    "notice_date": "2026-12-01",
                    "deadline": "2027-03-31",
                    "message": "From April our apps are sold on the marketplace only.",
                }
            ]
        },
    )

    apps: list[Annotated[Text, Field(min_length=1, max_length=200)]] | None = Field(
        default=None, max_length=100, description="App keys; none: every app of the vendor."
    )
    notice_date: Day = Field(description="From this day on customers are told: today or later.")
    deadline: Day = Field(description="The day by which licenses should have moved: 30 days or more after.")
    message: Note = Field(default="", max_length=4000, description="Your own words, quoted in every e-mail.")


class TotalsOut(BaseModel):
    members: int = Field(description="Licenses the campaign is about.")
    migrated: int = Field(description="Marketplace licenses now.")
    ready: int = Field(description="Move as they are, for nothing.")
    needs_upgrade: int = Field(description="Move with an upgrade to the host's tier, for a price.")
    awaiting_payment: int = Field(
        description="A migration quote was accepted; its invoice waits for payment."
    )
    blocked: int = Field(description="Cannot move today (the note says why).")
    closed: int = Field(description="Cancelled or superseded.")


class EmailOut(BaseModel):
    kind: Literal["announcement", "30_days_before", "7_days_before", "1_day_before"]
    sent_on: date
    recipients: int


class MemberOut(BaseModel):
    entitlement_number: str
    app_key: str
    app: str
    organisation: str
    host: str
    hosting: str
    tier: str = Field(description="The license's tier now: users, or `unlimited`.")
    status: Literal["migrated", "ready", "needs_upgrade", "awaiting_payment", "blocked", "closed"]
    upgrade_to: str | None = Field(description="needs_upgrade: the tier it moves at.")
    price: Decimal | None = Field(description="ready and needs_upgrade: what moving costs today.")
    currency: str | None
    note: str | None = Field(description="Why it is blocked, closed or awaiting payment.")
    invoice: str | None = Field(description="awaiting_payment: the invoice to pay.")
    quote_number: str | None = Field(description="The latest migration quote e-mailed.")
    emails: list[EmailOut]


class CampaignOut(BaseModel):
    id: uuid.UUID
    vendor: str
    apps: list[str]
    notice_date: date
    deadline: date
    message: str
    status: Literal["active", "cancelled"]
    state: Literal["scheduled", "running", "ended", "cancelled"] = Field(
        description="scheduled before the notice date, running until the deadline, then ended."
    )
    members: int
    created_at: datetime
    cancelled_at: datetime | None


class CampaignDetailOut(CampaignOut):
    totals: TotalsOut
    licenses: list[MemberOut]


class CampaignPage(PageOut):
    items: list[CampaignOut]


def _campaign_fields(view: CampaignView) -> dict[str, Any]:
    campaign = view.campaign
    return {
        "id": campaign.id,
        "vendor": view.vendor.slug,
        "apps": list(campaign.app_keys),
        "notice_date": campaign.notice_date,
        "deadline": campaign.deadline,
        "message": campaign.message,
        "status": campaign.status.value,
        "state": view.state.value,
        "members": len(campaign.members),
        "created_at": campaign.created_at,
        "cancelled_at": campaign.cancelled_at,
    }


def member_out(member: MemberView) -> MemberOut:
    license, offer = member.license, member.offer
    return MemberOut(
        entitlement_number=license.entitlement_number,
        app_key=license.product_key,
        app=member.app,
        organisation=member.organisation,
        host=member.host,
        hosting=license.hosting.value,
        tier=tier_label(license.tier_users),
        status=offer.status.value,
        upgrade_to=offer.to_tier,
        price=offer.price,
        currency=offer.currency,
        note=offer.note,
        invoice=offer.invoice,
        quote_number=member.quote_number,
        emails=[
            EmailOut(kind=e.kind.value, sent_on=e.sent_on, recipients=e.recipients) for e in member.emails
        ],
    )


def campaign_detail(view: CampaignView) -> CampaignDetailOut:
    return CampaignDetailOut(
        **_campaign_fields(view),
        totals=TotalsOut(**view.totals),
        licenses=[member_out(member) for member in view.members],
    )


@router.post(
    "/vendors/{slug}/transitions",
    status_code=201,
    response_model=CampaignDetailOut,
    summary="Announce a transition campaign",
    responses=problem_responses(
        *_SIGNED_IN,
        VendorNotFound,
        NoticeDateInThePast,
        DeadlineTooSoon,
        NotTheVendorsApp,
        NothingToTransition,
        IdempotencyKeyReused,
    ),
)
def create_campaign(
    slug: VendorPath,
    body: CampaignIn,
    principal: Writer,
    session: SessionDep,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
) -> CampaignDetailOut:
    """Tell the customers of the vendor's direct server and Data Center licenses of these apps (default: all
    its apps) that their licenses move to the marketplace by the deadline. From the notice date (today or
    later) each license's customer gets one e-mail with its migration quote, then reminders 30, 7 and 1 days
    before the deadline (at least 30 days after the notice date) until it has moved. The licenses are those
    open at this moment. Safe to retry with an `Idempotency-Key` header."""
    request = CampaignRequest(body.apps, body.notice_date, body.deadline, body.message)
    answer = TransitionCampaigns(session, services).create_once(
        principal,
        slug,
        request,
        idempotency_key,
        lambda view: campaign_detail(view).model_dump(mode="json"),
    )
    return CampaignDetailOut.model_validate(answer.body)


@router.get(
    "/vendors/{slug}/transitions",
    response_model=CampaignPage,
    summary="List a vendor's transition campaigns",
    responses=problem_responses(*_SIGNED_IN, VendorNotFound, InvalidCursor),
)
def list_campaigns(
    slug: VendorPath,
    principal: Reader,
    session: SessionDep,
    services: ServicesDep,
    page: PageParams,
) -> CampaignPage:
    """The vendor's campaigns, newest first."""
    views = TransitionCampaigns(session, services).campaigns_of(principal, slug, page)
    return CampaignPage(
        items=[CampaignOut(**_campaign_fields(view)) for view in views.rows], **page_fields(views, page)
    )


@router.get(
    "/vendors/{slug}/transitions/{campaign_id}",
    response_model=CampaignDetailOut,
    summary="Show a transition campaign, license by license",
    responses={**_CSV, **problem_responses(*_CAMPAIGN)},
)
def get_campaign(
    slug: VendorPath,
    campaign_id: CampaignPath,
    principal: Reader,
    session: SessionDep,
    services: ServicesDep,
    output: Annotated[
        Literal["json", "csv"], Query(alias="format", description="json, or csv (one line per license).")
    ] = "json",
) -> Any:
    """Where each license stands today (migrated, ready, needs_upgrade with the tier and price,
    awaiting_payment, blocked, closed), the e-mails sent about it, and the totals."""
    campaigns = TransitionCampaigns(session, services)
    view = campaigns.view(campaigns.campaign_for(principal, slug, campaign_id))
    if output == "csv":
        return Response(
            campaign_csv(view),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{csv_filename(view)}"'},
        )
    return campaign_detail(view)


@router.post(
    "/vendors/{slug}/transitions/{campaign_id}/cancel",
    response_model=CampaignDetailOut,
    summary="Cancel a transition campaign",
    responses=problem_responses(*_CAMPAIGN),
)
def cancel_campaign(
    slug: VendorPath, campaign_id: CampaignPath, principal: Writer, session: SessionDep, services: ServicesDep
) -> CampaignDetailOut:
    """No more e-mails from this campaign. Quotes already sent stay valid, and customers may still move.
    Cancelling again changes nothing."""
    campaigns = TransitionCampaigns(session, services)
    return campaign_detail(campaigns.view(campaigns.cancel(principal, slug, campaign_id)))

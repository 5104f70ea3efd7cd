"""Cloud transitions API: a vendor (its members, or operator staff) moves its direct cloud customers of one app to
its marketplace cloud listing. Others get 404, as for every vendor path."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Header, Path, status
from pydantic import BaseModel, ConfigDict, Field

from mercato.accounts.access import Forbidden, NotAuthenticated
from mercato.accounts.dependencies import Writer
from mercato.accounts.errors import VendorNotFound
from mercato.catalog.vendors import VendorService
from mercato.cloud_transitions.errors import (
    NoMarketplaceCloudListing,
    NotTheVendorsApp,
    OtherHostProduct,
    TransitionGoesElsewhere,
)
from mercato.cloud_transitions.service import CloudTransitions, MoveState, TransitionReport
from mercato.commerce.errors import IdempotencyKeyReused
from mercato.commerce.idempotency import Answer, Idempotency, request_fingerprint
from mercato.commerce.repository import CommerceRepository
from mercato.fields import Text
from mercato.web.dependencies import ServicesDep, SessionDep
from mercato.web.responses import problem_responses
from mercato.web.routing import UnitOfWorkRoute

router = APIRouter(tags=["vendors"], route_class=UnitOfWorkRoute)

VendorPath = Annotated[Text, Path(max_length=64, description="The vendor's slug, e.g. example-mockups.")]
IdempotencyKey = Annotated[
    Text | None,
    Header(
        max_length=200,
        description="Any unique string you choose: a retry with the same key and body is answered the same. "
        "Without one a repeated transition is safe too: it moves nothing twice.",
    ),
]


class CloudTransitionIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "from_app": "com.example.mockups.wiki",
                    "to_app": "com.example.mockups.wiki",
                    "dry_run": True,
                }
            ]
        },
    )

    from_app: Text = Field(
        min_length=1, max_length=200, description="The vendor's app whose direct cloud licenses move."
    )
    to_app: Text = Field(
        min_length=1,
        max_length=200,
        description="The vendor's app whose marketplace cloud listing they move to (may be the same app).",
    )
    dry_run: bool = Field(default=False, description="Price every move and change nothing.")


class LicenseMoveOut(BaseModel):
    entitlement_number: str
    site: str = Field(description="The cloud site the license is bound to.")
    users: int | None
    billing_date: date | None = Field(
        description="The end of the first marketplace period: the renewal date."
    )
    currency: str | None
    charge: Decimal | None = Field(description="The marketplace subscription from today to the billing date.")
    credit: Decimal | None = Field(description="The unused part of what the customer prepaid the vendor.")
    net: Decimal | None = Field(description="charge − credit, never below zero: the invoice's total.")
    credit_unused: Decimal | None = Field(description="Credit beyond the charge, which the vendor refunds.")
    invoice: str | None = Field(description="The migration invoice's number.")
    state: MoveState
    reason: str | None = Field(description="Why the license waits or cannot move, and what to do.")


class CloudTransitionOut(BaseModel):
    vendor: str
    from_app: str
    to_app: str
    dry_run: bool
    counts: dict[str, int] = Field(description="Licenses per state.")
    licenses: list[LicenseMoveOut]


def _out(report: TransitionReport) -> CloudTransitionOut:
    return CloudTransitionOut(
        vendor=report.vendor,
        from_app=report.from_app,
        to_app=report.to_app,
        dry_run=report.dry_run,
        counts=dict(report.counts),
        licenses=[
            LicenseMoveOut(
                entitlement_number=move.entitlement_number,
                site=move.site,
                users=move.users,
                billing_date=move.billing_date,
                currency=move.currency,
                charge=move.charge,
                credit=move.credit,
                net=move.net,
                credit_unused=move.credit_unused,
                invoice=move.invoice,
                state=move.state,
                reason=move.reason,
            )
            for move in report.licenses
        ],
    )


@router.post(
    "/vendors/{slug}/cloud-transitions",
    response_model=CloudTransitionOut,
    status_code=status.HTTP_200_OK,
    summary="Move the vendor's direct cloud customers to its marketplace listing",
    responses=problem_responses(
        NotAuthenticated,
        Forbidden,
        VendorNotFound,
        NotTheVendorsApp,
        NoMarketplaceCloudListing,
        OtherHostProduct,
        TransitionGoesElsewhere,
        IdempotencyKeyReused,
    ),
)
def run_cloud_transition(
    slug: VendorPath,
    body: CloudTransitionIn,
    principal: Writer,
    session: SessionDep,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
) -> CloudTransitionOut:
    """Every active direct cloud license of `from_app` the vendor issued gets one marketplace invoice (seller:
    the operator) for its site: the marketplace subscription from today to the customer's billing date (the
    direct term's end, for the same users and cycle), less the unused part of its prepayment, never below
    zero. The invoice is e-mailed to the customer; paying it moves the license (same entitlement number, a
    marketplace key, the direct key valid for 30 days of grace). An invoice of nothing to pay moves it at once.

    Run it again at any time: a license whose invoice waits (`waiting`) or that moved is not invoiced twice.
    `dry_run` prices every move and changes nothing. A vendor's members and operator staff may run it."""
    vendor = VendorService(session, services.secret_key, services.clock).vendor_for(principal, slug)
    transitions = CloudTransitions(session, services)

    def perform() -> Answer:
        report = transitions.run(
            vendor, body.from_app, body.to_app, dry_run=body.dry_run, created_by=principal.user_id
        )
        return Answer(200, _out(report).model_dump(mode="json"))

    answer = Idempotency(CommerceRepository(session), services.clock).run(
        f"{principal.user_id}:cloud-transition:{vendor.slug}",
        idempotency_key,
        request_fingerprint(body.model_dump(mode="json")),
        "for another cloud transition",
        perform,
    )
    return CloudTransitionOut.model_validate(answer.body)

"""Apps and listings API: vendors create apps and propose listings; operator staff review and publish them.

Every change is safe to send twice: the same app created again, the same draft put again, a submission, a
withdrawal, an approval or a rejection repeated, each answers as the first time and changes nothing more.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Path, Response, status

from mercato.accounts.access import Forbidden, NotAuthenticated
from mercato.accounts.dependencies import Reader, Writer
from mercato.catalog import listings_schemas as schemas
from mercato.catalog.listings import AppChanges, ListingService
from mercato.catalog.listings_errors import (
    AppHostProductUnknown,
    AppKeyTaken,
    AppNotFound,
    AppVendorNotFound,
    DraftNotFound,
    DraftUnderReview,
    HostingNotSoldForHost,
    OperatorReviewOnly,
    PriceChangeTooSoon,
    RetiredAppFinal,
    RevisionAlreadyDecided,
    RevisionNotFound,
)
from mercato.fields import Text
from mercato.paging import InvalidCursor, page_fields
from mercato.pricing import Hosting
from mercato.problems import InvalidInput
from mercato.web.dependencies import ServicesDep, SessionDep
from mercato.web.paging import PageParams
from mercato.web.responses import problem_responses
from mercato.web.routing import UnitOfWorkRoute

router = APIRouter(tags=["listings"], route_class=UnitOfWorkRoute)

VendorPath = Annotated[Text, Path(max_length=64, description="The vendor's slug, e.g. example-mockups.")]
AppPath = Annotated[
    Text, Path(max_length=200, description="The app's key, e.g. com.example.mockups.whiteboard.wiki.")
]
HostingPath = Annotated[Hosting, Path(description="server, datacenter or cloud.")]
RevisionPath = Annotated[uuid.UUID, Path(description="The revision's id.")]
_SIGNED_IN = (NotAuthenticated, Forbidden)
_SPEC_RULES = (InvalidInput, HostingNotSoldForHost, PriceChangeTooSoon)


@router.post(
    "/vendors/{slug}/apps",
    response_model=schemas.ManagedAppOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create an app",
    responses={
        200: {
            "description": "The same app was created before: nothing changed.",
            "model": schemas.ManagedAppOut,
        },
        **problem_responses(*_SIGNED_IN, AppVendorNotFound, AppKeyTaken, AppHostProductUnknown, InvalidInput),
    },
)
def create_app(
    slug: VendorPath,
    body: schemas.AppIn,
    principal: Writer,
    session: SessionDep,
    services: ServicesDep,
    response: Response,
) -> schemas.ManagedAppOut:
    """A new app of the vendor (its members, or operator staff): key, name, host product, summary, description
    in Markdown and links. It is sold once a listing of it is approved: propose one with
    `PUT /api/v1/apps/{key}/listings/{hosting}/draft`. Sending the same app again answers 200 with it."""
    created = ListingService(session, services).create_app(principal, slug, body)
    if not created.created:
        response.status_code = status.HTTP_200_OK
    return schemas.managed_app_out(created.app, services.clock.today())


@router.get(
    "/vendors/{slug}/apps",
    response_model=list[schemas.ManagedAppOut],
    summary="List a vendor's apps, published or not",
    responses=problem_responses(*_SIGNED_IN, AppVendorNotFound),
)
def list_vendor_apps(
    slug: VendorPath, principal: Reader, session: SessionDep, services: ServicesDep
) -> list[schemas.ManagedAppOut]:
    """Every app of the vendor with every listing, published or not, and whether each is on sale."""
    today = services.clock.today()
    apps = ListingService(session, services).apps_of_vendor(principal, slug)
    return [schemas.managed_app_out(app, today) for app in apps]


@router.patch(
    "/apps/{app_key}",
    response_model=schemas.ManagedAppOut,
    summary="Change an app's page",
    responses=problem_responses(*_SIGNED_IN, AppNotFound, InvalidInput),
)
def update_app(
    app_key: AppPath,
    body: schemas.AppChangesIn,
    principal: Writer,
    session: SessionDep,
    services: ServicesDep,
) -> schemas.ManagedAppOut:
    """Change the name, summary, description or links. These page texts publish at once, without review;
    what is sold (channels, license types, prices) changes only through a reviewed listing draft."""
    changes = AppChanges(name=body.name, summary=body.summary, description=body.description, links=body.links)
    app = ListingService(session, services).update_app(principal, app_key, changes)
    return schemas.managed_app_out(app, services.clock.today())


@router.post(
    "/apps/{app_key}/visibility",
    response_model=schemas.ManagedAppOut,
    summary="Hide, retire or show an app",
    responses=problem_responses(*_SIGNED_IN, AppNotFound, RetiredAppFinal),
)
def set_visibility(
    app_key: AppPath,
    body: schemas.VisibilityIn,
    principal: Writer,
    session: SessionDep,
    services: ServicesDep,
) -> schemas.ManagedAppOut:
    """`hidden`: not listed and not sold to new buyers, until made `public` again. `retired`: for good (only
    operator staff may bring it back). Licenses already sold keep validating, renewing and upgrading."""
    app = ListingService(session, services).set_visibility(principal, app_key, body.visibility)
    return schemas.managed_app_out(app, services.clock.today())


# -- drafts -------------------------------------------------------------------------------------------------------


@router.put(
    "/apps/{app_key}/listings/{hosting}/draft",
    response_model=schemas.RevisionOut,
    summary="Create or replace a listing draft",
    responses=problem_responses(*_SIGNED_IN, AppNotFound, DraftUnderReview, *_SPEC_RULES),
)
def put_draft(
    app_key: AppPath,
    hosting: HostingPath,
    body: schemas.DraftIn,
    principal: Writer,
    session: SessionDep,
    services: ServicesDep,
) -> schemas.RevisionOut:
    """The listing as the vendor proposes it: channels, license types and the whole price table. It is checked
    against the host product's tiers at once (gaps, unknown tiers and falling prices are refused naming each
    field). Nothing is sold until the operator approves it. Putting it again replaces the draft."""
    revision = ListingService(session, services).put_draft(
        principal, app_key, hosting, body.listing, body.prices_effective_from
    )
    return schemas.revision_out(revision, app_key)


@router.get(
    "/apps/{app_key}/listings/{hosting}/draft",
    response_model=schemas.RevisionOut,
    summary="Get the open listing draft",
    responses=problem_responses(*_SIGNED_IN, AppNotFound, DraftNotFound),
)
def get_draft(
    app_key: AppPath, hosting: HostingPath, principal: Reader, session: SessionDep, services: ServicesDep
) -> schemas.RevisionOut:
    """The open draft (being edited, or submitted and waiting for review)."""
    revision = ListingService(session, services).draft(principal, app_key, hosting)
    return schemas.revision_out(revision, app_key)


@router.post(
    "/apps/{app_key}/listings/{hosting}/draft/submit",
    response_model=schemas.RevisionOut,
    summary="Submit the draft for review",
    responses=problem_responses(*_SIGNED_IN, AppNotFound, DraftNotFound, *_SPEC_RULES),
)
def submit_draft(
    app_key: AppPath,
    hosting: HostingPath,
    principal: Writer,
    session: SessionDep,
    services: ServicesDep,
    body: Annotated[
        schemas.SubmitIn | None,
        Body(
            openapi_examples={
                "as drafted": {"summary": "No body: the draft's own day, if any", "value": {}},
                "with a day": {
                    "summary": "New prices from a day",
                    "value": {"prices_effective_from": "2027-01-15"},
                },
            }
        ),
    ] = None,
) -> schemas.RevisionOut:
    """Send the draft to the operator's review queue, optionally with the day new prices should take effect.
    Submitting it again changes nothing."""
    day = body.prices_effective_from if body else None
    revision = ListingService(session, services).submit(principal, app_key, hosting, day)
    return schemas.revision_out(revision, app_key)


@router.post(
    "/apps/{app_key}/listings/{hosting}/draft/withdraw",
    response_model=schemas.RevisionOut,
    summary="Withdraw the draft",
    responses=problem_responses(*_SIGNED_IN, AppNotFound, DraftNotFound),
)
def withdraw_draft(
    app_key: AppPath, hosting: HostingPath, principal: Writer, session: SessionDep, services: ServicesDep
) -> schemas.RevisionOut:
    """Give the open draft up, before or during review. Withdrawing again answers with the withdrawn draft."""
    revision = ListingService(session, services).withdraw(principal, app_key, hosting)
    return schemas.revision_out(revision, app_key)


@router.get(
    "/apps/{app_key}/listings/{hosting}/revisions",
    response_model=list[schemas.RevisionOut],
    summary="A listing's revision history",
    responses=problem_responses(*_SIGNED_IN, AppNotFound),
)
def list_revisions(
    app_key: AppPath, hosting: HostingPath, principal: Reader, session: SessionDep, services: ServicesDep
) -> list[schemas.RevisionOut]:
    """Every revision of the listing, newest first: who started it, when it was submitted and decided, its
    status and the reviewer's note."""
    revisions = ListingService(session, services).revisions(principal, app_key, hosting)
    return [schemas.revision_out(revision, app_key) for revision in revisions]


# -- review -------------------------------------------------------------------------------------------------------


@router.get(
    "/review-queue",
    response_model=schemas.RevisionPage,
    summary="Listings waiting for review",
    responses=problem_responses(*_SIGNED_IN, OperatorReviewOnly, InvalidCursor),
)
def review_queue(
    principal: Reader,
    session: SessionDep,
    services: ServicesDep,
    page: PageParams,
) -> schemas.RevisionPage:
    """Submitted revisions, the longest waiting first (operator staff only)."""
    revisions = ListingService(session, services).review_queue(principal, page)
    return schemas.RevisionPage(
        items=[schemas.revision_out(r, r.app.key) for r in revisions.rows], **page_fields(revisions, page)
    )


@router.post(
    "/revisions/{revision_id}/approve",
    response_model=schemas.RevisionOut,
    summary="Approve and publish a listing revision",
    responses=problem_responses(
        *_SIGNED_IN, RevisionNotFound, OperatorReviewOnly, RevisionAlreadyDecided, *_SPEC_RULES
    ),
)
def approve_revision(
    revision_id: RevisionPath,
    body: schemas.ApproveIn,
    principal: Writer,
    session: SessionDep,
    services: ServicesDep,
) -> schemas.RevisionOut:
    """Publish the revision (operator staff only). A new listing is on sale at once, with its prices from
    today; new prices of a public listing take effect on `prices_effective_from`, at least the notice period
    ahead. Approving it again answers as the first time."""
    service = ListingService(session, services)
    revision = service.approve(principal, revision_id, body.note, body.prices_effective_from)
    return schemas.revision_out(revision, revision.app.key)


@router.post(
    "/revisions/{revision_id}/reject",
    response_model=schemas.RevisionOut,
    summary="Reject a listing revision",
    responses=problem_responses(*_SIGNED_IN, RevisionNotFound, OperatorReviewOnly, RevisionAlreadyDecided),
)
def reject_revision(
    revision_id: RevisionPath,
    body: schemas.RejectIn,
    principal: Writer,
    session: SessionDep,
    services: ServicesDep,
) -> schemas.RevisionOut:
    """Send the revision back with a note saying what to change (operator staff only). The vendor starts a new
    draft from it. Rejecting it again answers as the first time."""
    revision = ListingService(session, services).reject(principal, revision_id, body.note)
    return schemas.revision_out(revision, revision.app.key)

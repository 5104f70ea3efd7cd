"""``POST /api/v1/pricing/preview``: the storefront's price calculator and the engine behind quotes."""

from __future__ import annotations

from fastapi import APIRouter, Request

from mercato.catalog.listings_errors import ListingNotOnSale
from mercato.preview.schemas import PreviewRequest, PreviewResponse
from mercato.preview.service import PreviewService, UnknownProduct
from mercato.web.dependencies import SessionDep
from mercato.web.responses import pricing_rules, problem_responses
from mercato.web.routing import UnitOfWorkRoute

router = APIRouter(tags=["pricing"], route_class=UnitOfWorkRoute)


@router.post(
    "/pricing/preview",
    response_model=PreviewResponse,
    summary="Price items without buying",
    responses=problem_responses(UnknownProduct, ListingNotOnSale, *pricing_rules()),
)
def preview_prices(body: PreviewRequest, request: Request, session: SessionDep) -> PreviewResponse:
    """Price a list of proposed items (new purchases, renewals, upgrades, co-terms, evaluations, cloud
    subscriptions and user changes) for one host instance and one channel, as of `date` (default today).

    Every line explains itself in words and numbers; marketplace app lines carry the vendor/operator revenue
    split; totals are per currency and equal the sum of the lines exactly. Nothing is stored.

    A rule violation (an app tier smaller than the host's on the marketplace, several years of maintenance in
    the direct channel, a co-term that would shorten maintenance, ...) answers 422 with a problem document
    that says which item failed, why, and what to choose instead.
    """
    return PreviewService(session).preview(body, request.app.state.services.clock.today())

"""The vendor portal's money: monthly statements per currency, the payouts with the operator's reference, and
each payout's remittance (the entries it paid, reconciled to the cent) as a page and a CSV.

Everything goes through the ledger service the statements and payouts API uses (``mercato.ledger.service``):
another vendor's slug or payout answers 404, exactly like a missing one.
"""

from __future__ import annotations

import csv
import io
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from mercato.fields import Text
from mercato.ledger import api as ledger_api
from mercato.ledger.domain import Month
from mercato.ledger.errors import InvalidMonth, PayoutNotFound
from mercato.ledger.service import Ledger
from mercato.pages.rendering import render
from mercato.pages.vendor_support import portal_vendor
from mercato.pages.viewer import ViewerDep
from mercato.paging import PageRequest
from mercato.web.dependencies import ServicesDep, SessionDep
from mercato.web.routing import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, include_in_schema=False)

PAYOUTS_PER_PAGE = 50
REMITTANCE_COLUMNS = [
    "entry",
    "date",
    "kind",
    "channel",
    "entitlement_number",
    "invoice",
    "hosting",
    "currency",
    "amount",
    "vendor_share_rate",
    "vendor_amount",
    "description",
]
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _previous_month(request: Request) -> str:
    """The default statement: last month by the server's clock (the current one is still filling)."""
    today = request.app.state.clock.today()
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return str(Month(year, month))


@router.get("/vendor/{slug}/statements")
def statements_page(
    request: Request,
    slug: Text,
    viewer: ViewerDep,
    session: SessionDep,
    services: ServicesDep,
    month: Annotated[str, Query(max_length=7)] = "",
) -> Response:
    """The month's statement in each currency (the same call as ``GET /api/v1/vendors/{slug}/statements``)."""
    principal = viewer.require(request)
    vendor = portal_vendor(session, services, principal, slug)
    chosen = month.strip() or _previous_month(request)
    ledger = Ledger(session, services)
    error = None
    try:
        statements = [
            ledger_api.statement_out(ledger, s) for s in ledger.statements_for(principal, slug, chosen)
        ]
    except InvalidMonth as refused:
        statements, error = [], refused.detail
    return render(
        request,
        "vendor/statements.html",
        viewer,
        status_code=422 if error else 200,
        vendor=vendor,
        section="statements",
        month=chosen,
        statements=statements,
        error=error,
    )


@router.get("/vendor/{slug}/payouts")
def payouts_page(
    request: Request,
    slug: Text,
    viewer: ViewerDep,
    session: SessionDep,
    services: ServicesDep,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    """The vendor's payouts, newest month first (the same call as ``GET /api/v1/vendors/{slug}/payouts``)."""
    principal = viewer.require(request)
    vendor, page = Ledger(session, services).payouts_for(
        principal, slug, PageRequest(PAYOUTS_PER_PAGE, offset)
    )
    payouts, total = page.rows, page.total or 0
    return render(
        request,
        "vendor/payouts.html",
        viewer,
        vendor=vendor,
        section="payouts",
        payouts=[ledger_api.payout_out(p, vendor.slug) for p in payouts],
        total=total,
        offset=offset,
        per_page=PAYOUTS_PER_PAGE,
    )


def _remittance(
    request: Request,
    viewer: ViewerDep,
    session: SessionDep,
    services: ServicesDep,
    slug: str,
    payout: uuid.UUID,
) -> tuple[object, ledger_api.RemittanceOut]:
    """The payout's remittance, only under its own vendor's address: a payout of another vendor (or one the
    viewer may not see) is a 404 page, as is a real payout under the wrong vendor's slug."""
    principal = viewer.require(request)
    vendor = portal_vendor(session, services, principal, slug)
    remittance = Ledger(session, services).remittance_for(principal, payout)
    if remittance.vendor.id != vendor.id:
        raise PayoutNotFound(f"There is no payout {payout} that you can see.")
    return vendor, ledger_api.remittance_out(remittance)


@router.get("/vendor/{slug}/payouts/{payout}")
def remittance_page(
    request: Request,
    slug: Text,
    payout: uuid.UUID,
    viewer: ViewerDep,
    session: SessionDep,
    services: ServicesDep,
) -> Response:
    vendor, remittance = _remittance(request, viewer, session, services, slug, payout)
    return render(
        request, "vendor/remittance.html", viewer, vendor=vendor, section="payouts", remittance=remittance
    )


def _text_cell(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (descriptions come partly from customers' names)."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


@router.get("/vendor/{slug}/payouts/{payout}/remittance.csv")
def remittance_csv(
    request: Request,
    slug: Text,
    payout: uuid.UUID,
    viewer: ViewerDep,
    session: SessionDep,
    services: ServicesDep,
) -> Response:
    """The remittance's entries as CSV, amounts as plain decimals; their vendor amounts sum to the payout."""
    _, remittance = _remittance(request, viewer, session, services, slug, payout)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(REMITTANCE_COLUMNS)
    for e in remittance.entries:
        writer.writerow(
            [
                e.id,
                e.occurred_at.date().isoformat(),
                e.kind,
                e.channel,
                e.entitlement_number or "",
                e.invoice or "",
                e.hosting or "",
                e.currency,
                str(e.amount),
                str(e.vendor_share_rate),
                str(e.vendor_amount),
                _text_cell(e.description),
            ]
        )
    name = f"remittance-{remittance.payout.reference}.csv".replace('"', "")
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )

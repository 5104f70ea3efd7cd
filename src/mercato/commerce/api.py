"""Quotes, orders, invoices, payments, refunds and licenses over HTTP. Every endpoint needs an API token;
objects outside the caller's organisations and vendors answer 404."""

from __future__ import annotations

import hashlib
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from sqlalchemy import ColumnElement, false, or_, select, true

from mercato import pricing
from mercato.accounts.access import Principal
from mercato.catalog.models import App, Listing, Vendor
from mercato.commerce import presenters, schemas
from mercato.commerce.models import IdempotentRequest, Invoice
from mercato.commerce.repository import CommerceRepository
from mercato.commerce.service import CommerceService
from mercato.licenses.models import License
from mercato.problems import InvalidInput, NotFound
from mercato.web.auth import Reader, Writer
from mercato.web.dependencies import SessionDep
from mercato.web.routing import UnitOfWorkRoute

router = APIRouter(tags=["commerce"], route_class=UnitOfWorkRoute)
Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0)]


class IdempotencyKeyReused(InvalidInput):
    type = "idempotency-key-reused"
    title = "Idempotency-Key reused for another request"


def _service(request: Request, session: SessionDep) -> CommerceService:
    settings = request.app.state.settings
    return CommerceService(session, settings.secret_key, settings.superseded_key_grace_days)


def _clock(request: Request) -> Any:
    return request.app.state.clock


@router.post("/quotes", status_code=201, response_model=schemas.QuoteOut, summary="Ask for a quote")
def create_quote(body: schemas.QuoteRequest, principal: Writer, request: Request, session: SessionDep) -> Any:
    """Price items for one of your host instances in one channel and keep the prices for 30 days.

    Items: `new` (an app or the host product itself, in a tier), `evaluation`, `renewal` of a license (one or
    more years where the channel allows), `upgrade` of a license to a larger tier, and `co_term` of one
    license — or, without `license`, of every marketplace app license of the instance — to the host's
    maintenance end or a `target_date`. On the marketplace one quote holds the host license and apps of many
    vendors; a direct quote holds one vendor's apps. Every line explains itself in words and numbers.
    """
    quote = _service(request, session).create_quote(principal, body, _clock(request).today())
    return presenters.quote_out(quote, session, _clock(request).today())


@router.get("/quotes", response_model=schemas.QuotePage, summary="List quotes")
def list_quotes(
    principal: Reader, request: Request, session: SessionDep, limit: Limit = 50, offset: Offset = 0
) -> Any:
    """Your organisations' quotes, newest first (operator staff: every quote)."""
    organisations = None if principal.operator else principal.organisations
    quotes, total = CommerceRepository(session).quotes(organisations, limit, offset)
    today = _clock(request).today()
    return schemas.QuotePage(
        items=[presenters.quote_out(q, session, today) for q in quotes],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/quotes/{quote_id}", response_model=schemas.QuoteOut, summary="Get a quote")
def get_quote(quote_id: uuid.UUID, principal: Reader, request: Request, session: SessionDep) -> Any:
    """One quote with its lines."""
    quote = _service(request, session).quote_for(principal, quote_id)
    return presenters.quote_out(quote, session, _clock(request).today())


@router.post(
    "/quotes/{quote_id}/accept",
    status_code=201,
    response_model=schemas.AcceptedQuote,
    summary="Accept a quote",
    responses={200: {"description": "The quote was accepted before: the same order and invoice."}},
)
def accept_quote(
    quote_id: uuid.UUID,
    principal: Writer,
    request: Request,
    response: Response,
    session: SessionDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Any:
    """Accept an open quote at the quoted prices: one order and one invoice from the seller of record (the
    operator on the marketplace, the vendor on its direct store, with its own invoice numbers).

    Safe to retry: a quote makes one order, one invoice and one set of licenses however often and however
    concurrently it is accepted (201 the first time, 200 after). With an `Idempotency-Key` header a retry gets
    the very same answer; reusing a key for another quote is refused. An invoice of nothing to pay
    (evaluations, free license types) is settled at once and its keys issued.
    """
    service = _service(request, session)
    clock = _clock(request)
    quote = service.quote_for(principal, quote_id, for_update=True)  # locked: concurrent retries queue here
    repo = CommerceRepository(session)
    scope = f"{principal.user_id}:accept-quote"
    request_hash = hashlib.sha256(str(quote_id).encode()).hexdigest()
    if idempotency_key is not None:
        remembered = repo.idempotent_request(scope, idempotency_key)
        if remembered is not None:
            if remembered.request_hash != request_hash:
                raise IdempotencyKeyReused(
                    f"The Idempotency-Key {idempotency_key!r} was already used to accept another quote. "
                    "Use a new key for each quote."
                )
            response.status_code = remembered.status_code
            return remembered.response
    acceptance = service.accept(principal, quote, clock.today(), clock.now())
    body = schemas.AcceptedQuote(
        order=schemas.OrderOut(
            id=acceptance.order.id,
            quote_id=acceptance.order.quote_id,
            seller=acceptance.order.seller,
            created_at=acceptance.order.created_at,
        ),
        invoice=presenters.invoice_out(acceptance.invoice),
    )
    response.status_code = 201 if acceptance.created else 200
    if idempotency_key is not None:
        repo.add(
            IdempotentRequest(
                scope=scope,
                key=idempotency_key,
                request_hash=request_hash,
                status_code=response.status_code,
                response=body.model_dump(mode="json"),
            )
        )
    return body


def _invoice_visibility(principal: Principal, session: SessionDep) -> ColumnElement[bool]:
    if principal.operator:
        return true()
    sellers = [
        f"vendor:{slug}"
        for slug in session.scalars(select(Vendor.slug).where(Vendor.id.in_(principal.vendor_member_of)))
    ]
    return or_(
        Invoice.organisation_id.in_(principal.organisations) if principal.organisations else false(),
        Invoice.seller.in_(sellers) if sellers else false(),
    )


@router.get("/invoices", response_model=schemas.InvoicePage, summary="List invoices")
def list_invoices(principal: Reader, session: SessionDep, limit: Limit = 50, offset: Offset = 0) -> Any:
    """Invoices of your organisations, and the direct-store invoices of your vendors, newest first."""
    invoices, total = CommerceRepository(session).invoices(
        _invoice_visibility(principal, session), limit, offset
    )
    return schemas.InvoicePage(
        items=[presenters.invoice_out(i) for i in invoices], total=total, limit=limit, offset=offset
    )


@router.get("/invoices/{invoice_id}", response_model=schemas.InvoiceOut, summary="Get an invoice")
def get_invoice(invoice_id: uuid.UUID, principal: Reader, request: Request, session: SessionDep) -> Any:
    """One invoice with its lines (and each marketplace app line's revenue split) and payments."""
    return presenters.invoice_out(_service(request, session).invoice_for(principal, invoice_id))


@router.post("/invoices/{invoice_id}/payments", response_model=schemas.InvoiceOut, summary="Record a payment")
def record_payment(
    invoice_id: uuid.UUID, body: schemas.PaymentIn, principal: Writer, request: Request, session: SessionDep
) -> Any:
    """Record a bank transfer or purchase order payment received by the seller (operator staff for marketplace
    invoices, the vendor for its direct invoices). Partial payments add up; more than is due is refused.
    Paid in full, the invoice's licenses are issued or extended and their keys signed in the same transaction.
    """
    clock = _clock(request)
    invoice = _service(request, session).record_payment(
        principal, invoice_id, body, clock.today(), clock.now()
    )
    return presenters.invoice_out(invoice)


@router.post(
    "/invoices/{invoice_id}/lines/{line_id}/refund",
    response_model=schemas.InvoiceOut,
    summary="Refund a new purchase",
)
def refund_line(
    invoice_id: uuid.UUID,
    line_id: int,
    body: schemas.RefundIn,
    principal: Writer,
    request: Request,
    session: SessionDep,
) -> Any:
    """Refund a new purchase within 30 days of payment (the seller's action): the license is cancelled, its
    keys revoked, and the revenue split reversed at the rate of the original sale."""
    clock = _clock(request)
    service = _service(request, session)
    service.refund_line(principal, invoice_id, line_id, body.reason, clock.today(), clock.now())
    return presenters.invoice_out(service.invoice_for(principal, invoice_id))


def _license_visibility(principal: Principal) -> ColumnElement[bool]:
    if principal.operator:
        return true()
    vendor_listings = (
        select(Listing.id)
        .join(App, App.id == Listing.app_id)
        .where(App.vendor_id.in_(principal.vendor_member_of))
    )
    return or_(
        License.organisation_id.in_(principal.organisations) if principal.organisations else false(),
        License.listing_id.in_(vendor_listings) if principal.vendor_member_of else false(),
    )


@router.get("/licenses", response_model=schemas.LicensePage, summary="List licenses")
def list_licenses(
    principal: Reader,
    session: SessionDep,
    limit: Limit = 50,
    offset: Offset = 0,
    product_key: str | None = None,
    hosting: pricing.Hosting | None = None,
    channel: pricing.Channel | None = None,
    status: str | None = Query(default=None, pattern="^(active|expired|suspended|cancelled|superseded)$"),
    host_instance_id: uuid.UUID | None = None,
) -> Any:
    """Licenses of your organisations (customers) or of your apps (vendors), newest first, with filters."""
    filters: list[ColumnElement[bool]] = []
    if product_key is not None:
        filters.append(License.product_key == product_key)
    if hosting is not None:
        filters.append(License.hosting == hosting.value)
    if channel is not None:
        filters.append(License.channel == channel.value)
    if status is not None:
        filters.append(License.status == status)
    if host_instance_id is not None:
        filters.append(License.host_instance_id == host_instance_id)
    rows, total = CommerceRepository(session).licenses(_license_visibility(principal), filters, limit, offset)
    return schemas.LicensePage(
        items=[presenters.license_out(r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.get(
    "/licenses/{entitlement_number}", response_model=schemas.LicenseDetailOut, summary="Get a license"
)
def get_license(entitlement_number: str, principal: Reader, session: SessionDep) -> Any:
    """One license with its keys and its full history (every transaction). The keys themselves are shown to
    the organisation's admins and operator staff, and to the vendor for its direct licenses."""
    repo = CommerceRepository(session)
    license = repo.license_by_entitlement(entitlement_number)
    if license is None or not session.scalar(
        select(License.id).where(License.id == license.id, _license_visibility(principal))
    ):
        raise NotFound(f"There is no license {entitlement_number} that you can see.")
    show_keys = (
        principal.operator
        or (license.organisation_id is not None and license.organisation_id in principal.customer_admin_of)
        or (license.channel == "direct" and _is_vendor_of(principal, license, session))
    )
    return presenters.license_detail_out(license, repo, show_keys)


def _is_vendor_of(principal: Principal, license: License, session: SessionDep) -> bool:
    vendor_id = session.scalar(
        select(App.vendor_id).join(Listing, Listing.app_id == App.id).where(Listing.id == license.listing_id)
    )
    return vendor_id is not None and vendor_id in principal.vendor_member_of

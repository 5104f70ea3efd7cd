"""Quotes, orders, invoices, payments, refunds and licenses over HTTP. Every endpoint needs an API token;
objects outside the caller's organisations and vendors answer 404. Routes hold no SQL and no rules: they call
the services and present what those return."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response

from mercato import pricing
from mercato.accounts.access import Forbidden, NotAuthenticated
from mercato.accounts.dependencies import Reader, Writer
from mercato.catalog.listings_errors import ListingNotOnSale
from mercato.commerce import errors, presenters, schemas
from mercato.commerce.acceptance import Acceptance, Accepting
from mercato.commerce.invoicing import Invoicing
from mercato.commerce.quoting import Quoting
from mercato.commerce.refunds import Refunds
from mercato.commerce.repository import CommerceRepository, LicenseFilters
from mercato.fields import RowId, Text
from mercato.licenses.models import LicenseState
from mercato.paging import InvalidCursor, page_fields
from mercato.services import Services
from mercato.web.dependencies import SessionDep
from mercato.web.paging import PageParams
from mercato.web.responses import pricing_rules, problem_responses
from mercato.web.routing import UnitOfWorkRoute

router = APIRouter(tags=["commerce"], route_class=UnitOfWorkRoute)
LineId = Annotated[RowId, Path(description="The invoice line's `id` (not its position).")]
EntitlementPath = Annotated[Text, Path(max_length=32, description="The license's entitlement number, SEN-….")]


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(_services)]


def _repo(session: SessionDep) -> CommerceRepository:
    return CommerceRepository(session)


RepoDep = Annotated[CommerceRepository, Depends(_repo)]
IdempotencyKey = Annotated[
    Text | None,
    Header(
        max_length=200,
        description="Any unique string you choose (a UUID, your PO number): a retry with the same key and the "
        "same request is performed once and answered the same.",
    ),
]


def _today(services: Services) -> date:
    return services.clock.today()


_COMMON = (NotAuthenticated, Forbidden)


@router.post(
    "/quotes",
    status_code=201,
    response_model=schemas.QuoteOut,
    summary="Ask for a quote",
    responses=problem_responses(
        *_COMMON,
        errors.HostInstanceNotFound,
        errors.NotABuyer,
        errors.LicenseNotOnInstance,
        errors.LicenseClosedForChanges,
        errors.LicenseInOtherChannel,
        errors.TierRequired,
        errors.AlreadyLicensed,
        errors.CoTermTargetMissing,
        errors.NothingToCoTerm,
        errors.MixedCurrencies,
        errors.EvaluationLimitReached,
        errors.IdempotencyKeyReused,
        ListingNotOnSale,
        *pricing_rules(),
    ),
)
def create_quote(
    body: schemas.QuoteRequest,
    principal: Writer,
    repo: RepoDep,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
) -> schemas.QuoteOut:
    """Price items for one of your host instances in one channel and keep the prices for 30 days.

    Items: `new` (an app or the host product itself, in a tier), `evaluation`, `renewal` of a license (one or
    more years where the channel allows), `upgrade` of a license to a larger tier, and `co_term` of one
    license — or, without `license`, of every marketplace app license of the instance — to the host's
    maintenance end or a `target_date`. On the marketplace one quote holds the host license and apps of many
    vendors; a direct quote holds one vendor's apps. Every line explains itself in words and numbers.

    Safe to retry with an `Idempotency-Key` header: the same key and body get the same quote, once.
    """
    today = _today(services)
    answer = Quoting(repo, services).create_once(
        principal,
        body,
        idempotency_key,
        lambda quote: presenters.quote_out(quote, today).model_dump(mode="json"),
    )
    return schemas.QuoteOut.model_validate(answer.body)


@router.get(
    "/quotes",
    response_model=schemas.QuotePage,
    summary="List quotes",
    responses=problem_responses(*_COMMON, InvalidCursor),
)
def list_quotes(
    principal: Reader, repo: RepoDep, services: ServicesDep, page: PageParams
) -> schemas.QuotePage:
    """Your organisations' quotes, newest first (operator staff: every quote). Counted only with
    `include=total`."""
    quotes = repo.readable_quotes(principal, page)
    today = _today(services)
    return schemas.QuotePage(
        items=[presenters.quote_out(q, today) for q in quotes.rows], **page_fields(quotes, page)
    )


@router.get(
    "/quotes/{quote_id}",
    response_model=schemas.QuoteOut,
    summary="Get a quote",
    responses=problem_responses(*_COMMON, errors.QuoteNotFound),
)
def get_quote(
    quote_id: uuid.UUID, principal: Reader, repo: RepoDep, services: ServicesDep
) -> schemas.QuoteOut:
    """One quote with its lines."""
    quote = Accepting(repo, services).quote_for(principal, quote_id)
    return presenters.quote_out(quote, _today(services))


@router.post(
    "/quotes/{quote_id}/accept",
    status_code=201,
    response_model=schemas.AcceptedQuote,
    summary="Accept a quote",
    responses={
        200: {"description": "The quote was accepted before: the same order and invoice."},
        **problem_responses(
            *_COMMON,
            errors.QuoteNotFound,
            errors.NotABuyer,
            errors.QuoteCancelled,
            errors.QuoteExpired,
            errors.AlreadyLicensed,
            errors.IdempotencyKeyReused,
            errors.EvaluationLimitReached,
        ),
    },
)
def accept_quote(
    quote_id: uuid.UUID,
    principal: Writer,
    response: Response,
    repo: RepoDep,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
) -> schemas.AcceptedQuote:
    """Accept an open quote at the quoted prices: one order and one invoice from the seller of record (the
    operator on the marketplace, the vendor on its direct store, with its own invoice numbers).

    Safe to retry: a quote makes one order, one invoice and one set of licenses however often and however
    concurrently it is accepted (201 the first time, 200 after). With an `Idempotency-Key` header a retry gets
    the very same answer; reusing a key for another quote is refused. An invoice of nothing to pay
    (evaluations, free license types) is settled at once and its keys issued.
    """
    answer = Accepting(repo, services).accept(principal, quote_id, idempotency_key, _accepted_body)
    response.status_code = answer.status_code
    return schemas.AcceptedQuote.model_validate(answer.body)


def _accepted_body(acceptance: Acceptance) -> dict[str, Any]:
    order = acceptance.order
    return schemas.AcceptedQuote(
        order=schemas.OrderOut(
            id=order.id, quote_id=order.quote_id, seller=order.seller, created_at=order.created_at
        ),
        invoice=presenters.invoice_out(acceptance.invoice),
    ).model_dump(mode="json")


@router.get(
    "/invoices",
    response_model=schemas.InvoicePage,
    summary="List invoices",
    responses=problem_responses(*_COMMON, InvalidCursor),
)
def list_invoices(principal: Reader, repo: RepoDep, page: PageParams) -> schemas.InvoicePage:
    """Invoices of your organisations, and the direct-store invoices of your vendors, newest first. Counted
    only with `include=total`."""
    invoices = repo.readable_invoices(principal, page)
    return schemas.InvoicePage(
        items=[presenters.invoice_out(i) for i in invoices.rows], **page_fields(invoices, page)
    )


@router.get(
    "/invoices/{invoice_id}",
    response_model=schemas.InvoiceOut,
    summary="Get an invoice",
    responses=problem_responses(*_COMMON, errors.InvoiceNotFound),
)
def get_invoice(
    invoice_id: uuid.UUID, principal: Reader, repo: RepoDep, services: ServicesDep
) -> schemas.InvoiceOut:
    """One invoice with its lines (and each marketplace app line's revenue split) and payments."""
    return presenters.invoice_out(Invoicing(repo, services).invoice_for(principal, invoice_id))


@router.post(
    "/invoices/{invoice_id}/payments",
    response_model=schemas.InvoiceOut,
    summary="Record a payment",
    responses=problem_responses(
        *_COMMON,
        errors.InvoiceNotFound,
        errors.NotTheSeller,
        errors.InvoiceCancelled,
        errors.InvoiceAlreadyPaid,
        errors.AmountNotInCurrency,
        errors.Overpayment,
        errors.PaymentInFuture,
        errors.PaymentTooOld,
        errors.PaymentReferenceUsed,
        errors.IdempotencyKeyReused,
        errors.UnknownPaymentMethod,
    ),
)
def record_payment(
    invoice_id: uuid.UUID,
    body: schemas.PaymentIn,
    principal: Writer,
    repo: RepoDep,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
) -> schemas.InvoiceOut:
    """Record a bank transfer or purchase order payment received by the seller (operator staff for marketplace
    invoices, the vendor for its direct invoices). Partial payments add up; more than is due is refused.
    Paid in full, the invoice's licenses are issued or extended and their keys signed in the same transaction.

    Never counted twice: a payment is known by its `reference` on the invoice, so sending the same payment
    again (a retry whose answer was lost) changes nothing, and the same reference with another amount is
    refused. An `Idempotency-Key` header replays the very first answer.
    """
    answer = Invoicing(repo, services).record_payment_once(
        principal,
        invoice_id,
        body,
        idempotency_key,
        lambda invoice: presenters.invoice_out(invoice).model_dump(mode="json"),
    )
    return schemas.InvoiceOut.model_validate(answer.body)


@router.post(
    "/invoices/{invoice_id}/lines/{line_id}/refund",
    response_model=schemas.InvoiceOut,
    summary="Refund a new purchase",
    responses=problem_responses(
        *_COMMON,
        errors.InvoiceNotFound,
        errors.InvoiceLineNotFound,
        errors.NotTheSeller,
        errors.AlreadyRefunded,
        errors.NotRefundable,
        errors.RefundWindowClosed,
        errors.ChangedSinceSale,
    ),
)
def refund_line(
    invoice_id: uuid.UUID,
    line_id: LineId,
    body: schemas.RefundIn,
    principal: Writer,
    repo: RepoDep,
    services: ServicesDep,
) -> schemas.InvoiceOut:
    """Refund a new purchase within 30 days of payment (the seller's action): the license is cancelled, its
    keys revoked, and the revenue split reversed at the rate of the original sale."""
    Refunds(repo, services).refund_line(principal, invoice_id, line_id, body.reason)
    return presenters.invoice_out(Invoicing(repo, services).invoice_for(principal, invoice_id))


@router.get(
    "/licenses",
    response_model=schemas.LicensePage,
    summary="List licenses",
    responses=problem_responses(*_COMMON, InvalidCursor),
)
def list_licenses(
    principal: Reader,
    repo: RepoDep,
    page: PageParams,
    product_key: Annotated[
        Text | None, Query(max_length=200, description="Only this app or host product.")
    ] = None,
    hosting: pricing.Hosting | None = None,
    channel: pricing.Channel | None = None,
    status: LicenseState | None = None,
    host_instance_id: uuid.UUID | None = None,
) -> schemas.LicensePage:
    """Licenses of your organisations (customers) or of your apps (vendors), newest first, with filters.
    Counted only with `include=total`."""
    filters = LicenseFilters(product_key, hosting, channel, status, host_instance_id)
    licenses = repo.licenses(principal, filters, page)
    return schemas.LicensePage(
        items=[presenters.license_out(r) for r in licenses.rows], **page_fields(licenses, page)
    )


@router.get(
    "/licenses/{entitlement_number}",
    response_model=schemas.LicenseDetailOut,
    summary="Get a license",
    responses=problem_responses(*_COMMON, errors.LicenseNotFound),
)
def get_license(
    entitlement_number: EntitlementPath, principal: Reader, repo: RepoDep
) -> schemas.LicenseDetailOut:
    """One license with its keys and its full history (every transaction). The keys themselves are shown to
    the organisation's admins and operator staff, and to the vendor for its direct licenses."""
    license = repo.readable_license(principal, entitlement_number)
    if license is None:
        raise errors.LicenseNotFound(f"There is no license {entitlement_number} that you can see.")
    return presenters.license_detail_out(
        license,
        repo.keys_of(license.id),
        repo.transactions_of(license.id),
        repo.may_see_keys(principal, license),
    )

"""Operator admin: orders and invoices. The list with filters (status, organisation), and an invoice's page with
its lines and payments, where the seller's staff record a payment and refund a new purchase — the very services
of ``POST /api/v1/invoices/{id}/payments`` and ``.../lines/{line}/refund``.

A payment form carries an idempotency key made when the page was shown, and the payment's reference makes it
known on the invoice: a form sent twice (a double click, a reload, a retry after a lost answer) records one
payment. A refund cancels the line's license and revokes its keys (``Refunds``)."""

from __future__ import annotations

import secrets
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from mercato.accounts.access import Principal
from mercato.accounts.errors import OrganisationNotFound
from mercato.accounts.repository import AccountsRepository
from mercato.commerce import errors as commerce_errors
from mercato.commerce import presenters
from mercato.commerce.invoicing import Invoicing
from mercato.commerce.models import InvoiceStatus
from mercato.commerce.refunds import Refunds
from mercato.commerce.repository import CommerceRepository
from mercato.commerce.schemas import PaymentIn
from mercato.pages.operator_access import operator_principal, refused, validation_errors
from mercato.pages.rendering import render
from mercato.pages.viewer import FormViewerDep, Viewer, ViewerDep
from mercato.paging import PageRequest
from mercato.problems import Problem
from mercato.services import Services
from mercato.web.dependencies import ServicesDep, SessionDep
from mercato.web.paging import AfterQuery
from mercato.web.routing import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, include_in_schema=False)
PAGE_SIZE = 50
ORGANISATIONS_SHOWN = 500
PAYMENT_METHODS = (("bank_transfer", "Bank transfer"), ("purchase_order", "Purchase order"))

# Which payment field each refusal concerns (the rest concern the whole form).
_PAYMENT_FIELDS: dict[type[Problem], str] = {
    commerce_errors.Overpayment: "amount",
    commerce_errors.AmountNotInCurrency: "amount",
    commerce_errors.PaymentReferenceUsed: "reference",
    commerce_errors.PaymentInFuture: "received_on",
    commerce_errors.PaymentTooOld: "received_on",
    commerce_errors.UnknownPaymentMethod: "provider",
}
_PAYMENT_REFUSALS: tuple[type[Problem], ...] = (
    *_PAYMENT_FIELDS,
    commerce_errors.InvoiceAlreadyPaid,
    commerce_errors.InvoiceCancelled,
    commerce_errors.IdempotencyKeyReused,
    commerce_errors.NotTheSeller,
)
_REFUND_REFUSALS: tuple[type[Problem], ...] = (
    commerce_errors.NotRefundable,
    commerce_errors.RefundWindowClosed,
    commerce_errors.ChangedSinceSale,
    commerce_errors.NotTheSeller,
)


@router.get("/admin/invoices")
def invoices(
    request: Request,
    viewer: ViewerDep,
    session: SessionDep,
    status: Annotated[Literal["open", "paid", "cancelled"] | None, Query()] = None,
    organisation: Annotated[str | None, Query(max_length=64)] = None,
    after: AfterQuery = None,
) -> Response:
    principal = operator_principal(viewer, request)
    accounts = AccountsRepository(session)
    organisations = accounts.list_organisations(
        only=None, text=None, page=PageRequest(ORGANISATIONS_SHOWN)
    ).rows
    chosen = None
    if organisation:
        chosen = accounts.organisation_by_slug(organisation.strip().lower())
        if chosen is None:
            raise OrganisationNotFound(f"There is no organisation {organisation!r}.")
    page = CommerceRepository(session).readable_invoices(
        principal,
        PageRequest(PAGE_SIZE, after=after),
        status=InvoiceStatus(status) if status else None,
        organisation_id=chosen.id if chosen else None,
    )
    names = {o.id: o.name for o in organisations}
    if chosen is not None:
        names[chosen.id] = chosen.name
    return render(
        request,
        "admin/invoices.html",
        viewer,
        invoices=[presenters.invoice_out(i) for i in page.rows],
        names=names,
        organisations=organisations,
        page=page,
        after=after,
        status=status,
        organisation=chosen.slug if chosen else None,
    )


def _invoice_page(
    request: Request,
    viewer: Viewer,
    session: Session,
    services: Services,
    principal: Principal,
    invoice_id: uuid.UUID,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    repo = CommerceRepository(session)
    invoice = Invoicing(repo, services).invoice_for(principal, invoice_id)
    organisation = repo.organisation(invoice.organisation_id)
    shown = presenters.invoice_out(invoice)
    defaults = {
        "amount": str(shown.amount_due),
        "provider": "bank_transfer",
        "reference": "",
        "received_on": services.clock.today().isoformat(),
        "idempotency_key": secrets.token_urlsafe(24),
    }
    return render(
        request,
        "admin/invoice.html",
        viewer,
        status_code=status_code,
        invoice=shown,
        organisation=organisation,
        is_seller=repo.acts_for_seller(principal, invoice.seller),
        methods=PAYMENT_METHODS,
        errors=errors or {},
        values={**defaults, **(values or {})},
    )


def _form_refused(
    request: Request,
    viewer: Viewer,
    session: Session,
    services: Services,
    principal: Principal,
    invoice_id: uuid.UUID,
    errors: dict[str, str],
    values: dict[str, Any],
) -> Response:
    """The invoice page again with a form's refusal next to its field and what was typed kept (a 422)."""
    return _invoice_page(
        request,
        viewer,
        session,
        services,
        principal,
        invoice_id,
        errors=errors,
        values=values,
        status_code=422,
    )


@router.get("/admin/invoices/{invoice_id}")
def invoice_page(
    invoice_id: uuid.UUID, request: Request, viewer: ViewerDep, session: SessionDep, services: ServicesDep
) -> Response:
    principal = operator_principal(viewer, request)
    return _invoice_page(request, viewer, session, services, principal, invoice_id)


@router.post("/admin/invoices/{invoice_id}/payments")
def record_payment(
    invoice_id: uuid.UUID,
    request: Request,
    viewer: FormViewerDep,
    session: SessionDep,
    services: ServicesDep,
    amount: Annotated[str, Form(max_length=30)] = "",
    provider: Annotated[str, Form(max_length=40)] = "bank_transfer",
    reference: Annotated[str, Form(max_length=500)] = "",
    received_on: Annotated[str, Form(max_length=20)] = "",
    idempotency_key: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Record money received, as the API does (``Invoicing.record_payment_once``)."""
    principal = operator_principal(viewer, request)
    values = {
        "amount": amount,
        "provider": provider,
        "reference": reference,
        "received_on": received_on,
        "idempotency_key": idempotency_key,
    }
    try:
        payment = PaymentIn.model_validate(
            {
                "amount": amount.strip(),
                "provider": provider,
                "reference": reference.strip(),
                "received_on": received_on.strip() or None,
            }
        )
    except ValidationError as invalid:
        errors = validation_errors(invalid, {name: name for name in values})
        return _form_refused(request, viewer, session, services, principal, invoice_id, errors, values)
    repo = CommerceRepository(session)
    try:
        Invoicing(repo, services).record_payment_once(
            principal,
            invoice_id,
            payment,
            idempotency_key.strip() or None,
            lambda invoice: presenters.invoice_out(invoice).model_dump(mode="json"),
        )
    except _PAYMENT_REFUSALS as problem:
        refused(session)
        errors = {_PAYMENT_FIELDS.get(type(problem), "_form"): problem.detail}
        return _form_refused(request, viewer, session, services, principal, invoice_id, errors, values)
    return RedirectResponse(f"/admin/invoices/{invoice_id}#payments", status_code=303)


@router.post("/admin/invoices/{invoice_id}/lines/{line_id}/refund")
def refund_line(
    invoice_id: uuid.UUID,
    line_id: int,
    request: Request,
    viewer: FormViewerDep,
    session: SessionDep,
    services: ServicesDep,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Refund a new purchase within its window: its license is cancelled and its keys revoked."""
    principal = operator_principal(viewer, request)
    field = f"reason-{line_id}"
    text = reason.strip()
    if not text or len(text) > 500:
        errors = {
            field: "Say why the purchase is refunded (at most 500 characters); the customer's history shows it."
        }
        return _form_refused(
            request, viewer, session, services, principal, invoice_id, errors, {field: reason}
        )
    try:
        Refunds(CommerceRepository(session), services).refund_line(principal, invoice_id, line_id, text)
    except commerce_errors.AlreadyRefunded:
        refused(session)  # sent twice (or refunded by a colleague meanwhile): the page shows it refunded
    except _REFUND_REFUSALS as problem:
        refused(session)
        return _form_refused(
            request,
            viewer,
            session,
            services,
            principal,
            invoice_id,
            {field: problem.detail},
            {field: reason},
        )
    return RedirectResponse(f"/admin/invoices/{invoice_id}#lines", status_code=303)

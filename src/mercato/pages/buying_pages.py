"""Buying pages: a customer's hosts, the cart, quotes, invoices (page and PDF), payments and the keys.

Every handler calls what the API calls (``HostInstanceService``, ``Quoting``, ``Accepting``, ``Invoicing``) with
the signed-in principal, so the roles and rules are the API's: customer admins register hosts, quote and
accept; billing contacts see hosts, quotes and invoices; the seller of record (operator staff on the
marketplace, the vendor on its direct store) records payments. Another organisation's object is a 404.

Writes that must not happen twice (create a quote, accept, record a payment) carry a key made when the form was
rendered, handed to the services' idempotency: a double click or a resent form is performed once.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import quote as url_quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from mercato import pricing
from mercato.accounts.access import Principal
from mercato.accounts.errors import (
    FieldTooLong,
    HostingNotSold,
    HostTermsInvalid,
    InvalidServerId,
    NotAnAdmin,
    OrganisationNotFound,
    ServerIdTaken,
    UnknownHosting,
    UnknownHostProduct,
)
from mercato.accounts.host_instances import HostInstanceService, HostInstanceTerms
from mercato.accounts.models import Organisation
from mercato.accounts.repository import RegisteredHost
from mercato.accounts.schemas import HostInstanceIn
from mercato.accounts.service import AccountService
from mercato.catalog.repository import CatalogRepository
from mercato.commerce import presenters, schemas
from mercato.commerce.acceptance import Acceptance, Accepting
from mercato.commerce.cart import Cart, CartGroup
from mercato.commerce.errors import (
    AmountNotInCurrency,
    Overpayment,
    PaymentInFuture,
    PaymentReferenceUsed,
    PaymentTooOld,
    UnknownPaymentMethod,
)
from mercato.commerce.invoice_pdf import InvoiceDocument, invoice_pdf
from mercato.commerce.invoicing import Invoicing
from mercato.commerce.models import Invoice, QuoteStatus
from mercato.commerce.repository import CommerceRepository
from mercato.licenses.models import LicenseKey
from mercato.pages.rendering import render
from mercato.pages.viewer import FormViewerDep, Viewer, ViewerDep
from mercato.paging import PageRequest
from mercato.pricing import PricingError
from mercato.problems import Problem
from mercato.services import Services
from mercato.web.dependencies import SessionDep
from mercato.web.routing import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, include_in_schema=False)

FormText = Annotated[str, Form(max_length=200)]
Errors = dict[str, str]


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _form_key() -> str:
    """The key of one rendered form: its posts (a double click, a resend) are performed once."""
    return secrets.token_urlsafe(24)


def _see_other(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303)


def _field_errors(error: ValidationError, known: set[str]) -> Errors:
    """Pydantic's complaints about a form, by field (the first per field), as sentences."""
    found: Errors = {}
    for entry in error.errors():
        place = next((str(p) for p in entry.get("loc", ()) if str(p) in known), "_form")
        found.setdefault(place, str(entry.get("msg", "is not valid")).removeprefix("Value error, ") + ".")
    return found


# -- hosts ---------------------------------------------------------------------------------------------------

HOST_FIELDS = {
    "organisation",
    "host_product",
    "hosting",
    "server_id",
    "name",
    "user_tier",
    "host_maintenance_end",
    "cloud_users",
    "billing_cycle",
    "next_billing_date",
}


_HOST_ERROR_FIELDS: tuple[tuple[type[Problem], str], ...] = (
    (UnknownHostProduct, "host_product"),
    (UnknownHosting, "hosting"),
    (HostingNotSold, "hosting"),
    (InvalidServerId, "server_id"),
    (ServerIdTaken, "server_id"),
    (FieldTooLong, "name"),
    (OrganisationNotFound, "organisation"),
    (NotAnAdmin, "organisation"),
)


def _host_error_field(problem: Problem, hosting: str) -> str:
    """The field a host rule's refusal is about (the rules raise one error type per cause)."""
    for kind, name in _HOST_ERROR_FIELDS:
        if isinstance(problem, kind):
            return name
    if isinstance(problem, HostTermsInvalid):
        # One type for the terms as a whole; which term is wrong depends on the hosting, then on the sentence.
        if hosting != "cloud":
            return "user_tier"
        if "billing date" in problem.detail:
            return "next_billing_date"
        if "billed" in problem.detail:
            return "billing_cycle"
        return "cloud_users"
    return "_form"


def _hosts_context(session: Session, viewer_principal: Principal) -> dict[str, Any]:
    accounts = AccountService(session)
    hosts = HostInstanceService(session)
    organisations: list[tuple[Organisation, list[RegisteredHost]]] = []
    for organisation_id in sorted(viewer_principal.organisations, key=str):
        organisation = accounts.organisation_for(viewer_principal, organisation_id)
        registered = list(hosts.instances_for(viewer_principal, organisation_id, page=PageRequest(200)).rows)
        organisations.append((organisation, registered))
    organisations.sort(key=lambda pair: pair[0].name)
    return {
        "organisations": organisations,
        "administered": [o for o, _ in organisations if o.id in viewer_principal.customer_admin_of],
        "host_products": CatalogRepository(session).list_host_products(),
    }


@router.get("/hosts")
def hosts_page(request: Request, viewer: ViewerDep, session: SessionDep) -> Response:
    principal = viewer.require(request)
    return render(
        request,
        "buying/hosts.html",
        viewer,
        form={},
        errors={},
        **_hosts_context(session, principal),
    )


@router.post("/hosts")
def register_host(
    request: Request,
    viewer: FormViewerDep,
    session: SessionDep,
    organisation: FormText = "",
    host_product: FormText = "",
    hosting: FormText = "",
    server_id: FormText = "",
    name: FormText = "",
    user_tier: FormText = "",
    host_maintenance_end: FormText = "",
    cloud_users: FormText = "",
    billing_cycle: FormText = "",
    next_billing_date: FormText = "",
) -> Response:
    principal = viewer.require(request)
    form = {
        "organisation": organisation,
        "host_product": host_product,
        "hosting": hosting,
        "server_id": server_id,
        "name": name,
        "user_tier": user_tier,
        "host_maintenance_end": host_maintenance_end,
        "cloud_users": cloud_users,
        "billing_cycle": billing_cycle,
        "next_billing_date": next_billing_date,
    }
    errors: Errors = {}
    # The API's own request model reads the form: the same field checks, the same sentences.
    sent = {k: v.strip() for k, v in form.items() if k != "organisation" and v.strip()}
    try:
        body = HostInstanceIn.model_validate(sent)
    except ValidationError as invalid:
        errors = _field_errors(invalid, HOST_FIELDS)
    else:
        terms_fields = body.model_fields_set & set(HostInstanceTerms.__dataclass_fields__)
        terms = HostInstanceTerms(
            **{f: getattr(body, f) for f in terms_fields if getattr(body, f) is not None}
        )
        try:
            HostInstanceService(session).register_for(
                principal, organisation, body.host_product, body.hosting, body.server_id, terms
            )
        except Problem as refused:
            session.rollback()
            errors = {_host_error_field(refused, hosting): refused.detail}
    if errors:
        return render(
            request,
            "buying/hosts.html",
            viewer,
            status_code=422,
            form=form,
            errors=errors,
            **_hosts_context(session, principal),
        )
    return _see_other("/hosts")


# -- cart ----------------------------------------------------------------------------------------------------


_MOST_YEARS = {
    channel.value: months // 12
    for channel, months in pricing.ChannelPolicy.default_for(
        pricing.Hosting.SERVER
    ).max_maintenance_months.items()
}
"""The years of maintenance the cart offers per channel: the default channel policy's cap (3 on the marketplace,
1 direct). A listing with a policy of its own is refused by the rule, whose answer offers the years it sells."""


def _cart_page(
    request: Request,
    viewer: Viewer,
    session: Session,
    status_code: int = 200,
    item_errors: dict[int, dict[str, Any]] | None = None,
    form_errors: Errors | None = None,
) -> Response:
    principal = viewer.require(request)
    cart = Cart(session, _services(request))
    groups = cart.groups(cart.lines(principal))
    hosts: list[RegisteredHost] = []
    for organisation_id in sorted(principal.customer_admin_of, key=str):
        registered = (
            HostInstanceService(session).instances_for(principal, organisation_id, page=PageRequest(200)).rows
        )
        hosts.extend(registered)
    # The way back to what the cart became: the newest quotes and invoices (one query each).
    repo = CommerceRepository(session)
    today = _services(request).clock.today()
    quotes = repo.readable_quotes(principal, PageRequest(10)).rows
    invoices = repo.readable_invoices(principal, PageRequest(10)).rows
    return render(
        request,
        "buying/cart.html",
        viewer,
        status_code=status_code,
        open_quotes=[
            presenters.quote_out(q, today)
            for q in quotes
            if q.status == QuoteStatus.OPEN and today <= q.valid_until
        ],
        invoices=[
            presenters.invoice_out(i) for i in invoices if i.organisation_id in principal.organisations
        ],
        groups=groups,
        most_years=_MOST_YEARS,
        hosts=hosts,
        form_key=_form_key(),
        item_errors=item_errors or {},
        errors=form_errors or {},
    )


@router.get("/cart")
def cart_page(request: Request, viewer: ViewerDep, session: SessionDep) -> Response:
    return _cart_page(request, viewer, session)


@router.get("/cart/items")
def cart_items_page() -> Response:
    """Items are added with a form; an address typed or followed here shows the cart."""
    return _see_other("/cart")


@router.post("/cart/items")
def add_to_cart(
    request: Request,
    viewer: FormViewerDep,
    session: SessionDep,
    app_key: FormText = "",
    hosting: FormText = "",
    channel: FormText = "marketplace",
    tier: Annotated[str, Form(max_length=16)] = "",
    years: Annotated[str, Form(max_length=3)] = "1",
    host_instance_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    if not viewer.signed_in:
        # A visitor on an app page: sign in, then back to the app (a POST cannot be resumed after a redirect).
        back = f"/apps/{url_quote(app_key.strip(), safe='.-_')}" if app_key.strip() else "/cart"
        return _see_other(f"/sign-in?next={url_quote(back, safe='/')}")
    principal = viewer.require(request)
    errors: Errors = {}
    try:
        chosen_hosting = pricing.Hosting(hosting) if hosting else None
    except ValueError:
        chosen_hosting, errors["hosting"] = (
            None,
            f"{hosting!r} is not a hosting: server, datacenter or cloud.",
        )
    try:
        chosen_channel = pricing.Channel(channel)
    except ValueError:
        chosen_channel, errors["channel"] = pricing.Channel.MARKETPLACE, "Choose the marketplace or direct."
    try:
        chosen_years = int(years)
        if not 1 <= chosen_years <= 10:
            raise ValueError
    except ValueError:
        chosen_years, errors["years"] = 1, "Years of maintenance are a whole number from 1 to 10."
    if not app_key.strip():
        errors["app_key"] = "Give the app's key, like com.example.mockups.wiki."
    if errors:
        return _cart_page(request, viewer, session, 422, form_errors=errors)
    if not host_instance_id:
        # The app page does not know the buyer's hosts: ask which one, among those the app can run on.
        return _pick_host(request, viewer, session, app_key.strip(), chosen_hosting, channel, tier, years)
    try:
        host_id = uuid.UUID(host_instance_id)
        Cart(session, _services(request)).put(
            principal, host_id, app_key, chosen_hosting, chosen_channel, tier.strip() or None, chosen_years
        )
    except (ValueError, Problem) as refused:
        session.rollback()
        sentence = refused.detail if isinstance(refused, Problem) else "Pick one of your hosts."
        if isinstance(refused, Problem) and refused.status in (403, 404) and "host" not in refused.type:
            raise
        return _cart_page(request, viewer, session, 422, form_errors={"host_instance_id": sentence})
    return _see_other("/cart")


def _pick_host(
    request: Request,
    viewer: Viewer,
    session: Session,
    app_key: str,
    hosting: pricing.Hosting | None,
    channel: str,
    tier: str,
    years: str,
) -> Response:
    principal = viewer.require(request)
    catalog = CatalogRepository(session)
    app = catalog.app_by_key(app_key)
    host_product = catalog.host_product_by_id(app.host_product_id) if app else None
    if host_product is None:
        host_product = catalog.host_product_by_key(app_key)  # the host license itself
    hosts: list[RegisteredHost] = []
    if host_product is not None:
        for organisation_id in sorted(principal.customer_admin_of, key=str):
            registered = HostInstanceService(session).instances_for(
                principal,
                organisation_id,
                host_product_key=host_product.key,
                hosting=hosting.value if hosting else None,
                page=PageRequest(200),
            )
            hosts.extend(registered.rows)
    return render(
        request,
        "buying/pick_host.html",
        viewer,
        app_name=app.name if app else app_key,
        app_key=app_key,
        hosting=hosting.value if hosting else "",
        hosting_label=hosting.label if hosting else "",
        host_product=host_product,
        channel=channel,
        tier=tier,
        years=years,
        hosts=hosts,
    )


@router.post("/cart/items/{item_id}/remove")
def remove_from_cart(request: Request, viewer: FormViewerDep, session: SessionDep, item_id: int) -> Response:
    principal = viewer.require(request)
    Cart(session, _services(request)).remove(principal, item_id)
    return _see_other("/cart")


@router.post("/cart/items/{item_id}/change")
def change_cart_item(
    request: Request,
    viewer: FormViewerDep,
    session: SessionDep,
    item_id: int,
    channel: FormText = "",
    tier: Annotated[str, Form(max_length=16)] = "",
    years: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    """Another number of years, or the way out of a refusal in one click: another tier, fewer years, or the
    marketplace instead of the direct store."""
    principal = viewer.require(request)
    cart = Cart(session, _services(request))
    item = cart.item(principal, item_id)
    try:
        chosen = pricing.Channel(channel) if channel else pricing.Channel(item.channel)
    except ValueError:
        chosen = pricing.Channel(item.channel)
    chosen_years = int(years) if years.isdigit() and 1 <= int(years) <= 10 else item.years
    cart.put(
        principal, item.host_instance_id, item.product_key, None, chosen, tier or item.tier, chosen_years
    )
    return _see_other("/cart")


@router.post("/cart/quotes")
def create_quote(
    request: Request,
    viewer: FormViewerDep,
    session: SessionDep,
    group: Annotated[str, Form(max_length=200)] = "",
    form_key: Annotated[str, Form(max_length=100)] = "",
    po_number: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    principal = viewer.require(request)
    services = _services(request)
    cart = Cart(session, services)
    key = form_key or _form_key()
    found: CartGroup | None = next((g for g in cart.groups(cart.lines(principal)) if g.key == group), None)
    if found is None:
        earlier = cart.earlier_quote(principal, key)  # the same form sent again: its quote exists
        if earlier is not None:
            return _see_other(f"/quotes/{earlier}")
        return _cart_page(
            request, viewer, session, 409, form_errors={"_form": "That part of the cart is empty."}
        )
    today = services.clock.today()
    try:
        answer = cart.quote(
            principal,
            found,
            po_number.strip() or None,
            key,
            lambda quote: presenters.quote_out(quote, today).model_dump(mode="json"),
        )
    except (Problem, PricingError) as refused:
        session.rollback()
        extensions: Mapping[str, Any] = refused.extensions if isinstance(refused, Problem) else {}
        position = extensions.get("item")
        if isinstance(position, int) and 1 <= position <= len(found.lines):
            line = found.lines[position - 1]
            item_errors = {line.item.id: {"sentence": refused.detail, **_way_out(refused, line.item.channel)}}
            return _cart_page(request, viewer, session, refused.status, item_errors=item_errors)
        return _cart_page(request, viewer, session, refused.status, form_errors={"_form": refused.detail})
    return _see_other(f"/quotes/{answer.body['id']}")


def _way_out(refused: Problem | PricingError, channel: str) -> dict[str, Any]:
    """What the item's error offers besides its sentence: a tier to switch to, or the marketplace."""
    details: Mapping[str, Any] = refused.extensions if isinstance(refused, Problem) else refused.details
    way: dict[str, Any] = {}
    suggested = details.get("suggested_tier")
    if suggested:
        suggested_tier = pricing.Tier.parse(str(suggested))
        way["tier"] = str(suggested_tier)
        way["tier_value"] = str(suggested_tier.users or "unlimited")
    allowed = details.get("allowed_channels")
    moving_to_marketplace = channel == pricing.Channel.DIRECT and (
        "marketplace" in (allowed or []) or "marketplace" in refused.detail
    )
    if moving_to_marketplace:
        way["marketplace"] = True
    most_years = details.get("most_years_now")
    if refused.type == "maintenance-cap-exceeded" and isinstance(most_years, int) and most_years > 0:
        way["years"] = most_years
    if refused.type in ("maintenance-cap-exceeded", "tier-mismatch", "channel-not-allowed"):
        way["rule"] = refused.type
    return way


# -- quotes --------------------------------------------------------------------------------------------------


@router.get("/quotes/{quote_id}")
def quote_page(request: Request, viewer: ViewerDep, session: SessionDep, quote_id: uuid.UUID) -> Response:
    return _quote_page(request, viewer, session, quote_id)


def _quote_page(
    request: Request,
    viewer: Viewer,
    session: Session,
    quote_id: uuid.UUID,
    status_code: int = 200,
    error: str | None = None,
) -> Response:
    principal = viewer.require(request)
    services = _services(request)
    repo = CommerceRepository(session)
    quote = Accepting(repo, services).quote_for(principal, quote_id)
    shown = presenters.quote_out(quote, services.clock.today())
    invoice = None
    if quote.status == QuoteStatus.ACCEPTED:
        order = repo.order_of_quote(quote.id)
        invoice = repo.invoice_of_order(order.id) if order else None
    host = repo.host_instance(quote.host_instance_id)
    catalog = CatalogRepository(session)
    return render(
        request,
        "buying/quote.html",
        viewer,
        status_code=status_code,
        quote=shown,
        host=host,
        seller=catalog.seller_name(quote.seller),
        invoice=invoice,
        may_accept=principal.can_buy_for(quote.organisation_id),
        form_key=_form_key(),
        error=error,
    )


@router.post("/quotes/{quote_id}/accept")
def accept_quote(
    request: Request,
    viewer: FormViewerDep,
    session: SessionDep,
    quote_id: uuid.UUID,
    form_key: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    principal = viewer.require(request)
    services = _services(request)
    repo = CommerceRepository(session)

    def present(acceptance: Acceptance) -> dict[str, Any]:
        order = acceptance.order
        # The API's answer, stored for replays: the same key answers the same on either edge.
        return schemas.AcceptedQuote(
            order=schemas.OrderOut(
                id=order.id, quote_id=order.quote_id, seller=order.seller, created_at=order.created_at
            ),
            invoice=presenters.invoice_out(acceptance.invoice),
        ).model_dump(mode="json")

    try:
        answer = Accepting(repo, services).accept(principal, quote_id, form_key or None, present)
    except Problem as refused:
        if refused.status == 404:
            raise
        session.rollback()
        return _quote_page(request, viewer, session, quote_id, refused.status, refused.detail)
    return _see_other(f"/invoices/{answer.body['invoice']['id']}")


# -- invoices ------------------------------------------------------------------------------------------------


def _keys_by_line(
    repo: CommerceRepository, principal: Principal, invoice: Invoice
) -> dict[int, list[LicenseKey]]:
    """The current keys of each paid line's license, for those who may see keys (the API's rule), read in one
    query for all the lines."""
    shown = [
        (line.id, line.license.id)
        for line in invoice.lines
        if line.license is not None and repo.may_see_keys(principal, line.license)
    ]
    keys_of = repo.keys_of_licenses({license_id for _, license_id in shown})
    found: dict[int, list[LicenseKey]] = {}
    for line_id, license_id in shown:
        keys = [k for k in keys_of.get(license_id, []) if k.revoked_at is None and k.superseded_at is None]
        if keys:
            found[line_id] = keys
    return found


def _document(session: Session, invoice: Invoice) -> InvoiceDocument:
    organisation = CommerceRepository(session).organisation(invoice.organisation_id)
    return InvoiceDocument(
        invoice=presenters.invoice_out(invoice),
        seller=CatalogRepository(session).seller_name(invoice.seller),
        buyer=organisation.name if organisation else "",
        buyer_email=organisation.billing_email if organisation else "",
        buyer_country=(organisation.country or "") if organisation else "",
    )


def _invoice_page(
    request: Request,
    viewer: Viewer,
    session: Session,
    invoice_id: uuid.UUID,
    status_code: int = 200,
    form: dict[str, str] | None = None,
    errors: Errors | None = None,
) -> Response:
    principal = viewer.require(request)
    services = _services(request)
    repo = CommerceRepository(session)
    invoice = Invoicing(repo, services).invoice_for(principal, invoice_id)
    document = _document(session, invoice)
    due = document.invoice.amount_due
    return render(
        request,
        "buying/invoice.html",
        viewer,
        status_code=status_code,
        doc=document,
        invoice=document.invoice,
        keys=_keys_by_line(repo, principal, invoice),
        may_record_payment=repo.acts_for_seller(principal, invoice.seller),
        form=form or {"amount": str(due), "provider": "bank_transfer", "reference": "", "received_on": ""},
        errors=errors or {},
        form_key=_form_key(),
        today=services.clock.today(),
    )


@router.get("/invoices/{invoice_id}.pdf")
def invoice_pdf_download(
    request: Request, viewer: ViewerDep, session: SessionDep, invoice_id: uuid.UUID
) -> Response:
    principal = viewer.require(request)
    invoice = Invoicing(CommerceRepository(session), _services(request)).invoice_for(principal, invoice_id)
    document = _document(session, invoice)
    return Response(
        invoice_pdf(document),
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{document.invoice.number}.pdf"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/invoices/{invoice_id}")
def invoice_page(request: Request, viewer: ViewerDep, session: SessionDep, invoice_id: uuid.UUID) -> Response:
    return _invoice_page(request, viewer, session, invoice_id)


PAYMENT_FIELDS = {"amount", "provider", "reference", "received_on"}
_PAYMENT_ERROR_FIELDS: dict[type[Problem], str] = {
    AmountNotInCurrency: "amount",
    Overpayment: "amount",
    PaymentReferenceUsed: "reference",
    PaymentInFuture: "received_on",
    PaymentTooOld: "received_on",
    UnknownPaymentMethod: "provider",
}


@router.post("/invoices/{invoice_id}/payments")
def record_payment(
    request: Request,
    viewer: FormViewerDep,
    session: SessionDep,
    invoice_id: uuid.UUID,
    amount: Annotated[str, Form(max_length=30)] = "",
    provider: Annotated[str, Form(max_length=30)] = "bank_transfer",
    reference: FormText = "",
    received_on: Annotated[str, Form(max_length=10)] = "",
    form_key: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    principal = viewer.require(request)
    services = _services(request)
    repo = CommerceRepository(session)
    form = {"amount": amount, "provider": provider, "reference": reference, "received_on": received_on}
    errors: Errors = {}
    try:
        Decimal(amount.strip() or "x")
    except InvalidOperation:
        errors["amount"] = "Give the amount received, like 1100.00."
    try:
        received = date.fromisoformat(received_on) if received_on.strip() else None
    except ValueError:
        received, errors["received_on"] = None, "Give the day the money arrived, like 2026-11-26."
    if not errors:
        try:
            payment = schemas.PaymentIn.model_validate(
                {
                    "amount": amount.strip(),
                    "provider": provider,
                    "reference": reference,
                    "received_on": received,
                }
            )
        except ValidationError as invalid:
            errors = _field_errors(invalid, PAYMENT_FIELDS)
    if not errors:
        try:
            Invoicing(repo, services).record_payment_once(
                principal,
                invoice_id,
                payment,
                form_key or None,
                lambda invoice: presenters.invoice_out(invoice).model_dump(mode="json"),
            )
        except Problem as refused:
            if refused.status in (403, 404):
                raise
            session.rollback()
            errors = {_PAYMENT_ERROR_FIELDS.get(type(refused), "_form"): refused.detail}
    if errors:
        return _invoice_page(request, viewer, session, invoice_id, 422, form, errors)
    return _see_other(f"/invoices/{invoice_id}")

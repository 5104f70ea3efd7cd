"""My licenses: a customer's licenses by host instance, one license with its keys and history, and the quotes
that change them (renew, upgrade, co-term a host's apps to one date).

Reads go through the same repository and presenters as ``GET /api/v1/licenses``; every change is a quote made by
the same quoting service as ``POST /api/v1/quotes`` (with its idempotency), after which the browser goes to the
quote. These pages show the licenses of the viewer's own organisations only: operator staff and vendors see
other people's licenses through the API and their own pages, not as "my" licenses.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from mercato.accounts.access import Principal
from mercato.accounts.host_instances import HostInstanceService
from mercato.accounts.models import HostInstance, Organisation
from mercato.accounts.service import AccountService
from mercato.catalog.domain import tier_label
from mercato.catalog.repository import CatalogRepository
from mercato.commerce import errors, presenters, schemas
from mercato.commerce.quoting import Quoting
from mercato.commerce.repository import CommerceRepository, LicenseFilters
from mercato.licenses.models import License, LicenseKey
from mercato.pages import license_views as views
from mercato.pages.rendering import render
from mercato.pages.viewer import FormViewerDep, Viewer, ViewerDep
from mercato.paging import PageRequest
from mercato.pricing import Channel, Hosting, PricingError
from mercato.problems import InvalidInput, Problem
from mercato.services import Services
from mercato.web.dependencies import ServicesDep, SessionDep
from mercato.web.routing import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, include_in_schema=False)

# A customer has a handful of hosts with a few apps each; past this the page says so and the filters narrow it.
LIST_LIMIT = 500
HOSTS_LIMIT = 200
Entitlement = Annotated[str, Path(max_length=32)]


def as_customer(principal: Principal) -> Principal:
    """The principal as a member of its organisations only. The repository's reads then answer exactly what
    they answer a customer: another organisation's license is missing (404), also for operator staff or a
    vendor, whose wider reach belongs to their own pages."""
    return replace(principal, operator=False, vendor_member_of=frozenset())


# -- the list --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LicenseRow:
    license: schemas.LicenseOut
    standing: views.Standing
    ends: views.EndDate
    seller: str
    key: schemas.KeyOut | None
    is_app: bool


@dataclass
class HostSection:
    """One host instance of the viewer's organisations and its licenses (``instance`` None: licenses bound to
    no host instance, such as keys made by support tools)."""

    instance: HostInstance | None
    product_name: str
    organisation: str
    rows: list[LicenseRow]
    can_buy: bool

    @property
    def anchor(self) -> str:
        return f"host-{self.instance.id}" if self.instance else "host-none"

    @property
    def co_term_field(self) -> str:
        return f"co-term-{self.instance.id}" if self.instance else ""

    @property
    def co_terms(self) -> bool:
        """Whether the host offers co-terming: a server or Data Center host with marketplace app licenses."""
        return (
            self.instance is not None
            and self.instance.hosting != Hosting.CLOUD
            and any(r.is_app and r.license.channel == Channel.MARKETPLACE for r in self.rows)
        )


def _parse_standing(value: str | None) -> views.Standing | None:
    if not value:
        return None
    try:
        return views.Standing(value)
    except ValueError:
        raise InvalidInput(f"{value!r} is not a license status; choose one of the list's statuses.") from None


def _parse_host(value: str | None) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise errors.HostInstanceNotFound(f"There is no host instance {value!r} that you can see.") from None


def _list_page(
    request: Request,
    viewer: Viewer,
    session: Session,
    services: Services,
    principal: Principal,
    host_filter: uuid.UUID | None = None,
    status_filter: views.Standing | None = None,
    status_code: int = 200,
    form_errors: dict[str, str] | None = None,
    form_values: dict[str, str] | None = None,
) -> Response:
    customer = as_customer(principal)
    today = services.clock.today()
    repo = CommerceRepository(session)
    catalog = CatalogRepository(session)

    organisations = AccountService(session).organisations_for(customer, page=PageRequest(HOSTS_LIMIT)).rows
    hosts_service = HostInstanceService(session)
    hosts: list[tuple[Organisation, HostInstance, str]] = []
    for organisation in organisations:
        found = hosts_service.instances_for(customer, organisation.id, page=PageRequest(HOSTS_LIMIT)).rows
        hosts += [(organisation, registered.instance, registered.host_product_key) for registered in found]
    if host_filter is not None and host_filter not in {instance.id for _, instance, _ in hosts}:
        raise errors.HostInstanceNotFound(f"There is no host instance {host_filter} that you can see.")

    filters = LicenseFilters(
        status=status_filter.stored_status if status_filter else None, host_instance_id=host_filter
    )
    # One customer's licenses: counted, to say when the list shows only the newest.
    page = repo.licenses(customer, filters, PageRequest(LIST_LIMIT, count_total=True))
    licenses, total = page.rows, page.total or 0
    keys = repo.keys_of_licenses(license.id for license in licenses)
    sellers = {issuer: catalog.seller_name(issuer) for issuer in {license.issuer for license in licenses}}
    rows_by_host: dict[uuid.UUID | None, list[LicenseRow]] = {}
    for license in licenses:
        row = _row(repo, customer, license, keys.get(license.id, []), sellers[license.issuer], today)
        if status_filter is None or row.standing == status_filter:
            rows_by_host.setdefault(license.host_instance_id, []).append(row)

    product_names = {product.key: product.name for product in catalog.list_host_products()}
    several = len(organisations) > 1
    sections = [
        HostSection(
            instance,
            product_names.get(product_key, product_key),
            organisation.name if several else "",
            sorted(rows_by_host.get(instance.id, []), key=_row_order),
            principal.can_buy_for(instance.organisation_id),
        )
        for organisation, instance, product_key in hosts
        if host_filter is None or instance.id == host_filter
    ]
    if rows_by_host.get(None):
        sections.append(HostSection(None, "", "", sorted(rows_by_host[None], key=_row_order), False))
    if status_filter is not None:
        sections = [section for section in sections if section.rows]
    # Hosts with licenses first; the others stay in view below, to say that nothing is licensed on them.
    sections.sort(key=lambda section: not section.rows)
    return render(
        request,
        "licenses/list.html",
        viewer,
        status_code=status_code,
        sections=sections,
        hosts=hosts,
        host_filter=str(host_filter) if host_filter else "",
        status_filter=status_filter.value if status_filter else "",
        standings=list(views.Standing),
        shown=len(licenses),
        total=total,
        errors=form_errors or {},
        values=form_values or {},
        new_request_key=_new_request_key,
        today=today,
    )


def _row(
    repo: CommerceRepository,
    customer: Principal,
    license: License,
    keys: Sequence[LicenseKey],
    seller: str,
    today: date,
) -> LicenseRow:
    # The detail presenter decides which keys are current and whether the viewer may see them, as the API does.
    presented = presenters.license_detail_out(license, keys, (), repo.may_see_keys(customer, license))
    return LicenseRow(
        license=presented,
        standing=views.standing(presented, today),
        ends=views.end_date(presented),
        seller=seller,
        key=views.current_key(presented.keys),
        is_app=license.listing.app_id is not None,
    )


def _row_order(row: LicenseRow) -> tuple[bool, str]:
    """The host product's own license first, then the apps by key."""
    return (row.is_app, row.license.product_key)


@router.get("/licenses")
def licenses_page(
    request: Request,
    viewer: ViewerDep,
    session: SessionDep,
    services: ServicesDep,
    host: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    principal = viewer.require(request)
    return _list_page(
        request, viewer, session, services, principal, _parse_host(host), _parse_standing(status)
    )


# -- one license -----------------------------------------------------------------------------------------------


def _readable(repo: CommerceRepository, principal: Principal, entitlement_number: str) -> License:
    license = repo.readable_license(as_customer(principal), entitlement_number)
    if license is None:
        raise errors.LicenseNotFound(f"There is no license {entitlement_number} that you can see.")
    return license


def _detail_page(
    request: Request,
    viewer: Viewer,
    session: Session,
    services: Services,
    principal: Principal,
    entitlement_number: str,
    status_code: int = 200,
    form_errors: dict[str, str] | None = None,
    form_values: dict[str, str] | None = None,
) -> Response:
    customer = as_customer(principal)
    repo = CommerceRepository(session)
    catalog = CatalogRepository(session)
    license = _readable(repo, principal, entitlement_number)
    transactions = repo.transactions_of(license.id)
    detail = presenters.license_detail_out(
        license, repo.keys_of(license.id), transactions, repo.may_see_keys(customer, license)
    )
    invoices = repo.invoices_of_lines(
        t.invoice_line_id for t in transactions if t.invoice_line_id is not None
    )
    instance = repo.host_instance(license.host_instance_id) if license.host_instance_id else None
    host_product = catalog.host_product_by_id(instance.host_product_id) if instance else None
    today = services.clock.today()
    standing = views.standing(detail, today)
    changeable = (
        instance is not None
        and not license.status.is_closed
        and not license.evaluation
        and license.hosting != Hosting.CLOUD
    )
    return render(
        request,
        "licenses/detail.html",
        viewer,
        status_code=status_code,
        license=detail,
        standing=standing,
        ends=views.end_date(detail),
        grace_ends=views.grace_ends(detail) if standing == views.Standing.IN_GRACE else None,
        seller=catalog.seller_name(license.issuer),
        is_app=license.listing.app_id is not None,
        key=views.current_key(detail.keys),
        history=views.history(detail.history, transactions, invoices),
        instance=instance,
        host_product=host_product,
        can_buy=instance is not None and principal.can_buy_for(instance.organisation_id),
        changeable=changeable,
        upgrade_tiers=_larger_tiers(host_product.user_tiers if host_product else [], license.tier_users),
        check_link=_check_link(detail, instance),
        errors=form_errors or {},
        values=form_values or {},
        new_request_key=_new_request_key,
    )


def _check_link(detail: schemas.LicenseDetailOut, instance: HostInstance | None) -> str | None:
    """The license check page with this license's host filled in, as the host product would describe it; the
    key itself is never put in an address: it is pasted there."""
    if instance is None:
        return None
    users = instance.cloud_users if instance.hosting == Hosting.CLOUD else instance.user_tier
    host_tier = "unlimited" if users == -1 else str(users or "")
    return "/license-check?" + urlencode(
        {
            "app_key": detail.product_key,
            "hosting": detail.hosting.value,
            "server_id": detail.host_binding,
            "host_tier": host_tier,
        }
    )


def _new_request_key() -> str:
    """A fresh idempotency key for each form a page shows: sending that form again (a reload, a double click)
    replays its quote, while every other form, and the same form shown again, makes its own."""
    return str(uuid.uuid4())


def _larger_tiers(tiers: list[int], current: int) -> list[str]:
    """The tiers above ``current`` (-1, unlimited, is above all), as the quote form takes them."""
    if current == -1:
        return []
    return [tier_label(t) for t in sorted(tiers, key=lambda t: (t == -1, t)) if t == -1 or t > current]


@router.get("/licenses/{entitlement_number}")
def license_page(
    request: Request,
    entitlement_number: Entitlement,
    viewer: ViewerDep,
    session: SessionDep,
    services: ServicesDep,
) -> Response:
    principal = viewer.require(request)
    return _detail_page(request, viewer, session, services, principal, entitlement_number)


# -- quotes that change licenses -------------------------------------------------------------------------------


class FormRefused(Exception):
    """A quote the rules refused, with the sentence to show by the field."""

    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence


def _quote(
    session: Session,
    services: Services,
    principal: Principal,
    request_key: str,
    body: dict[str, Any],
) -> Response:
    """Create the quote as ``POST /api/v1/quotes`` does (the same service, presenter and idempotency: the same
    form sent twice makes one quote) and send the browser to it. A rule that refuses it raises ``FormRefused``
    with nothing kept: the savepoint drops the idempotency claim with the failed attempt."""
    try:
        quote_request = schemas.QuoteRequest.model_validate(body)
    except ValidationError as invalid:
        raise FormRefused(_validation_sentence(invalid)) from None
    today = services.clock.today()
    try:
        with session.begin_nested():
            answer = Quoting(CommerceRepository(session), services).create_once(
                principal,
                quote_request,
                request_key or None,
                lambda quote: presenters.quote_out(quote, today).model_dump(mode="json"),
            )
    except errors.IdempotencyKeyReused:
        raise FormRefused("This form was already sent for another change. Send it again from here.") from None
    except PricingError as refused:
        raise FormRefused(views.form_sentence(refused.detail)) from None
    except Problem as refused:
        # Not found and not allowed are answered as pages (404, 403); the rest is about the form's values.
        if refused.status in (401, 403, 404):
            raise
        raise FormRefused(views.form_sentence(refused.detail)) from None
    return RedirectResponse(f"/quotes/{answer.body['id']}", status_code=303)


def _validation_sentence(invalid: ValidationError) -> str:
    first = invalid.errors()[0]
    field = str(first.get("loc", ("",))[-1])
    if field == "years":
        return "Renew for 1 to 10 years at a time."
    if field == "tier":
        return "Choose a tier: a number of users, or unlimited."
    if field == "target_date":
        return "Give the date as YYYY-MM-DD."
    return str(first.get("msg", "This value is not right."))


RequestKey = Annotated[str, Form(max_length=64)]


@router.post("/licenses/{entitlement_number}/renew")
def renew(
    request: Request,
    entitlement_number: Entitlement,
    viewer: FormViewerDep,
    session: SessionDep,
    services: ServicesDep,
    years: Annotated[str, Form(max_length=4)] = "1",
    request_key: RequestKey = "",
) -> Response:
    return _change(
        request, viewer, session, services, entitlement_number, request_key, "renewal", "years", years
    )


@router.post("/licenses/{entitlement_number}/upgrade")
def upgrade(
    request: Request,
    entitlement_number: Entitlement,
    viewer: FormViewerDep,
    session: SessionDep,
    services: ServicesDep,
    tier: Annotated[str, Form(max_length=20)] = "",
    request_key: RequestKey = "",
) -> Response:
    return _change(
        request, viewer, session, services, entitlement_number, request_key, "upgrade", "tier", tier
    )


def _change(
    request: Request,
    viewer: Viewer,
    session: Session,
    services: Services,
    entitlement_number: str,
    request_key: str,
    action: str,
    field: str,
    value: str | None,
) -> Response:
    """Quote one change of the license that its page's form asks for (``field``: the form's one value, as the
    quote item takes it; ``None`` for a form without one, whose refusal is said under its button, ``field``); a
    refusal is the license page again, said next to that field. A migration is quoted on the marketplace, every
    other change in the license's own channel."""
    principal = viewer.require(request)
    license = _readable(CommerceRepository(session), principal, entitlement_number)
    item = {"action": action, "license": entitlement_number}
    if value is not None:
        item[field] = value.strip()
    body = _change_of(license, item)
    if action == "migration":
        body["channel"] = "marketplace"
    try:
        return _quote(session, services, principal, request_key, body)
    except FormRefused as refused:
        return _detail_page(
            request,
            viewer,
            session,
            services,
            principal,
            entitlement_number,
            status_code=422,
            form_errors={field: refused.sentence},
            form_values={field: value} if value is not None else None,
        )


@router.post("/licenses/{entitlement_number}/migrate")
def migrate(
    request: Request,
    entitlement_number: Entitlement,
    viewer: FormViewerDep,
    session: SessionDep,
    services: ServicesDep,
    request_key: RequestKey = "",
) -> Response:
    """Quote moving a direct license to the marketplace: the quote says whether it moves as it is, for nothing,
    or which upgrade makes it match its host."""
    return _change(
        request, viewer, session, services, entitlement_number, request_key, "migration", "migrate", None
    )


def _change_of(license: License, item: dict[str, Any]) -> dict[str, Any]:
    """A quote request for one change of ``license``, on its host instance and in its own channel."""
    if license.host_instance_id is None:
        raise errors.LicenseNotOnInstance(
            f"License {license.entitlement_number} is bound to no host instance; ask the seller to change it."
        )
    return {
        "host_instance_id": str(license.host_instance_id),
        "channel": license.channel.value,
        "items": [item],
    }


@router.post("/licenses/co-term")
def co_term(
    request: Request,
    viewer: FormViewerDep,
    session: SessionDep,
    services: ServicesDep,
    host_instance_id: Annotated[str, Form(max_length=64)] = "",
    target_date: Annotated[str, Form(max_length=20)] = "",
    request_key: RequestKey = "",
) -> Response:
    principal = viewer.require(request)
    host = _parse_host(host_instance_id)
    instance = CommerceRepository(session).host_instance(host) if host is not None else None
    # My licenses act for the viewer's own organisations only (operator staff included).
    if instance is None or instance.organisation_id not in principal.organisations:
        raise errors.HostInstanceNotFound(f"There is no host instance {host_instance_id!r} that you can see.")
    item: dict[str, Any] = {"action": "co_term"}
    if target_date.strip():
        item["target_date"] = target_date.strip()
    body = {"host_instance_id": str(host), "channel": Channel.MARKETPLACE.value, "items": [item]}
    try:
        return _quote(session, services, principal, request_key, body)
    except FormRefused as refused:
        field = f"co-term-{host}"
        return _list_page(
            request,
            viewer,
            session,
            services,
            principal,
            status_code=422,
            form_errors={field: refused.sentence},
            form_values={field: target_date},
        )

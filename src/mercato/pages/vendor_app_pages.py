"""The vendor's apps and listings: create an app, change its page texts, edit each hosting's listing draft
(channels, rules, license types, prices), submit it for review or withdraw it, schedule new prices, and add
releases — through ``ListingService`` and ``Releases``, exactly as the listings and releases APIs do.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from mercato.accounts.access import Principal
from mercato.catalog.domain import tier_label
from mercato.catalog.listings import AppChanges, ListingService, sale_refusal
from mercato.catalog.listings_errors import AppNotFound
from mercato.catalog.markdown import render_markdown
from mercato.catalog.models import App, Listing, RevisionStatus, Vendor
from mercato.catalog.publishing import listing_spec
from mercato.catalog.releases import Releases, newest_first
from mercato.catalog.repository import CatalogRepository
from mercato.catalog.specs import OPTIONAL_LICENSE_TYPES, AppLinks, AppSpec, ListingSpec, ReleaseSpec
from mercato.fields import Text
from mercato.pages.rendering import render
from mercato.pages.vendor_support import (
    FORM,
    field_id,
    form_text,
    portal_vendor,
    problem_errors,
    validation_errors,
)
from mercato.pages.viewer import FormViewerDep, Viewer, ViewerDep
from mercato.pricing import Hosting, PricingError
from mercato.problems import Problem
from mercato.services import Services
from mercato.web.dependencies import ServicesDep, SessionDep
from mercato.web.routing import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, include_in_schema=False)

LINKS = ("homepage", "documentation", "support", "source", "privacy")
APP_FIELDS = ("key", "name", "host_product", "summary", "description", *(f"links.{name}" for name in LINKS))
RELEASE_FIELDS = ("version", "build_date", "notes", "host_version_min", "host_version_max")
CLOUD_BRACKET_ROWS = 6


def _managed_app(
    session: Session, services: Services, principal: Principal, slug: str, key: str
) -> tuple[Vendor, ListingService, App]:
    """The vendor of the page and its app; another vendor's app answers like a missing one."""
    vendor = portal_vendor(session, services, principal, slug)
    listings = ListingService(session, services)
    app = listings.managed_app(principal, key)
    if app.vendor_id != vendor.id:
        raise AppNotFound(f"{vendor.name} has no app {key!r}.")
    return vendor, listings, app


async def _form(request: Request) -> dict[str, Any]:
    """The posted form as a dict (several values of a name as a list), read on the event loop so that the
    handler itself can stay sync and end its unit of work in its own thread."""
    posted = await request.form()
    return {key: values if len(values := posted.getlist(key)) > 1 else values[0] for key in posted}


FormDep = Annotated[dict[str, Any], Depends(_form)]


def _links(form: dict[str, Any]) -> dict[str, str]:
    return {name: value for name in LINKS if (value := form_text(form, f"links.{name}"))}


def _app_values(form: dict[str, Any]) -> dict[str, str]:
    """The app form's values as typed (the description keeps its lines), to show again if refused."""
    values = {name: form_text(form, name) for name in APP_FIELDS}
    values["description"] = str(form.get("description") or "")
    return values


def _app_spec(form: dict[str, Any], values: dict[str, str], key: str, host_product: str) -> AppSpec:
    """The app form as ``AppSpec``: the API's checks on name, summary, description and links (``key`` and
    ``host_product`` from the form when an app is made, from the app when it is changed)."""
    return AppSpec(
        key=key,
        name=values["name"],
        host_product=host_product,
        summary=values["summary"],
        description=values["description"],
        links=AppLinks.model_validate(_links(form)),
    )


def _reloaded(
    session: Session, services: Services, principal: Principal, slug: str, app_key: str
) -> tuple[Vendor, ListingService, App]:
    """After a refusal: the transaction rolled back (nothing of the form is kept, not even a draft saved before
    a refused submission) and the vendor and app read again, to show the page with the refusal."""
    session.rollback()
    return _managed_app(session, services, principal, slug, app_key)


# -- apps ------------------------------------------------------------------------------------------------------


def _apps_page(
    request: Request,
    viewer: Viewer,
    session: Session,
    services: Services,
    vendor: Vendor,
    principal: Principal,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    apps = ListingService(session, services).apps_of_vendor(principal, vendor.slug)
    rows = [
        {
            "app": app,
            "listings": [
                {"hosting": str(listing.hosting), "on_sale": sale_refusal(listing, app, vendor) is None}
                for listing in app.listings
            ],
        }
        for app in apps
    ]
    return render(
        request,
        "vendor/apps.html",
        viewer,
        status_code=status_code,
        vendor=vendor,
        section="apps",
        rows=rows,
        host_products=CatalogRepository(session).list_host_products(),
        values=values or {},
        errors=errors or {},
        fid=field_id,
        links=LINKS,
    )


@router.get("/vendor/{slug}/apps")
def apps_page(
    request: Request, slug: Text, viewer: ViewerDep, session: SessionDep, services: ServicesDep
) -> Response:
    principal = viewer.require(request)
    vendor = portal_vendor(session, services, principal, slug)
    return _apps_page(request, viewer, session, services, vendor, principal)


@router.post("/vendor/{slug}/apps")
def create_app(
    request: Request,
    slug: Text,
    viewer: FormViewerDep,
    session: SessionDep,
    services: ServicesDep,
    form: FormDep,
) -> Response:
    principal = viewer.require(request)
    vendor = portal_vendor(session, services, principal, slug)
    values = _app_values(form)
    try:
        spec = _app_spec(form, values, values["key"], values["host_product"])
    except ValidationError as invalid:
        errors = validation_errors(invalid, APP_FIELDS)
        return _apps_page(request, viewer, session, services, vendor, principal, values, errors, 422)
    try:
        created = ListingService(session, services).create_app(principal, vendor.slug, spec)
    except Problem as refused:
        session.rollback()
        errors = problem_errors(refused, APP_FIELDS)
        return _apps_page(
            request, viewer, session, services, vendor, principal, values, errors, refused.status
        )
    return RedirectResponse(f"/vendor/{vendor.slug}/apps/{created.app.key}", status_code=303)


def _listing_of(app: App, hosting: Hosting) -> Listing | None:
    return next((listing for listing in app.listings if listing.hosting == hosting), None)


def _app_page(
    request: Request,
    viewer: Viewer,
    session: Session,
    services: Services,
    vendor: Vendor,
    listings: ListingService,
    app: App,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    sold_in = listings.repo.host_hostings(app.host_product_id)
    hostings = [h for h in Hosting if h.value in sold_in]
    cards = []
    for hosting in hostings:
        listing = _listing_of(app, hosting)
        latest = listings.repo.latest_revision(app.id, hosting.value)
        cards.append(
            {
                "hosting": hosting.value,
                "listing": listing,
                "published": listing is not None and listing.published_at is not None,
                "refusal": sale_refusal(listing, app, vendor) if listing is not None else None,
                "latest": latest,
                "releases": len(listing.releases) if listing is not None else 0,
            }
        )
    return render(
        request,
        "vendor/app.html",
        viewer,
        status_code=status_code,
        vendor=vendor,
        section="apps",
        app=app,
        description_html=render_markdown(app.description),
        cards=cards,
        values=values
        or {
            "name": app.name,
            "summary": app.summary,
            "description": app.description,
            **{f"links.{name}": (app.links or {}).get(name, "") for name in LINKS},
        },
        errors=errors or {},
        fid=field_id,
        links=LINKS,
        saved=request.query_params.get("saved") == "1",
    )


@router.get("/vendor/{slug}/apps/{app_key}")
def app_page(
    request: Request, slug: Text, app_key: Text, viewer: ViewerDep, session: SessionDep, services: ServicesDep
) -> Response:
    vendor, listings, app = _managed_app(session, services, viewer.require(request), slug, app_key)
    return _app_page(request, viewer, session, services, vendor, listings, app)


@router.post("/vendor/{slug}/apps/{app_key}")
def update_app(
    request: Request,
    slug: Text,
    app_key: Text,
    viewer: FormViewerDep,
    session: SessionDep,
    services: ServicesDep,
    form: FormDep,
) -> Response:
    principal = viewer.require(request)
    vendor, listings, app = _managed_app(session, services, principal, slug, app_key)
    values = _app_values(form)
    try:
        # The same checks as the API's AppChangesIn: the spec's rules on name, summary, description, links.
        checked = _app_spec(form, values, app.key, app.host_product.key)
    except ValidationError as invalid:
        errors = validation_errors(invalid, APP_FIELDS)
        return _app_page(request, viewer, session, services, vendor, listings, app, values, errors, 422)
    changes = AppChanges(
        name=checked.name, summary=checked.summary, description=checked.description, links=checked.links
    )
    listings.update_app(principal, app.key, changes)
    return RedirectResponse(f"/vendor/{vendor.slug}/apps/{app.key}?saved=1", status_code=303)


# -- a listing: draft, review, releases ------------------------------------------------------------------------


def _tiers(app: App) -> list[str]:
    return [tier_label(users) for users in app.host_product.user_tiers]


def _draft_fields(app: App) -> list[str]:
    tiers = _tiers(app)
    return [
        "currency",
        "marketplace.sold",
        "marketplace.licensed_users",
        "marketplace.max_maintenance_months",
        "direct.sold",
        "direct.max_maintenance_months",
        "license_types",
        *(f"prices.{tier}" for tier in tiers),
        *(f"direct_prices.{tier}" for tier in tiers),
        "cloud_prices.flat_monthly",
        "cloud_prices.annual_tiers",
        *(
            f"cloud_prices.brackets.{row}.{part}"
            for row in range(CLOUD_BRACKET_ROWS)
            for part in ("up_to_users", "per_user_monthly")
        ),
        "prices_effective_from",
    ]


def _values_of_spec(spec: ListingSpec | dict[str, Any]) -> dict[str, Any]:
    """A listing spec as the draft form's field values."""
    data = spec.model_dump(mode="json") if isinstance(spec, ListingSpec) else spec
    values: dict[str, Any] = {
        "currency": data.get("currency", "USD"),
        "marketplace.sold": data.get("marketplace", {}).get("sold", True),
        "marketplace.licensed_users": data.get("marketplace", {}).get("licensed_users", False),
        "marketplace.max_maintenance_months": str(
            data.get("marketplace", {}).get("max_maintenance_months", 36)
        ),
        "direct.sold": data.get("direct", {}).get("sold", False),
        "direct.max_maintenance_months": str(data.get("direct", {}).get("max_maintenance_months", 12)),
        "license_types": list(data.get("license_types", [t.value for t in OPTIONAL_LICENSE_TYPES])),
    }
    for name in ("prices", "direct_prices"):
        for tier, amount in (data.get(name) or {}).items():
            values[f"{name}.{tier}"] = str(amount)
    cloud = data.get("cloud_prices") or {}
    if cloud:
        values["cloud_prices.flat_monthly"] = str(cloud.get("flat_monthly", ""))
        values["cloud_prices.annual_tiers"] = ", ".join(cloud.get("annual_tiers", []))
        for row, bracket in enumerate(cloud.get("brackets", [])):
            up_to = bracket.get("up_to_users")
            values[f"cloud_prices.brackets.{row}.up_to_users"] = "" if up_to is None else str(up_to)
            values[f"cloud_prices.brackets.{row}.per_user_monthly"] = str(bracket.get("per_user_monthly", ""))
    return values


def _values_of_form(app: App, form: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {name: form_text(form, name) for name in _draft_fields(app)}
    for name in ("marketplace.sold", "marketplace.licensed_users", "direct.sold"):
        values[name] = bool(form.get(name))
    chosen = form.get("license_types") or []
    values["license_types"] = [chosen] if isinstance(chosen, str) else list(chosen)
    return values


def _spec_data(app: App, hosting: Hosting, values: dict[str, Any]) -> dict[str, Any]:
    """The form's values in the shape of ``ListingSpec`` (validated by it, so errors name the same fields)."""
    data: dict[str, Any] = {
        "hosting": hosting.value,
        "currency": values["currency"] or "USD",
        "marketplace": {
            "sold": values["marketplace.sold"],
            "licensed_users": values["marketplace.licensed_users"],
            "max_maintenance_months": values["marketplace.max_maintenance_months"] or 36,
        },
        "direct": {
            "sold": values["direct.sold"],
            "max_maintenance_months": values["direct.max_maintenance_months"] or 12,
        },
        "license_types": values["license_types"],
    }
    if hosting is Hosting.CLOUD:
        brackets = []
        for row in range(CLOUD_BRACKET_ROWS):
            up_to = values[f"cloud_prices.brackets.{row}.up_to_users"]
            price = values[f"cloud_prices.brackets.{row}.per_user_monthly"]
            if up_to or price:
                brackets.append({"up_to_users": up_to or None, "per_user_monthly": price})
        tiers = [t.strip() for t in values["cloud_prices.annual_tiers"].split(",") if t.strip()]
        data["cloud_prices"] = {
            "flat_monthly": values["cloud_prices.flat_monthly"],
            "brackets": brackets,
            "annual_tiers": tiers,
        }
    else:
        data["prices"] = {t: values[f"prices.{t}"] for t in _tiers(app) if values[f"prices.{t}"]}
        direct = {t: values[f"direct_prices.{t}"] for t in _tiers(app) if values[f"direct_prices.{t}"]}
        if direct:
            data["direct_prices"] = direct
    return data


def _listing_page(
    request: Request,
    viewer: Viewer,
    session: Session,
    services: Services,
    vendor: Vendor,
    listings: ListingService,
    app: App,
    hosting: Hosting,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    release_values: dict[str, Any] | None = None,
    release_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    if hosting.value not in listings.repo.host_hostings(app.host_product_id):
        raise AppNotFound(
            f"{app.host_product.name} is not sold for {hosting.value}, so {app.name} has no such listing."
        )
    today = services.clock.today()
    listing = _listing_of(app, hosting)
    published = listing is not None and listing.published_at is not None
    draft = listings.repo.open_revision(app.id, hosting.value)
    if values is None:
        if draft is not None:
            values = _values_of_spec(draft.content)
            values["prices_effective_from"] = (
                draft.prices_effective_from.isoformat() if draft.prices_effective_from else ""
            )
        elif published:
            assert listing is not None
            values = _values_of_spec(listing_spec(listing, today))
        else:
            values = _values_of_spec({"hosting": hosting.value})
    return render(
        request,
        "vendor/listing.html",
        viewer,
        status_code=status_code,
        vendor=vendor,
        section="apps",
        app=app,
        hosting=hosting.value,
        cloud=hosting is Hosting.CLOUD,
        tiers=_tiers(app),
        listing=listing,
        published=published,
        refusal=sale_refusal(listing, app, vendor) if listing is not None else None,
        draft=draft,
        under_review=draft is not None and draft.status == RevisionStatus.SUBMITTED,
        revisions=listings.repo.revisions(app.id, hosting.value),  # the app is managed: checked above
        releases=newest_first(listing.releases) if listing is not None else [],
        earliest=today + listings.notice,
        notice_days=listings.notice.days,
        today=today,
        license_types=[t.value for t in OPTIONAL_LICENSE_TYPES],
        bracket_rows=range(CLOUD_BRACKET_ROWS),
        values=values,
        errors=errors or {},
        release_values=release_values or {"build_date": today.isoformat()},
        release_errors=release_errors or {},
        fid=field_id,
        notice=request.query_params.get("done", ""),
    )


def _listing_url(vendor: Vendor, app: App, hosting: Hosting, done: str) -> str:
    return f"/vendor/{vendor.slug}/apps/{app.key}/listings/{hosting.value}?done={done}"


@router.get("/vendor/{slug}/apps/{app_key}/listings/{hosting}")
def listing_page(
    request: Request,
    slug: Text,
    app_key: Text,
    hosting: Hosting,
    viewer: ViewerDep,
    session: SessionDep,
    services: ServicesDep,
) -> Response:
    vendor, listings, app = _managed_app(session, services, viewer.require(request), slug, app_key)
    return _listing_page(request, viewer, session, services, vendor, listings, app, hosting)


@router.post("/vendor/{slug}/apps/{app_key}/listings/{hosting}/draft")
def save_draft(
    request: Request,
    slug: Text,
    app_key: Text,
    hosting: Hosting,
    viewer: FormViewerDep,
    session: SessionDep,
    services: ServicesDep,
    form: FormDep,
) -> Response:
    """Save the draft (``PUT .../draft``), and with the "submit" button send it for review too."""
    principal = viewer.require(request)
    vendor, listings, app = _managed_app(session, services, principal, slug, app_key)
    values = _values_of_form(app, form)
    known = _draft_fields(app)

    def again(errors: dict[str, str], status: int) -> Response:
        return _listing_page(
            request,
            viewer,
            session,
            services,
            vendor,
            listings,
            app,
            hosting,
            values,
            errors,
            status_code=status,
        )

    day: date | None = None
    if values["prices_effective_from"]:
        try:
            day = date.fromisoformat(values["prices_effective_from"])
        except ValueError:
            return again({field_id("prices_effective_from"): "write the day as YYYY-MM-DD"}, 422)
    try:
        spec = ListingSpec.model_validate(_spec_data(app, hosting, values))
    except ValidationError as invalid:
        return again(validation_errors(invalid, known), 422)
    try:
        listings.put_draft(principal, app.key, hosting, spec, day)
        if form.get("action") == "submit":
            listings.submit(principal, app.key, hosting, None)
    except (Problem, PricingError) as refused:
        vendor, listings, app = _reloaded(session, services, principal, slug, app_key)
        errors = problem_errors(refused, known) if isinstance(refused, Problem) else {FORM: refused.detail}
        return again(errors, refused.status)
    done = "submitted" if form.get("action") == "submit" else "saved"
    return RedirectResponse(_listing_url(vendor, app, hosting, done), status_code=303)


def _review_action(
    request: Request,
    slug: str,
    app_key: str,
    hosting: Hosting,
    viewer: Viewer,
    session: Session,
    services: Services,
    action: str,
) -> Response:
    principal = viewer.require(request)
    vendor, listings, app = _managed_app(session, services, principal, slug, app_key)
    try:
        if action == "submit":
            listings.submit(principal, app.key, hosting, None)
        else:
            listings.withdraw(principal, app.key, hosting)
    except Problem as refused:
        vendor, listings, app = _reloaded(session, services, principal, slug, app_key)
        errors = problem_errors(refused, _draft_fields(app))
        return _listing_page(
            request,
            viewer,
            session,
            services,
            vendor,
            listings,
            app,
            hosting,
            None,
            errors,
            status_code=refused.status,
        )
    return RedirectResponse(
        _listing_url(vendor, app, hosting, f"{action}ted" if action == "submit" else "withdrawn"),
        status_code=303,
    )


@router.post("/vendor/{slug}/apps/{app_key}/listings/{hosting}/submit")
def submit_draft(
    request: Request,
    slug: Text,
    app_key: Text,
    hosting: Hosting,
    viewer: FormViewerDep,
    session: SessionDep,
    services: ServicesDep,
) -> Response:
    return _review_action(request, slug, app_key, hosting, viewer, session, services, "submit")


@router.post("/vendor/{slug}/apps/{app_key}/listings/{hosting}/withdraw")
def withdraw_draft(
    request: Request,
    slug: Text,
    app_key: Text,
    hosting: Hosting,
    viewer: FormViewerDep,
    session: SessionDep,
    services: ServicesDep,
) -> Response:
    return _review_action(request, slug, app_key, hosting, viewer, session, services, "withdraw")


@router.post("/vendor/{slug}/apps/{app_key}/listings/{hosting}/releases")
def add_release(
    request: Request,
    slug: Text,
    app_key: Text,
    hosting: Hosting,
    viewer: FormViewerDep,
    session: SessionDep,
    services: ServicesDep,
    form: FormDep,
) -> Response:
    principal = viewer.require(request)
    vendor, listings, app = _managed_app(session, services, principal, slug, app_key)
    values = {name: form_text(form, name) for name in RELEASE_FIELDS}
    values["notes"] = str(form.get("notes") or "")

    def again(errors: dict[str, str], status: int) -> Response:
        return _listing_page(
            request,
            viewer,
            session,
            services,
            vendor,
            listings,
            app,
            hosting,
            release_values=values,
            release_errors={f"release-{key}" if key != FORM else key: value for key, value in errors.items()},
            status_code=status,
        )

    try:
        spec = ReleaseSpec(
            version=values["version"],
            build_date=values["build_date"],  # type: ignore[arg-type]  # pydantic parses the day
            notes=values["notes"],
            host_version_min=values["host_version_min"] or None,
            host_version_max=values["host_version_max"] or None,
        )
    except ValidationError as invalid:
        return again(validation_errors(invalid, RELEASE_FIELDS), 422)
    try:
        Releases(CatalogRepository(session), services.clock.today()).add(principal, app.key, hosting, spec)
    except Problem as refused:
        vendor, listings, app = _reloaded(session, services, principal, slug, app_key)
        return again(problem_errors(refused, RELEASE_FIELDS), refused.status)
    return RedirectResponse(_listing_url(vendor, app, hosting, "release"), status_code=303)

"""The license check page (``/license-check``): paste a key and describe the host, and see the verdict as an
admin sees it inside the host product, with the button that fixes it. No sign-in needed.

The check is the one ``POST /api/v1/licenses/validate`` runs (``ValidationService``, with the server's key
caches), and today is the server's day: the form has no date for it. The form is posted rather than sent in
the address, so a pasted key stays out of browser histories and server logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from mercato.catalog.repository import AppSearch, CatalogRepository
from mercato.licenses.schemas import ValidateRequest
from mercato.licenses.validation import ValidationResult, ValidationService
from mercato.licensing import FixAction, HostContext, LicenseStatus
from mercato.pages.rendering import render
from mercato.pages.viewer import FormViewerDep, ViewerDep
from mercato.paging import PageRequest
from mercato.web.dependencies import SessionDep
from mercato.web.routing import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, include_in_schema=False)

FIELDS = (
    "key",
    "app_key",
    "hosting",
    "server_id",
    "host_tier",
    "host_license_type",
    "app_users",
    "build_date",
)
LICENSE_TYPES = ("commercial", "academic", "starter", "community", "open_source", "developer", "evaluation")
HOSTINGS = {"server": "Server", "datacenter": "Data Center", "cloud": "Cloud"}
# How bad a verdict is, for its colour (the words say it too).
_TONE = {LicenseStatus.VALID: "ok", LicenseStatus.EXPIRED: "warn", LicenseStatus.VERSION_MISMATCH: "warn"}


@dataclass(frozen=True)
class Fix:
    """The button that fixes a verdict: where it goes and what it says."""

    label: str
    href: str


def fix_for(
    action: str, app_key: str, payload: dict[str, Any] | None, seller_email: str | None
) -> Fix | None:
    """The link for the validate service's ``action``: buy on the app's page, upgrade or renew the license (or
    in the cart when the key names none), the licenses page for a new key, the seller for the rest."""
    entitlement = payload.get("entitlement_number") if payload else None
    license_page = f"/licenses/{entitlement}" if entitlement else None
    match action:
        case FixAction.NONE:
            return None
        case FixAction.BUY:
            return Fix("Buy a license", f"/apps/{app_key}")
        case FixAction.UPGRADE:
            return Fix("Upgrade the license", license_page or "/cart")
        case FixAction.RENEW:
            return Fix("Renew the license", license_page or "/cart")
        case FixAction.GET_NEW_KEY:
            return Fix("Get the new key", "/licenses")
        case FixAction.CONTACT_SELLER:
            if seller_email:
                return Fix("Contact the seller", f"mailto:{seller_email}")
            return Fix("Contact the seller", f"/apps/{app_key}")
        case _:  # an action this page does not know yet (a migration): the license's own page offers it
            return Fix(action.replace("_", " ").capitalize(), license_page or "/licenses")


def _seller_email(session: Session, payload: dict[str, Any] | None) -> str | None:
    if not payload:
        return None
    catalog = CatalogRepository(session)
    issuer = str(payload.get("issuer", ""))
    if issuer == "operator":
        operator = catalog.operator()
        return operator.email if operator else None
    vendor = catalog.vendor_by_slug(issuer.removeprefix("vendor:"))
    return vendor.email if vendor else None


def _app_keys(session: Session) -> list[str]:
    """The public apps' keys, offered as the admin types (apps no longer listed can still be checked)."""
    apps = CatalogRepository(session).list_apps(AppSearch(public_only=True), PageRequest(500)).rows
    return [app.key for app in apps]


def _errors_of(invalid: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in invalid.errors(include_url=False):
        name = str(error["loc"][0]) if error["loc"] else "_form"
        message = (
            "fill it in" if error["type"] == "missing" else str(error["msg"]).removeprefix("Value error, ")
        )
        errors.setdefault(name if name in FIELDS else "_form", f"{_LABELS.get(name, name)}: {message}.")
    return errors


_LABELS = {
    "key": "License key",
    "app_key": "App key",
    "hosting": "Hosting",
    "server_id": "Server id or cloud site",
    "host_tier": "Host user tier",
    "host_license_type": "Host license type",
    "app_users": "Users of the app",
    "build_date": "Build date of the installed version",
}


def _page(
    request: Request,
    viewer: Any,
    session: Session,
    form: dict[str, str],
    errors: dict[str, str] | None = None,
    result: ValidationResult | None = None,
    status_code: int = 200,
) -> Response:
    verdict = None
    if result is not None:
        payload = result.verdict.payload.to_dict() if result.verdict.payload is not None else None
        verdict = {
            "status": result.verdict.status.value,
            "message": result.verdict.message,
            "action": result.verdict.action.value,
            "tone": _TONE.get(result.verdict.status, "bad"),
            "license": payload,
            "server": result.server,
            "fix": fix_for(result.verdict.action, form["app_key"], payload, _seller_email(session, payload)),
        }
    return render(
        request,
        "license_check/check.html",
        viewer,
        status_code=status_code,
        form=form,
        errors=errors or {},
        verdict=verdict,
        app_keys=_app_keys(session),
        hostings=HOSTINGS,
        license_types=LICENSE_TYPES,
        labels=_LABELS,
    )


@router.get("/license-check")
def license_check_form(
    request: Request,
    viewer: ViewerDep,
    session: SessionDep,
    app_key: Annotated[str, Query(max_length=200)] = "",
    hosting: Annotated[str, Query(max_length=20)] = "server",
    server_id: Annotated[str, Query(max_length=200)] = "",
    host_tier: Annotated[str, Query(max_length=20)] = "",
    host_license_type: Annotated[str, Query(max_length=20)] = "commercial",
) -> Response:
    """The empty form; the host's details may be filled in from the address (a link from a license's page),
    the key never is: it is pasted, and posted."""
    form = dict.fromkeys(FIELDS, "") | {
        "app_key": app_key,
        "hosting": hosting,
        "server_id": server_id,
        "host_tier": host_tier,
        "host_license_type": host_license_type,
    }
    return _page(request, viewer, session, form)


@router.post("/license-check")
def license_check(
    request: Request,
    viewer: FormViewerDep,
    session: SessionDep,
    key: Annotated[str, Form(max_length=8192)] = "",
    app_key: Annotated[str, Form(max_length=200)] = "",
    hosting: Annotated[str, Form(max_length=20)] = "server",
    server_id: Annotated[str, Form(max_length=200)] = "",
    host_tier: Annotated[str, Form(max_length=20)] = "",
    host_license_type: Annotated[str, Form(max_length=20)] = "commercial",
    app_users: Annotated[str, Form(max_length=12)] = "",
    build_date: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """The verdict of the validate service for the pasted key and the described host; invalid fields are told
    next to them (422), and nothing is checked until they are right."""
    form = {
        "key": key,
        "app_key": app_key.strip(),
        "hosting": hosting,
        "server_id": server_id.strip(),
        "host_tier": host_tier.strip(),
        "host_license_type": host_license_type,
        "app_users": app_users.strip(),
        "build_date": build_date.strip(),
    }
    errors: dict[str, str] = {}
    if not key.strip():
        errors["key"] = "License key: paste the key the seller gave you."
    try:
        body = ValidateRequest.model_validate(
            {name: value for name, value in form.items() if value != "" or name in ("key", "host_tier")}
        )
    except ValidationError as invalid:
        errors = _errors_of(invalid) | errors
    if errors:
        return _page(request, viewer, session, form, errors=errors, status_code=422)
    state = request.app.state
    host = HostContext(
        app_key=body.app_key,
        hosting=body.hosting,
        server_id=body.server_id,
        host_tier=body.host_tier_users(),
        host_license_type=body.host_license_type,
        app_users=body.app_users,
        build_date=body.build_date,
        today=state.services.clock.today(),  # the server's day; the form has none
    )
    result = ValidationService(state.read_connection, state.trusted_keys, state.key_standings).validate(
        body.key, host, state.services.clock.now()
    )
    return _page(request, viewer, session, form, result=result)

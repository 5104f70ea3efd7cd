"""Operator admin: a license's page (``/admin/licenses/{entitlement number}``, linked from its invoice lines)
with its terms, keys and history, and key revocation with a reason: ``LicenseService.revoke_key``, the
command line's ``mercato license revoke --serial``, which records the revocation in the license's history
(a license event) so the validate API answers ``REVOKED`` for that key at once."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from mercato.accounts.access import Principal
from mercato.commerce import presenters
from mercato.commerce.errors import LicenseNotFound
from mercato.commerce.repository import CommerceRepository
from mercato.licenses.models import License
from mercato.licenses.service import LicenseService
from mercato.pages.operator_access import operator_principal
from mercato.pages.rendering import render
from mercato.pages.viewer import FormViewerDep, Viewer, ViewerDep
from mercato.problems import NotFound
from mercato.web.dependencies import ServicesDep, SessionDep
from mercato.web.routing import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, include_in_schema=False)
REASON_MAX = 500  # what a key keeps of it (license_keys.revoked_reason)


def _license(repo: CommerceRepository, principal: Principal, entitlement_number: str) -> License:
    license = repo.readable_license(principal, entitlement_number)
    if license is None:
        raise LicenseNotFound(f"There is no license {entitlement_number}.")
    return license


def _license_page(
    request: Request,
    viewer: Viewer,
    session: Session,
    principal: Principal,
    entitlement_number: str,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    repo = CommerceRepository(session)
    license = _license(repo, principal, entitlement_number)
    shown = presenters.license_detail_out(
        license, repo.keys_of(license.id), repo.transactions_of(license.id), show_keys=False
    )
    organisation = repo.organisation(license.organisation_id) if license.organisation_id else None
    return render(
        request,
        "admin/license.html",
        viewer,
        status_code=status_code,
        license=shown,
        organisation=organisation,
        errors=errors or {},
        values=values or {},
    )


@router.get("/admin/licenses/{entitlement_number}")
def license_page(
    entitlement_number: str, request: Request, viewer: ViewerDep, session: SessionDep
) -> Response:
    principal = operator_principal(viewer, request)
    return _license_page(request, viewer, session, principal, entitlement_number)


@router.post("/admin/licenses/{entitlement_number}/keys/{serial}/revoke")
def revoke_key(
    entitlement_number: str,
    serial: str,
    request: Request,
    viewer: FormViewerDep,
    session: SessionDep,
    services: ServicesDep,
    reason: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """Revoke one key of the license with a reason the admin who checks the key reads. Revoking it again
    changes nothing (the service keeps the first revocation)."""
    principal = operator_principal(viewer, request)
    repo = CommerceRepository(session)
    license = _license(repo, principal, entitlement_number)
    if serial not in {key.serial for key in repo.keys_of(license.id)}:
        raise NotFound(f"License {entitlement_number} has no key {serial}.")
    text = reason.strip()
    if not text or len(text) > REASON_MAX:
        field = f"reason-{serial}"
        return _license_page(
            request,
            viewer,
            session,
            principal,
            entitlement_number,
            errors={
                field: f"Say why the key is revoked, in at most {REASON_MAX} characters: the admin who "
                "checks the key reads it."
            },
            values={field: reason},
            status_code=422,
        )
    LicenseService(session, services).revoke_key(serial, text)
    return RedirectResponse(f"/admin/licenses/{entitlement_number}#keys", status_code=303)

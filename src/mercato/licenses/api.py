"""License endpoints: online validation of a pasted key, and the public keys apps verify with."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from mercato.keys.service import KeyService
from mercato.licenses.schemas import ServerKnowledgeOut, ValidateRequest, ValidateResponse
from mercato.licenses.validation import TrustedKeyCache, ValidationService, key_id_of
from mercato.licensing import HostContext
from mercato.web.dependencies import get_session

router = APIRouter(tags=["licenses"])
SessionDep = Annotated[Session, Depends(get_session)]


def trusted_key_cache(request: Request) -> TrustedKeyCache:
    return request.app.state.trusted_keys  # type: ignore[no-any-return]


@router.post("/licenses/validate", response_model=ValidateResponse, summary="Check a license key online")
def validate_license(
    body: ValidateRequest,
    session: SessionDep,
    cache: Annotated[TrustedKeyCache, Depends(trusted_key_cache)],
) -> ValidateResponse:
    """The same check an app runs offline with `mercato.licensing`, plus what only the server knows: whether
    the key was revoked, superseded by a newer key (a superseded key keeps working for a grace period) or
    belongs to a suspended or cancelled license.

    The answer is always a verdict (200), also for a key that is garbage: `status` is the first check that
    failed, `message` says what it means and `action` what fixes it. Only a request with invalid fields
    gets a 422 problem document.
    """
    host = HostContext(
        app_key=body.app_key,
        hosting=body.hosting,
        server_id=body.server_id,
        host_tier=body.host_tier_users(),
        host_license_type=body.host_license_type,
        app_users=body.app_users,
        build_date=body.build_date,
        today=body.today or date.today(),
    )
    trusted = cache.get()
    kid = key_id_of(body.key)
    if kid is not None and kid not in trusted.public_keys:
        trusted = cache.reload()  # a key rotated moments ago in another process
    result = ValidationService(session, trusted).validate(body.key, host)
    verdict = result.verdict
    return ValidateResponse(
        status=verdict.status.value,
        message=verdict.message,
        action=verdict.action.value,
        license=verdict.payload.to_dict() if verdict.payload is not None else None,
        server=ServerKnowledgeOut(**result.server.to_dict()) if result.server is not None else None,
    )


@router.get("/issuers/{issuer}/jwks", summary="Public keys of an issuer (JWKS)")
def issuer_jwks(issuer: str, request: Request, session: SessionDep) -> dict[str, Any]:
    """The public keys that verify the license keys of `issuer` (`operator`, or a vendor's slug), as a JSON
    Web Key Set. Apps embed these to verify keys offline; retired keys are not listed."""
    service = KeyService(session, request.app.state.settings.secret_key)
    return service.export_jwks(service.resolve_issuer(issuer))

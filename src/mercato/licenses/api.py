"""License endpoints: online validation of a pasted key, and the public keys apps verify with."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from mercato.fields import Text
from mercato.keys.service import KeyService
from mercato.licenses.schemas import ServerKnowledgeOut, ValidateRequest, ValidateResponse
from mercato.licenses.validation import ValidationService
from mercato.licensing import HostContext
from mercato.web.dependencies import SessionDep
from mercato.web.routing import UnitOfWorkRoute

router = APIRouter(tags=["licenses"], route_class=UnitOfWorkRoute)


def _body_errors(error: ValidationError) -> list[dict[str, Any]]:
    """Pydantic's errors, located in the body as FastAPI would locate them (same problem document)."""
    return [{**e, "loc": ("body", *e["loc"])} for e in error.errors(include_url=False)]


@router.post(
    "/licenses/validate",
    summary="Check a license key online",
    response_class=Response,
    responses={200: {"model": ValidateResponse, "content": {"application/json": {}}}},
    # The body is parsed by the endpoint itself (see below); this documents it.
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": ValidateRequest.model_json_schema()}},
        }
    },
)
async def validate_license(request: Request) -> Response:
    """The same check an app runs offline with `mercato.licensing`, plus what only the server knows: whether
    the key was revoked, superseded by a newer key (a superseded key keeps working for a grace period) or
    belongs to a suspended or cancelled license.

    The answer is always a verdict (200), also for a key that is garbage: `status` is the first check that
    failed, `message` says what it means and `action` what fixes it. Only a request with invalid fields
    gets a 422 problem document.
    """
    # Parsed here in one pydantic call rather than by FastAPI's generic body handling: this endpoint is the
    # hottest in Mercato, and the generic path costs more than the signature check (docs/performance.md).
    try:
        body = ValidateRequest.model_validate_json(await request.body())
    except ValidationError as error:
        raise RequestValidationError(_body_errors(error)) from None
    host = HostContext(
        app_key=body.app_key,
        hosting=body.hosting,
        server_id=body.server_id,
        host_tier=body.host_tier_users(),
        host_license_type=body.host_license_type,
        app_users=body.app_users,
        build_date=body.build_date,
        # The server's clock decides: a date the caller sends is never trusted (there is no such field).
        today=request.app.state.services.clock.today(),
    )
    # Deliberately on the event loop: at most one indexed read on an autocommit connection, which costs less
    # than the thread-pool hops a sync endpoint would add (docs/performance.md has the figures).
    state = request.app.state
    result = ValidationService(state.read_connection, state.trusted_keys, state.key_standings).validate(
        body.key, host, state.services.clock.now()
    )
    verdict = result.verdict
    answer = ValidateResponse(
        status=verdict.status.value,
        message=verdict.message,
        action=verdict.action.value,
        license=verdict.payload.to_dict() if verdict.payload is not None else None,
        server=ServerKnowledgeOut(**result.server.to_dict()) if result.server is not None else None,
    )
    # Serialised once here: FastAPI's response_model path would validate the model again and then encode it.
    return Response(answer.model_dump_json(), media_type="application/json")


JWKS_MAX_AGE_SECONDS = 300


@router.get(
    "/issuers/{issuer}/jwks",
    summary="Public keys of an issuer (JWKS)",
    response_class=JSONResponse,
    responses={200: {"content": {"application/jwk-set+json": {}}, "description": "The issuer's JWKS."}},
)
def issuer_jwks(
    issuer: Annotated[Text, Path(max_length=100, description="operator, or a vendor's slug.")],
    request: Request,
    session: SessionDep,
) -> JSONResponse:
    """The public keys that verify the license keys of `issuer` (`operator`, or a vendor's slug), as a JSON
    Web Key Set (`application/jwk-set+json`). Apps embed these to verify keys offline; retired keys are not
    listed. Caches may keep the answer for five minutes (`Cache-Control: public, max-age=300`): an app that
    caches the set learns a rotation's new key, or a key's retirement, within five minutes."""
    service = KeyService(session, request.app.state.settings.secret_key)
    return JSONResponse(
        service.export_jwks(service.resolve_issuer(issuer)),
        media_type="application/jwk-set+json",
        headers={"Cache-Control": f"public, max-age={JWKS_MAX_AGE_SECONDS}"},
    )

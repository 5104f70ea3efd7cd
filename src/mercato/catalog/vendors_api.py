"""Vendors API: the operator creates, approves, suspends and reactivates vendors and sets their revenue-share
agreements; anyone signed in may apply to become one; a vendor's members manage its profile, payout details,
team and direct store, and see its signing keys.

Who sees what: operator staff see every vendor; a vendor's members see their vendor; everyone else sees none
(`GET /vendors` answers them an empty list, a vendor's own paths 404 exactly as for a missing vendor).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from mercato.accounts.access import Forbidden, NotAuthenticated
from mercato.accounts.dependencies import Reader, Writer
from mercato.accounts.errors import (
    FieldEmpty,
    FieldTooLong,
    InvalidEmail,
    InvalidSlug,
    OperatorOnly,
    RoleAlreadyHeld,
    VendorNotFound,
)
from mercato.catalog.models import Vendor, VendorRevenueShare, VendorStatus
from mercato.catalog.vendors import (
    InvalidPayoutDetails,
    InvalidRevenueShare,
    InvalidWebsite,
    LastVendorMember,
    ShareRate,
    VendorNotActive,
    VendorProfile,
    VendorService,
    VendorSlugTaken,
    VendorStatusConflict,
    sells,
    sells_direct,
)
from mercato.catalog.vendors_repository import VendorMember
from mercato.fields import Day, Note, Text
from mercato.keys.models import SigningKey
from mercato.keys.service import public_key_from_row
from mercato.licensing import public_key_to_jwk
from mercato.paging import InvalidCursor, PageOut, page_fields
from mercato.services import Services
from mercato.web.dependencies import ServicesDep, SessionDep
from mercato.web.paging import PageParams
from mercato.web.responses import problem_responses
from mercato.web.routing import UnitOfWorkRoute

router = APIRouter(tags=["vendors"], route_class=UnitOfWorkRoute)

VendorPath = Annotated[Text, Path(max_length=64, description="The vendor's slug, e.g. example-mockups.")]
EmailPath = Annotated[Text, Path(max_length=254, description="The member's e-mail address.")]
_SIGNED_IN = (NotAuthenticated, Forbidden)
_PROFILE_RULES = (
    InvalidEmail,
    InvalidWebsite,
    InvalidPayoutDetails,
    FieldEmpty,
    FieldTooLong,
)


# -- request and response shapes -----------------------------------------------------------------------------


class PayoutDetailsIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "method": "bank_transfer",
                    "account_holder": "Example Mockups GmbH",
                    "iban": "DE89370400440532013000",
                    "bic": "COBADEFFXXX",
                    "currency": "EUR",
                }
            ]
        },
    )

    method: Literal["bank_transfer", "paypal"] = Field(description="How the operator pays the vendor.")
    account_holder: Text = Field(min_length=1, max_length=200)
    iban: Text | None = Field(default=None, max_length=42, description="For bank_transfer.")
    bic: Text | None = Field(default=None, max_length=14, description="For bank_transfer.")
    account_email: Text | None = Field(default=None, max_length=254, description="For paypal.")
    currency: Text = Field(min_length=3, max_length=3, description="ISO 4217, e.g. EUR.", examples=["EUR"])


class PayoutDetailsOut(BaseModel):
    method: str
    account_holder: str
    iban: str | None = None
    bic: str | None = None
    account_email: str | None = None
    currency: str


class ShareRateIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"hosting": "server", "effective_from": "2026-01-01", "vendor_share": "0.80"}]
        },
    )

    hosting: Literal["server", "datacenter", "cloud"]
    effective_from: Day = Field(description="The first sale day the rate applies to.")
    vendor_share: Decimal = Field(
        ge=0, le=1, max_digits=5, decimal_places=4, allow_inf_nan=False, description="0.80 is 80%."
    )


class ShareRateOut(BaseModel):
    hosting: str
    effective_from: date
    vendor_share: Decimal


class VendorIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "slug": "fjord-apps",
                    "name": "Fjord Apps",
                    "legal_name": "Fjord Apps AS",
                    "email": "sales@fjord.example",
                    "website": "https://fjord.example",
                    "payout_details": {
                        "method": "paypal",
                        "account_holder": "Fjord Apps AS",
                        "account_email": "payouts@fjord.example",
                        "currency": "NOK",
                    },
                    "revenue_share": [
                        {"hosting": "server", "effective_from": "2026-01-01", "vendor_share": "0.80"}
                    ],
                    "members": ["ingrid@fjord.example"],
                }
            ]
        },
    )

    slug: Text = Field(min_length=1, max_length=64, description="Never changes.", examples=["fjord-apps"])
    name: Text = Field(min_length=1, max_length=200)
    legal_name: Text | None = Field(
        default=None, max_length=200, description="The name on contracts and payouts; the name by default."
    )
    email: Text = Field(max_length=254, description="Where the marketplace writes to the vendor.")
    website: Text | None = Field(default=None, max_length=300)
    payout_details: PayoutDetailsIn | None = None
    revenue_share: list[ShareRateIn] = Field(
        default_factory=list,
        max_length=50,
        description="The vendor's own agreement; without one the marketplace's standard rates apply.",
    )
    members: list[Text] = Field(
        default_factory=list, max_length=50, description="E-mails of its first members."
    )


class VendorApplicationIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "slug": "fjord-apps",
                    "name": "Fjord Apps",
                    "legal_name": "Fjord Apps AS",
                    "email": "sales@fjord.example",
                    "website": "https://fjord.example",
                }
            ]
        },
    )

    slug: Text = Field(min_length=1, max_length=64, examples=["fjord-apps"])
    name: Text = Field(min_length=1, max_length=200)
    legal_name: Text | None = Field(default=None, max_length=200)
    email: Text = Field(max_length=254)
    website: Text | None = Field(default=None, max_length=300)
    payout_details: PayoutDetailsIn | None = None


class VendorChangesIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"website": "https://fjord.example/apps", "legal_name": "Fjord Apps ASA"}]
        },
    )

    name: Text | None = Field(default=None, min_length=1, max_length=200)
    legal_name: Text | None = Field(default=None, min_length=1, max_length=200)
    email: Text | None = Field(default=None, max_length=254)
    website: Text | None = Field(default=None, max_length=300, description="null clears it.")
    payout_details: PayoutDetailsIn | None = Field(default=None, description="null clears them.")


class StatusNoteIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"note": "Checked the company register."}]}
    )

    note: Note = Field(default="", max_length=2000, description="Why; shown to the vendor's members.")


class AgreementIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"rates": [{"hosting": "server", "effective_from": "2026-01-01", "vendor_share": "0.80"}]}
            ]
        },
    )

    rates: list[ShareRateIn] = Field(
        max_length=50, description="The whole agreement; [] for the standard rates."
    )


class DirectStoreIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"enabled": True}]})

    enabled: bool


class VendorMemberIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"email": "ola@fjord.example", "name": "Ola"}]}
    )

    email: Text = Field(max_length=254)
    name: Text | None = Field(
        default=None, max_length=200, description="Used only when the e-mail is new to Mercato."
    )


class VendorOut(BaseModel):
    id: uuid.UUID
    slug: str
    name: str
    legal_name: str
    email: str
    website: str | None
    status: str = Field(description="pending (waiting for approval), active or suspended.")
    status_note: str = Field(description="The operator's note on the last status change.")
    status_changed_at: datetime | None
    selling: bool = Field(description="Whether its apps may be sold now (it is active).")
    direct_store: bool
    selling_direct: bool = Field(description="Whether it sells on its own bills now (active, store on).")
    payout_details: PayoutDetailsOut | None
    revenue_share: list[ShareRateOut] = Field(
        description="Its own agreement; empty when the marketplace's standard rates apply."
    )
    created_at: datetime
    updated_at: datetime


class VendorPage(PageOut):
    items: list[VendorOut]


class VendorMemberOut(BaseModel):
    user_id: uuid.UUID
    email: str
    name: str
    since: datetime


class VendorMembersOut(BaseModel):
    vendor: str
    items: list[VendorMemberOut]


class AgreementOut(BaseModel):
    vendor: str
    rates: list[ShareRateOut] = Field(description="Empty: the marketplace's standard rates apply.")


class DirectStoreOut(BaseModel):
    vendor: str
    direct_store: bool
    selling_direct: bool
    issuer: str = Field(description="The issuer its direct license keys are signed as.")
    signing_kid: str | None = Field(description="The ring's signing key; null before the store first opened.")
    invoice_prefix: str | None = Field(
        description="Its invoice numbers' prefix; null before it first opened."
    )


class VendorKeyOut(BaseModel):
    kid: str
    state: str = Field(description="signing, verifying (rotated out) or retired.")
    created_at: datetime
    jwk: dict[str, str] = Field(description="The public key as a JWK (OKP, Ed25519).")


class VendorKeysOut(BaseModel):
    issuer: str
    jwks_url: str = Field(description="Where apps fetch the trusted keys (retired ones left out).")
    keys: list[VendorKeyOut]


# -- presenters ----------------------------------------------------------------------------------------------


def _rate_out(rate: VendorRevenueShare) -> ShareRateOut:
    return ShareRateOut(
        hosting=rate.hosting, effective_from=rate.effective_from, vendor_share=rate.vendor_share
    )


def vendor_out(vendor: Vendor, agreement: list[VendorRevenueShare]) -> VendorOut:
    return VendorOut(
        id=vendor.id,
        slug=vendor.slug,
        name=vendor.name,
        legal_name=vendor.legal_name,
        email=vendor.email,
        website=vendor.website,
        status=VendorStatus(vendor.status).value,
        status_note=vendor.status_note,
        status_changed_at=vendor.status_changed_at,
        selling=sells(vendor),
        direct_store=vendor.direct_store,
        selling_direct=sells_direct(vendor),
        payout_details=PayoutDetailsOut(**vendor.payout_details) if vendor.payout_details else None,
        revenue_share=[_rate_out(r) for r in agreement],
        created_at=vendor.created_at,
        updated_at=vendor.updated_at,
    )


def _member_out(member: VendorMember) -> VendorMemberOut:
    return VendorMemberOut(
        user_id=member.user.id,
        email=member.user.email,
        name=member.user.name,
        since=member.membership.created_at,
    )


def _key_out(row: SigningKey) -> VendorKeyOut:
    return VendorKeyOut(
        kid=row.kid,
        state=row.state,
        created_at=row.created_at,
        jwk=public_key_to_jwk(row.kid, public_key_from_row(row), row.issuer),
    )


def _service(session: Any, services: Services) -> VendorService:
    return VendorService(session, services.secret_key, services.clock)


def _shown(service: VendorService, vendor: Vendor) -> VendorOut:
    return vendor_out(vendor, list(service.agreement(vendor)))


def _profile(body: VendorIn | VendorApplicationIn) -> VendorProfile:
    return VendorProfile(
        name=body.name,
        email=body.email,
        legal_name=body.legal_name or "",
        website=body.website,
        payout_details=body.payout_details.model_dump(exclude_none=True) if body.payout_details else None,
    )


def _rates(rates: list[ShareRateIn]) -> list[ShareRate]:
    return [ShareRate(r.hosting, r.effective_from, r.vendor_share) for r in rates]


def _replayed(model: type[BaseModel], description: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"model": model, "description": description}}


# -- vendors -------------------------------------------------------------------------------------------------


@router.get(
    "/vendors",
    response_model=VendorPage,
    summary="List vendors",
    responses=problem_responses(*_SIGNED_IN, InvalidCursor),
)
def list_vendors(
    page: PageParams,
    principal: Reader,
    session: SessionDep,
    services: ServicesDep,
    status_: Annotated[
        Literal["pending", "active", "suspended"] | None,
        Query(alias="status", description="Only this status."),
    ] = None,
) -> VendorPage:
    """Vendors by slug: operator staff see all of them (`?status=pending` are the applications to review),
    a vendor's members see their vendor, anyone else an empty list."""
    service = _service(session, services)
    vendors = service.vendors_for(principal, status=status_, page=page)
    return VendorPage(items=[_shown(service, v) for v in vendors.rows], **page_fields(vendors, page))


@router.post(
    "/vendors",
    response_model=VendorOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create a vendor",
    responses=problem_responses(
        *_SIGNED_IN, OperatorOnly, InvalidSlug, VendorSlugTaken, InvalidRevenueShare, *_PROFILE_RULES
    ),
)
def create_vendor(body: VendorIn, principal: Writer, session: SessionDep, services: ServicesDep) -> VendorOut:
    """A new, active vendor with its first members (an e-mail new to Mercato gets a password-less account),
    payout details and revenue-share agreement (operator staff only). Sending it again answers 409
    `vendor-slug-taken` and changes nothing."""
    service = _service(session, services)
    vendor = service.create_for(
        principal, body.slug, _profile(body), members=body.members, agreement=_rates(body.revenue_share)
    )
    return _shown(service, vendor)


@router.post(
    "/vendor-applications",
    response_model=VendorOut,
    status_code=status.HTTP_201_CREATED,
    summary="Apply to become a vendor",
    responses={
        **_replayed(VendorOut, "The same application was sent before: the pending vendor, unchanged."),
        **problem_responses(*_SIGNED_IN, InvalidSlug, VendorSlugTaken, *_PROFILE_RULES),
    },
)
def apply_as_vendor(
    body: VendorApplicationIn,
    principal: Writer,
    session: SessionDep,
    services: ServicesDep,
    response: Response,
) -> VendorOut:
    """Anyone signed in may apply: the answer is a `pending` vendor with the applicant as its member. It can
    prepare its profile and team, but nothing of it is sold until operator staff approve it
    (`POST /vendors/{slug}/approve`). Sending the application again answers the pending vendor (200)."""
    service = _service(session, services)
    vendor, created = service.apply_for(principal, body.slug, _profile(body))
    if not created:
        response.status_code = status.HTTP_200_OK
    return _shown(service, vendor)


@router.get(
    "/vendors/{slug}",
    response_model=VendorOut,
    summary="Get one vendor",
    responses=problem_responses(*_SIGNED_IN, VendorNotFound),
)
def get_vendor(slug: VendorPath, principal: Reader, session: SessionDep, services: ServicesDep) -> VendorOut:
    """One vendor with its payout details and agreement, for its members and operator staff."""
    service = _service(session, services)
    return _shown(service, service.vendor_for(principal, slug))


@router.patch(
    "/vendors/{slug}",
    response_model=VendorOut,
    summary="Change a vendor's profile",
    responses=problem_responses(*_SIGNED_IN, VendorNotFound, *_PROFILE_RULES),
)
def change_vendor(
    slug: VendorPath, body: VendorChangesIn, principal: Writer, session: SessionDep, services: ServicesDep
) -> VendorOut:
    """Change the name, legal name, e-mail, website or payout details; fields left out keep their value, and
    the slug never changes. Its members and operator staff may do this."""
    service = _service(session, services)
    changes: dict[str, Any] = {}
    for name in body.model_fields_set:
        value = getattr(body, name)
        changes[name] = value.model_dump(exclude_none=True) if isinstance(value, PayoutDetailsIn) else value
    return _shown(service, service.change_profile_for(principal, slug, changes))


def _status_route(action: str, summary: str, doc: str) -> None:
    def change_status(
        slug: VendorPath,
        principal: Writer,
        session: SessionDep,
        services: ServicesDep,
        body: Annotated[
            StatusNoteIn | None, Body(examples=[{"note": "Checked the company register."}])
        ] = None,
    ) -> VendorOut:
        service = _service(session, services)
        vendor = service.operated_by(principal, slug, f"{action} a vendor")
        note = body.note if body else ""
        changed = {"approve": service.approve, "suspend": service.suspend, "reactivate": service.reactivate}[
            action
        ](vendor, note)
        return _shown(service, changed)

    change_status.__doc__ = doc
    change_status.__name__ = f"{action}_vendor"
    router.post(
        f"/vendors/{{slug}}/{action}",
        response_model=VendorOut,
        summary=summary,
        responses=problem_responses(*_SIGNED_IN, VendorNotFound, OperatorOnly, VendorStatusConflict),
    )(change_status)


_status_route(
    "approve",
    "Approve a vendor",
    "Approve a pending vendor (operator staff only), with a note its members see: its apps may then be "
    "listed and sold. Approving an active vendor again changes nothing; a suspended one is reactivated "
    "instead (409).",
)
_status_route(
    "suspend",
    "Suspend a vendor",
    "Stop a vendor's new sales, or turn down its application (operator staff only), with a note. Licenses "
    "already sold keep validating and renewing. Suspending it again changes nothing.",
)
_status_route(
    "reactivate",
    "Reactivate a vendor",
    "Let a suspended vendor sell again (operator staff only), with a note. A pending vendor is approved "
    "instead (409).",
)


# -- members -------------------------------------------------------------------------------------------------


@router.get(
    "/vendors/{slug}/members",
    response_model=VendorMembersOut,
    summary="List a vendor's members",
    responses=problem_responses(*_SIGNED_IN, VendorNotFound),
)
def list_vendor_members(
    slug: VendorPath, principal: Reader, session: SessionDep, services: ServicesDep
) -> VendorMembersOut:
    """The vendor's team by e-mail, for its members and operator staff."""
    vendor, members = _service(session, services).members_for(principal, slug)
    return VendorMembersOut(vendor=vendor.slug, items=[_member_out(m) for m in members])


@router.post(
    "/vendors/{slug}/members",
    response_model=VendorMemberOut,
    status_code=status.HTTP_201_CREATED,
    summary="Add a member to a vendor's team",
    responses={
        **_replayed(VendorMemberOut, "The person was a member already: nothing changed."),
        **problem_responses(
            *_SIGNED_IN, VendorNotFound, InvalidEmail, RoleAlreadyHeld, FieldEmpty, FieldTooLong
        ),
    },
)
def add_vendor_member(
    slug: VendorPath,
    body: VendorMemberIn,
    principal: Writer,
    session: SessionDep,
    services: ServicesDep,
    response: Response,
) -> VendorMemberOut:
    """Add someone to the team by e-mail (201); an e-mail new to Mercato gets a password-less account. A
    person already on the team answers 200 and nothing changes. Its members and operator staff may do this."""
    _, member, added = _service(session, services).add_member_for(principal, slug, body.email, body.name)
    if not added:
        response.status_code = status.HTTP_200_OK
    return _member_out(member)


@router.delete(
    "/vendors/{slug}/members/{email}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Remove a member from a vendor's team",
    responses=problem_responses(*_SIGNED_IN, VendorNotFound, InvalidEmail, LastVendorMember),
)
def remove_vendor_member(
    slug: VendorPath, email: EmailPath, principal: Writer, session: SessionDep, services: ServicesDep
) -> Response:
    """Take someone off the team; removing a person who is not on it changes nothing (204 too). The last
    member stays (409 `last-vendor-member`): add another first. Its members and operator staff may do this."""
    _service(session, services).remove_member_for(principal, slug, email)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- agreement, direct store, keys ---------------------------------------------------------------------------


@router.put(
    "/vendors/{slug}/revenue-share",
    response_model=AgreementOut,
    summary="Set a vendor's revenue-share agreement",
    responses=problem_responses(*_SIGNED_IN, VendorNotFound, OperatorOnly, InvalidRevenueShare),
)
def set_revenue_share(
    slug: VendorPath, body: AgreementIn, principal: Writer, session: SessionDep, services: ServicesDep
) -> AgreementOut:
    """Replace the vendor's whole agreement (operator staff only): its share of marketplace sales per hosting
    from a date on. Where it has no rate for a hosting and date, the marketplace's standard rates apply; an
    empty list returns it to them. Sales already made keep the split they were made at."""
    vendor, rates = _service(session, services).set_agreement_for(principal, slug, _rates(body.rates))
    return AgreementOut(vendor=vendor.slug, rates=[_rate_out(r) for r in rates])


@router.post(
    "/vendors/{slug}/direct-store",
    response_model=DirectStoreOut,
    summary="Open or close a vendor's direct store",
    responses=problem_responses(*_SIGNED_IN, VendorNotFound, VendorNotActive),
)
def set_direct_store(
    slug: VendorPath, body: DirectStoreIn, principal: Writer, session: SessionDep, services: ServicesDep
) -> DirectStoreOut:
    """`{"enabled": true}` opens the vendor's direct store, where it is the seller of record: its signing key
    ring and its invoice series are made the first time, once however often this is sent. `false` stops new
    direct sales; licenses it sold keep validating. Its members and operator staff may do this."""
    store = _service(session, services).set_direct_store_for(principal, slug, body.enabled)
    vendor = store.vendor
    return DirectStoreOut(
        vendor=vendor.slug,
        direct_store=vendor.direct_store,
        selling_direct=sells_direct(vendor),
        issuer=f"vendor:{vendor.slug}",
        signing_kid=store.signing_kid,
        invoice_prefix=store.invoice_prefix,
    )


@router.get(
    "/vendors/{slug}/keys",
    response_model=VendorKeysOut,
    summary="A vendor's signing keys",
    responses=problem_responses(*_SIGNED_IN, VendorNotFound),
)
def vendor_keys(
    slug: VendorPath, principal: Reader, session: SessionDep, services: ServicesDep
) -> VendorKeysOut:
    """The public keys of the vendor's ring, oldest first, with their state: the one that signs its direct
    license keys, those rotated out that still verify, and retired ones. Apps fetch the trusted ones from
    `jwks_url`. Its members and operator staff may look."""
    vendor, ring = _service(session, services).keys_for(principal, slug)
    return VendorKeysOut(
        issuer=f"vendor:{vendor.slug}",
        jwks_url=f"/api/v1/issuers/{vendor.slug}/jwks",
        keys=[_key_out(row) for row in ring],
    )

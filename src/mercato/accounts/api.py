"""Accounts API: who am I, my API tokens, customer organisations, their members and their host instances.

Every endpoint needs a bearer token. What a caller may see follows from its memberships: an organisation it has
no role in answers 404 exactly as a missing one does; an action on one it may see but not change answers 403.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from mercato.accounts import presenters
from mercato.accounts.access import Forbidden, NotAuthenticated
from mercato.accounts.api_tokens import TokenService
from mercato.accounts.dependencies import Reader, Writer
from mercato.accounts.errors import (
    FieldEmpty,
    FieldTooLong,
    HostingNotSold,
    HostInstanceNotFound,
    HostTermsInvalid,
    InactiveUser,
    InvalidEmail,
    InvalidServerId,
    InvalidSlug,
    NotAnAdmin,
    OperatorOnly,
    OrganisationNotFound,
    RoleAlreadyHeld,
    RoleHeldElsewhere,
    ScopeBeyondCredential,
    ServerIdTaken,
    SlugTaken,
    TokenLifetimeInvalid,
    TokenNotFound,
    UnknownCountry,
    UnknownHosting,
    UnknownHostProduct,
    UnknownLicenseType,
    UnknownRole,
    UnknownScope,
)
from mercato.accounts.host_instances import HostInstanceService, HostInstanceTerms, terms_of
from mercato.accounts.schemas import (
    HostInstanceChangesIn,
    HostInstanceIn,
    HostInstanceOut,
    HostInstancePage,
    HostInstanceTermsIn,
    MemberAddedOut,
    MemberIn,
    MemberPage,
    MembershipOut,
    MeOut,
    NewTokenOut,
    OrganisationIn,
    OrganisationOut,
    OrganisationPage,
    OrganisationRef,
    TokenIn,
    TokenPage,
    VendorRef,
)
from mercato.accounts.service import AccountService
from mercato.fields import Text
from mercato.paging import InvalidCursor, page_fields
from mercato.pricing.types import Hosting
from mercato.web.dependencies import ServicesDep, SessionDep
from mercato.web.paging import PageParams
from mercato.web.responses import problem_responses
from mercato.web.routing import UnitOfWorkRoute

router = APIRouter(tags=["accounts"], route_class=UnitOfWorkRoute)
OrganisationPath = Annotated[
    Text, Path(max_length=100, description="The organisation's id or slug, e.g. acme.")
]
InstancePath = Annotated[Text, Path(max_length=100, description="The host instance's id.")]
TokenPath = Annotated[Text, Path(max_length=100, description="The token's id (not the token itself).")]
_SIGNED_IN = (NotAuthenticated, Forbidden)
_TOKEN_RULES = (
    UnknownScope,
    InactiveUser,
    TokenLifetimeInvalid,
    ScopeBeyondCredential,
    FieldEmpty,
    FieldTooLong,
)
_ORGANISATION_RULES = (
    OperatorOnly,
    InvalidSlug,
    SlugTaken,
    UnknownCountry,
    InvalidEmail,
    FieldEmpty,
    FieldTooLong,
)
_MEMBER_RULES = (
    OrganisationNotFound,
    NotAnAdmin,
    UnknownRole,
    RoleHeldElsewhere,
    InvalidEmail,
    RoleAlreadyHeld,
)
_HOST_RULES = (HostTermsInvalid, UnknownLicenseType, FieldTooLong)
_REGISTER_RULES = (UnknownHostProduct, UnknownHosting, HostingNotSold, InvalidServerId, ServerIdTaken)


def _terms(base: HostInstanceTerms, body: HostInstanceTermsIn, fields: set[str]) -> HostInstanceTerms:
    """``base`` with the body's fields among ``fields``; a cleared name is empty, a cleared license type is
    commercial (the defaults of a new instance)."""
    changes = {name: getattr(body, name) for name in fields if name in HostInstanceTermsIn.model_fields}
    if "name" in changes and changes["name"] is None:
        changes["name"] = ""
    if "host_license_type" in changes and changes["host_license_type"] is None:
        changes["host_license_type"] = HostInstanceTerms.host_license_type
    return replace(base, **changes)


# Who am I


@router.get("/me", response_model=MeOut, summary="Who am I", responses=problem_responses(NotAuthenticated))
def who_am_i(principal: Reader, session: SessionDep) -> MeOut:
    """The user behind the token, their roles (customer admin or billing contact of an organisation, member of
    a vendor's team, operator staff) and the scopes of the token used. Handy to check a token works."""
    service = AccountService(session)
    user = service.user(principal.user_id)
    memberships = [
        MembershipOut(
            role=target.membership.role,
            organisation=OrganisationRef(
                id=target.organisation.id, slug=target.organisation.slug, name=target.organisation.name
            )
            if target.organisation
            else None,
            vendor=VendorRef(id=target.vendor.id, slug=target.vendor.slug, name=target.vendor.name)
            if target.vendor
            else None,
        )
        for target in service.memberships_of(user.id)
    ]
    return MeOut(
        user=presenters.user_out(user),
        operator=principal.operator,
        scopes=sorted(principal.scopes),
        memberships=memberships,
    )


# API tokens


@router.get(
    "/tokens",
    response_model=TokenPage,
    summary="List my API tokens",
    responses=problem_responses(*_SIGNED_IN, InvalidCursor),
)
def list_tokens(
    page: PageParams,
    principal: Reader,
    session: SessionDep,
    include_revoked: Annotated[bool, Query(description="Also list revoked tokens.")] = False,
) -> TokenPage:
    """Your own tokens, newest first, with their prefix, scopes, expiry and when each was last used. The
    tokens themselves are never shown again after they are created."""
    tokens = TokenService(session).tokens_of(principal.user_id, include_revoked=include_revoked, page=page)
    return TokenPage(items=[presenters.token_out(t) for t in tokens.rows], **page_fields(tokens, page))


@router.post(
    "/tokens",
    response_model=NewTokenOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create an API token",
    responses=problem_responses(*_SIGNED_IN, *_TOKEN_RULES),
)
def create_token(body: TokenIn, principal: Writer, session: SessionDep, services: ServicesDep) -> NewTokenOut:
    """A new token for yourself, read-only unless you ask for `write`. The response is the only time the
    token is shown: Mercato stores only its hash. Revoke it with `DELETE /api/v1/tokens/{id}`."""
    created = TokenService(session, services.clock).create_for(
        principal, scopes=body.scopes, name=body.name, expires_in_days=body.expires_in_days
    )
    return NewTokenOut(**presenters.token_out(created.record).model_dump(), token=created.token)


@router.delete(
    "/tokens/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Revoke one of my API tokens",
    responses=problem_responses(*_SIGNED_IN, TokenNotFound),
)
def revoke_token(
    token_id: TokenPath, principal: Writer, session: SessionDep, services: ServicesDep
) -> Response:
    """Revoke one of your tokens for good: requests with it answer 401 from now on. Revoking a revoked token
    is harmless. You may revoke the token you are using."""
    TokenService(session, services.clock).revoke_for(principal, token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# Organisations


@router.get(
    "/organisations",
    response_model=OrganisationPage,
    summary="List organisations",
    responses=problem_responses(*_SIGNED_IN, InvalidCursor),
)
def list_organisations(
    page: PageParams,
    principal: Reader,
    session: SessionDep,
    q: Annotated[Text | None, Query(max_length=100, description="Text to find in the name or slug.")] = None,
) -> OrganisationPage:
    """The customer organisations you have a role in, by slug; operator staff see all of them."""
    organisations = AccountService(session).organisations_for(principal, text=q, page=page)
    return OrganisationPage(
        items=[presenters.organisation_out(o) for o in organisations.rows], **page_fields(organisations, page)
    )


@router.post(
    "/organisations",
    response_model=OrganisationOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create a customer organisation",
    responses=problem_responses(*_SIGNED_IN, *_ORGANISATION_RULES),
)
def create_organisation(body: OrganisationIn, principal: Writer, session: SessionDep) -> OrganisationOut:
    """A new customer organisation (operator staff only). Add its people with
    `POST /api/v1/organisations/{id}/members`."""
    organisation = AccountService(session).create_organisation_for(
        principal, body.slug, body.name, body.billing_email, body.country
    )
    return presenters.organisation_out(organisation)


@router.get(
    "/organisations/{organisation}",
    response_model=OrganisationOut,
    summary="Get one organisation",
    responses=problem_responses(*_SIGNED_IN, OrganisationNotFound),
)
def get_organisation(
    organisation: OrganisationPath, principal: Reader, session: SessionDep
) -> OrganisationOut:
    """One organisation, by id or slug (`/organisations/acme`)."""
    return presenters.organisation_out(AccountService(session).organisation_for(principal, organisation))


# Members


@router.get(
    "/organisations/{organisation}/members",
    response_model=MemberPage,
    summary="List an organisation's members",
    responses=problem_responses(*_SIGNED_IN, OrganisationNotFound, NotAnAdmin, InvalidCursor),
)
def list_members(
    organisation: OrganisationPath,
    principal: Reader,
    session: SessionDep,
    page: PageParams,
) -> MemberPage:
    """Everyone with a role in the organisation, by e-mail: one entry per role, so a person who is both
    customer admin and billing contact appears twice. Its members and operator staff may look."""
    _, members = AccountService(session).members_for(principal, organisation, page)
    return MemberPage(items=[presenters.member_out(m) for m in members.rows], **page_fields(members, page))


@router.post(
    "/organisations/{organisation}/members",
    response_model=MemberAddedOut,
    status_code=status.HTTP_201_CREATED,
    summary="Add a member to an organisation",
    responses=problem_responses(*_SIGNED_IN, *_MEMBER_RULES),
)
def add_member(
    organisation: OrganisationPath, body: MemberIn, principal: Writer, session: SessionDep
) -> MemberAddedOut:
    """Give someone a role in the organisation by e-mail: `customer_admin` (buys, renews, manages hosts and
    members) or `billing_contact` (sees and pays invoices). An e-mail new to Mercato gets a password-less
    account; the answer is the same whether or not the address had one. Customer admins of the organisation
    and operator staff may do this."""
    added_to, member = AccountService(session).add_member_for(
        principal, organisation, body.email, body.role, body.name
    )
    return MemberAddedOut(
        email=member.user.email,
        role=member.membership.role,
        organisation=added_to.slug,
        since=member.membership.created_at,
    )


# Host instances


@router.get(
    "/organisations/{organisation}/host-instances",
    response_model=HostInstancePage,
    summary="List an organisation's host instances",
    responses=problem_responses(*_SIGNED_IN, OrganisationNotFound, InvalidCursor),
)
def list_host_instances(
    page: PageParams,
    organisation: OrganisationPath,
    principal: Reader,
    session: SessionDep,
    hosting: Annotated[Hosting | None, Query(description="Only this hosting.")] = None,
    host_product: Annotated[
        Text | None, Query(max_length=64, description="Only this host product key.")
    ] = None,
) -> HostInstancePage:
    """The servers, Data Center instances and cloud sites the organisation runs host products on, by host
    product, hosting and server id. Its members and operator staff may look."""
    instances = HostInstanceService(session).instances_for(
        principal,
        organisation,
        hosting=hosting.value if hosting else None,
        host_product_key=host_product,
        page=page,
    )
    return HostInstancePage(
        items=[presenters.host_out(i) for i in instances.rows], **page_fields(instances, page)
    )


@router.post(
    "/organisations/{organisation}/host-instances",
    response_model=HostInstanceOut,
    status_code=status.HTTP_201_CREATED,
    summary="Register a host instance",
    responses=problem_responses(
        *_SIGNED_IN, OrganisationNotFound, NotAnAdmin, *_REGISTER_RULES, *_HOST_RULES
    ),
)
def register_host_instance(
    organisation: OrganisationPath, body: HostInstanceIn, principal: Writer, session: SessionDep
) -> HostInstanceOut:
    """Record a host the organisation runs, so apps can be bought and licensed for it. A server or Data Center
    instance gives its server id, `user_tier` and `host_maintenance_end`; a cloud site gives its hostname as
    `server_id`, `cloud_users`, `billing_cycle` and `next_billing_date`. Customer admins of the organisation
    and operator staff may do this."""
    registered = HostInstanceService(session).register_for(
        principal,
        organisation,
        body.host_product,
        body.hosting,
        body.server_id,
        _terms(HostInstanceTerms(), body, body.model_fields_set),
    )
    return presenters.host_out(registered)


@router.get(
    "/host-instances/{instance_id}",
    response_model=HostInstanceOut,
    summary="Get one host instance",
    responses=problem_responses(*_SIGNED_IN, HostInstanceNotFound),
)
def get_host_instance(instance_id: InstancePath, principal: Reader, session: SessionDep) -> HostInstanceOut:
    """One host instance, for the members of its organisation and operator staff."""
    return presenters.host_out(HostInstanceService(session).instance_for(principal, instance_id))


@router.patch(
    "/host-instances/{instance_id}",
    response_model=HostInstanceOut,
    summary="Change a host instance",
    responses=problem_responses(*_SIGNED_IN, HostInstanceNotFound, NotAnAdmin, *_HOST_RULES),
)
def change_host_instance(
    instance_id: InstancePath, body: HostInstanceChangesIn, principal: Writer, session: SessionDep
) -> HostInstanceOut:
    """Change a host's terms after its host license changed: a new user tier or maintenance end, the cloud
    site's users, billing cycle or next billing date, its name. Fields left out keep their value. The result
    is checked as a whole, so a server cannot get cloud users. Customer admins of the organisation and
    operator staff may do this."""
    service = HostInstanceService(session)
    registered = service.instance_for(principal, instance_id)
    terms = _terms(terms_of(registered.instance), body, body.model_fields_set)
    return presenters.host_out(service.change_for(principal, instance_id, terms))
